"""Real HTTP servers on loopback for faults a test must see on the wire: redirects, trickled answers.

Each server runs in a thread and answers every connection with ``handler(sock, request_bytes)``; it
records what it received, so a test can assert that a header never reached it.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

Handler = Callable[[socket.socket, bytes], None]


@dataclass
class Server:
    host: str
    port: int
    received: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def read_head(conn: socket.socket) -> bytes:
    """Read one request's head (up to the blank line), as a handler answering several requests does."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


@contextlib.contextmanager
def serve(handler: Handler, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """Run a one-thread-per-connection server on ``host`` until the block ends (over TLS with ``tls``)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, 0))
    listener.listen(16)
    listener.settimeout(0.1)
    server = Server(host, listener.getsockname()[1])
    stopping = threading.Event()

    def answer(conn: socket.socket) -> None:
        with contextlib.suppress(OSError), contextlib.ExitStack() as stack:
            conn = stack.enter_context(conn)
            if tls is not None:
                conn = stack.enter_context(tls.wrap_socket(conn, server_side=True))
            request = read_head(conn)
            server.received.append(request)
            handler(conn, request)

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stopping.set()
        thread.join()
        listener.close()


def respond(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Handler:
    """A handler answering at once with ``status`` (e.g. ``"200 OK"``), ``headers`` and ``body``."""

    def handler(conn: socket.socket, request: bytes) -> None:
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    return handler


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    """A server context for 127.0.0.1 with a certificate no authority issued (written to ``tmp_path/cert.pem``,
    for a client told to trust it)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context

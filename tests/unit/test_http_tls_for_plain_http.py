"""Default clients verify TLS with httpx's authorities for an https API; for a plain-http API (the local
stack) they build no CA bundle and would refuse any handshake: fail closed, never open."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import tempfile
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk._http import tls_verify

KEY = "k" * 40


def _context_of(client: object) -> ssl.SSLContext:
    # httpx keeps the context on its connection pool (private); a layout change makes this test say so.
    transport = getattr(client, "_transport", None)
    context = getattr(getattr(transport, "_pool", None), "_ssl_context", None)
    assert isinstance(context, ssl.SSLContext), "httpx no longer keeps the context where this test looks"
    return context


def test_an_https_api_is_verified_against_the_usual_authorities() -> None:
    assert tls_verify("https://abc.supabase.co") is True
    with NexusClient("https://abc.supabase.co", KEY) as nx:
        context = _context_of(nx._http)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:54321", "http://localhost:1"])
def test_a_plain_http_api_gets_a_context_that_trusts_nothing(url: str) -> None:
    with NexusClient(url, KEY) as nx:
        context = _context_of(nx._http)
    assert context is tls_verify(url)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


async def test_the_async_client_does_the_same() -> None:
    async with AsyncNexusClient("http://127.0.0.1:54321", KEY) as nx:
        assert _context_of(nx._http) is tls_verify("http://127.0.0.1:54321")
    async with AsyncNexusClient("https://abc.supabase.co", KEY) as nx:
        assert _context_of(nx._http).cert_store_stats()["x509_ca"] > 0


def test_a_handshake_with_that_context_fails_whatever_certificate_the_server_shows() -> None:
    # A TLS server whose certificate a context trusting it accepts: ours refuses it, as it would refuse any,
    # since it trusts no authority at all.
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "c.pem").write_bytes(cert_pem)
        (Path(tmp) / "k.pem").write_bytes(key_pem)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(Path(tmp) / "c.pem", Path(tmp) / "k.pem")
    # The same certificate trusted explicitly: the handshake works, so a failure below is the trust.
    trusting = ssl.create_default_context(cadata=cert_pem.decode())
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve(count: int) -> None:
        for _ in range(count):
            conn, _ = listener.accept()
            try:
                with server_context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, args=(2,), daemon=True)
    thread.start()
    try:
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            trusting.wrap_socket(raw, server_hostname="localhost"),
        ):
            pass
        with (
            socket.create_connection(("127.0.0.1", port)) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            tls_verify("http://localhost").wrap_socket(raw, server_hostname="localhost")  # type: ignore[union-attr]
    finally:
        thread.join(timeout=10)
        listener.close()

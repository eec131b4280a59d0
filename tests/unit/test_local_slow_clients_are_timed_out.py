"""A client that never finishes its request line, headers or body gets 408 and is disconnected.

nginx, in front of Supabase, times such clients out (``client_header_timeout``, ``client_body_timeout``); the
local stack's HTTP protocol and body reader do the same, so connections opened and left half-sent
(slowloris) are not kept forever. A real uvicorn server on loopback with the stack's protocol and body reader,
with timeouts of a fraction of a second.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._limits import bounded_protocol, read_body

_TIMEOUT = 0.5


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    request = Request(scope, receive)
    try:
        body = await read_body(request, 1_000_000, idle_timeout=_TIMEOUT)
        response = JSONResponse({"size": len(body)})
    except ApiError as err:
        response = JSONResponse({"message": err.message}, status_code=err.status, headers=err.headers)
    await response(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, int]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        _app, lifespan="off", log_level="warning", http=bounded_protocol(head_timeout=_TIMEOUT)
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(srv.serve(sockets=[sock])), daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.01)
    try:
        yield sock.getsockname()
    finally:
        srv.should_exit = True
        thread.join(5)


def _read_all(sock: socket.socket, within: float) -> bytes:
    """Everything the server sends until it closes the connection (or ``within`` seconds pass)."""
    sock.settimeout(within)
    data = b""
    while True:
        try:
            part = sock.recv(4096)
        except TimeoutError:
            return data + b"<still open>"
        if not part:
            return data
        data += part


@pytest.mark.parametrize(
    "head",
    [b"", b"GET /x HT", b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n"],
    ids=["nothing", "request-line", "headers"],
)
def test_an_unfinished_head_gets_408_and_the_connection_closes(server: tuple[str, int], head: bytes) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(head)
        started = time.monotonic()
        answer = _read_all(sock, within=5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert answer.endswith(b'{"message":"Request header timed out"}')
    assert time.monotonic() - started < 3


def test_a_head_sent_a_byte_at_a_time_is_timed_out_from_its_start(server: tuple[str, int]) -> None:
    head = b"GET /x HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(server) as sock:
        closed_at = None
        for i in range(len(head)):
            try:
                sock.sendall(head[i : i + 1])
            except OSError:
                closed_at = i
                break
            time.sleep(0.02)
        answer = _read_all(sock, within=5)
    assert answer.startswith(b"HTTP/1.1 408 "), (closed_at, answer)


def test_a_stalled_body_gets_408_and_the_connection_closes(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + b"a" * 10)
        answer = _read_all(sock, within=5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert answer.endswith(b'{"message":"Request body timed out"}')


def test_a_slow_but_steady_body_and_kept_alive_requests_are_served(server: tuple[str, int]) -> None:
    def steady() -> Iterator[bytes]:
        for _ in range(6):  # 1.2 s in all, never a pause of the timeout
            time.sleep(0.2)
            yield b"b" * 10

    with httpx.Client(base_url=f"http://{server[0]}:{server[1]}") as client:
        assert client.post("/x", content=steady()).json() == {"size": 60}
        time.sleep(_TIMEOUT * 2)  # idle between requests: uvicorn's keep-alive, not the head timeout
        assert client.post("/x", content=b"abc").json() == {"size": 3}


def test_other_clients_are_served_while_many_stall(server: tuple[str, int]) -> None:
    stalled = [socket.create_connection(server) for _ in range(50)]
    try:
        for sock in stalled:
            sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert httpx.get(f"http://{server[0]}:{server[1]}/x").json() == {"size": 0}
        assert time.monotonic() - started < _TIMEOUT
    finally:
        for sock in stalled:
            sock.close()


def test_an_unfinished_head_after_a_kept_alive_request_gets_408(server: tuple[str, int]) -> None:
    with socket.create_connection(server) as sock:
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(5)
        first = b""
        while not first.endswith(b'{"size":0}'):  # the whole first response (head and body may come apart)
            part = sock.recv(4096)
            assert part, first
            first += part
        assert first.startswith(b"HTTP/1.1 200 "), first
        sock.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")  # the next request's head, unfinished
        answer = _read_all(sock, within=5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer

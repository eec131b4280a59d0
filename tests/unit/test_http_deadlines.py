"""``timeout`` bounds each attempt as a whole, body included; ``total_timeout`` bounds the whole call.

httpx's own timeouts bound each network read, so a server that sends a byte every 0.4 s never trips a
1 s read timeout. These tests run such a server on loopback.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from nexus_sdk import APITimeoutError, AsyncNexusClient, NexusClient

from ._loopback import Handler, read_head, self_signed, serve

KEY = "sb_secret_SERVICEKEYSERVICEKEYSERVICEKEY"
BODY = b"[" + b" " * 40 + b"]"  # 42 bytes at one per 0.4 s: about 17 s if nothing cuts it short


def trickle_body(conn: socket.socket, request: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n"
    conn.sendall(head.encode())
    for byte in BODY:
        time.sleep(0.4)
        conn.sendall(bytes([byte]))


def trickle_head(conn: socket.socket, request: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: {'a' * 40}\r\n"
    for char in head:
        time.sleep(0.4)
        conn.sendall(char.encode())


@pytest.mark.parametrize("trickle", [trickle_body, trickle_head], ids=["body", "status line and headers"])
def test_a_trickled_answer_cannot_hold_a_sync_call_past_its_timeout(trickle: Handler) -> None:
    # Each byte arrives well within the read timeout, so only a deadline on the whole attempt stops the
    # call; without it the body takes about 17 s to arrive, the head about 30 s.
    with serve(trickle) as api, NexusClient(api.url, KEY, timeout=1.0, max_retries=0) as nx:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as caught:
            nx.users.list()
        elapsed = time.monotonic() - started
    assert elapsed < 2.0  # a bound, not a speed target
    assert "timed out" in caught.value.message
    assert "127.0.0.1" in caught.value.message


async def test_async_a_trickled_body_cannot_hold_a_call_past_its_timeout() -> None:
    with serve(trickle_body) as api:
        async with AsyncNexusClient(api.url, KEY, timeout=1.0, max_retries=0) as nx:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await nx.users.list()
            assert time.monotonic() - started < 5.0


async def test_async_trickled_headers_are_cut_at_the_deadline_too() -> None:
    with serve(trickle_head) as api:
        async with AsyncNexusClient(api.url, KEY, timeout=1.0, max_retries=0) as nx:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await nx.users.list()
            assert time.monotonic() - started < 5.0


def test_the_deadline_also_bounds_a_reused_keep_alive_connection() -> None:
    connections = []

    def fast_then_trickle(conn: socket.socket, request: bytes) -> None:
        # One connection: answer the first request at once, then trickle the answer to the second.
        connections.append(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        trickle_head(conn, read_head(conn))

    with serve(fast_then_trickle) as api, NexusClient(api.url, KEY, timeout=1.0, max_retries=0) as nx:
        assert nx.users.list() == []
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            nx.users.list()
        elapsed = time.monotonic() - started
    assert len(connections) == 1  # the second call was sent on the first call's connection
    assert elapsed < 2.0


def test_trickled_headers_over_tls_are_cut_at_the_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # httpx trusts it, as users set it
    with (
        serve(trickle_head, tls=context) as api,
        NexusClient(api.url.replace("http://", "https://"), KEY, timeout=1.0, max_retries=0) as nx,
    ):
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            nx.users.list()
        elapsed = time.monotonic() - started
    assert len(api.received) == 1  # the request went through TLS: the server read it
    assert elapsed < 2.0


def test_a_callers_own_http_client_still_works_bounded_per_read() -> None:
    def answer(conn: socket.socket, request: bytes) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")

    with (
        serve(answer) as api,
        httpx.Client(transport=httpx.HTTPTransport(retries=1)) as own,
        NexusClient(api.url, KEY, timeout=1.0, http_client=own) as nx,
    ):
        assert nx.users.list() == []
        assert nx.users.list() == []


def test_total_timeout_bounds_every_attempt_and_wait_of_a_call() -> None:
    with serve(trickle_body) as api, NexusClient(api.url, KEY, timeout=1.0, max_retries=5) as nx:
        bounded = nx.with_options(total_timeout=1.5)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            bounded.users.list()
        elapsed = time.monotonic() - started
        assert len(api.received) <= 2  # six attempts would take six seconds and more
    assert elapsed < 4.0


async def test_async_total_timeout_bounds_the_call() -> None:
    with serve(trickle_body) as api:
        async with AsyncNexusClient(api.url, KEY, timeout=1.0, max_retries=5, total_timeout=1.5) as nx:
            started = time.monotonic()
            with pytest.raises(APITimeoutError):
                await nx.users.list()
            assert time.monotonic() - started < 4.0


def test_total_timeout_must_be_positive() -> None:
    from nexus_sdk import ConfigurationError

    with pytest.raises(ConfigurationError, match="total_timeout"):
        NexusClient("http://127.0.0.1:9", KEY, total_timeout=0)

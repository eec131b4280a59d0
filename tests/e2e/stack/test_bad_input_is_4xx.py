"""Bad input gets PostgREST's 4xx, never a 5xx (which the SDK would retry), and is never read in full."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk.local import _limits

pytestmark = [pytest.mark.db, pytest.mark.e2e]

JSON = {"content-type": "application/json"}
DEEP = 100_000


def _deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def _deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


CASES: dict[str, tuple[Callable[[httpx.Client], httpx.Response], int, str]] = {
    "body nested thousands deep": (
        lambda c: c.post("/stack_items", content=_deep_array(DEEP), headers=JSON),
        400,
        "PGRST102",
    ),
    "field nested thousands deep": (
        lambda c: c.post(
            "/stack_items", content=f'{{"name": "x", "data": {_deep_object(5000)}}}', headers=JSON
        ),
        400,
        "PGRST102",
    ),
    "RPC argument nested thousands deep": (
        lambda c: c.post("/rpc/echo_args", content=f'{{"j": {_deep_array(DEEP)}}}', headers=JSON),
        400,
        "PGRST102",
    ),
    "RPC GET argument nested thousands deep": (
        lambda c: c.get("/rpc/echo_json", params={"j": _deep_array(5000)}),
        400,
        "PGRST100",
    ),
    "logic tree nested thousands deep": (
        lambda c: c.get("/stack_items", params={"or": "(and" * 3000 + "(id.eq.1)" + ")" * 3000}),
        400,
        "PGRST100",
    ),
    "limit with thousands of digits": (
        lambda c: c.get("/stack_items", params={"limit": "9" * 5000}),
        400,
        "22003",
    ),
    "offset with thousands of digits": (
        lambda c: c.get("/stack_items", params={"offset": "9" * 5000}),
        400,
        "22003",
    ),
    "Range with thousands of digits": (
        lambda c: c.get("/stack_items", headers={"Range": "0-" + "9" * 5000}),
        400,
        "22003",
    ),
    "JSON index with thousands of digits": (
        lambda c: c.get("/stack_items", params={"select": "data->" + "9" * 5000}),
        400,
        "22003",
    ),
    "NUL in a filter value": (lambda c: c.get("/stack_items", params={"name": "eq.a\x00b"}), 400, "22021"),
    "NUL in an RPC GET argument": (lambda c: c.get("/rpc/whoami_text", params={"t": "a\x00b"}), 400, "22021"),
    "NUL in a JSON key": (
        lambda c: c.post("/stack_items", content='{"name": "x", "data": {"a\\u0000": 1}}', headers=JSON),
        400,
        "22P05",
    ),
}


@pytest.fixture
def echo_text(db: Any) -> Iterator[None]:
    db.execute(
        "CREATE OR REPLACE FUNCTION public.whoami_text(t text) RETURNS text LANGUAGE sql STABLE AS 'SELECT t'; "
        "CREATE OR REPLACE FUNCTION public.echo_json(j jsonb) RETURNS jsonb LANGUAGE sql STABLE AS 'SELECT j'; "
        "GRANT EXECUTE ON FUNCTION public.whoami_text(text), public.echo_json(jsonb) TO anon"
    )
    db.execute("NOTIFY pgrst, 'reload schema'")
    time.sleep(0.5)
    yield
    db.execute("DROP FUNCTION public.whoami_text(text), public.echo_json(jsonb)")


@pytest.mark.usefixtures("items", "echo_text")
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_answered_4xx(anon: httpx.Client, case: str) -> None:
    send, status, code = CASES[case]
    r = send(anon)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text


def _raw_request(stack: Any, head: bytes, body: Iterable[bytes] = ()) -> bytes:
    """Send ``head`` (and ``body``) on a raw socket, stop sending once the server answered; the answer."""
    host, port = stack.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.setblocking(True)
        try:
            sock.sendall(head)
            for chunk in body:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest: what is wanted
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def test_oversized_headers_are_431_before_they_are_read_in_full(stack: Any) -> None:
    start = b"GET /rest/v1/stack_items HTTP/1.1\r\nHost: x\r\napikey: " + stack.anon_key.encode() + b"\r\n"
    endless = (b"X-Filler-%d: %s\r\n" % (i, b"a" * 8000) for i in range(100_000))  # ~800 MB if all sent
    answer = _raw_request(stack, start, endless)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_a_body_declared_too_large_is_413_without_reading_it(stack: Any) -> None:
    head = (
        b"POST /rest/v1/stack_items HTTP/1.1\r\nHost: x\r\napikey: " + stack.anon_key.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10737418240\r\n\r\n"
    )
    started = time.monotonic()
    answer = _raw_request(stack, head)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert time.monotonic() - started < 20  # answered, not waiting for 10 GiB


def test_a_streamed_body_past_the_limit_is_413(stack: Any, anon: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(40):
            yield b"a" * (1024 * 1024)
        yield b'"}'

    r = anon.post("/stack_items", content=chunks(), headers=JSON)
    assert r.status_code == 413
    assert r.json()["message"] == "Request size limit exceeded"


def test_garbage_requests_are_400_and_logged_at_most_once_a_minute(
    stack: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client (or a port scanner) sending what is not HTTP: each gets its 400, the log gets one line.
    # (A limiter of its own, so that what earlier tests logged within the minute does not count here.)
    limiter = _limits.OncePerInterval(frozenset({"Invalid HTTP request received."}))
    monkeypatch.setattr(logging.getLogger("nexus_sdk.local.http"), "filters", [limiter])
    caplog.set_level(logging.WARNING)
    url = httpx.URL(stack.url)
    assert url.host
    assert url.port
    for _ in range(50):
        with socket.create_connection((url.host, url.port), timeout=10) as sock:
            sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            assert sock.recv(64).startswith(b"HTTP/1.1 400 ")
    malformed = [r for r in caplog.records if r.getMessage().startswith("Invalid HTTP request received.")]
    assert [(r.name, r.getMessage()) for r in malformed] == [
        ("nexus_sdk.local.http", "Invalid HTTP request received.")
    ]

"""Responses leave the stack whole and in order, however the server gathers its writes: requests sent
back to back on one connection, a body far larger than one write, a connection the client asks to close."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

BIG = 300_000


@pytest.fixture
def big_function(stack: Any, db: psycopg.Connection[Any]) -> Iterator[str]:
    db.execute(
        f"CREATE FUNCTION public.t_big_text() RETURNS text LANGUAGE sql STABLE AS $$ SELECT repeat('x', {BIG}) $$"
    )
    db.execute("GRANT EXECUTE ON FUNCTION public.t_big_text() TO anon")
    stack.reload_schema()
    try:
        yield "t_big_text"
    finally:
        db.execute("DROP FUNCTION public.t_big_text()")
        stack.reload_schema()


def _request(stack: Any, path: str, *extra: str) -> bytes:
    host = stack.url.removeprefix("http://")
    lines = [f"GET /rest/v1{path} HTTP/1.1", f"Host: {host}", f"apikey: {stack.anon_key}", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_response(reader: Any) -> tuple[bytes, dict[bytes, bytes], bytes]:
    status = reader.readline()
    headers: dict[bytes, bytes] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers[b"content-length"]))
    return status, headers, body


def _connect(stack: Any) -> socket.socket:
    host, port = stack.url.removeprefix("http://").rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=30)


@pytest.mark.usefixtures("items")
def test_requests_sent_back_to_back_are_answered_in_order(stack: Any) -> None:
    names = ["apple", "banana", "cherry"]
    with _connect(stack) as sock, sock.makefile("rb") as reader:
        sock.sendall(b"".join(_request(stack, f"/stack_items?select=name&name=eq.{n}") for n in names))
        answers = [_read_response(reader) for _ in names]
    assert [status for status, _, _ in answers] == [b"HTTP/1.1 200 OK\r\n"] * 3
    assert [body for _, _, body in answers] == [f'[{{"name":"{n}"}}]'.encode() for n in names]


def test_a_body_larger_than_one_write_arrives_whole(stack: Any, big_function: str) -> None:
    with _connect(stack) as sock, sock.makefile("rb") as reader:
        for _ in range(2):  # and the connection is still in step afterwards
            sock.sendall(_request(stack, f"/rpc/{big_function}"))
            status, _, body = _read_response(reader)
            assert status == b"HTTP/1.1 200 OK\r\n"
            assert body == b'"' + b"x" * BIG + b'"'


@pytest.mark.usefixtures("items")
def test_a_connection_the_client_closes_gets_its_answer_first(stack: Any) -> None:
    with _connect(stack) as sock, sock.makefile("rb") as reader:
        sock.sendall(_request(stack, "/stack_items?select=name&name=eq.apple", "Connection: close"))
        status, headers, body = _read_response(reader)
        assert (status, body) == (b"HTTP/1.1 200 OK\r\n", b'[{"name":"apple"}]')
        assert headers[b"connection"] == b"close"
        assert reader.read() == b""  # then the server closes

"""A request answered from what the stack remembers of earlier ones (the header list, the key and token,
the read's shape, the transaction's settings) gets the very answer it gets when nothing is remembered:
status, every header line in order, body, for reads, errors, HEAD, ``Prefer``, ``Accept``, keys and tokens.
And a token that expires while it is remembered stops working."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from nexus_sdk.local import _jwt

pytestmark = [pytest.mark.db, pytest.mark.e2e]

OBJECT = "application/vnd.pgrst.object+json"

Answer = tuple[int, list[tuple[bytes, bytes]], bytes]


def _requests(stack: Any, items: list[dict[str, Any]]) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(method, path and query, headers, body): reads, writes, functions and refusals."""
    key = {"apikey": stack.anon_key}
    user = {**key, "Authorization": f"Bearer {stack.mint_token(uuid.uuid4())}"}
    expired = stack.mint_token(uuid.uuid4(), expires_in=-3600)
    by_id = [
        ("GET", f"/stack_items?id=eq.{row['id']}&select=*", {**user, "Accept": OBJECT}, b"") for row in items
    ]
    return [
        *by_id,
        ("GET", "/stack_items?select=name,qty&order=id", key, b""),
        ("HEAD", "/stack_items?select=name,qty&order=id", key, b""),
        ("GET", "/stack_items?select=name&qty=gt.3&order=name.desc", {**key, "Prefer": "count=exact"}, b""),
        ("GET", "/stack_items?select=name&order=id", {**key, "Prefer": "count=exact", "Range": "1-2"}, b""),
        ("GET", "/stack_items?select=name&name=eq.\u00e9t\u00e9 x&id=in.(1,2)", key, b""),
        ("GET", "/stack_items?select=name&name=eq.\ue0000\ue001&sku=eq.A1", key, b""),
        ("GET", "/stack_items?select=name&name=eq.apple&name=neq.pear", key, b""),
        ("GET", "/stack_items?select=name,sku&order=id", {**key, "Accept": "text/csv"}, b""),
        ("GET", "/stack_items?select=name", {**key, "Accept": OBJECT}, b""),
        ("GET", "/stack_items?select=name", {**key, "Accept": "application/xml"}, b""),
        ("GET", "/stack_items?offset=100", {**key, "Prefer": "count=exact"}, b""),
        ("GET", "/stack_items?select=name", {**key, "Prefer": "handling=strict, nonsense=1"}, b""),
        ("GET", "/stack_items?select=name&id=eq.1", {**key, "Prefer": "timezone=Europe/Paris"}, b""),
        ("GET", "/stack_items?select=name&id=eq.1", {**key, "Origin": "https://app.example"}, b""),
        ("GET", "/stack_items?select=nope", key, b""),
        ("GET", "/stack_itemz", key, b""),
        ("GET", f"/stack_items?select=name&id=eq.1&apikey={stack.anon_key}", {}, b""),
        ("GET", "/stack_items?select=name", {"apikey": "not-a-key"}, b""),
        ("GET", "/stack_items?select=name", {}, b""),
        ("GET", "/stack_items?select=name", {**key, "Authorization": f"Bearer {expired}"}, b""),
        ("GET", "/stack_items?select=name", {**key, "Authorization": "Bearer not.a.jwt"}, b""),
        ("GET", "/stack_items?select=name", {**key, "Accept-Profile": "private"}, b""),
        ("GET", "/rpc/items_over?min_qty=4&select=name", key, b""),
        ("OPTIONS", "/stack_items", key, b""),
        ("PATCH", "/stack_items?name=eq.nobody", {**user, "Content-Type": "application/json"}, b'{"qty":1}'),
    ]


def _send(client: httpx.Client, method: str, url: str, headers: dict[str, str], body: bytes) -> Answer:
    r = client.request(method, url, headers=headers, content=body)
    # The Date line is the clock's; everything else must be the same.
    return r.status_code, [(k, v) for k, v in r.headers.raw if k.lower() != b"date"], r.content


def test_remembered_requests_answer_as_the_first_one(stack: Any, items: list[dict[str, Any]]) -> None:
    requests = _requests(stack, items)
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        first: list[Answer] = []
        for method, url, headers, body in requests:
            # Nothing remembered: a header list never sent before, the read plans forgotten.
            stack.reload_schema()
            first.append(_send(client, method, url, {**headers, "X-Test-Pass": uuid.uuid4().hex}, body))
        stack.reload_schema()
        for _ in range(2):
            again = [_send(client, *request) for request in requests]
    assert [a[0] for a in first] == [a[0] for a in again]
    assert again == first
    statuses = {a[0] for a in first}
    assert {200, 204, 206, 400, 401, 404, 406, 416} <= statuses  # the set covers answers and refusals


def test_a_read_sends_its_header_lines_in_postgrests_order(stack: Any, items: list[dict[str, Any]]) -> None:
    row = items[0]["id"]
    plural = {"apikey": stack.anon_key, "Prefer": "count=exact"}
    headers = {**plural, "Accept": OBJECT}
    with httpx.Client(base_url=stack.rest_url, timeout=30) as client:
        for name in ("\u00e9t\u00e9 x/&", "apple"):  # the same shape: the second is answered from the first
            status, lines, body = _send(
                client, "GET", f"/stack_items?name=eq.{quote(name)}&id=eq.{row}&select=name", plural, b""
            )
            assert lines[1:3] == [
                (b"content-range", b"0-0/1" if name == "apple" else b"*/0"),
                (
                    b"content-location",
                    f"/stack_items?id=eq.{row}&name=eq.{_escaped(name)}&select=name".encode(),
                ),
            ]
        assert (status, body) == (200, b'[{"name":"apple"}]')
        status, lines, body = _send(
            client, "GET", f"/stack_items?id=eq.{row}&name=eq.apple&select=name", headers, b""
        )
        assert (status, body) == (200, b'{"name":"apple"}')
        assert lines == [
            (b"server", b"uvicorn"),
            (b"content-range", b"0-0/1"),
            (b"content-location", f"/stack_items?id=eq.{row}&name=eq.apple&select=name".encode()),
            (b"preference-applied", b"count=exact"),
            (b"content-length", b"16"),
            (b"content-type", b"application/vnd.pgrst.object+json; charset=utf-8"),
        ]
        csv = {**headers, "Accept": "text/csv"}
        status, lines, body = _send(client, "HEAD", "/stack_items?select=name", csv, b"")
        assert (status, body) == (200, b"")
        assert lines == [
            (b"server", b"uvicorn"),
            (b"content-range", b"0-4/5"),
            (b"content-location", b"/stack_items?select=name"),
            (b"preference-applied", b"count=exact"),
            (b"content-length", b"0"),
            (b"content-type", b"text/csv; charset=utf-8"),
        ]


def _escaped(text: str) -> str:
    # PostgREST's Content-Location escapes every byte but [A-Za-z0-9-_.~] as %XX, a byte past ASCII as the
    # UTF-8 of the code point it is read as.
    safe = "-_.~"
    return "".join(
        c
        if c.isascii() and (c.isalnum() or c in safe)
        else "".join(f"%{b:02X}" for b in c.encode().decode("latin-1").encode())
        for c in text
    )


def test_a_remembered_token_stops_working_when_it_expires(stack: Any, items: list[dict[str, Any]]) -> None:
    # Valid for about two more seconds, with PostgREST's leeway.
    exp = int(time.time()) + 2 - _jwt.LEEWAY_SECONDS
    token = _jwt.mint(stack.jwt_secret, {"sub": str(uuid.uuid4()), "role": "authenticated", "exp": exp})
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30) as client:
        assert client.get("/stack_items?select=name&id=eq.1").status_code == 200
        assert client.get("/stack_items?select=name&id=eq.2").status_code == 200
        while time.time() - _jwt.LEEWAY_SECONDS < exp + 1:
            time.sleep(0.2)
        r = client.get("/stack_items?select=name&id=eq.1")
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST303"
    assert r.json()["message"] == "JWT expired"

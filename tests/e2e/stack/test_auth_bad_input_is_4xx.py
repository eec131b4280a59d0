"""/auth/v1 answers bad input with a 4xx, never a 5xx, and never reads an oversized body in full.

Deep JSON, NUL characters and lone surrogates in a body, paging numbers past what the database takes, a
ban longer than a calendar holds, a body over the stack's limit; and what GoTrue refuses an anonymous user.
"""

from __future__ import annotations

import socket
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

JSON = {"Content-Type": "application/json"}


def _client(stack: local.LocalStack, token: str | None = None) -> httpx.Client:
    headers = {"apikey": stack.anon_key}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=f"{stack.url}/auth/v1", headers=headers, timeout=30)


@pytest.fixture
def auth(stack: local.LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client on /auth/v1 with the anon key."""
    with _client(stack) as client:
        yield client


@pytest.fixture
def admin(stack: local.LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client on /auth/v1 acting with the service-role key."""
    with _client(stack, stack.service_role_key) as client:
        yield client


def _email(tag: str) -> str:
    return f"{tag}-{time.time_ns()}@example.com"


def _refusal(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error_code"]


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"email": "deep@example.com", "password": "secret-1", "data": '
        + b'{"a": ' * 50_000
        + b"1"
        + b"}" * 50_001,
    ],
    ids=["array", "metadata"],
)
def test_deeply_nested_json_is_400_bad_json(auth: httpx.Client, body: bytes) -> None:
    assert _refusal(auth.post("/signup", content=body, headers=JSON)) == (400, "bad_json")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/signup", b'{"email": "nul\\u0000@example.com", "password": "secret-1"}'),
        ("/signup", b'{"email": "meta@example.com", "password": "secret-1", "data": {"n": "a\\u0000b"}}'),
        ("/signup", b'{"email": "surrogate@example.com", "password": "\\ud800secret-1"}'),
        ("/token?grant_type=password", b'{"email": "\\udc00@example.com", "password": "secret-1"}'),
        ("/token?grant_type=refresh_token", b'{"refresh_token": "\\udc00"}'),
    ],
    ids=["nul-email", "nul-metadata", "surrogate-password", "surrogate-email", "surrogate-refresh-token"],
)
def test_nul_characters_and_lone_surrogates_are_400(auth: httpx.Client, path: str, body: bytes) -> None:
    status, code = _refusal(auth.post(path, content=body, headers=JSON))
    assert (status, code) in ((400, "bad_json"), (400, "validation_failed"))


def test_a_password_may_hold_a_nul_character(auth: httpx.Client) -> None:
    # bcrypt hashes the bytes after a NUL too: the password is the whole string, not its prefix.
    email = _email("nul-password")
    assert auth.post("/signup", json={"email": email, "password": "abc\x00defgh"}).status_code == 200
    grant = {"grant_type": "password"}
    assert (
        auth.post("/token", params=grant, json={"email": email, "password": "abc\x00defgh"}).status_code
        == 200
    )
    assert _refusal(auth.post("/token", params=grant, json={"email": email, "password": "abc"})) == (
        400,
        "invalid_credentials",
    )


def test_a_password_never_matches_through_bcrypts_72_byte_limit(auth: httpx.Client) -> None:
    email = _email("long-password")
    stored = "p" * 72
    assert auth.post("/signup", json={"email": email, "password": stored}).status_code == 200
    r = auth.post(
        "/token", params={"grant_type": "password"}, json={"email": email, "password": stored + "x"}
    )
    assert _refusal(r) == (400, "invalid_credentials")


@pytest.mark.parametrize(
    "query",
    [{"page": "9" * 400}, {"page": "99999999999999999999"}, {"per_page": "9" * 30}, {"page": "\u00b2"}],
    ids=["page-400-digits", "page-past-bigint", "per-page-30-digits", "superscript-digit"],
)
def test_admin_paging_numbers_out_of_range_are_400(admin: httpx.Client, query: dict[str, str]) -> None:
    assert _refusal(admin.get("/admin/users", params=query)) == (400, "validation_failed")


@pytest.mark.parametrize("duration", ["9" * 400 + "h", "100000000h"])
def test_a_ban_longer_than_the_calendar_is_400(admin: httpx.Client, duration: str) -> None:
    r = admin.post("/admin/users", json={"email": _email("ban"), "ban_duration": duration})
    assert _refusal(r) == (400, "validation_failed")


def test_a_body_over_the_limit_is_413_before_it_is_read(stack: local.LocalStack) -> None:
    # Only the headers are sent: the answer comes from Content-Length, not from reading 64 MiB.
    url = urllib.parse.urlsplit(stack.url)
    head = (
        f"POST /auth/v1/signup HTTP/1.1\r\nHost: {url.netloc}\r\napikey: {stack.anon_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {64 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        answer = sock.recv(65536).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer[:200]


def test_an_anonymous_user_sets_a_password_only_with_an_email(auth: httpx.Client) -> None:
    session: dict[str, Any] = auth.post("/signup", json={}).json()
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    r = auth.put("/user", json={"password": "secret-1"}, headers=bearer)
    assert _refusal(r) == (422, "validation_failed")
    assert "anonymous" in r.json()["msg"]
    email = _email("was-anonymous")
    r = auth.put("/user", json={"email": email, "password": "secret-1"}, headers=bearer)
    assert r.status_code == 200, r.text
    assert r.json()["is_anonymous"] is False
    signed_in = auth.post(
        "/token", params={"grant_type": "password"}, json={"email": email, "password": "secret-1"}
    )
    assert signed_in.status_code == 200
    assert signed_in.json()["user"]["id"] == session["user"]["id"]

"""Forged or misused tokens get nothing from ``/rest/v1`` or ``/auth/v1``.

The stack signs and accepts HS256 only: a token with ``alg: none``, another HMAC, an RS256 header over an HS256
signature (algorithm confusion) or another secret is refused as PostgREST and GoTrue refuse it. A ``role``
claim the authenticator cannot switch to is refused by PostgreSQL itself. The service key is never implied:
the anon key in ``apikey`` with a forged service-role bearer reads nothing the service role may read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from nexus_sdk import local


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(uuid.uuid4()),
        "role": "service_role",
        "aud": "authenticated",
        "iat": now,
        "exp": now + 600,
        **extra,
    }


def _forged(stack: local.LocalStack) -> dict[str, str]:
    claims = _claims()
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    confused = hmac.new(stack.jwt_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return {
        "alg none": jwt.encode(claims, None, algorithm="none"),
        "alg none, signed": jwt.encode(claims, None, algorithm="none") + "c2ln",
        "HS384": jwt.encode(claims, stack.jwt_secret, algorithm="HS384"),
        "HS512": jwt.encode(claims, stack.jwt_secret, algorithm="HS512"),
        "RS256 header, HS256 signature": f"{header}.{payload}.{_b64(confused)}",
        "another secret": jwt.encode(claims, "another-secret-" + "x" * 32, algorithm="HS256"),
    }


@pytest.fixture
def secret_row(db: psycopg.Connection[Any]) -> Iterator[None]:
    db.execute("INSERT INTO public.stack_secret (id, v) VALUES (1, 'for the service role only')")
    try:
        yield
    finally:
        db.execute("DELETE FROM public.stack_secret")


@pytest.mark.usefixtures("secret_row")
def test_forged_service_role_tokens_read_nothing(stack: local.LocalStack, anon: httpx.Client) -> None:
    for label, token in _forged(stack).items():
        r = anon.get("/stack_secret", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()["code"]) == (401, "PGRST301"), label
        assert "service role" not in r.text
    # The real service key reads it: the refusals above are the tokens', not the table's.
    r = anon.get("/stack_secret", headers={"Authorization": f"Bearer {stack.service_role_key}"})
    assert r.json() == [{"id": 1, "v": "for the service role only"}]


def test_forged_tokens_are_bad_jwt_on_auth(stack: local.LocalStack) -> None:
    with httpx.Client(base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}) as auth:
        for label, token in _forged(stack).items():
            for path in ("/user", "/admin/users"):
                r = auth.get(path, headers={"Authorization": f"Bearer {token}"})
                assert (r.status_code, r.json()["error_code"]) == (403, "bad_jwt"), (label, path)


@pytest.mark.parametrize(
    ("role", "status", "code"),
    [
        ("postgres", 403, "42501"),
        ("supabase_auth_admin", 403, "42501"),
        ("pg_read_all_data", 403, "42501"),
        ("supabase_admin", 401, "22023"),
        ("no_such_role", 401, "22023"),
        ("", 401, None),
        (7, 401, None),
    ],
)
def test_a_role_the_authenticator_cannot_become_is_refused(
    stack: local.LocalStack, anon: httpx.Client, role: Any, status: int, code: str | None
) -> None:
    token = jwt.encode(_claims(role=role), stack.jwt_secret, algorithm="HS256")
    r = anon.get("/stack_items", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == status, r.text
    if code is not None:  # PostgreSQL's own refusal, passed on
        assert r.json()["code"] == code


def test_a_user_token_is_no_api_key(stack: local.LocalStack) -> None:
    token = stack.mint_token(uuid.uuid4())
    for url in (f"{stack.rest_url}/stack_items", f"{stack.url}/auth/v1/settings"):
        r = httpx.get(url, headers={"apikey": token, "Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()["message"]) == (401, "Invalid API key"), url


def test_admin_endpoints_want_the_service_role(stack: local.LocalStack) -> None:
    headers = {"apikey": stack.anon_key}
    with httpx.Client(base_url=f"{stack.url}/auth/v1", headers=headers) as auth:
        for token in (stack.anon_key, stack.mint_token(uuid.uuid4())):
            r = auth.get("/admin/users", headers={"Authorization": f"Bearer {token}"})
            assert (r.status_code, r.json()["error_code"]) == (403, "not_admin")
        assert auth.get("/admin/users").json()["error_code"] == "not_admin"  # the anon apikey, no bearer
        assert auth.get(
            "/admin/users", headers={"Authorization": f"Bearer {stack.service_role_key}"}
        ).is_success

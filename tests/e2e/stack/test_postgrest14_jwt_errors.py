"""JWTs PostgREST 14 cannot decode are answered with its PGRST301 messages.

Facts (PostgREST 14's Auth.Jwt and Error modules, AuthSpec; its JWT library jose-jwt, as Supabase projects
answer): a token that is not three dot-separated parts is "Expected 3 parts in JWT; got N"; one no key verifies
is "No suitable key or wrong key type" with details "None of the keys was able to decode the JWT"; one signed
with another algorithm than the key's finds no key ("No suitable key was found to decode the JWT"); each is 401
with ``WWW-Authenticate: Bearer error="invalid_token", error_description="<message>"``.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _get(stack: local.LocalStack, token: str) -> httpx.Response:
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    return httpx.get(f"{stack.rest_url}/stack_items?select=id", headers=headers, timeout=30)


def _expect(r: httpx.Response, message: str, details: Any = None) -> None:
    assert r.status_code == 401, r.text
    assert r.json() == {"code": "PGRST301", "details": details, "hint": None, "message": message}
    assert r.headers["WWW-Authenticate"] == f'Bearer error="invalid_token", error_description="{message}"'
    assert r.headers["Proxy-Status"] == "PostgREST; error=PGRST301"


@pytest.mark.parametrize(("token", "parts"), [("abc", 1), ("abc.def", 2), ("a.b.c.d", 4)])
def test_a_token_of_other_than_three_parts(stack: local.LocalStack, token: str, parts: int) -> None:
    _expect(_get(stack, token), f"Expected 3 parts in JWT; got {parts}")


def test_a_token_signed_with_another_secret(stack: local.LocalStack) -> None:
    token = jwt.encode(
        {"role": "anon"}, "another secret of at least thirty-two characters", algorithm="HS256"
    )
    _expect(
        _get(stack, token), "No suitable key or wrong key type", "None of the keys was able to decode the JWT"
    )


def test_a_token_of_another_algorithm(stack: local.LocalStack) -> None:
    token = jwt.encode({"role": "anon"}, stack.jwt_secret, algorithm="HS512")
    _expect(
        _get(stack, token), "No suitable key or wrong key type", "No suitable key was found to decode the JWT"
    )


def test_three_parts_that_are_no_jwt(stack: local.LocalStack) -> None:
    _expect(_get(stack, "a.b.c"), "JWT couldn't be decoded")

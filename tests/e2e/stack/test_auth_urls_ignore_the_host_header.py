"""/auth/v1 builds the token's ``iss`` and the admin ``Link`` header from the stack's own URL, as GoTrue
builds them from its configured external URL: a request's Host header never reaches either."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

FORGED = {"Host": "attacker.example:4444"}


def test_token_issuer_is_the_stacks_url_whatever_the_host_header(stack: local.LocalStack) -> None:
    with httpx.Client(
        base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}, timeout=30
    ) as auth:
        r = auth.post(
            "/signup",
            json={"email": f"iss-{time.time_ns()}@example.com", "password": "secret-1"},
            headers=FORGED,
        )
    assert r.status_code == 200, r.text
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["iss"] == f"{stack.url}/auth/v1"


def test_admin_link_header_is_the_stacks_url_whatever_the_host_header(stack: local.LocalStack) -> None:
    key = stack.service_role_key
    headers = {"apikey": key, "Authorization": f"Bearer {key}", **FORGED}
    r = httpx.get(f"{stack.url}/auth/v1/admin/users", params={"per_page": 1}, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    links = [part.split(";")[0].strip() for part in r.headers["Link"].split(",")]
    assert links
    for link in links:
        assert link.startswith(f"<{stack.url}/auth/v1/admin/users?"), link
    assert "attacker.example" not in r.headers["Link"]

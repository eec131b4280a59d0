"""A password change ends the other sessions, as GoTrue does: a stolen refresh token stops working once the
victim changes their password (PUT /user keeps only the session that made the change; the admin API's
change keeps none)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture
def auth(stack: local.LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client on /auth/v1 with the anon key."""
    with httpx.Client(base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}, timeout=30) as c:
        yield c


def _two_sessions(auth: httpx.Client) -> tuple[dict[str, Any], dict[str, Any], dict[str, str]]:
    credentials = {"email": f"password-change-{time.time_ns()}@example.com", "password": "secret-1"}
    first = auth.post("/signup", json=credentials).json()
    second = auth.post("/token", params={"grant_type": "password"}, json=credentials).json()
    return first, second, credentials


def _refresh(auth: httpx.Client, session: dict[str, Any]) -> httpx.Response:
    return auth.post(
        "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": session["refresh_token"]}
    )


def test_changing_ones_password_ends_every_other_session(auth: httpx.Client) -> None:
    mine, stolen, credentials = _two_sessions(auth)
    r = auth.put(
        "/user", json={"password": "secret-2"}, headers={"Authorization": f"Bearer {mine['access_token']}"}
    )
    assert r.status_code == 200, r.text
    assert _refresh(auth, stolen).json()["error_code"] == "refresh_token_not_found"
    assert _refresh(auth, mine).status_code == 200
    credentials["password"] = "secret-2"
    assert auth.post("/token", params={"grant_type": "password"}, json=credentials).status_code == 200


def test_a_metadata_change_ends_no_session(auth: httpx.Client) -> None:
    mine, other, _ = _two_sessions(auth)
    r = auth.put(
        "/user", json={"data": {"k": 1}}, headers={"Authorization": f"Bearer {mine['access_token']}"}
    )
    assert r.status_code == 200, r.text
    assert _refresh(auth, other).status_code == 200


def test_an_admin_password_change_ends_every_session(stack: local.LocalStack, auth: httpx.Client) -> None:
    first, second, _ = _two_sessions(auth)
    r = auth.put(
        f"/admin/users/{first['user']['id']}",
        json={"password": "secret-3"},
        headers={"Authorization": f"Bearer {stack.service_role_key}"},
    )
    assert r.status_code == 200, r.text
    for session in (first, second):
        assert _refresh(auth, session).json()["error_code"] == "refresh_token_not_found"

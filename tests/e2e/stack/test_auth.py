"""API keys, JWT verification, roles and RLS through the local stack."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _bearer(stack: local.LocalStack, token: str) -> dict[str, str]:
    return {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}


def test_apikey_is_required(stack: local.LocalStack) -> None:
    r = httpx.get(f"{stack.rest_url}/stack_items")
    assert r.status_code == 401
    assert r.json()["message"] == "No API key found in request"


def test_unknown_apikey_is_refused(stack: local.LocalStack) -> None:
    forged = jwt.encode({"role": "anon"}, "x" * 40, algorithm="HS256")
    r = httpx.get(f"{stack.rest_url}/stack_items", headers={"apikey": forged})
    assert r.status_code == 401
    assert r.json()["message"] == "Invalid API key"
    assert forged not in r.text


def test_apikey_in_query_string_is_accepted(stack: local.LocalStack, items: list[dict[str, Any]]) -> None:
    r = httpx.get(f"{stack.rest_url}/stack_items", params={"apikey": stack.anon_key, "select": "id"})
    assert r.status_code == 200
    assert len(r.json()) == len(items)


def test_bad_signature_is_401_pgrst301(stack: local.LocalStack) -> None:
    token = jwt.encode({"role": "authenticated", "sub": "x"}, "not-the-secret" * 3, algorithm="HS256")
    r = httpx.get(f"{stack.rest_url}/stack_items", headers=_bearer(stack, token))
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST301"
    assert "invalid_token" in r.headers["www-authenticate"]
    assert token not in r.text


def test_malformed_token_is_401(stack: local.LocalStack) -> None:
    r = httpx.get(f"{stack.rest_url}/stack_items", headers=_bearer(stack, "not.a-jwt"))
    assert r.status_code == 401
    assert r.json()["code"] == "PGRST301"


@pytest.mark.parametrize(
    ("claims", "status", "message"),
    [
        ({"exp": -60}, 401, "JWT expired"),
        ({"exp": -31}, 401, "JWT expired"),
        ({"exp": -10}, 200, None),  # within PostgREST's 30 s leeway
        ({"nbf": 120}, 401, "JWT not yet valid"),
        ({"nbf": 10}, 200, None),
        ({"iat": 120}, 401, "JWT issued at future"),
        ({"iat": 10}, 200, None),
    ],
)
def test_time_claims_with_leeway(
    stack: local.LocalStack,
    items: list[dict[str, Any]],
    claims: dict[str, int],
    status: int,
    message: str | None,
) -> None:
    now = int(time.time())
    payload: dict[str, Any] = {"role": "authenticated", "sub": "00000000-0000-0000-0000-000000000001"}
    payload.update({k: now + v for k, v in claims.items()})
    token = jwt.encode(payload, stack.jwt_secret, algorithm="HS256")
    r = httpx.get(f"{stack.rest_url}/stack_items", headers=_bearer(stack, token))
    assert r.status_code == status
    if message is not None:
        assert r.json() == {"code": "PGRST303", "details": None, "hint": None, "message": message}


def test_expired_user_token_from_mint(stack: local.LocalStack) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-000000000002", expires_in=-3600)
    r = httpx.get(f"{stack.rest_url}/stack_items", headers=_bearer(stack, token))
    assert r.status_code == 401
    assert r.json()["message"] == "JWT expired"


def test_keys_have_supabase_claims(stack: local.LocalStack) -> None:
    anon = jwt.decode(stack.anon_key, stack.jwt_secret, algorithms=["HS256"])
    service = jwt.decode(stack.service_role_key, stack.jwt_secret, algorithms=["HS256"])
    assert anon["role"] == "anon"
    assert service["role"] == "service_role"
    for claims in (anon, service):
        assert {"iss", "iat", "exp"} <= set(claims)
        assert claims["exp"] > time.time() + 365 * 24 * 3600


def test_repr_masks_secrets(stack: local.LocalStack) -> None:
    text = repr(stack) + str(stack) + repr(stack.state())
    for secret in (stack.anon_key, stack.service_role_key, stack.jwt_secret):
        assert secret not in text


NEXUS_TABLES = [
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
]


@pytest.mark.parametrize("table", NEXUS_TABLES)
def test_anon_is_refused_on_nexus_tables(anon: httpx.Client, table: str) -> None:
    r = anon.get(f"/{table}")
    assert r.status_code == 401
    body = r.json()
    assert body["code"] == "42501"
    assert set(body) == {"code", "details", "hint", "message"}


def test_authenticated_42501_is_403(stack: local.LocalStack) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-000000000003")
    r = httpx.get(f"{stack.rest_url}/stack_secret", headers=_bearer(stack, token))
    assert r.status_code == 403
    assert r.json()["code"] == "42501"


def test_users_see_only_their_rows(stack: local.LocalStack, db: psycopg.Connection[Any]) -> None:
    ada, ada_token = stack.create_user(f"ada-{time.time_ns()}@example.com", metadata={"full_name": "Ada"})
    bob, bob_token = stack.create_user(f"bob-{time.time_ns()}@example.com")
    # The signup trigger made each public.users row; each user sees exactly their own.
    for uid, token in ((ada, ada_token), (bob, bob_token)):
        r = httpx.get(f"{stack.rest_url}/users", headers=_bearer(stack, token))
        assert r.status_code == 200
        assert [row["id"] for row in r.json()] == [str(uid)]
    r = httpx.get(f"{stack.rest_url}/users", params={"id": f"eq.{ada}"}, headers=_bearer(stack, ada_token))
    assert r.json()[0]["full_name"] == "Ada"
    # Writes through RLS: bob's note is invisible and unchangeable for ada.
    note = httpx.post(
        f"{stack.rest_url}/stack_notes",
        json={"body": "bob's"},
        headers={**_bearer(stack, bob_token), "Prefer": "return=representation"},
    )
    assert note.status_code == 201
    note_id = note.json()[0]["id"]
    assert note.json()[0]["user_id"] == str(bob)
    seen = httpx.get(f"{stack.rest_url}/stack_notes", headers=_bearer(stack, ada_token)).json()
    assert note_id not in [n["id"] for n in seen]
    r = httpx.patch(
        f"{stack.rest_url}/stack_notes",
        params={"id": f"eq.{note_id}"},
        json={"body": "hijacked"},
        headers={**_bearer(stack, ada_token), "Prefer": "return=representation"},
    )
    assert r.status_code == 200
    assert r.json() == []
    forged = httpx.post(
        f"{stack.rest_url}/stack_notes",
        json={"body": "as bob", "user_id": str(bob)},
        headers=_bearer(stack, ada_token),
    )
    assert forged.status_code == 403
    assert forged.json()["code"] == "42501"
    assert db.execute("SELECT body FROM stack_notes WHERE id = %s", [note_id]).fetchone() == ("bob's",)
    # The service role bypasses RLS.
    everyone = httpx.get(
        f"{stack.rest_url}/users",
        params={"id": f"in.({ada},{bob})"},
        headers=_bearer(stack, stack.service_role_key),
    )
    assert sorted(u["id"] for u in everyone.json()) == sorted([str(ada), str(bob)])


def test_request_context_as_postgrest_sets_it(stack: local.LocalStack) -> None:
    uid, token = stack.create_user(f"ctx-{time.time_ns()}@example.com")
    headers = {**_bearer(stack, token), "X-Probe": "probe-value"}
    got = httpx.get(f"{stack.rest_url}/rpc/whoami", headers=headers).json()
    assert got["role"] == "authenticated"
    assert got["sub"] == str(uid)
    assert got["method"] == "GET"
    # The path PostgREST sees: Supabase's gateway strips /rest/v1 before it.
    assert got["path"] == "/rpc/whoami"
    assert got["header_x"] == "probe-value"
    assert got["read_only"] == "on"
    posted = httpx.post(f"{stack.rest_url}/rpc/whoami", headers=headers).json()
    assert posted["method"] == "POST"
    # whoami is STABLE, so even POST runs it read-only, as PostgREST does.
    assert posted["read_only"] == "on"
    anon = httpx.get(f"{stack.rest_url}/rpc/whoami", headers={"apikey": stack.anon_key}).json()
    assert anon["role"] == "anon"
    assert anon["sub"] is None


def test_server_connects_as_authenticator(stack: local.LocalStack, db: psycopg.Connection[Any]) -> None:
    httpx.get(f"{stack.rest_url}/stack_items", headers={"apikey": stack.anon_key})
    users = {
        r[0]
        for r in db.execute(
            "SELECT usename FROM pg_stat_activity WHERE application_name = 'nexus-sdk-local'"
        ).fetchall()
    }
    assert users == {"authenticator"}

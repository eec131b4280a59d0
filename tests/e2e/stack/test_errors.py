"""PostgREST's SQLSTATE-to-HTTP table, its error body, and injection attempts."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [
        ("P0001", 400),
        ("22P02", 400),
        ("23502", 400),
        ("23514", 400),
        ("23503", 409),
        ("23505", 409),
        ("42P01", 404),
        ("42883", 404),
        ("08006", 503),
        ("53300", 503),
        ("53400", 500),
        ("40001", 500),
        ("40P01", 500),
        ("25001", 500),
        ("28000", 403),
        ("0P000", 403),
        ("57014", 500),
        ("XX000", 500),
        ("P0002", 500),
        ("42P17", 500),
        ("22023", 400),
        ("PT402", 402),
    ],
)
def test_sqlstate_to_status(anon: httpx.Client, sqlstate: str, status: int) -> None:
    r = anon.post("/rpc/fail_with", json={"code": sqlstate, "msg": f"failed {sqlstate}"})
    assert r.status_code == status
    assert r.json() == {"code": sqlstate, "details": "d", "hint": "h", "message": f"failed {sqlstate}"}


def test_42501_depends_on_role(stack: Any, anon: httpx.Client) -> None:
    r = anon.post("/rpc/fail_with", json={"code": "42501"})
    assert r.status_code == 401
    token = stack.mint_token("00000000-0000-0000-0000-000000000009")
    r = anon.post("/rpc/fail_with", json={"code": "42501"}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


@pytest.mark.usefixtures("items")
def test_constraint_errors_from_real_statements(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json={"name": "neg", "qty": -1})
    assert (r.status_code, r.json()["code"]) == (400, "23514")
    r = anon.post("/stack_items", json={"qty": 1})
    assert (r.status_code, r.json()["code"]) == (400, "23502")
    r = anon.post("/stack_children", json={"item_id": 999, "label": "orphan"})
    assert (r.status_code, r.json()["code"]) == (409, "23503")
    r = anon.post("/stack_items", json={"name": "x", "qty": "many"})
    assert (r.status_code, r.json()["code"]) == (400, "22P02")


INJECTIONS = [
    "1; DROP TABLE stack_items; --",
    "1' OR '1'='1",
    'x"); DROP TABLE stack_items; --',
    "$$; DROP TABLE stack_items; $$",
    "1) OR (1=1",
]


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_values_is_inert(anon: httpx.Client, db: psycopg.Connection[Any], payload: str) -> None:
    for params in (
        {"name": f"eq.{payload}"},
        {"name": f"in.({payload})"},
        {"name": f'in.("{payload}")'},
        {"or": f"(name.eq.{payload},qty.eq.-5)"},
        {"data->>color": f"eq.{payload}"},
        {f"data->{payload[:5].strip() or 'k'}": "eq.1"},
    ):
        r = anon.get("/stack_items", params=params)
        assert r.status_code in (200, 400), r.text
        if r.status_code == 200:
            assert r.json() == []
    r = anon.post("/stack_items", json={"name": payload}, headers={"Prefer": "return=representation"})
    assert r.json()[0]["name"] == payload
    assert db.execute("SELECT count(*) FROM stack_items").fetchone() == (6,)


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_in_identifiers_is_refused(
    anon: httpx.Client, db: psycopg.Connection[Any], payload: str
) -> None:
    attempts = [
        anon.get("/stack_items", params={"select": payload}),
        anon.get("/stack_items", params={"select": f"name,{payload}"}),
        anon.get("/stack_items", params={payload: "eq.1"}),
        anon.get("/stack_items", params={"order": payload}),
        anon.get("/stack_items", params={"name": f"{payload}.1"}),
        anon.get("/stack_items", params={"select": f"name::{payload}"}),
        anon.get(f"/{payload}"),
        anon.post("/stack_items", json={payload: 1}),
        anon.post("/stack_items", params={"columns": payload}, json={"name": "x"}),
        anon.post(
            "/stack_items",
            params={"on_conflict": payload},
            json={"name": "x"},
            headers={"Prefer": "resolution=merge-duplicates"},
        ),
        anon.post(f"/rpc/{payload}", json={}),
        anon.post("/rpc/add_them", json={"a": 1, payload: 2}),
    ]
    for r in attempts:
        assert r.status_code in (400, 404), (r.request.url, r.text)
        assert set(r.json()) == {"code", "details", "hint", "message"}
    # A quoted alias may hold anything, as in PostgREST: it is only the output key, quoted as an identifier.
    quoted = payload.replace("\\", "\\\\").replace('"', '\\"')
    r = anon.get("/stack_items", params={"select": f'"{quoted}":name', "id": "eq.1"})
    assert (r.status_code, r.json()) == (200, [{payload: "apple"}])
    assert db.execute("SELECT count(*) FROM stack_items").fetchone() == (5,)


def test_operator_names_are_a_fixed_set(anon: httpx.Client) -> None:
    for op in ("=", "eq;", "eq)", "or", "OR 1=1 --", "like/**/"):
        r = anon.get("/stack_items", params={"qty": f"{op}.1"})
        assert (r.status_code, r.json()["code"]) == (400, "PGRST100")


def test_error_bodies_never_echo_credentials(stack: Any) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-00000000000a")
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    for path in ("/stack_items?nope=eq.1", "/stack_secret", "/rpc/nope", "/missing"):
        r = httpx.get(stack.rest_url + path, headers=headers)
        assert r.status_code >= 400
        for secret in (token, stack.anon_key, stack.jwt_secret):
            assert secret not in r.text
            assert all(secret not in v for v in r.headers.values())


async def test_pool_exhaustion_is_504_pgrst003(stack: Any, one_connection_app: Any) -> None:
    # PostgREST answers 504 PGRST003 when no connection frees up in time: the request never reached the
    # database. A second app over the same database, with one connection that the test holds.
    app = one_connection_app(0.3)  # the 10 s default would only slow the test down
    await app.open()
    try:
        async with app._pool.connection():
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://stack") as client:
                r = await client.get("/rest/v1/stack_items", headers={"apikey": stack.anon_key})
    finally:
        await app.close()

    assert r.status_code == 504, r.text
    assert r.json()["code"] == "PGRST003"

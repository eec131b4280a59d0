"""Set-returning functions with counts and singular responses: each call runs the function once."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest
from supabase import create_client

from nexus_sdk import local

pytestmark = [
    pytest.mark.db,
    pytest.mark.e2e,
    # supabase-py itself passes these deprecated arguments to its postgrest client; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'timeout' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'verify' parameter is deprecated:DeprecationWarning"),
]

FUNCTIONS = """
CREATE OR REPLACE FUNCTION public.review_make(n integer) RETURNS SETOF public.stack_items
  LANGUAGE sql VOLATILE AS $f$
  INSERT INTO public.stack_items (name) SELECT 'made' || g FROM generate_series(1, n) g RETURNING *
$f$;
CREATE OR REPLACE FUNCTION public.review_make_names(n integer) RETURNS SETOF text
  LANGUAGE sql VOLATILE AS $f$
  INSERT INTO public.stack_items (name) SELECT 'named' || g FROM generate_series(1, n) g RETURNING name
$f$;
GRANT EXECUTE ON FUNCTION public.review_make(integer), public.review_make_names(integer)
  TO anon, authenticated, service_role;
"""

OBJECT = {"Accept": "application/vnd.pgrst.object+json"}


@pytest.fixture(scope="module", autouse=True)
def _functions(stack: local.LocalStack) -> None:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(FUNCTIONS.encode())
    stack.reload_schema()


def made(db: psycopg.Connection[Any], prefix: str) -> int:
    row = db.execute("SELECT count(*) FROM public.stack_items WHERE name LIKE %s", [prefix + "%"]).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("items")
def test_volatile_setof_function_runs_once_with_exact_count(
    anon: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    r = anon.post(
        "/rpc/review_make",
        params={"select": "name", "name": "neq.made1"},
        json={"n": 3},
        headers={"Prefer": "count=exact"},
    )

    assert r.status_code == 200, r.text
    assert r.json() == [{"name": "made2"}, {"name": "made3"}]
    assert r.headers["content-range"] == "0-1/2"
    assert made(db, "made") == 3


@pytest.mark.usefixtures("items")
def test_volatile_setof_scalar_function_runs_once_with_exact_count(
    anon: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    r = anon.post("/rpc/review_make_names", json={"n": 2}, headers={"Prefer": "count=exact"})

    assert r.status_code == 200, r.text
    assert r.json() == ["named1", "named2"]
    assert r.headers["content-range"] == "0-1/2"
    assert made(db, "named") == 2


@pytest.mark.usefixtures("items")
def test_setof_scalar_honours_count(anon: httpx.Client) -> None:
    r = anon.get("/rpc/item_names", headers={"Prefer": "count=exact"})
    assert (r.status_code, r.headers["content-range"]) == (200, "0-4/5")
    r = anon.get("/rpc/item_names", params={"limit": "2", "offset": "1"}, headers={"Prefer": "count=exact"})
    assert (r.status_code, r.json(), r.headers["content-range"]) == (206, ["banana", "cherry"], "1-2/5")
    r = anon.get("/rpc/item_names", params={"offset": "9"}, headers={"Prefer": "count=exact"})
    assert (r.status_code, r.json()["code"]) == (416, "PGRST103")


@pytest.mark.usefixtures("items")
def test_setof_scalar_singular_is_the_value_or_406(anon: httpx.Client) -> None:
    r = anon.get("/rpc/item_names", params={"limit": "1", "offset": "2"}, headers=OBJECT)
    assert r.status_code == 200, r.text
    assert r.json() == "cherry"
    assert r.headers["content-type"].startswith("application/vnd.pgrst.object+json")
    r = anon.get("/rpc/item_names", headers=OBJECT)
    assert r.status_code == 406
    assert (r.json()["code"], r.json()["details"]) == ("PGRST116", "The result contains 5 rows")


@pytest.mark.usefixtures("items")
def test_supabase_client_rpc_count(stack: local.LocalStack) -> None:
    client = create_client(stack.url, stack.service_role_key)
    try:
        res = client.rpc("item_names", {}, count="exact").execute()  # type: ignore[arg-type]
        assert res.count == 5
        rows = client.rpc("items_over", {"min_qty": 2}, count="exact").limit(1).execute()  # type: ignore[arg-type]
        assert isinstance(rows.data, list)
        assert (len(rows.data), rows.count) == (1, 4)
    finally:
        client.postgrest.session.close()

"""The ``response.status`` and ``response.headers`` settings a function or trigger may set, as in PostgREST."""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

OBJECTS = """
CREATE OR REPLACE FUNCTION public.review_respond(s text DEFAULT '', h text DEFAULT '') RETURNS text
  LANGUAGE plpgsql STABLE AS $f$
BEGIN
  PERFORM set_config('response.status', s, true);
  PERFORM set_config('response.headers', h, true);
  RETURN 'ok';
END $f$;
CREATE TABLE IF NOT EXISTS public.review_guc (id integer PRIMARY KEY);
CREATE OR REPLACE FUNCTION public.review_guc_created() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM set_config('response.status', '202', true);
  PERFORM set_config('response.headers',
    json_build_array(json_build_object('X-Created', NEW.id::text))::text, true);
  RETURN NEW;
END $f$;
DROP TRIGGER IF EXISTS review_guc_created ON public.review_guc;
CREATE TRIGGER review_guc_created BEFORE INSERT ON public.review_guc
  FOR EACH ROW EXECUTE FUNCTION public.review_guc_created();
GRANT SELECT, INSERT, DELETE ON public.review_guc TO anon;
GRANT EXECUTE ON FUNCTION public.review_respond(text, text) TO anon, authenticated, service_role;
"""


@pytest.fixture(scope="module", autouse=True)
def _objects(stack: local.LocalStack) -> None:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(OBJECTS.encode())
    stack.reload_schema()


def test_function_sets_status_and_headers(anon: httpx.Client) -> None:
    headers = [
        {"X-Review": "yes"},
        {"Cache-Control": "no-store"},
        {"Set-Cookie": "a=1"},
        {"Set-Cookie": "b=2"},
    ]
    r = anon.get("/rpc/review_respond", params={"s": "201", "h": json.dumps(headers)})

    assert r.status_code == 201, r.text
    assert r.json() == "ok"
    assert r.headers["x-review"] == "yes"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]


def test_guc_headers_replace_the_stacks_own(anon: httpx.Client) -> None:
    r = anon.post(
        "/rpc/review_respond", json={"h": json.dumps([{"Content-Type": "text/plain; charset=utf-8"}])}
    )

    assert r.status_code == 200, r.text
    assert r.headers.get_list("content-type") == ["text/plain; charset=utf-8"]


def test_trigger_on_a_table_write_sets_the_response(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    db.execute("DELETE FROM public.review_guc")
    r = anon.post("/review_guc", json={"id": 7})

    assert r.status_code == 202, r.text
    assert r.headers["x-created"] == "7"
    assert db.execute("SELECT id FROM public.review_guc").fetchall() == [(7,)]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ({"s": "abc"}, "PGRST112"),
        ({"s": "99"}, "PGRST112"),
        ({"h": '{"X-A": "b"}'}, "PGRST111"),
        ({"h": '[{"X-A": "b", "X-B": "c"}]'}, "PGRST111"),
        ({"h": '[{"X-A": 1}]'}, "PGRST111"),
        ({"h": '[{"X-A": "line\\r\\nInjected: yes"}]'}, "PGRST111"),
        ({"h": "not json"}, "PGRST111"),
    ],
)
def test_invalid_settings_are_500(anon: httpx.Client, args: dict[str, str], code: str) -> None:
    r = anon.post("/rpc/review_respond", json=args)

    assert r.status_code == 500, r.text
    assert r.json()["code"] == code
    assert "injected" not in r.headers


@pytest.mark.usefixtures("items")
def test_failed_statements_leave_pooled_connections_usable(anon: httpx.Client) -> None:
    # Each request reads the response settings after its statement; when the statement fails, that read
    # is skipped. Enough failures to pass psycopg's prepare threshold on every pooled connection must not
    # leave any of them believing in a prepared statement the server never made.
    for _ in range(24):
        assert anon.get("/stack_secret").status_code == 401
    for _ in range(8):
        r = anon.get("/stack_items", params={"select": "id", "limit": "1"})
        assert r.status_code == 200, r.text

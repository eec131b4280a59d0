"""The local stack's one-statement bulk insert (missing=default with uniform rows) on real PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

DEFAULTS = {"Prefer": "return=representation,missing=default"}


@pytest.mark.usefixtures("items")
def test_uniform_rows_get_column_defaults(anon: httpx.Client) -> None:
    body = [{"name": f"bulk {i}", "note": None} for i in range(1000)]
    r = anon.post("/stack_items", params={"columns": "name,note,qty,tags"}, json=body, headers=DEFAULTS)
    assert r.status_code == 201, r.text
    got = r.json()
    assert [x["name"] for x in got] == [f"bulk {i}" for i in range(1000)]
    assert {(x["qty"], tuple(x["tags"]), x["note"]) for x in got} == {(0, (), None)}


@pytest.mark.usefixtures("items")
def test_ignore_duplicates_counts_only_new_rows(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    first = [{"name": "a", "sku": "s-1"}, {"name": "b", "sku": "s-2"}]
    prefer = "return=representation,resolution=ignore-duplicates,missing=default"
    params = {"columns": "name,sku,qty", "on_conflict": "sku", "select": "sku"}
    r = anon.post("/stack_items", params=params, json=first, headers={"Prefer": prefer})
    assert r.json() == [{"sku": "s-1"}, {"sku": "s-2"}]
    again = [{"name": "c", "sku": "s-2"}, {"name": "d", "sku": "s-3"}]
    r = anon.post("/stack_items", params=params, json=again, headers={"Prefer": prefer})
    assert r.json() == [{"sku": "s-3"}]
    row = db.execute("SELECT name, qty FROM public.stack_items WHERE sku = 's-2'").fetchone()
    assert row == ("b", 0)


@pytest.mark.usefixtures("items")
def test_merge_resets_missing_columns_to_defaults(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    anon.post("/stack_items", json={"name": "old", "sku": "m-1", "qty": 7})
    prefer = "return=minimal,resolution=merge-duplicates,missing=default"
    r = anon.post(
        "/stack_items",
        params={"columns": "name,sku,qty", "on_conflict": "sku"},
        json=[{"name": "new", "sku": "m-1"}],
        headers={"Prefer": prefer},
    )
    # The row existed, so the upsert inserted nothing: 200, as PostgREST answers.
    assert r.status_code == 200, r.text
    row = db.execute("SELECT name, qty FROM public.stack_items WHERE sku = 'm-1'").fetchone()
    assert row == ("new", 0)

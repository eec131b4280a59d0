"""Writes through the local stack: POST (single, array, columns, upserts, missing=default), PATCH, DELETE."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

REP = {"Prefer": "return=representation"}


def count(db: psycopg.Connection[Any], where: str = "true") -> int:
    row = db.execute(f"SELECT count(*) FROM public.stack_items WHERE {where}").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("items")
def test_post_single_minimal(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.post("/stack_items", json={"name": "fig", "qty": 2})
    assert r.status_code == 201
    assert r.content == b""
    assert "location" not in r.headers
    assert count(db, "name = 'fig' AND qty = 2") == 1


@pytest.mark.usefixtures("items")
def test_post_array_representation_with_select(anon: httpx.Client) -> None:
    r = anon.post(
        "/stack_items",
        params={"select": "name,qty"},
        json=[{"name": "fig", "qty": 1}, {"name": "grape", "qty": 9}],
        headers=REP,
    )
    assert r.status_code == 201
    assert r.json() == [{"name": "fig", "qty": 1}, {"name": "grape", "qty": 9}]


@pytest.mark.usefixtures("items")
def test_post_headers_only_gives_location(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json={"name": "fig"}, headers={"Prefer": "return=headers-only"})
    assert r.status_code == 201
    assert r.headers["location"] == "/stack_items?id=eq.6"
    assert r.content == b""


@pytest.mark.usefixtures("items")
def test_post_jsonb_and_array_values(anon: httpx.Client) -> None:
    row = {"name": "kiwi", "tags": ["green", "fuzzy"], "data": {"nested": {"a": [1, 2]}}, "price": 1.25}
    r = anon.post("/stack_items", json=row, headers=REP)
    got = r.json()[0]
    assert {k: got[k] for k in row} == row


@pytest.mark.usefixtures("items")
def test_post_array_keys_must_match(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json=[{"name": "a"}, {"name": "b", "qty": 1}])
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST102"


@pytest.mark.usefixtures("items")
def test_post_columns_param(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    # columns= picks the keys; missing ones become NULL (or the default with missing=default); others are ignored.
    r = anon.post(
        "/stack_items",
        params={"columns": "name,note"},
        json=[{"name": "a", "note": "x", "qty": 50}, {"name": "b"}],
        headers=REP,
    )
    assert r.status_code == 201
    assert [(x["name"], x["note"], x["qty"]) for x in r.json()] == [("a", "x", 0), ("b", None, 0)]


@pytest.mark.usefixtures("items")
def test_post_missing_default(anon: httpx.Client) -> None:
    body = [{"name": "a", "qty": 4, "tags": None}, {"name": "b"}]
    plain = anon.post("/stack_items", params={"columns": "name,qty,tags"}, json=body, headers=REP)
    assert plain.status_code == 400  # NULL into the NOT NULL qty
    assert plain.json()["code"] == "23502"
    r = anon.post(
        "/stack_items",
        params={"columns": "name,qty,tags"},
        json=body,
        headers={"Prefer": "return=representation,missing=default"},
    )
    assert r.status_code == 201, r.text
    assert [(x["name"], x["qty"], x["tags"]) for x in r.json()] == [("a", 4, None), ("b", 0, [])]
    assert "missing=default" in r.headers["preference-applied"]


@pytest.mark.usefixtures("items")
def test_post_unknown_column(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json={"name": "a", "nope": 1})
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST204"
    r = anon.post("/stack_items", params={"columns": "name,nope"}, json={"name": "a"})
    assert r.json()["code"] == "PGRST204"


@pytest.mark.usefixtures("items")
def test_post_invalid_json(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["code"] == "PGRST102"


@pytest.mark.usefixtures("items")
def test_upsert_merge_duplicates_on_primary_key(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.post(
        "/stack_items",
        json=[{"id": 1, "name": "APPLE", "qty": 50}, {"id": 99, "name": "new", "qty": 1}],
        headers={"Prefer": "return=representation,resolution=merge-duplicates"},
    )
    assert r.status_code == 201
    assert [(x["id"], x["name"], x["qty"]) for x in r.json()] == [(1, "APPLE", 50), (99, "new", 1)]
    assert db.execute("SELECT name, price FROM stack_items WHERE id = 1").fetchone() == ("APPLE", 1.50)


@pytest.mark.usefixtures("items")
def test_upsert_on_conflict_unique_column(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.post(
        "/stack_items",
        params={"on_conflict": "sku"},
        json={"sku": "B2", "name": "plantain", "qty": 8},
        headers={"Prefer": "return=representation,resolution=merge-duplicates"},
    )
    # Every row already existed: PostgREST answers 200, not 201.
    assert r.status_code == 200
    assert r.json()[0]["id"] == 2
    assert db.execute("SELECT name, qty FROM stack_items WHERE sku = 'B2'").fetchone() == ("plantain", 8)
    assert count(db) == 5


@pytest.mark.usefixtures("items")
def test_upsert_ignore_duplicates(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.post(
        "/stack_items",
        params={"on_conflict": "sku"},
        json=[{"sku": "A1", "name": "other"}, {"sku": "Z9", "name": "zucchini"}],
        headers={"Prefer": "return=representation,resolution=ignore-duplicates"},
    )
    assert r.status_code == 201
    assert [x["name"] for x in r.json()] == ["zucchini"]
    assert db.execute("SELECT name FROM stack_items WHERE sku = 'A1'").fetchone() == ("apple",)


@pytest.mark.usefixtures("items")
def test_insert_without_resolution_conflicts(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json={"sku": "A1", "name": "dup"})
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "23505"
    assert "A1" in body["details"]


@pytest.mark.usefixtures("items")
def test_patch_return_variants(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.patch("/stack_items", params={"qty": "gt.5"}, json={"note": "big"})
    assert (r.status_code, r.content) == (204, b"")
    assert r.headers["content-range"] == "0-1/*"
    assert count(db, "note = 'big'") == 2
    r = anon.patch(
        "/stack_items", params={"name": "eq.apple", "select": "name,note"}, json={"note": "red"}, headers=REP
    )
    assert (r.status_code, r.json()) == (200, [{"name": "apple", "note": "red"}])
    r = anon.patch("/stack_items", params={"name": "eq.nobody"}, json={"note": "x"}, headers=REP)
    assert (r.status_code, r.json()) == (200, [])
    r = anon.patch(
        "/stack_items", params={"name": "eq.apple"}, json={"note": "y"}, headers={"Prefer": "count=exact"}
    )
    assert r.headers["content-range"] == "0-0/1"


@pytest.mark.usefixtures("items")
def test_patch_needs_filters_and_known_columns(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.patch("/stack_items", json={"note": "all"})
    assert r.status_code == 400
    assert r.json()["code"] == "21000"
    assert count(db, "note = 'all'") == 0
    r = anon.patch("/stack_items", params={"id": "eq.1"}, json={"nope": 1})
    assert r.json()["code"] == "PGRST204"


@pytest.mark.usefixtures("items")
def test_delete_return_variants(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.delete("/stack_items", params={"name": "eq.apple"})
    assert (r.status_code, r.content) == (204, b"")
    r = anon.delete("/stack_items", params={"qty": "gt.5", "select": "name"}, headers=REP)
    assert r.status_code == 200
    assert sorted(x["name"] for x in r.json()) == ["Date", "cherry"]
    assert count(db) == 2
    r = anon.delete("/stack_items")
    assert r.status_code == 400
    assert count(db) == 2


@pytest.mark.usefixtures("items")
def test_singular_write_rolls_back_on_many_rows(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    single = {"Accept": "application/vnd.pgrst.object+json", "Prefer": "return=representation"}
    r = anon.patch("/stack_items", params={"qty": "gt.1"}, json={"note": "many"}, headers=single)
    assert r.status_code == 406
    assert r.json()["code"] == "PGRST116"
    assert count(db, "note = 'many'") == 0
    r = anon.patch("/stack_items", params={"id": "eq.1"}, json={"note": "one"}, headers=single)
    assert r.status_code == 200
    assert r.json()["note"] == "one"
    r = anon.post("/stack_items", json={"name": "solo"}, headers=single)
    assert (r.status_code, r.json()["name"]) == (201, "solo")


@pytest.mark.usefixtures("items")
def test_count_on_insert(anon: httpx.Client) -> None:
    r = anon.post("/stack_items", json=[{"name": "a"}, {"name": "b"}], headers={"Prefer": "count=exact"})
    assert r.status_code == 201
    assert r.headers["content-range"] == "*/2"

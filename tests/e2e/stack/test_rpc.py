"""Functions through /rpc/: POST with named arguments, GET for non-volatile ones, every result shape."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def test_scalar_post_and_get(anon: httpx.Client) -> None:
    r = anon.post("/rpc/add_them", json={"a": 2, "b": 3})
    assert (r.status_code, r.json()) == (200, 5)
    assert r.headers["content-type"].startswith("application/json")
    # b has a default.
    assert anon.post("/rpc/add_them", json={"a": 2}).json() == 12
    assert anon.get("/rpc/add_them", params={"a": "7", "b": "1"}).json() == 8


@pytest.mark.usefixtures("items")
def test_setof_rows_with_filters_order_and_count(anon: httpx.Client) -> None:
    r = anon.post("/rpc/items_over", json={"min_qty": 2})
    assert [x["name"] for x in r.json()] == ["apple", "cherry", "Date", "elder"]
    r = anon.get(
        "/rpc/items_over",
        params={"min_qty": "2", "select": "name,qty", "qty": "lt.10", "order": "qty.desc"},
        headers={"Prefer": "count=exact"},
    )
    assert r.status_code == 200
    assert r.json() == [{"name": "Date", "qty": 7}, {"name": "apple", "qty": 5}, {"name": "elder", "qty": 3}]
    assert r.headers["content-range"] == "0-2/3"
    r = anon.post("/rpc/items_over", params={"limit": "1"}, json={"min_qty": 0})
    assert [x["name"] for x in r.json()] == ["apple"]


@pytest.mark.usefixtures("items")
def test_single_row_setof_scalar_and_out_params(anon: httpx.Client) -> None:
    first = anon.post("/rpc/first_item").json()
    assert isinstance(first, dict)
    assert first["name"] == "apple"
    assert anon.get("/rpc/item_names").json() == ["apple", "banana", "cherry", "Date", "elder"]
    assert anon.get("/rpc/tally").json() == {"n": 5, "total": 27}


@pytest.mark.usefixtures("items")
def test_singular_on_setof(anon: httpx.Client) -> None:
    accept = {"Accept": "application/vnd.pgrst.object+json"}
    r = anon.post("/rpc/items_over", json={"min_qty": 10}, headers=accept)
    assert (r.status_code, r.json()["name"]) == (200, "cherry")
    r = anon.post("/rpc/items_over", json={"min_qty": 1}, headers=accept)
    assert (r.status_code, r.json()["code"]) == (406, "PGRST116")


@pytest.mark.usefixtures("items")
def test_void_function_writes_on_post_only(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    r = anon.post("/rpc/bump", json={"p_id": 1})
    assert (r.status_code, r.content) == (204, b"")
    assert db.execute("SELECT qty FROM stack_items WHERE id = 1").fetchone() == (6,)
    # GET runs read-only, so a volatile function that writes fails as in PostgREST: 25006 -> 405.
    r = anon.get("/rpc/bump", params={"p_id": "1"})
    assert r.status_code == 405
    assert r.json()["code"] == "25006"
    assert db.execute("SELECT qty FROM stack_items WHERE id = 1").fetchone() == (6,)


def test_unknown_function_or_arguments(anon: httpx.Client) -> None:
    r = anon.post("/rpc/no_such_fn", json={})
    assert (r.status_code, r.json()["code"]) == (404, "PGRST202")
    r = anon.post("/rpc/add_them", json={"a": 1, "zzz": 2})
    assert (r.status_code, r.json()["code"]) == (404, "PGRST202")
    r = anon.post("/rpc/add_them", json={"b": 1})  # a is required
    assert r.status_code == 404


def test_bad_argument_value(anon: httpx.Client) -> None:
    r = anon.post("/rpc/add_them", json={"a": "not-a-number"})
    assert (r.status_code, r.json()["code"]) == (400, "22P02")


def test_other_methods_on_rpc(anon: httpx.Client) -> None:
    r = anon.patch("/rpc/add_them", json={"a": 1})
    assert (r.status_code, r.json()["code"]) == (405, "PGRST101")


def test_argument_types_from_the_catalog(anon: httpx.Client) -> None:
    args = {
        "j": {"nested": [1, {"a": None}]},
        "t": "2024-05-01T12:00:00+02:00",
        "u": "00000000-0000-0000-0000-00000000abcd",
        "arr": ["x", "y,z"],
    }
    expected = {**args, "t": "2024-05-01T10:00:00", "v": "dflt"}
    assert anon.post("/rpc/echo_args", json=args).json() == expected
    got = anon.get("/rpc/echo_args", params={**args, "j": '{"k": 1}', "arr": "{a,b}", "v": "given"}).json()
    assert got == {**expected, "j": {"k": 1}, "arr": ["a", "b"], "v": "given"}

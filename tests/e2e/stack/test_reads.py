"""Reads through the local stack: select, every filter operator, logic trees, order, ranges, counts."""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def names(r: httpx.Response) -> list[str]:
    assert r.status_code in (200, 206), r.text
    return [row["name"] for row in r.json()]


def get(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get("/stack_items", params={"select": "name", "order": "id", **params})


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"qty": "eq.5"}, ["apple"]),
        ({"qty": "neq.5"}, ["banana", "cherry", "Date", "elder"]),
        ({"qty": "gt.5"}, ["cherry", "Date"]),
        ({"qty": "gte.5"}, ["apple", "cherry", "Date"]),
        ({"qty": "lt.5"}, ["banana", "elder"]),
        ({"qty": "lte.5"}, ["apple", "banana", "elder"]),
        ({"name": "like.*an*"}, ["banana"]),
        ({"name": "like.d*"}, []),
        ({"name": "ilike.d*"}, ["Date"]),
        ({"name": "match.^[a-c]"}, ["apple", "banana", "cherry"]),
        ({"name": "imatch.^D"}, ["Date"]),
        ({"price": "is.null"}, ["Date"]),
        ({"price": "not.is.null"}, ["apple", "banana", "cherry", "elder"]),
        ({"flag": "is.true"}, ["apple", "Date"]),
        ({"flag": "is.false"}, ["banana", "elder"]),
        ({"flag": "is.unknown"}, ["cherry"]),
        ({"flag": "isdistinct.true"}, ["banana", "cherry", "elder"]),
        ({"name": "in.(apple,cherry,zzz)"}, ["apple", "cherry"]),
        ({"note": 'in.("sweet, dark",crisp)'}, ["apple", "cherry"]),
        ({"name": "in.()"}, []),
        ({"name": "not.in.(apple,banana)"}, ["cherry", "Date", "elder"]),
        ({"tags": "cs.{red}"}, ["apple", "cherry"]),
        ({"tags": "cd.{red,fruit,yellow}"}, ["apple", "banana", "Date"]),
        ({"tags": "ov.{small,flower}"}, ["cherry", "elder"]),
        ({"data": 'cs.{"color":"red"}'}, ["apple", "cherry"]),
        ({"data->>color": "eq.red"}, ["apple", "cherry"]),
        ({"data->n": "gt.2"}, ["cherry", "elder"]),
        ({"note": "fts.sweet"}, ["cherry"]),
        ({"note": "plfts(english).dark sweet"}, ["cherry"]),
        ({"note": "wfts.quoted"}, ["elder"]),
        ({"qty": "gt.0", "price": "lt.2"}, ["apple"]),
        ({"or": "(qty.eq.0,name.eq.elder)"}, ["banana", "elder"]),
        ({"or": "(qty.gt.10,and(flag.is.true,price.is.null))"}, ["cherry", "Date"]),
        ({"and": "(qty.gt.1,or(name.eq.apple,name.eq.elder))"}, ["apple", "elder"]),
        ({"not.or": "(qty.eq.0,qty.eq.5)"}, ["cherry", "Date", "elder"]),
        ({"or": '(note.eq."sweet, dark",name.not.in.(apple,banana,cherry,Date))'}, ["cherry", "elder"]),
        ({"or": "(name.in.(apple,banana))"}, ["apple", "banana"]),
        ({"name": "not.like.*e*"}, ["banana"]),
    ],
)
def test_filter_operators(anon: httpx.Client, params: dict[str, str], expected: list[str]) -> None:
    assert names(get(anon, **params)) == expected


@pytest.mark.usefixtures("items")
def test_repeated_filter_keys_all_apply(anon: httpx.Client) -> None:
    r = anon.get("/stack_items?select=name&order=id&qty=gt.1&qty=lt.5")
    assert names(r) == ["elder"]


@pytest.mark.usefixtures("items")
def test_select_columns_alias_cast_and_json_path(anon: httpx.Client) -> None:
    r = anon.get(
        "/stack_items",
        params={"select": "id,label:name,qty::text,data->color,data->>n", "name": "eq.apple"},
    )
    assert r.status_code == 200
    assert r.json() == [{"id": 1, "label": "apple", "qty": "5", "color": "red", "n": "1"}]
    star = anon.get("/stack_items", params={"name": "eq.banana"}).json()[0]
    assert list(star) == ["id", "name", "qty", "price", "tags", "data", "note", "sku", "flag", "created_at"]
    assert star["tags"] == ["yellow", "fruit"]
    assert star["data"] == {"color": "yellow", "n": 2}
    assert star["price"] == 0.25


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("qty", ["banana", "elder", "apple", "Date", "cherry"]),
        ("qty.desc", ["cherry", "Date", "apple", "elder", "banana"]),
        ("price.asc.nullsfirst", ["Date", "banana", "apple", "elder", "cherry"]),
        ("price.desc.nullslast", ["cherry", "elder", "apple", "banana", "Date"]),
        ("price.desc", ["Date", "cherry", "elder", "apple", "banana"]),
        ("flag.desc.nullslast,name.desc", ["apple", "Date", "elder", "banana", "cherry"]),
        ("data->n.desc.nullslast", ["elder", "cherry", "banana", "apple", "Date"]),
    ],
)
def test_order(anon: httpx.Client, order: str, expected: list[str]) -> None:
    assert names(anon.get("/stack_items", params={"select": "name", "order": order})) == expected


@pytest.mark.usefixtures("items")
def test_limit_offset_and_content_range(anon: httpx.Client) -> None:
    r = get(anon, limit="2", offset="1")
    assert names(r) == ["banana", "cherry"]
    assert r.headers["content-range"] == "1-2/*"
    r = anon.get(
        "/stack_items",
        params={"select": "name", "order": "id", "limit": "2"},
        headers={"Prefer": "count=exact"},
    )
    assert r.status_code == 206
    assert r.headers["content-range"] == "0-1/5"
    r = anon.get("/stack_items", params={"select": "name"}, headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.headers["content-range"] == "0-4/5"
    r = anon.get(
        "/stack_items", params={"select": "name", "qty": "gt.100"}, headers={"Prefer": "count=exact"}
    )
    assert (r.status_code, r.headers["content-range"], r.json()) == (200, "*/0", [])
    r = anon.get("/stack_items", params={"offset": "10"}, headers={"Prefer": "count=exact"})
    assert r.status_code == 416
    assert r.json()["code"] == "PGRST103"


@pytest.mark.usefixtures("items")
def test_range_header(anon: httpx.Client) -> None:
    r = anon.get("/stack_items", params={"select": "name", "order": "id"}, headers={"Range": "1-3"})
    assert names(r) == ["banana", "cherry", "Date"]
    assert r.headers["content-range"] == "1-3/*"
    r = anon.get(
        "/stack_items",
        params={"select": "name", "order": "id"},
        headers={"Range-Unit": "items", "Range": "3-", "Prefer": "count=exact"},
    )
    assert names(r) == ["Date", "elder"]
    assert r.headers["content-range"] == "3-4/5"
    assert r.status_code == 206
    # Range and limit together: the intersection.
    r = anon.get(
        "/stack_items", params={"select": "name", "order": "id", "limit": "2"}, headers={"Range": "1-3"}
    )
    assert names(r) == ["banana"]
    r = anon.get("/stack_items", headers={"Range": "3-1"})
    assert r.status_code == 416


def test_max_rows_cap(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    db.execute("TRUNCATE public.stack_children, public.stack_items RESTART IDENTITY CASCADE")
    db.execute(
        "INSERT INTO public.stack_items (name, qty) SELECT 'n' || g, g FROM generate_series(1, 1205) g"
    )
    r = anon.get("/stack_items", params={"select": "id"}, headers={"Prefer": "count=exact"})
    assert r.status_code == 206
    assert len(r.json()) == 1000
    assert r.headers["content-range"] == "0-999/1205"
    r = anon.get("/stack_items", params={"select": "id", "offset": "1000", "limit": "5000"})
    assert len(r.json()) == 205
    assert r.headers["content-range"] == "1000-1204/*"


@pytest.mark.usefixtures("items")
def test_singular_object(anon: httpx.Client) -> None:
    accept = {"Accept": "application/vnd.pgrst.object+json"}
    r = anon.get("/stack_items", params={"select": "name,qty", "name": "eq.apple"}, headers=accept)
    assert r.status_code == 200
    assert r.json() == {"name": "apple", "qty": 5}
    assert r.headers["content-type"].startswith("application/vnd.pgrst.object+json")
    for params, n in (({"name": "eq.nope"}, 0), ({"qty": "gt.1"}, 4)):
        r = anon.get("/stack_items", params=params, headers=accept)
        assert r.status_code == 406
        assert r.json() == {
            "code": "PGRST116",
            "details": f"The result contains {n} rows",
            "hint": None,
            "message": "Cannot coerce the result to a single JSON object",
        }


@pytest.mark.usefixtures("items")
def test_head_has_headers_and_no_body(anon: httpx.Client) -> None:
    r = anon.head("/stack_items", headers={"Prefer": "count=exact"})
    assert r.status_code == 200
    assert r.headers["content-range"] == "0-4/5"
    assert r.content == b""


@pytest.mark.usefixtures("items")
def test_unsupported_media_type_is_refused(anon: httpx.Client) -> None:
    r = anon.get("/stack_items", headers={"Accept": "application/geo+json"})
    assert r.status_code == 406
    assert r.json()["code"] == "PGRST107"


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"select": "nope"}, 400, "42703"),
        ({"nope": "eq.1"}, 400, "42703"),
        ({"order": "nope.desc"}, 400, "42703"),
        ({"qty": "equals.1"}, 400, "PGRST100"),
        ({"qty": "5"}, 400, "PGRST100"),
        # As PostgREST parses it ("or" and the value as one tree): a filter on a column "orqty".
        ({"or": "qty.eq.1"}, 400, "42703"),
        ({"or": "(qty.eq.1"}, 400, "PGRST100"),
        ({"order": "qty.sideways"}, 400, "PGRST100"),
        ({"limit": "-1"}, 416, "PGRST103"),
        ({"select": "*,nope(*)"}, 400, "PGRST200"),
        ({"stack_children.label": "eq.x"}, 400, "PGRST108"),
        ({"qty": "eq.abc"}, 400, "22P02"),
        ({"flag": "is.maybe"}, 400, "PGRST100"),
    ],
)
def test_bad_requests_are_refused(anon: httpx.Client, params: dict[str, str], status: int, code: str) -> None:
    r = anon.get("/stack_items", params=params)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code
    assert set(body) == {"code", "details", "hint", "message"}


@pytest.mark.usefixtures("items")
def test_a_json_key_that_only_looks_numeric_is_a_key(anon: httpx.Client) -> None:
    # "\u00b2" (superscript two) passes str.isdigit() but is no integer: it must be read as an object key.
    r = anon.get("/stack_items", params={"select": "name,v:data->\u00b2", "name": "eq.apple"})

    assert r.status_code == 200, r.text
    assert r.json() == [{"name": "apple", "v": None}]


def test_unknown_table_is_404(anon: httpx.Client) -> None:
    r = anon.get("/no_such_table")
    assert r.status_code == 404
    assert r.json()["code"] == "PGRST205"


def test_schema_reload_picks_up_new_tables(
    stack: Any, anon: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS public.stack_late (id int PRIMARY KEY)")
    db.execute("GRANT SELECT ON public.stack_late TO anon")
    assert anon.get("/stack_late").status_code == 404
    stack.reload_schema()
    r = anon.get("/stack_late")
    assert (r.status_code, r.json()) == (200, [])


def test_notify_pgrst_reloads_the_schema_cache(anon: httpx.Client, db: psycopg.Connection[Any]) -> None:
    db.execute("CREATE TABLE IF NOT EXISTS public.stack_notified (id int PRIMARY KEY)")
    db.execute("GRANT SELECT ON public.stack_notified TO anon")
    db.execute("NOTIFY pgrst, 'reload schema'")
    deadline = time.monotonic() + 10
    while anon.get("/stack_notified").status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert anon.get("/stack_notified").status_code == 200


@pytest.mark.usefixtures("items")
def test_repeated_reads_with_other_preferences_are_not_confused(anon: httpx.Client) -> None:
    # The statement cache must key on everything that shapes the statement.
    plain = anon.get("/stack_items", params={"select": "id"})
    counted = anon.get(
        "/stack_items", params={"select": "id"}, headers=[("Prefer", "x=y"), ("Prefer", "count=exact")]
    )
    again = anon.get("/stack_items", params={"select": "id"}, headers={"Prefer": "x=y"})
    assert plain.headers["content-range"] == "0-4/*"
    assert counted.headers["content-range"] == "0-4/5"
    assert again.headers["content-range"] == "0-4/*"
    single = anon.get(
        "/stack_items", params={"select": "id"}, headers={"Accept": "application/vnd.pgrst.object+json"}
    )
    assert single.status_code == 406

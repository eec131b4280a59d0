"""Fidelity: the official supabase client, unmodified, against the local stack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, create_client

from nexus_sdk import local

pytestmark = [
    pytest.mark.db,
    pytest.mark.e2e,
    # supabase-py itself passes these deprecated arguments to its postgrest client; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'timeout' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'verify' parameter is deprecated:DeprecationWarning"),
]


@pytest.fixture
def sb(stack: local.LocalStack) -> Iterator[Client]:
    client = create_client(stack.url, stack.service_role_key)
    yield client
    client.postgrest.session.close()


@pytest.mark.usefixtures("items")
def test_select_filters_order_limit(sb: Client) -> None:
    rows = sb.table("stack_items").select("name, qty").gt("qty", 2).order("qty", desc=True).limit(2).execute()
    assert rows.data == [{"name": "cherry", "qty": 12}, {"name": "Date", "qty": 7}]
    res = (
        sb.table("stack_items")
        .select("name")
        .in_("name", ["apple", "banana", "zzz"])
        .is_("price", "null")
        .execute()
    )
    assert res.data == []
    res = (
        sb.table("stack_items")
        .select("name")
        .ilike("name", "%A%")
        .neq("name", "banana")
        .order("id")
        .execute()
    )
    assert [r["name"] for r in res.data] == ["apple", "Date"]
    res = sb.table("stack_items").select("name").or_("qty.eq.0,name.eq.elder").order("id").execute()
    assert [r["name"] for r in res.data] == ["banana", "elder"]
    res = sb.table("stack_items").select("name").contains("tags", ["red"]).order("id").execute()
    assert [r["name"] for r in res.data] == ["apple", "cherry"]
    res = sb.table("stack_items").select("name").not_.is_("flag", "null").lte("qty", 5).order("id").execute()
    assert [r["name"] for r in res.data] == ["apple", "banana", "elder"]
    res = sb.table("stack_items").select("name").range(1, 2).order("id").execute()
    assert [r["name"] for r in res.data] == ["banana", "cherry"]


@pytest.mark.usefixtures("items")
def test_count_single_and_maybe_single(sb: Client) -> None:
    res = sb.table("stack_items").select("*", count="exact").limit(1).execute()  # type: ignore[arg-type]
    assert res.count == 5
    assert len(res.data) == 1
    one = sb.table("stack_items").select("name").eq("sku", "C3").single().execute()
    assert one.data == {"name": "cherry"}
    none = sb.table("stack_items").select("name").eq("sku", "nope").maybe_single().execute()
    assert none is None or none.data is None
    with pytest.raises(APIError) as info:
        sb.table("stack_items").select("name").gt("qty", 1).single().execute()
    assert info.value.code == "PGRST116"


@pytest.mark.usefixtures("items")
def test_insert_upsert_update_delete(sb: Client, db: psycopg.Connection[Any]) -> None:
    rows = [{"name": "fig", "qty": 1}, {"name": "grape", "sku": "G7"}]
    # supabase-py sends columns= for bulk rows: a missing key is NULL (qty is NOT NULL) ...
    with pytest.raises(APIError) as info:
        sb.table("stack_items").insert(rows).execute()
    assert info.value.code == "23502"
    # ... unless it asks for missing=default.
    ins = sb.table("stack_items").insert(rows, default_to_null=False).execute()
    assert [r["name"] for r in ins.data] == ["fig", "grape"]
    assert ins.data[1]["qty"] == 0
    up = sb.table("stack_items").upsert({"sku": "G7", "name": "GRAPE", "qty": 3}, on_conflict="sku").execute()
    assert up.data[0]["name"] == "GRAPE"
    ign = (
        sb.table("stack_items")
        .upsert({"sku": "A1", "name": "ignored"}, on_conflict="sku", ignore_duplicates=True)
        .execute()
    )
    assert ign.data == []
    assert db.execute("SELECT name FROM stack_items WHERE sku = 'A1'").fetchone() == ("apple",)
    upd = sb.table("stack_items").update({"note": "updated"}).eq("qty", 0).execute()
    assert [r["name"] for r in upd.data] == ["banana"]  # grape was upserted to qty 3
    dele = sb.table("stack_items").delete().eq("name", "fig").execute()
    assert [r["name"] for r in dele.data] == ["fig"]
    assert db.execute("SELECT count(*) FROM stack_items").fetchone() == (6,)


@pytest.mark.usefixtures("items")
def test_rpc(sb: Client) -> None:
    assert sb.rpc("add_them", {"a": 40, "b": 2}).execute().data == 42
    rows = sb.rpc("items_over", {"min_qty": 6}).select("name").order("qty").execute()
    assert rows.data == [{"name": "Date"}, {"name": "cherry"}]
    assert sb.rpc("tally", {}).execute().data == {"n": 5, "total": 27}
    got = sb.rpc("add_them", {"a": 1, "b": 1}, get=True).execute()
    assert got.data == 2


@pytest.mark.usefixtures("items")
def test_errors_reach_the_client(sb: Client) -> None:
    with pytest.raises(APIError) as info:
        sb.table("stack_items").insert({"sku": "A1", "name": "dup"}).execute()
    assert info.value.code == "23505"
    with pytest.raises(APIError) as info:
        sb.table("stack_items").select("nope").execute()
    assert info.value.code == "42703"


def test_user_session_applies_rls(stack: local.LocalStack) -> None:
    uid, token = stack.create_user(f"sb-{time.time_ns()}@example.com")
    client = create_client(stack.url, stack.anon_key)
    try:
        client.postgrest.auth(token)
        me = client.table("users").select("id, email").execute()
        assert [r["id"] for r in me.data] == [str(uid)]
        client.table("stack_notes").insert({"body": "mine"}).execute()
        notes = client.table("stack_notes").select("body, user_id").execute()
        assert notes.data == [{"body": "mine", "user_id": str(uid)}]
        anon = create_client(stack.url, stack.anon_key)
        with pytest.raises(APIError) as info:
            anon.table("users").select("*").execute()
        assert info.value.code == "42501"
        anon.postgrest.session.close()
    finally:
        client.postgrest.session.close()

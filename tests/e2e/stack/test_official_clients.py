"""The official clients, unmodified, run a typical app's queries against the stack and get PostgREST's
answers: supabase-js (postgrest-js) under node, and supabase-py.

Both run the same queries on the conformance schema (conformance_schema.sql): embedding (aliases, hints,
``!inner``, embedded order and limit, spreads, on function rows and through RLS), filters, counts, ranges,
single rows, and writes whose representation embeds. The expected answers are PostgREST's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import ClientOptions, create_client

from nexus_sdk import local
from nexus_sdk.testing import skip_unless_ci

from .conftest import CONFORMANCE_SEED
from .postgrest_cases import ALICE

pytestmark = [
    pytest.mark.db,
    pytest.mark.e2e,
    # supabase-py itself passes these deprecated arguments to its postgrest client; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'timeout' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'verify' parameter is deprecated:DeprecationWarning"),
]

JS_DIR = Path(__file__).parents[2] / "js"

# PostgREST's answers to the queries of tests/js/app_queries.mjs, in order (the writes run last).
EXPECTED: dict[str, dict[str, Any]] = {
    "books_with_authors_and_tags": {
        "status": 200,
        "data": [
            {
                "id": 1,
                "title": "Alpha",
                "author": {"name": "Ada"},
                "cf_tags": [{"label": "sci"}, {"label": "fun"}],
            },
            {"id": 2, "title": "Beta", "author": {"name": "Ada"}, "cf_tags": [{"label": "fun"}]},
            {"id": 3, "title": "Gamma", "author": {"name": "Bob"}, "cf_tags": [{"label": "old"}]},
            {"id": 4, "title": "Delta", "author": {"name": "Cy"}, "cf_tags": []},
        ],
    },
    "inner_filter": {"status": 200, "data": [{"name": "Globex", "cf_authors": [{"name": "Cy"}]}]},
    "embedded_order_limit": {"status": 200, "data": [{"name": "Acme", "cf_authors": [{"name": "Bob"}]}]},
    "single": {"status": 200, "data": {"title": "Gamma", "cf_authors": {"name": "Bob"}}},
    "maybe_single_none": {"status": 200, "data": None},
    "count_head": {"status": 200, "data": None, "count": 3},
    "range": {"status": 200, "data": [{"id": 2}, {"id": 3}]},
    "text_search": {"status": 200, "data": [{"id": 2}]},
    "or_filter": {"status": 200, "data": [{"id": 1}, {"id": 3}]},
    "in_and_is": {"status": 200, "data": [{"id": 4}]},
    "spread": {"status": 200, "data": [{"title": "Gamma", "author": "Bob"}]},
    "rpc_object": {"status": 200, "data": {"num_plus_one": 6}},
    "rpc_rows_embedded": {
        "status": 200,
        "data": [
            {"title": "Alpha", "cf_authors": {"name": "Ada"}},
            {"title": "Beta", "cf_authors": {"name": "Ada"}},
        ],
    },
    "rls_embedded": {
        "status": 200,
        "data": [
            {"title": "Alpha", "cf_notes": [{"body": "alice on alpha"}]},
            {"title": "Beta", "cf_notes": [{"body": "alice on beta"}]},
        ],
    },
    "insert_select": {"status": 201, "data": [{"id": 9, "label": "dflt"}]},
    "upsert_existing": {"status": 200, "data": [{"id": 1, "n": 10, "label": "one"}]},
    "update_select": {"status": 200, "data": [{"id": 2, "n": 4}]},
    "delete_max_affected": {"status": 400, "data": None, "error": "PGRST124"},
    "delete_one": {"status": 200, "data": [{"id": 9}]},
    "insert_embedded_select": {"status": 201, "data": {"id": 20, "cf_authors": {"name": "Bob"}}},
}


def test_supabase_js_gets_postgrest_answers(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@supabase" / "supabase-js").is_dir():
        skip_unless_ci("node and tests/js/node_modules (make js) are needed for the supabase-js test")
    conformance_db.execute(CONFORMANCE_SEED)
    env = {
        **os.environ,
        "SUPABASE_URL": stack.url,
        "SUPABASE_ANON_KEY": stack.anon_key,
        "USER_ACCESS_TOKEN": stack.mint_token(ALICE),
    }
    done = subprocess.run(
        [str(node), "app_queries.mjs"],
        cwd=JS_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    for name, want in EXPECTED.items():
        answer = got[name]
        assert answer["status"] == want["status"], (name, answer)
        assert answer["data"] == want["data"], (name, answer)
        assert answer["error"] == want.get("error"), (name, answer)
        if "count" in want:
            assert answer["count"] == want["count"], (name, answer)
    # The refused delete was rolled back.
    assert conformance_db.execute("SELECT count(*) FROM public.cf_counters").fetchone() == (3,)


def test_supabase_py_gets_postgrest_answers(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    conformance_db.execute(CONFORMANCE_SEED)
    anon = create_client(stack.url, stack.anon_key)
    user = create_client(
        stack.url,
        stack.anon_key,
        options=ClientOptions(headers={"Authorization": f"Bearer {stack.mint_token(ALICE)}"}),
    )
    try:
        got: dict[str, Any] = {}
        got["books_with_authors_and_tags"] = (
            anon.table("cf_books")
            .select("id, title, author:cf_authors!author_id(name), cf_tags(label)")
            .order("id")
            .order("id", foreign_table="cf_tags")
            .execute()
            .data
        )
        got["inner_filter"] = (
            anon.table("cf_publishers")
            .select("name, cf_authors!inner(name)")
            .eq("cf_authors.name", "Cy")
            .execute()
            .data
        )
        got["embedded_order_limit"] = (
            anon.table("cf_publishers")
            .select("name, cf_authors(name)")
            .eq("id", 1)
            .order("name", desc=True, foreign_table="cf_authors")
            .limit(1, foreign_table="cf_authors")
            .execute()
            .data
        )
        got["single"] = (
            anon.table("cf_books")
            .select("title, cf_authors!author_id(name)")
            .eq("id", 3)
            .single()
            .execute()
            .data
        )
        none = anon.table("cf_books").select("title").eq("id", 99).maybe_single().execute()
        got["maybe_single_none"] = None if none is None else none.data
        counted = anon.table("cf_books").select("id", count="exact", head=True).gt("id", 1).execute()
        got["range"] = anon.table("cf_books").select("id").order("id").range(1, 2).execute().data
        got["text_search"] = (
            anon.table("cf_docs")
            .select("id")
            .text_search("body", "chats", options={"config": "french", "type": "plain"})
            .execute()
            .data
        )
        got["or_filter"] = (
            anon.table("cf_books").select("id").or_("id.eq.1,year.gt.2005").order("id").execute().data
        )
        got["in_and_is"] = (
            anon.table("cf_books").select("id").in_("id", [1, 2, 4]).is_("year", "null").execute().data
        )
        got["spread"] = (
            anon.table("cf_books")
            .select("title, ...cf_authors!author_id(author:name)")
            .eq("id", 3)
            .execute()
            .data
        )
        got["rpc_object"] = anon.rpc("cf_plus_one", {"num": 5}).execute().data
        got["rpc_rows_embedded"] = (
            anon.rpc("cf_books_below", {"id": 3}, get=True)
            .select("title, cf_authors!author_id(name)")
            .order("id")
            .execute()
            .data
        )
        got["rls_embedded"] = (
            user.table("cf_books").select("title, cf_notes(body)").lt("id", 3).order("id").execute().data
        )
        got["insert_select"] = anon.table("cf_counters").insert({"id": 9}).execute().data
        got["upsert_existing"] = anon.table("cf_counters").upsert([{"id": 1, "n": 10}]).execute().data
        got["update_select"] = anon.table("cf_counters").update({"n": 4}).eq("id", 2).execute().data
        with pytest.raises(APIError) as refused:
            anon.table("cf_counters").delete().gt("id", 0).max_affected(2).execute()
        got["delete_one"] = anon.table("cf_counters").delete().eq("id", 9).max_affected(1).execute().data
    finally:
        for client in (anon, user):
            client.postgrest.session.close()
    assert counted.count == 3
    assert refused.value.code == "PGRST124"
    for name in (
        "books_with_authors_and_tags",
        "inner_filter",
        "embedded_order_limit",
        "single",
        "maybe_single_none",
        "range",
        "text_search",
        "or_filter",
        "in_and_is",
        "spread",
        "rpc_object",
        "rpc_rows_embedded",
        "rls_embedded",
    ):
        assert got[name] == EXPECTED[name]["data"], name
    # supabase-py asks for the whole representation on writes.
    assert got["insert_select"] == [{"id": 9, "n": 0, "label": "dflt"}]
    assert got["upsert_existing"] == [{"id": 1, "n": 10, "label": "one"}]
    assert got["update_select"] == [{"id": 2, "n": 4, "label": "two"}]
    assert got["delete_one"] == [{"id": 9, "n": 0, "label": "dflt"}]
    assert conformance_db.execute("SELECT count(*) FROM public.cf_counters").fetchone() == (3,)

"""Oracle: for the same filters, our query strings equal those of the official ``postgrest`` client.

The official client's request is captured by an in-process transport, never sent anywhere; ours goes
through the real NexusClient over respx. Both are compared as decoded and as encoded query strings.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from nexus_sdk import F, NexusClient
from nexus_sdk.query import WhereClause

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
KEY = "anon-key"

Builder = Callable[[Any], Any]


@pytest.fixture
def official() -> Iterator[Callable[[str, Builder], httpx.Request]]:
    from postgrest import SyncPostgrestClient

    captured: list[httpx.Request] = []

    def capture(request: httpx.Request) -> httpx.Response:
        captured.append(request)
        return httpx.Response(200, json=[])

    http = httpx.Client(transport=httpx.MockTransport(capture), base_url=REST)
    client = SyncPostgrestClient(REST, headers={"apikey": KEY}, http_client=http)

    def run(table: str, build: Builder) -> httpx.Request:
        build(client.from_(table).select("*")).execute()
        return captured[-1]

    yield run
    http.close()


def ours(table: str, where: WhereClause, **options: Any) -> httpx.Request:
    with NexusClient(URL, KEY) as nx, respx.mock(base_url=REST) as mock:
        route = mock.get(f"/{table}").respond(200, json=[])
        getattr(nx, table).list(where=where, **options)
    return route.calls.last.request


def _params(request: httpx.Request, *, drop: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.url.params.multi_items() if k not in drop]


CASES: list[tuple[str, str, WhereClause, Builder]] = [
    ("eq", "published_posts", F("platform") == "linkedin", lambda q: q.eq("platform", "linkedin")),
    ("neq", "published_posts", F("platform") != "x", lambda q: q.neq("platform", "x")),
    ("gt int", "scheduled_posts", F("retry_count") > 2, lambda q: q.gt("retry_count", 2)),
    ("lte int", "scheduled_posts", F("retry_count") <= 5, lambda q: q.lte("retry_count", 5)),
    (
        "gte timestamp",
        "published_posts",
        F("created_at") >= "2025-02-10T12:00:00+00:00",
        lambda q: q.gte("created_at", "2025-02-10T12:00:00+00:00"),
    ),
    (
        "lt uuid",
        "published_posts",
        F("id") < "8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e",
        lambda q: q.lt("id", "8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e"),
    ),
    ("like", "published_posts", F("content").like("%launch%"), lambda q: q.like("content", "%launch%")),
    ("ilike", "published_posts", F("content").ilike("*Launch*"), lambda q: q.ilike("content", "*Launch*")),
    ("is null", "published_posts", F("published_at").is_(None), lambda q: q.is_("published_at", None)),
    ("is true", "voice_profiles", F("is_default").is_(True), lambda q: q.is_("is_default", True)),
    ("eq bool", "voice_profiles", F("is_default") == False, lambda q: q.eq("is_default", False)),  # noqa: E712
    (
        "in with reserved characters",
        "published_posts",
        F("content").in_(["plain", "a,b", "c:d", "(x)", 'say "hi"', "back\\slash"]),
        lambda q: q.in_("content", ["plain", "a,b", "c:d", "(x)", 'say "hi"', "back\\slash"]),
    ),
    (
        "in enum values",
        "published_posts",
        F("status").in_(["published", "failed"]),
        lambda q: q.in_("status", ["published", "failed"]),
    ),
    (
        "array contains",
        "voice_profiles",
        F("sample_posts").contains(["a b", "c,d", 'q"t', "null", ""]),
        lambda q: q.contains("sample_posts", ["a b", "c,d", 'q"t', "null", ""]),
    ),
    (
        "array contained by",
        "voice_profiles",
        F("sample_posts").contained_by(["x", "y"]),
        lambda q: q.contained_by("sample_posts", ["x", "y"]),
    ),
    (
        "array overlaps",
        "voice_profiles",
        F("sample_posts").overlaps(["x"]),
        lambda q: q.ov("sample_posts", ["x"]),
    ),
    ("not eq", "published_posts", ~(F("platform") == "x"), lambda q: q.not_.eq("platform", "x")),
    ("not in", "published_posts", ~F("status").in_(["deleted"]), lambda q: q.not_.in_("status", ["deleted"])),
    (
        "or group",
        "published_posts",
        (F("platform") == "x") | (F("platform") == "linkedin"),
        lambda q: q.or_("platform.eq.x,platform.eq.linkedin"),
    ),
    (
        "or with and",
        "scheduled_posts",
        (F("retry_count") > 3) | ((F("platform") == "x") & (F("retry_count") == 0)),
        lambda q: q.or_("retry_count.gt.3,and(platform.eq.x,retry_count.eq.0)"),
    ),
    (
        "several filters",
        "published_posts",
        [F("platform") == "x", F("status") == "published", F("published_at").is_(None)],
        lambda q: q.eq("platform", "x").eq("status", "published").is_("published_at", None),
    ),
]


@pytest.mark.parametrize(("table", "where", "build"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_filters_match_the_official_client(
    official: Callable[[str, Builder], httpx.Request], table: str, where: WhereClause, build: Builder
) -> None:
    theirs = official(table, build)
    mine = ours(table, where)
    assert _params(mine, drop=("limit",)) == _params(theirs, drop=("select",))
    # Byte-for-byte on the wire too (same percent-encoding).
    mine_query = "&".join(p for p in mine.url.query.decode().split("&") if not p.startswith("limit="))
    theirs_query = "&".join(p for p in theirs.url.query.decode().split("&") if not p.startswith("select="))
    assert mine_query == theirs_query


def test_order_and_limit_match(official: Callable[[str, Builder], httpx.Request]) -> None:
    theirs = official(
        "published_posts",
        lambda q: q.eq("platform", "x").order("created_at", desc=True).order("id").limit(50),
    )
    mine = ours("published_posts", F("platform") == "x", order_by=["-created_at", "id"], limit=50)
    assert _params(mine, drop=()) == _params(theirs, drop=("select",))


def test_json_contains_is_the_same_document(official: Callable[[str, Builder], httpx.Request]) -> None:
    document = {"thread": True, "tags": ["a", "b"]}
    theirs = official("published_posts", lambda q: q.contains("metadata", document))
    mine = ours("published_posts", F("metadata").contains(document))
    # The official client pretty-prints the JSON; we send it compact. PostgREST parses both alike.
    (theirs_value,) = [v for k, v in theirs.url.params.multi_items() if k == "metadata"]
    (mine_value,) = [v for k, v in mine.url.params.multi_items() if k == "metadata"]
    assert theirs_value.startswith("cs.")
    assert mine_value.startswith("cs.")
    assert json.loads(mine_value[3:]) == json.loads(theirs_value[3:]) == document

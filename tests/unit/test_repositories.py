"""Repositories: the wire format of every operation, retry safety of writes, and token encryption.

A small in-memory table stands in for PostgREST where an operation's outcome depends on state (a
retried insert after a lost response); the end-to-end variant runs against the local stack.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from nexus_sdk import (
    APIStatusError,
    AsyncNexusClient,
    ConflictError,
    F,
    NexusClient,
    NotFoundError,
    ValidationError,
    _http,
)
from nexus_sdk.crypto import EncryptionKey, KeyRing, token_aad
from nexus_sdk.models import PublishedPost, PublishedPostCreate, PublishedPostUpdate, User

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
SERVICE_KEY = "service-role-key-SECRET"
ANON_KEY = "anon-key-SECRET"
USER_ID = "11111111-2222-4333-8444-555555555555"


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


USER_TOKEN = _jwt({"sub": USER_ID, "role": "authenticated", "email": "u@example.com"})
NOW = "2025-02-10T12:00:00+00:00"
# What the database fills in when a column is left out (DEFAULT now(), DEFAULT 'pending', ...).
SERVER_DEFAULTS: dict[str, Any] = {
    "created_at": NOW,
    "updated_at": NOW,
    "status": "pending",
    "is_active": True,
    "timezone": "UTC",
}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(_http, "MAX_RETRY_DELAY", 0.002)


def _caller(request: httpx.Request) -> str | None:
    """The user id (JWT ``sub``) a request acts as, or None for the service role."""
    from nexus_sdk.settings import jwt_claims

    claims = jwt_claims(request.headers.get("authorization", "").removeprefix("Bearer "))
    return claims.get("sub") if claims.get("role") == "authenticated" else None


class FakeTable:
    """Just enough PostgREST for writes: id / natural-key conflicts, eq and in filters, PATCH, DELETE.

    Like the real schema, ``id`` defaults to a new UUID and ``user_id`` to the caller's ``auth.uid()``, and
    ``authenticated`` may not UPDATE ``id`` or ``user_id``: an upsert naming them is refused (PostgreSQL
    checks the ``ON CONFLICT DO UPDATE SET`` privileges whether or not a conflict happens).
    """

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []

    def _matches(self, row: dict[str, Any], params: httpx.QueryParams) -> bool:
        for key, value in params.multi_items():
            if key in ("select", "order", "limit", "offset", "on_conflict", "columns"):
                continue
            if value.startswith("eq."):
                if str(row.get(key)) != value[3:]:
                    return False
            elif value.startswith("in.("):
                if str(row.get(key)) not in value[4:-1].split(","):
                    return False
            else:
                raise AssertionError(f"fake store does not understand {key}={value}")
        return True

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        prefer = request.headers.get("prefer", "")
        if request.method == "POST":
            body = json.loads(request.content)
            items = body if isinstance(body, list) else [body]
            conflict = params.get("on_conflict", "id").split(",")
            caller = _caller(request)
            if "merge-duplicates" in prefer and caller is not None:
                for item in items:
                    if {"id", "user_id"} & set(item):
                        return httpx.Response(
                            403, json={"code": "42501", "message": "permission denied for table"}
                        )
            created = []
            for sent in items:
                item = {"id": str(uuid.uuid4()), **({"user_id": caller} if caller else {}), **sent}
                existing = next(
                    (
                        row
                        for row in self.rows.values()
                        if all(str(row.get(c)) == str(item.get(c)) for c in conflict)
                    ),
                    None,
                )
                if existing is not None:
                    if "ignore-duplicates" in prefer:
                        continue
                    if "merge-duplicates" in prefer:
                        # DO UPDATE SET the body's columns: the defaults filled above (a new id) are not
                        # part of the body, so the existing row keeps its id.
                        existing.update(sent)
                        created.append(dict(existing))
                        continue
                    return httpx.Response(409, json={"code": "23505", "message": "duplicate key"})
                row = {**SERVER_DEFAULTS, **item}
                self.rows[item["id"]] = row
                created.append(dict(row))
            return httpx.Response(201, json=created)
        matching = [row for row in self.rows.values() if self._matches(row, params)]
        if request.method == "GET":
            if "select" in params:
                fields = params["select"].split(",")
                matching = [{f: row[f] for f in fields} for row in matching]
            if request.headers.get("accept") == "application/vnd.pgrst.object+json":
                if len(matching) != 1:
                    return httpx.Response(
                        406, json={"code": "PGRST116", "details": f"The result contains {len(matching)} rows"}
                    )
                return httpx.Response(200, json=matching[0])
            return httpx.Response(200, json=matching)
        if request.method == "PATCH":
            patch = json.loads(request.content)
            for row in matching:
                row.update(patch)
            return httpx.Response(200, json=matching)
        if request.method == "DELETE":
            for row in matching:
                del self.rows[row["id"]]
            return httpx.Response(200, json=[{"id": row["id"]} for row in matching])
        raise AssertionError(request.method)


def lose_first_response(table: FakeTable) -> Any:
    """A side effect that applies the first request, then drops its response (a reset on the way back)."""
    state = {"lost": False}

    def effect(request: httpx.Request) -> httpx.Response:
        response = table.handle(request)
        if not state["lost"]:
            state["lost"] = True
            raise httpx.ReadError("connection reset by peer")
        return response

    return effect


RING = KeyRing([EncryptionKey.generate("k1")])


@pytest.fixture
def nx() -> Iterator[NexusClient]:
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY, encryption_keys=RING) as client:
        yield client


@pytest.fixture
def me(nx: NexusClient) -> NexusClient:
    return nx.as_user(USER_TOKEN)


def _new_post(**extra: Any) -> dict[str, Any]:
    """Columns for a PublishedPostCreate."""
    return {"id": str(uuid.uuid4()), "user_id": USER_ID, "platform": "x", "content": "hello", **extra}


def _post(**extra: Any) -> dict[str, Any]:
    """A stored published_posts row."""
    return {
        **SERVER_DEFAULTS,
        "id": str(uuid.uuid4()),
        "user_id": USER_ID,
        "platform": "x",
        "content": "hello",
        **extra,
    }


# --- reads ---------------------------------------------------------------------------------------


def test_get_sends_singular_accept_and_auth_headers(me: NexusClient) -> None:
    row = {**SERVER_DEFAULTS, "id": USER_ID, "email": "u@example.com", "full_name": "U"}
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(200, json=row)
        user = me.users.get(USER_ID)
    assert isinstance(user, User)
    assert user.full_name == "U"
    request = route.calls.last.request
    assert request.url.params["id"] == f"eq.{USER_ID}"
    assert request.headers["accept"] == "application/vnd.pgrst.object+json"
    assert request.headers["apikey"] == ANON_KEY
    assert request.headers["authorization"] == f"Bearer {USER_TOKEN}"


def test_get_missing_row_is_not_found(nx: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        with pytest.raises(NotFoundError):
            nx.published_posts.get(uuid.uuid4())


def test_get_rejects_a_non_uuid_id_before_sending(nx: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.get("/users")
        with pytest.raises(ValidationError):
            nx.users.get("1; drop table users")
    assert not route.called


def test_list_wire_format_and_typed_rows(nx: NexusClient) -> None:
    rows = [_post(status="published", metrics={"views": 3}), _post()]
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/published_posts").respond(200, json=rows)
        posts = nx.published_posts.list(
            where=(F("platform") == "x") & F("status").in_(["published", "pending"]),
            order_by=["-created_at"],
            limit=10,
            offset=20,
        )
    assert [type(p) for p in posts] == [PublishedPost, PublishedPost]
    assert posts[0].metrics is not None
    assert route.calls.last.request.url.params.multi_items() == [
        ("platform", "eq.x"),
        ("status", "in.(published,pending)"),
        ("order", "created_at.desc"),
        ("limit", "10"),
        ("offset", "20"),
    ]


def test_list_always_sends_a_limit_and_refuses_more_than_1000(nx: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.get("/published_posts").respond(200, json=[])
        nx.published_posts.list()
        assert route.calls.last.request.url.params["limit"] == "100"
        with pytest.raises(ValidationError, match="iter"):
            nx.published_posts.list(limit=5000)
        with pytest.raises(ValidationError):
            nx.published_posts.list(where=F("nope") == 1)
    assert route.call_count == 1


def test_count_uses_head_and_content_range(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.head("/published_posts")
        route.side_effect = [
            httpx.Response(200, headers={"Content-Range": "0-24/3573"}),
            httpx.Response(200, headers={"Content-Range": "*/0"}),
        ]
        assert nx.published_posts.count(where={"platform": "x"}) == 3573
        assert nx.published_posts.count() == 0
        route.side_effect = None
        route.return_value = httpx.Response(200)
        with pytest.raises(APIStatusError, match="no row count"):
            nx.published_posts.count()
    request = route.calls[0].request
    assert request.headers["prefer"] == "count=exact"
    assert request.url.params["platform"] == "eq.x"


def _pages(rows: list[dict[str, Any]], size: int) -> list[httpx.Response]:
    return [httpx.Response(200, json=rows[i : i + size]) for i in range(0, len(rows), size)]


def test_iter_pages_with_keyset_filters(nx: NexusClient) -> None:
    rows = [_post(published_at=f"2025-01-0{day}T00:00:00+00:00") for day in (1, 2, 3, 4)] + [_post()]
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/published_posts")
        route.side_effect = _pages(rows, 2)
        got = list(nx.published_posts.iter(where=F("platform") == "x", order_by="published_at", page_size=2))
    assert [str(p.id) for p in got] == [r["id"] for r in rows]
    first, second, third = (call.request.url.params for call in route.calls)
    assert first.multi_items() == [
        ("platform", "eq.x"),
        ("order", "published_at.asc.nullslast,id.asc.nullslast"),
        ("limit", "2"),
    ]
    assert second["or"] == (
        '(published_at.gt."2025-01-02T00:00:00+00:00",'
        f'and(published_at.eq."2025-01-02T00:00:00+00:00",id.gt.{rows[1]["id"]}),published_at.is.null)'
    )
    assert "offset" not in second
    assert third["or"].startswith('(published_at.gt."2025-01-04')


def test_iter_validates_eagerly(nx: NexusClient) -> None:
    with pytest.raises(ValidationError):
        nx.published_posts.iter(page_size=1001)
    with pytest.raises(ValidationError):
        nx.published_posts.iter(order_by="metrics")


async def test_async_iter_walks_every_page() -> None:
    rows = [_post() for _ in range(5)]
    rows.sort(key=lambda r: r["id"])
    async with AsyncNexusClient(URL, SERVICE_KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            route = mock.get("/published_posts")
            route.side_effect = _pages(rows, 2)
            got = [post async for post in nx.published_posts.iter(page_size=2)]
    assert [str(p.id) for p in got] == [r["id"] for r in rows]
    assert route.calls[1].request.url.params["id"] == f"gt.{rows[1]['id']}"


def test_iter_confirms_a_short_first_page_with_one_more_request(nx: NexusClient) -> None:
    # Fewer rows than page_size may be the end, or a server whose max_rows is below page_size.
    rows = sorted((_post() for _ in range(3)), key=lambda r: r["id"])
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/published_posts")
        route.side_effect = [httpx.Response(200, json=rows), httpx.Response(200, json=[])]
        got = list(nx.published_posts.iter(page_size=10))
        assert len(route.calls) == 2
        assert route.calls[1].request.url.params["id"] == f"gt.{rows[-1]['id']}"
    assert [str(p.id) for p in got] == [r["id"] for r in rows]


def test_iter_follows_a_server_that_caps_pages_below_page_size(nx: NexusClient) -> None:
    rows = sorted((_post() for _ in range(7)), key=lambda r: r["id"])
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/published_posts")
        route.side_effect = _pages(rows, 3)  # the server answers 3, 3, 1 rows to limit=10
        got = list(nx.published_posts.iter(page_size=10))
        # The third page is shorter than the cap the first two showed: no fourth request.
        assert len(route.calls) == 3
    assert [str(p.id) for p in got] == [r["id"] for r in rows]


def test_iter_after_full_pages_ends_on_the_first_short_one(nx: NexusClient) -> None:
    rows = sorted((_post() for _ in range(5)), key=lambda r: r["id"])
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/published_posts")
        route.side_effect = _pages(rows, 2)
        assert len(list(nx.published_posts.iter(page_size=2))) == 5
        assert len(route.calls) == 3


# --- writes --------------------------------------------------------------------------------------


def test_create_fills_user_id_from_the_jwt_and_asks_for_ignore_duplicates(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        post = me.published_posts.create(platform="x", content="hello world")
    request = table.requests[0]
    body = json.loads(request.content)
    assert body["user_id"] == USER_ID
    assert uuid.UUID(body["id"]) == post.id
    assert request.url.params["on_conflict"] == "id"
    assert request.headers["prefer"] == "return=representation,resolution=ignore-duplicates"
    assert isinstance(post, PublishedPost)
    assert post.content == "hello world"


def test_create_accepts_a_model_and_rejects_bad_input_before_sending(nx: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        data = PublishedPostCreate(user_id=uuid.UUID(USER_ID), platform="x", content="hi")
        assert nx.published_posts.create(data).id == data.id
        with pytest.raises(ValidationError, match="user_id"):
            nx.published_posts.create(platform="x", content="no owner")  # service role must pass user_id
        with pytest.raises(ValidationError):
            nx.published_posts.create(platform="x")  # content missing
        with pytest.raises(ValidationError):
            nx.published_posts.create(data, content="both")
    assert len(table.requests) == 1


def test_create_after_a_lost_response_leaves_exactly_one_row(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=lose_first_response(table))
        post = me.published_posts.create(platform="x", content="once")
    assert list(table.rows) == [str(post.id)]
    methods = [r.method for r in table.requests]
    assert methods == ["POST", "POST", "GET"]  # insert, retried insert (a no-op), read back by id
    assert table.requests[0].content == table.requests[1].content  # the same id both times


async def test_async_create_after_a_lost_response_leaves_exactly_one_row() -> None:
    table = FakeTable()
    async with AsyncNexusClient(URL, SERVICE_KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            mock.route(path="/published_posts").mock(side_effect=lose_first_response(table))
            post = await nx.published_posts.create(user_id=USER_ID, platform="x", content="once")
    assert list(table.rows) == [str(post.id)]


def test_repeating_create_with_the_same_model_returns_the_stored_row(nx: NexusClient) -> None:
    table = FakeTable()
    data = PublishedPostCreate(user_id=uuid.UUID(USER_ID), platform="x", content="hi")
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        first = nx.published_posts.create(data)
        again = nx.published_posts.create(data)
    assert first == again
    assert len(table.rows) == 1


def test_create_with_an_id_taken_by_an_invisible_row_is_a_conflict(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        mock.post("/published_posts").respond(201, json=[])  # ignore-duplicates swallowed it
        mock.get("/published_posts").respond(200, json=[])  # and RLS hides the owner's row
        with pytest.raises(ConflictError):
            nx.published_posts.create(user_id=USER_ID, platform="x", content="hi")


def test_create_many_batches_and_keeps_input_order(nx: NexusClient) -> None:
    table = FakeTable()
    items = [_new_post(content=f"post {i}") for i in range(5)]
    items[3]["platform_post_id"] = "p-3"  # rows may set different optional columns
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        created = nx.published_posts.create_many(items, batch_size=2)
    assert [p.content for p in created] == [f"post {i}" for i in range(5)]
    posts = [r for r in table.requests if r.method == "POST"]
    assert [len(json.loads(r.content)) for r in posts] == [2, 2, 1]
    assert "platform_post_id" in posts[1].url.params["columns"].split(",")
    assert "missing=default" in posts[1].headers["prefer"]


def test_create_many_after_a_lost_batch_response_reads_the_rows_back(nx: NexusClient) -> None:
    table = FakeTable()
    items = [_new_post(content=f"post {i}") for i in range(3)]
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=lose_first_response(table))
        created = nx.published_posts.create_many(items)
    assert [str(p.id) for p in created] == [i["id"] for i in items]
    assert len(table.rows) == 3


def test_create_many_validates_everything_first(nx: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.post("/published_posts")
        with pytest.raises(ValidationError):
            nx.published_posts.create_many([_new_post(), {"platform": "x"}])
        with pytest.raises(ValidationError):
            nx.published_posts.create_many([_new_post()], batch_size=0)
    assert not route.called


def test_update_sends_only_given_fields_and_explicit_nulls(nx: NexusClient) -> None:
    table = FakeTable()
    row = _post(platform_post_id="abc")
    table.rows[row["id"]] = row
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        updated = nx.published_posts.update(row["id"], status="published", platform_post_id=None)
        again = nx.published_posts.update(row["id"], PublishedPostUpdate(content="edited"))
    patch = table.requests[0]
    assert patch.method == "PATCH"
    assert patch.url.params["id"] == f"eq.{row['id']}"
    assert json.loads(patch.content) == {"status": "published", "platform_post_id": None}
    assert patch.headers["prefer"] == "return=representation"
    assert updated.platform_post_id is None
    assert again.content == "edited"


def test_update_missing_row_and_empty_patch(nx: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        with pytest.raises(NotFoundError):
            nx.published_posts.update(uuid.uuid4(), content="x")
        with pytest.raises(ValidationError):
            nx.published_posts.update(uuid.uuid4())
    assert len(table.requests) == 1


def test_delete_and_not_found(nx: NexusClient) -> None:
    table = FakeTable()
    row = _post()
    table.rows[row["id"]] = row
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        nx.published_posts.delete(row["id"])
        with pytest.raises(NotFoundError):
            nx.published_posts.delete(row["id"])
    assert table.rows == {}
    assert table.requests[0].url.params["select"] == "id"


def test_delete_retried_after_a_lost_response_succeeds(nx: NexusClient) -> None:
    table = FakeTable()
    row = _post()
    table.rows[row["id"]] = row
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=lose_first_response(table))
        nx.published_posts.delete(row["id"])
    assert table.rows == {}
    assert len(table.requests) == 2


def test_capabilities_follow_row_level_security(nx: NexusClient) -> None:
    assert not hasattr(nx.users, "create")
    assert not hasattr(nx.users, "delete")
    assert not hasattr(nx.users, "upsert")
    assert hasattr(nx.users, "update")
    assert hasattr(nx.platform_connections, "upsert")
    assert hasattr(nx.content_adaptations, "upsert")  # on (user_id, idea_hash)
    for name in ("content_adaptations", "voice_profiles", "published_posts", "scheduled_posts"):
        repo = getattr(nx, name)
        assert hasattr(repo, "upsert") == (name == "content_adaptations")
        for method in ("get", "list", "iter", "count", "create", "create_many", "update", "delete"):
            assert callable(getattr(repo, method))
    assert repr(nx.users) == "Users(table='users')"


# --- platform_connections: encryption and upsert ---------------------------------------------------


def test_tokens_are_encrypted_on_write_and_decrypted_on_read(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/platform_connections").mock(side_effect=table.handle)
        conn = me.platform_connections.create(
            platform="linkedin",
            platform_user_id="urn:li:person:42",
            access_token="at-PLAINTEXT",
            refresh_token="rt-PLAINTEXT",
        )
        fetched = me.platform_connections.get(conn.id)
    sent = table.requests[0].content.decode()
    assert "PLAINTEXT" not in sent
    stored = table.rows[str(conn.id)]
    assert stored["access_token"].startswith("nx1:k1:")
    assert conn.access_token.get_secret_value() == "at-PLAINTEXT"
    assert fetched.refresh_token is not None
    assert fetched.refresh_token.get_secret_value() == "rt-PLAINTEXT"
    assert "PLAINTEXT" not in repr(fetched)


@pytest.mark.parametrize(
    ("user_id", "platform", "column"),
    [
        pytest.param("99999999-2222-4333-8444-555555555555", "x", "access_token", id="another user"),
        pytest.param(USER_ID, "linkedin", "access_token", id="another platform"),
        pytest.param(USER_ID, "x", "refresh_token", id="another column"),
    ],
)
def test_a_token_bound_elsewhere_fails_to_decrypt(user_id: str, platform: str, column: str) -> None:
    from nexus_sdk import DecryptionError

    ring = KeyRing([EncryptionKey.generate("k1")])
    aad = token_aad(table="platform_connections", column=column, user_id=user_id, platform=platform)
    row = {
        **SERVER_DEFAULTS,
        "id": str(uuid.uuid4()),
        "user_id": USER_ID,
        "platform": "x",
        "platform_user_id": "1",
        "access_token": ring.encrypt("tok-SECRET", aad=aad),
    }
    with NexusClient(URL, SERVICE_KEY, encryption_keys=ring) as nx, respx.mock(base_url=REST) as mock:
        mock.get("/platform_connections").respond(200, json=[row])
        with pytest.raises(DecryptionError) as info:
            nx.platform_connections.list()
    assert info.value.reason == "authentication_failed"
    assert "tok-SECRET" not in str(info.value)
    # The same value, bound to this row's (user, platform, column), reads fine.
    good = token_aad(table="platform_connections", column="access_token", user_id=USER_ID, platform="x")
    row["access_token"] = ring.encrypt("tok-SECRET", aad=good)
    with NexusClient(URL, SERVICE_KEY, encryption_keys=ring) as nx, respx.mock(base_url=REST) as mock:
        mock.get("/platform_connections").respond(200, json=[row])
        (conn,) = nx.platform_connections.list()
    assert conn.access_token.get_secret_value() == "tok-SECRET"


def test_key_ring_is_read_from_the_environment_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    key = EncryptionKey.generate("env1")
    monkeypatch.setenv("NEXUS_ENCRYPTION_KEYS", key.export())
    table = FakeTable()
    with NexusClient(URL, SERVICE_KEY) as nx, respx.mock(base_url=REST) as mock:
        mock.route(path="/platform_connections").mock(side_effect=table.handle)
        nx.platform_connections.create(
            user_id=USER_ID, platform="x", platform_user_id="1", access_token="tok"
        )
    (stored,) = table.rows.values()
    assert stored["access_token"].startswith("nx1:env1:")


def _stored_token(table: FakeTable, row_id: Any, column: str, ring: KeyRing, platform: str) -> str:
    value = table.rows[str(row_id)][column]
    aad = token_aad(table="platform_connections", column=column, user_id=USER_ID, platform=platform)
    return ring.decrypt(value, aad=aad)


def test_upsert_is_one_request_on_the_natural_key(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/platform_connections").mock(side_effect=table.handle)
        first = me.platform_connections.upsert(platform="X", platform_user_id="1", access_token="old")
        second = me.platform_connections.upsert(
            platform="x", platform_user_id="1", access_token="new", refresh_token="r-new"
        )
    assert len(table.requests) == 2  # one request per call: no lookup first
    for request in table.requests:
        assert request.method == "POST"
        assert request.url.params.multi_items() == [("on_conflict", "user_id,platform")]
        assert request.headers["prefer"] == "return=representation,resolution=merge-duplicates"
    body = json.loads(table.requests[1].content)
    # No id (the existing row keeps its own) and, for a user, no user_id (DEFAULT auth.uid(); the
    # authenticated role may not UPDATE it): sending either would be refused by the database. Only the
    # columns given are sent, so the merge leaves the others (scope, profile_data ...) as they are.
    assert set(body) == {"platform", "platform_user_id", "access_token", "refresh_token"}
    assert body["platform"] == "x"
    assert body["access_token"].startswith("nx1:k1:")
    assert "new" not in table.requests[1].content.decode().replace(body["access_token"], "")
    assert first.id == second.id
    assert len(table.rows) == 1
    assert second.access_token.get_secret_value() == "new"
    assert second.refresh_token is not None
    assert second.refresh_token.get_secret_value() == "r-new"
    # Bound to the natural key: decrypts with (user, platform, column), whatever the row id.
    assert _stored_token(table, first.id, "access_token", RING, "x") == "new"
    assert _stored_token(table, first.id, "refresh_token", RING, "x") == "r-new"


def test_service_role_upsert_sends_user_id_but_never_id(nx: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/platform_connections").mock(side_effect=table.handle)
        conn = nx.platform_connections.upsert(
            user_id=USER_ID, platform="linkedin", platform_user_id="urn:li:1", access_token="tok"
        )
    assert route.call_count == 1
    body = json.loads(route.calls[0].request.content)
    assert body["user_id"] == USER_ID
    assert "id" not in body
    assert conn.user_id == uuid.UUID(USER_ID)
    assert _stored_token(table, conn.id, "access_token", RING, "linkedin") == "tok"


def test_upsert_after_a_lost_response_converges_to_one_row(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/platform_connections").mock(side_effect=lose_first_response(table))
        conn = me.platform_connections.upsert(platform="x", platform_user_id="1", access_token="tok")
    assert [r.method for r in table.requests] == ["POST", "POST"]
    assert list(table.rows) == [str(conn.id)]
    assert conn.access_token.get_secret_value() == "tok"


def test_upsert_refuses_an_id_or_another_users_id_before_sending(me: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.post("/platform_connections")
        with pytest.raises(ValidationError, match="cannot set id"):
            me.platform_connections.upsert(
                id=uuid.uuid4(), platform="x", platform_user_id="1", access_token="tok"
            )
        with pytest.raises(ValidationError, match="their own"):
            me.platform_connections.upsert(
                user_id=uuid.uuid4(), platform="x", platform_user_id="1", access_token="tok"
            )
    assert not route.called


def test_update_tokens_patches_by_natural_key(me: NexusClient) -> None:
    table = FakeTable()
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/platform_connections").mock(side_effect=table.handle)
        conn = me.platform_connections.create(platform="x", platform_user_id="1", access_token="old")
        other = me.platform_connections.create(platform="linkedin", platform_user_id="2", access_token="li")
        # A client that never saw the row: the natural key is all update_tokens needs.
        with NexusClient(URL, ANON_KEY, access_token=USER_TOKEN, encryption_keys=RING) as fresh:
            updated = fresh.platform_connections.update_tokens(
                "X", access_token="new", refresh_token=None, token_expires_at=None
            )
            with pytest.raises(NotFoundError):
                fresh.platform_connections.update_tokens("substack", access_token="t")
    patch = table.requests[2]
    assert patch.method == "PATCH"
    assert patch.url.params.multi_items() == [("user_id", f"eq.{USER_ID}"), ("platform", "eq.x")]
    assert patch.headers["prefer"] == "return=representation"
    body = json.loads(patch.content)
    assert set(body) == {"access_token", "refresh_token", "token_expires_at"}
    assert body["refresh_token"] is None
    assert updated.id == conn.id
    assert updated.access_token.get_secret_value() == "new"
    assert _stored_token(table, conn.id, "access_token", RING, "x") == "new"
    assert _stored_token(table, other.id, "access_token", RING, "linkedin") == "li"


def test_update_tokens_needs_a_token_and_for_the_service_role_a_user(nx: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.patch("/platform_connections")
        with pytest.raises(ValidationError, match="access_token or refresh_token"):
            nx.platform_connections.update_tokens("x", scope="r")
        with pytest.raises(ValidationError, match="user_id is required"):
            nx.platform_connections.update_tokens("x", access_token="t")
        with pytest.raises(ValidationError, match="platform"):
            nx.platform_connections.update_tokens("Not A Name!", access_token="t", user_id=USER_ID)
    assert not route.called


@pytest.mark.parametrize(
    "change", [{"access_token": "tok-SECRET"}, {"refresh_token": "tok-SECRET"}, {"platform": "threads"}]
)
def test_update_by_id_refuses_new_tokens_and_platform_before_sending(
    me: NexusClient, change: dict[str, str]
) -> None:
    """Tokens are bound to (user_id, platform), which a PATCH by id cannot know without a read."""
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.patch("/platform_connections")
        with pytest.raises(ValidationError, match="update_tokens") as info:
            me.platform_connections.update(uuid.uuid4(), scope="w", **change)
    assert not route.called
    assert "tok-SECRET" not in str(info.value)
    assert "tok-SECRET" not in repr(info.value)


def test_update_without_tokens_is_a_plain_patch_by_id(me: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.patch("/platform_connections").respond(200, json=[])
        with pytest.raises(NotFoundError):
            me.platform_connections.update(uuid.uuid4(), scope="r", refresh_token=None)
    assert [key for key, _ in route.calls[0].request.url.params.multi_items()] == ["id"]
    assert json.loads(route.calls[0].request.content) == {"scope": "r", "refresh_token": None}


def test_invalid_create_never_echoes_a_token(me: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.post("/platform_connections")
        with pytest.raises(ValidationError) as info:
            me.platform_connections.create(
                platform="Not A Name!", platform_user_id="1", access_token="tok-SECRET"
            )
    assert not route.called
    assert "platform" in str(info.value)
    assert "tok-SECRET" not in str(info.value)
    assert "tok-SECRET" not in repr(info.value.errors)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


# --- batch validation (one pydantic call per batch) ----------------------------------------------------


def _idea(**extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "user_id": USER_ID, "original_idea": "an idea", **extra}


def test_batch_create_bodies_equal_the_row_by_row_bodies() -> None:
    items = [
        _idea(),
        _idea(
            tone="casual", adaptations={"linkedin": {"text": "hi", "hashtags": ["a"]}, "mastodon": {"x": 1}}
        ),
        _idea(target_audience="devs", last_used_at="2025-01-02T03:04:05+00:00", idea_hash="ab" * 32),
        _idea(user_id=None),  # the acting user's id is filled in
    ]
    with NexusClient(URL, ANON_KEY, access_token=USER_TOKEN) as me:
        core = me.content_adaptations._core
        batch = core._raw_create_bodies(items)
        one_by_one = [core._raw_create_body(item, {}) for item in items]
    assert batch == one_by_one
    assert batch[3]["user_id"] == USER_ID
    assert "tone" not in batch[0]
    assert batch[1]["tone"] == "casual"


def test_batch_create_bodies_reveal_tokens_as_the_row_path_does(nx: NexusClient) -> None:
    core = nx.platform_connections._core
    items = [
        {"id": str(uuid.uuid4()), "user_id": USER_ID, "platform": "LinkedIn", "platform_user_id": f"u{i}",
         "access_token": f"tok-{i}"}
        for i in range(3)
    ]  # fmt: skip
    batch = core._raw_create_bodies(items)
    assert batch == [core._raw_create_body(item, {}) for item in items]
    assert [b["access_token"] for b in batch] == ["tok-0", "tok-1", "tok-2"]  # type: ignore[index]


def test_batch_create_bodies_name_each_invalid_item(nx: NexusClient) -> None:
    core = nx.content_adaptations._core
    items = [_idea(), _idea(original_idea=""), _idea(), {"user_id": USER_ID}, _idea()]
    results = core._raw_create_bodies(items)
    assert [type(r).__name__ for r in results] == [
        "dict",
        "ValidationError",
        "dict",
        "ValidationError",
        "dict",
    ]
    assert {e["loc"] for e in results[3].errors} == {("original_idea",)}  # type: ignore[union-attr]
    assert [r["id"] for r in results if isinstance(r, dict)] == [items[i]["id"] for i in (0, 2, 4)]


def test_batch_create_bodies_report_a_missing_user_per_item(nx: NexusClient) -> None:
    # Service role, no acting user: a row without user_id is invalid, the others are not.
    results = nx.content_adaptations._core._raw_create_bodies([_idea(), _idea(user_id=None)])
    assert isinstance(results[0], dict)
    assert isinstance(results[1], ValidationError)
    assert results[1].errors[0]["loc"] == ("user_id",)


def test_create_many_sends_one_encoded_json_body_per_batch(nx: NexusClient) -> None:
    table = FakeTable()
    items = [_new_post(content=f"post {i}") for i in range(3)]
    with respx.mock(base_url=REST) as mock:
        mock.route(path="/published_posts").mock(side_effect=table.handle)
        nx.published_posts.create_many(items)
    (post,) = [r for r in table.requests if r.method == "POST"]
    assert post.headers["content-type"] == "application/json"
    assert [row["content"] for row in json.loads(post.content)] == ["post 0", "post 1", "post 2"]

"""The publishing operations on the wire: request bodies, retry safety, typed errors, checks before sending.

respx stands in for PostgREST; the behaviour of the SQL functions themselves is tested end to end in
``tests/e2e/test_publishing_*.py``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from nexus_sdk import AsyncNexusClient, NexusClient, _http
from nexus_sdk.errors import (
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    ValidationError,
)
from nexus_sdk.models import PostMetrics
from nexus_sdk.models.publishing import ClaimedPost

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
USER_ID = "11111111-2222-4333-8444-555555555555"
CONN_ID = "22222222-2222-4333-8444-555555555555"
POST_ID = "33333333-2222-4333-8444-555555555555"
NOW = "2030-02-10T12:00:00+00:00"
LATER = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


SERVICE_KEY = _jwt({"role": "service_role"})
ANON_KEY = _jwt({"role": "anon"})
USER_TOKEN = _jwt({"sub": USER_ID, "role": "authenticated"})


def scheduled_row(**changes: Any) -> dict[str, Any]:
    row = {
        "id": POST_ID,
        "user_id": USER_ID,
        "adaptation_id": None,
        "content": "hello",
        "platform_connection_id": CONN_ID,
        "platform": "linkedin",
        "status": "scheduled",
        "scheduled_for": NOW,
        "timezone": "UTC",
        "retry_count": 0,
        "last_error": None,
        "published_post_id": None,
        "claimed_by": None,
        "claimed_at": None,
        "lease_expires_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return {**row, **changes}


def claimed_row(worker: str = "w-1") -> dict[str, Any]:
    return scheduled_row(status="processing", claimed_by=worker, claimed_at=NOW, lease_expires_at=NOW)


def published_row(**changes: Any) -> dict[str, Any]:
    row = {
        "id": str(uuid.uuid4()),
        "user_id": USER_ID,
        "platform": "linkedin",
        "status": "published",
        "content": "hello",
        "metrics": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return {**row, **changes}


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)


@pytest.fixture
def service() -> Iterator[NexusClient]:
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY) as client:
        yield client


@pytest.fixture
def user(service: NexusClient) -> NexusClient:
    return service.as_user(USER_TOKEN)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=REST, assert_all_called=False) as router:
        yield router


def _body(route: respx.Route, index: int = -1) -> Any:
    return json.loads(route.calls[index].request.content)


def _p0001(details: str, message: str = "refused") -> httpx.Response:
    return httpx.Response(400, json={"code": "P0001", "message": message, "details": details, "hint": None})


def test_schedule_sends_named_arguments_with_a_client_id_and_is_retried(
    user: NexusClient, api: respx.MockRouter
) -> None:
    route = api.post("/rpc/schedule_post").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=[scheduled_row()])]
    )
    post = user.scheduled_posts.schedule(
        CONN_ID, LATER, content="hello", timezone="europe/paris", platform="LinkedIn"
    )
    assert post.id == uuid.UUID(POST_ID)
    assert route.call_count == 2  # a lost response is retried: the id makes the repeat harmless
    first, second = _body(route, 0), _body(route, 1)
    assert first == second
    assert set(first) == {"platform_connection_id", "scheduled_for", "content", "timezone", "platform", "id"}
    assert (first["scheduled_for"], first["timezone"], first["platform"]) == (
        "2031-01-01T00:00:00Z",
        "Europe/Paris",
        "linkedin",
    )
    uuid.UUID(first["id"])
    # A signed-in user is the acting user by their JWT: user_id is not sent.
    assert "user_id" not in first


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ({"scheduled_for": dt.datetime(2031, 1, 1)}, "timezone|time zone"),
        ({"scheduled_for": "tomorrow"}, "datetime"),
        ({"content": ""}, "content"),
        ({"content": "x" * 281, "platform": "x"}, "280"),
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"platform_connection_id": "nope"}, "platform_connection_id"),
    ],
)
def test_schedule_refuses_bad_input_before_sending(
    user: NexusClient, api: respx.MockRouter, args: dict[str, Any], match: str
) -> None:
    route = api.post("/rpc/schedule_post").respond(200, json=[scheduled_row()])
    call = {"platform_connection_id": CONN_ID, "scheduled_for": LATER, "content": "hi", **args}
    with pytest.raises(ValidationError, match=match):
        user.scheduled_posts.schedule(call.pop("platform_connection_id"), call.pop("scheduled_for"), **call)
    assert not route.called


def test_schedule_with_the_service_role_needs_a_user(service: NexusClient, api: respx.MockRouter) -> None:
    route = api.post("/rpc/schedule_post").respond(200, json=[scheduled_row()])
    # Content without platform=: the connection's platform is read first, to check the content's limit.
    lookup = api.get("/platform_connections").respond(200, json=[{"platform": "linkedin"}])
    with pytest.raises(ValidationError, match="user_id"):
        service.scheduled_posts.schedule(CONN_ID, LATER, content="hi")
    assert not route.called
    assert not lookup.called
    service.scheduled_posts.schedule(CONN_ID, LATER, content="hi", user_id=USER_ID)
    assert _body(route)["user_id"] == USER_ID
    assert _body(route)["platform"] == "linkedin"
    assert lookup.calls[0].request.url.params["select"] == "platform"


def test_claim_due_body_and_it_is_never_retried_once_sent(
    service: NexusClient, api: respx.MockRouter
) -> None:
    route = api.post("/rpc/claim_due_posts").respond(200, json=[claimed_row("w-9")])
    [post] = service.scheduled_posts.claim_due(
        25, worker_id="w-9", lease=dt.timedelta(seconds=90.2), max_attempts=3
    )
    assert isinstance(post, ClaimedPost)
    assert post.claimed_by == "w-9"
    # The lease is rounded up, never shortened.
    assert _body(route) == {"worker_id": "w-9", "max_posts": 25, "lease_seconds": 91, "max_attempts": 3}

    api.post("/rpc/claim_due_posts").respond(503)
    with pytest.raises(InternalServerError):
        service.scheduled_posts.claim_due()
    # A repeat could claim a second batch and strand the first until its lease lapsed.
    assert route.call_count == 2
    default = _body(route)
    assert default["max_posts"] == 50
    assert default["lease_seconds"] == 300
    host, pid, suffix = default["worker_id"].rsplit(":", 2)
    assert host
    assert pid.isdigit()
    assert len(suffix) == 12


@pytest.mark.parametrize(
    "kwargs",
    [{"limit": 0}, {"limit": 1001}, {"lease": 0}, {"lease": 86401}, {"worker_id": " "}, {"max_attempts": 0}],
)
def test_claim_due_refuses_bad_options(
    service: NexusClient, api: respx.MockRouter, kwargs: dict[str, Any]
) -> None:
    route = api.post("/rpc/claim_due_posts").respond(200, json=[])
    with pytest.raises(ValidationError):
        service.scheduled_posts.claim_due(**kwargs)
    assert not route.called


def test_complete_takes_the_worker_from_the_claim_and_is_retried(
    service: NexusClient, api: respx.MockRouter
) -> None:
    row = published_row(platform_post_id="urn:1")
    route = api.post("/rpc/complete_scheduled_post").mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(200, json=[row])]
    )
    claimed = ClaimedPost.model_validate(claimed_row("w-7"))
    at = dt.datetime(2030, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    published = service.scheduled_posts.complete(
        claimed, platform_post_id="urn:1", published_at=at, metadata={"a": 1}
    )
    assert str(published.id) == row["id"]
    assert route.call_count == 2
    assert _body(route) == {
        "post_id": POST_ID,
        "worker_id": "w-7",
        "platform_post_id": "urn:1",
        "published_at": "2030-01-01T08:00:00+02:00",
        "metadata": {"a": 1},
    }
    with pytest.raises(ValidationError, match="worker_id"):
        service.scheduled_posts.complete(POST_ID)
    with pytest.raises(ValidationError):
        service.scheduled_posts.complete(claimed, published_at=dt.datetime(2030, 1, 1))
    assert route.call_count == 2


def test_fail_body_and_it_is_not_retried(service: NexusClient, api: respx.MockRouter) -> None:
    route = api.post("/rpc/fail_scheduled_post").respond(
        200, json=[scheduled_row(retry_count=1, last_error="e")]
    )
    row = service.scheduled_posts.fail(
        POST_ID, worker_id="w", error="e", retryable=False, base_delay=dt.timedelta(minutes=2)
    )
    assert row.retry_count == 1
    assert _body(route) == {
        "post_id": POST_ID,
        "worker_id": "w",
        "error_message": "e",
        "retryable": False,
        "max_attempts": 5,
        "base_delay_seconds": 120,
        "max_delay_seconds": 3600,
    }
    api.post("/rpc/fail_scheduled_post").respond(502)
    with pytest.raises(InternalServerError):
        service.scheduled_posts.fail(POST_ID, worker_id="w", error="e")
    assert route.call_count == 2
    with pytest.raises(ValidationError):
        service.scheduled_posts.fail(POST_ID, worker_id="w", error="  ")


def test_release_body_takes_the_worker_from_the_claim_and_is_retried(
    service: NexusClient, api: respx.MockRouter
) -> None:
    route = api.post("/rpc/release_scheduled_post").mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(200, json=[scheduled_row(claimed_by="w-7")])]
    )
    claimed = ClaimedPost.model_validate(claimed_row("w-7"))
    row = service.scheduled_posts.release(claimed)
    assert (row.status, row.retry_count, row.claimed_by) == ("scheduled", 0, "w-7")
    # A repeat after a lost response is answered with the released row: safe to retry.
    assert route.call_count == 2
    assert _body(route, 0) == _body(route, 1) == {"post_id": POST_ID, "worker_id": "w-7"}

    api.post("/rpc/release_scheduled_post").respond(200, json=[scheduled_row(claimed_by="w-8")])
    service.scheduled_posts.release(uuid.UUID(POST_ID), worker_id="w-8")
    assert _body(route) == {"post_id": POST_ID, "worker_id": "w-8"}
    with pytest.raises(ValidationError, match="worker_id"):
        service.scheduled_posts.release(POST_ID)
    with pytest.raises(ValidationError):
        service.scheduled_posts.release("not-a-uuid", worker_id="w")
    assert route.call_count == 3

    api.post("/rpc/release_scheduled_post").mock(return_value=_p0001("claim_lost"))
    with pytest.raises(ConflictError) as lost:
        service.scheduled_posts.release(claimed)
    assert lost.value.details == "claim_lost"
    api.post("/rpc/release_scheduled_post").respond(200, json=[])
    with pytest.raises(NotFoundError, match=POST_ID):
        service.scheduled_posts.release(claimed)


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        ("claim_lost", ConflictError),
        ("not_claimed", ConflictError),
        ("not_reschedulable", ConflictError),
        ("not_cancellable", ConflictError),
        ("not_published", ConflictError),
        ("connection_not_found", NotFoundError),
        ("adaptation_not_found", NotFoundError),
        ("connection_inactive", BadRequestError),
        ("platform_mismatch", BadRequestError),
    ],
)
def test_details_tokens_become_typed_errors(
    service: NexusClient, api: respx.MockRouter, details: str, expected: type[Exception]
) -> None:
    api.post("/rpc/cancel_scheduled_post").mock(return_value=_p0001(details, "scheduled post is x"))
    with pytest.raises(expected) as caught:
        service.scheduled_posts.cancel(POST_ID)
    error = caught.value
    assert type(error) is expected
    # Class and status agree; what the server said is kept, so callers can still tell the cases apart.
    status = {ConflictError: 409, NotFoundError: 404, BadRequestError: 400}[expected]
    assert (error.status_code, error.response_status, error.code, error.details, error.message) == (  # type: ignore[attr-defined]
        status,
        400,
        "P0001",
        details,
        "scheduled post is x",
    )


def test_no_row_is_not_found(user: NexusClient, api: respx.MockRouter) -> None:
    for function in (
        "reschedule_post",
        "cancel_scheduled_post",
        "set_default_voice_profile",
        "mark_adaptation_used",
    ):
        api.post(f"/rpc/{function}").respond(200, json=[])
    with pytest.raises(NotFoundError, match=POST_ID):
        user.scheduled_posts.reschedule(POST_ID, LATER)
    with pytest.raises(NotFoundError):
        user.scheduled_posts.cancel(POST_ID)
    with pytest.raises(NotFoundError):
        user.voice_profiles.set_default(POST_ID)
    with pytest.raises(NotFoundError):
        user.content_adaptations.mark_used(POST_ID)


def test_record_metrics_checks_the_snapshot_and_leaves_derived_keys_to_the_server(
    user: NexusClient, api: respx.MockRouter
) -> None:
    route = api.post("/rpc/record_post_metrics").respond(200, json=[published_row(metrics={"likes": 3})])
    synced = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    post = user.published_posts.record_metrics(
        POST_ID, PostMetrics(likes=3, engagement_rate=0.5, custom_score=7), synced_at=synced
    )
    assert post.metrics is not None
    assert post.metrics.likes == 3
    assert _body(route) == {
        "post_id": POST_ID,
        "metrics": {"likes": 3, "custom_score": 7},
        "synced_at": "2030-01-01T00:00:00Z",
    }
    user.published_posts.record_metrics(POST_ID, {"views": 10})
    assert _body(route) == {"post_id": POST_ID, "metrics": {"views": 10}}
    for bad in ({"likes": -1}, {"impressions": "many"}):
        with pytest.raises(ValidationError):
            user.published_posts.record_metrics(POST_ID, bad)
    with pytest.raises(ValidationError):
        user.published_posts.record_metrics(POST_ID, {"likes": 1}, synced_at=dt.datetime(2030, 1, 1))
    assert route.call_count == 2


def test_top_is_a_retried_read(service: NexusClient, api: respx.MockRouter) -> None:
    route = api.post("/rpc/top_published_posts").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json=[published_row(), published_row()])]
    )
    since = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    posts = service.published_posts.top(5, platform="X", since=since, user_id=USER_ID)
    assert len(posts) == 2
    assert route.call_count == 2
    assert _body(route) == {
        "max_posts": 5,
        "platform": "x",
        "since": "2030-01-01T00:00:00Z",
        "user_id": USER_ID,
    }
    with pytest.raises(ValidationError):
        service.published_posts.top(0)


def test_create_idea_sends_the_idea_once_and_is_retried(user: NexusClient, api: respx.MockRouter) -> None:
    row = {
        "id": POST_ID,
        "user_id": USER_ID,
        "original_idea": "An idea",
        "idea_hash": "0" * 64,
        "adaptations": {},
        "created_at": NOW,
        "updated_at": NOW,
    }
    route = api.post("/rpc/create_idea").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=[row])]
    )
    idea = user.content_adaptations.create_idea("An idea", tone="calm", adaptations={"x": {"text": "short"}})
    assert str(idea.id) == POST_ID
    assert route.call_count == 2
    body = _body(route)
    assert set(body) == {"id", "user_id", "original_idea", "adaptations", "tone"}
    assert (body["user_id"], body["original_idea"], body["tone"]) == (USER_ID, "An idea", "calm")
    assert body["adaptations"] == {"x": {"text": "short"}}
    with pytest.raises(ValidationError):
        user.content_adaptations.create_idea("")
    with pytest.raises(ValidationError):
        user.content_adaptations.create_idea("fine", adaptations={"x": {"text": "y" * 300}})
    assert route.call_count == 2


async def test_async_twins_send_the_same_requests(api: respx.MockRouter) -> None:
    route = api.post("/rpc/claim_due_posts").respond(200, json=[claimed_row("a")])
    done = api.post("/rpc/complete_scheduled_post").respond(200, json=[published_row()])
    released = api.post("/rpc/release_scheduled_post").respond(200, json=[scheduled_row(claimed_by="a")])
    async with AsyncNexusClient(URL, SERVICE_KEY) as client:
        [post] = await client.scheduled_posts.claim_due(10, worker_id="a", lease=60)
        await client.scheduled_posts.complete(post, platform_post_id="p")
        assert (await client.scheduled_posts.release(post)).status == "scheduled"
    with NexusClient(URL, SERVICE_KEY) as client:
        [same] = client.scheduled_posts.claim_due(10, worker_id="a", lease=60)
        client.scheduled_posts.complete(same, platform_post_id="p")
        client.scheduled_posts.release(same)
    assert _body(route, 0) == _body(route, 1)
    assert _body(done, 0) == _body(done, 1)
    assert _body(released, 0) == _body(released, 1) == {"post_id": POST_ID, "worker_id": "a"}

"""The publishing and domain operations through the SDK, over HTTP against the local stack (RLS on).

Scheduling, rescheduling, cancelling, claiming, completing, failing, metrics, ranking, the default voice
profile and idea deduplication; the typed errors for the SQL functions' ``details`` tokens; and who may do
what (a user only on their own rows, only the service role claims and completes, anon nothing). Each test
runs through ``NexusClient`` and ``AsyncNexusClient`` (the ``sdk`` fixture).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk.errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from nexus_sdk.models import Adaptations, LinkedInAdaptation, PostMetrics
from nexus_sdk.models.publishing import ClaimedPost
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime(2031, 1, 1, 9, 30, tzinfo=dt.UTC)


def _connection(
    stack: NexusTestStack, user: NexusTestUser, platform: str = "linkedin", active: bool = True
) -> str:
    """A platform connection of ``user``, made in SQL (tokens are not what these tests are about)."""
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token, is_active)"
            " VALUES (%s, %s, 'pu', 'nx1:placeholder:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', %s) RETURNING id",
            (user.id, platform, active),
        )
        .fetchone()
    )
    assert row is not None
    return str(row[0])


def _make_due(stack: NexusTestStack, post_id: Any) -> None:
    """Move a scheduled post's time into the past, as if it had become due."""
    stack.sql().execute(
        "UPDATE public.scheduled_posts SET scheduled_for = now() - interval '1 minute' WHERE id = %s",
        (str(post_id),),
    )


def _anon(stack: NexusTestStack, kind: str) -> NexusClient | AsyncNexusClient:
    if kind == "sync":
        return NexusClient(stack.url, stack.anon_key)
    return AsyncNexusClient(stack.url, stack.anon_key)


async def test_schedule_snapshots_content_and_a_repeated_id_returns_the_first_row(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    conn = _connection(nexus_clean, nexus_user)
    idea = await sdk(
        me.content_adaptations.create_idea(
            "ship it", adaptations=Adaptations(linkedin=LinkedInAdaptation(text="Shipping today."))
        )
    )
    post_id = uuid.uuid4()
    post = await sdk(me.scheduled_posts.schedule(conn, LATER, adaptation_id=idea.id, id=post_id))
    assert (post.id, post.status, post.content, post.platform, post.user_id) == (
        post_id,
        "scheduled",
        "Shipping today.",
        "linkedin",
        nexus_user.id,
    )
    assert (post.timezone, post.claimed_by, post.lease_expires_at) == ("UTC", None, None)
    # The content is a snapshot: editing the adaptation afterwards does not change the post.
    await sdk(
        me.content_adaptations.update(
            idea.id, adaptations=Adaptations(linkedin=LinkedInAdaptation(text="New"))
        )
    )
    again = await sdk(me.scheduled_posts.schedule(conn, LATER, content="other", id=post_id))
    assert (again.id, again.content, again.created_at) == (post.id, "Shipping today.", post.created_at)
    assert await sdk(me.scheduled_posts.count()) == 1

    zoned = await sdk(me.scheduled_posts.schedule(conn, LATER, content="hi", timezone="europe/paris"))
    assert zoned.timezone == "Europe/Paris"


async def test_schedule_refusals_are_typed(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    mine = _connection(nexus_clean, nexus_user)
    theirs = _connection(nexus_clean, nexus_other_user)
    inactive = _connection(nexus_clean, nexus_user, platform="substack", active=False)

    with pytest.raises(ValidationError, match=r"time-zone aware|timezone"):
        await sdk(me.scheduled_posts.schedule(mine, dt.datetime(2031, 1, 1), content="naive"))
    with pytest.raises(ValidationError, match="content"):
        await sdk(me.scheduled_posts.schedule(mine, LATER, content="   "))
    with pytest.raises(ValidationError, match="user_id"):
        await sdk(sdk.service.scheduled_posts.schedule(mine, LATER, content="no user"))

    with pytest.raises(NotFoundError) as not_found:
        # platform= given, so the database's own refusal is what comes back (without it, the SDK looks the
        # connection's platform up first: tests/e2e/sdk/test_schedule_content_limits.py).
        await sdk(
            me.scheduled_posts.schedule(
                theirs, LATER, content="on someone else's account", platform="linkedin"
            )
        )
    assert (not_found.value.details, not_found.value.status_code) == ("connection_not_found", 404)
    assert not_found.value.response_status == 400
    with pytest.raises(BadRequestError) as inactive_error:
        await sdk(me.scheduled_posts.schedule(inactive, LATER, content="x"))
    assert inactive_error.value.details == "connection_inactive"
    with pytest.raises(BadRequestError) as mismatch:
        await sdk(me.scheduled_posts.schedule(mine, LATER, content="x", platform="x"))
    assert mismatch.value.details == "platform_mismatch"
    with pytest.raises(BadRequestError) as past:
        await sdk(
            me.scheduled_posts.schedule(mine, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1), content="x")
        )
    assert past.value.details == "time_in_past"
    with pytest.raises(PermissionDeniedError) as other:
        await sdk(me.scheduled_posts.schedule(mine, LATER, content="x", user_id=nexus_other_user.id))
    assert other.value.details == "not_own_user"
    # The service role names the user, and the connection must be that user's.
    with pytest.raises(NotFoundError):
        await sdk(sdk.service.scheduled_posts.schedule(theirs, LATER, content="x", user_id=nexus_user.id))
    done = await sdk(
        sdk.service.scheduled_posts.schedule(theirs, LATER, content="x", user_id=nexus_other_user.id)
    )
    assert done.user_id == nexus_other_user.id
    assert await sdk(me.scheduled_posts.count()) == 0


async def test_reschedule_and_cancel_only_while_unprocessed(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me, them = sdk.of(nexus_user), sdk.of(nexus_other_user)
    conn = _connection(nexus_clean, nexus_user)
    post = await sdk(me.scheduled_posts.schedule(conn, LATER, content="a"))
    later = LATER + dt.timedelta(days=1)

    moved = await sdk(me.scheduled_posts.reschedule(post, later, timezone="Asia/Tokyo"))
    assert (moved.scheduled_for, moved.timezone) == (later, "Asia/Tokyo")
    with pytest.raises(ValidationError):
        await sdk(me.scheduled_posts.reschedule(post.id, dt.datetime(2032, 1, 1)))
    # Another user's post is not found, as if it did not exist.
    with pytest.raises(NotFoundError):
        await sdk(them.scheduled_posts.reschedule(post.id, later))
    with pytest.raises(NotFoundError):
        await sdk(them.scheduled_posts.cancel(post.id))
    with pytest.raises(NotFoundError):
        await sdk(me.scheduled_posts.cancel(uuid.uuid4()))

    cancelled = await sdk(me.scheduled_posts.cancel(post.id))
    assert cancelled.status == "cancelled"
    assert (await sdk(me.scheduled_posts.cancel(post.id))).status == "cancelled"  # harmless repeat
    with pytest.raises(ConflictError) as not_reschedulable:
        await sdk(me.scheduled_posts.reschedule(post.id, later))
    assert (not_reschedulable.value.details, not_reschedulable.value.code) == ("not_reschedulable", "P0001")

    # Once a worker has claimed it, the user can neither move nor cancel it.
    claimed = await sdk(me.scheduled_posts.schedule(conn, LATER, content="b"))
    _make_due(nexus_clean, claimed.id)
    [taken] = await sdk(sdk.service.scheduled_posts.claim_due(10, worker_id="w1"))
    assert taken.id == claimed.id
    with pytest.raises(ConflictError) as not_cancellable:
        await sdk(me.scheduled_posts.cancel(claimed.id))
    assert not_cancellable.value.details == "not_cancellable"


async def test_claim_complete_fail_and_their_refusals(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    me, service = sdk.of(nexus_user), sdk.service.scheduled_posts
    conn = _connection(nexus_clean, nexus_user)
    posts = [await sdk(me.scheduled_posts.schedule(conn, LATER, content=f"post {i}")) for i in range(3)]
    for post in posts:
        _make_due(nexus_clean, post.id)
    not_due = await sdk(me.scheduled_posts.schedule(conn, LATER, content="later"))

    claimed = await sdk(service.claim_due(2, worker_id="worker-a", lease=dt.timedelta(minutes=2)))
    assert all(isinstance(p, ClaimedPost) for p in claimed)
    assert [p.status for p in claimed] == ["processing", "processing"]
    assert {p.claimed_by for p in claimed} == {"worker-a"}
    lease = claimed[0].lease_expires_at - claimed[0].claimed_at
    assert dt.timedelta(seconds=119) <= lease <= dt.timedelta(seconds=121)
    [third] = await sdk(service.claim_due(10))  # a generated worker id; the not-yet-due post stays
    assert third.id not in {p.id for p in claimed} | {not_due.id}
    assert third.claimed_by
    assert third.claimed_by != "worker-a"

    first, second = claimed
    published = await sdk(service.complete(first, platform_post_id="urn:li:share:1", metadata={"k": 1}))
    assert (published.status, published.content, published.platform_post_id, published.metadata) == (
        "published",
        first.content,
        "urn:li:share:1",
        {"k": 1},
    )
    again = await sdk(service.complete(first.id, worker_id="worker-a"))
    assert again.id == published.id  # the same row: nothing happened twice
    assert await sdk(me.published_posts.count()) == 1
    schedule = await sdk(me.scheduled_posts.get(first.id))
    assert (schedule.status, schedule.published_post_id, schedule.lease_expires_at) == (
        "completed",
        published.id,
        None,
    )
    with pytest.raises(ConflictError) as lost:
        await sdk(service.complete(first.id, worker_id="worker-b"))
    assert lost.value.details == "claim_lost"
    with pytest.raises(ConflictError) as lost_fail:
        await sdk(service.fail(second.id, worker_id="worker-b", error="nope"))
    assert lost_fail.value.details == "claim_lost"
    with pytest.raises(ValidationError, match="worker_id"):
        await sdk(service.complete(second.id))
    with pytest.raises(NotFoundError):
        await sdk(service.complete(uuid.uuid4(), worker_id="worker-a"))
    with pytest.raises(ConflictError) as not_claimed:
        await sdk(service.complete(not_due.id, worker_id="worker-a"))
    assert not_claimed.value.details == "not_claimed"

    # Failing: retry with backoff, then give up.
    before = dt.datetime.now(dt.UTC)
    retry = await sdk(service.fail(second, error="HTTP 503 from the platform", base_delay=30))
    assert (retry.status, retry.retry_count, retry.last_error) == (
        "scheduled",
        1,
        "HTTP 503 from the platform",
    )
    assert before + dt.timedelta(seconds=25) < retry.scheduled_for < before + dt.timedelta(seconds=40)
    gave_up = await sdk(service.fail(third, error="content rejected", retryable=False))
    assert (gave_up.status, gave_up.retry_count) == ("failed", 1)
    with pytest.raises(ConflictError) as not_claimed_fail:
        await sdk(service.fail(third, error="again"))
    assert not_claimed_fail.value.details == "not_claimed"


async def test_only_the_service_role_claims_completes_and_fails(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    conn = _connection(nexus_clean, nexus_user)
    post = await sdk(me.scheduled_posts.schedule(conn, LATER, content="mine"))
    _make_due(nexus_clean, post.id)
    with pytest.raises(PermissionDeniedError):
        await sdk(me.scheduled_posts.claim_due(10, worker_id="sneaky"))
    [claimed] = await sdk(sdk.service.scheduled_posts.claim_due(10, worker_id="w"))
    with pytest.raises(PermissionDeniedError):
        await sdk(me.scheduled_posts.complete(claimed))
    with pytest.raises(PermissionDeniedError):
        await sdk(me.scheduled_posts.fail(claimed, error="x"))

    anon = _anon(nexus_clean, sdk.kind)
    try:
        with pytest.raises(AuthenticationError):
            await sdk(anon.scheduled_posts.claim_due(10, worker_id="anon"))
        with pytest.raises(AuthenticationError):
            await sdk(anon.scheduled_posts.complete(claimed))
        with pytest.raises(AuthenticationError):
            await sdk(anon.scheduled_posts.schedule(conn, LATER, content="x", user_id=nexus_user.id))
        with pytest.raises(AuthenticationError):
            await sdk(anon.content_adaptations.create_idea("x", user_id=nexus_user.id))
        with pytest.raises(AuthenticationError):
            await sdk(anon.published_posts.top())
        with pytest.raises(AuthenticationError):
            await sdk(anon.voice_profiles.set_default(uuid.uuid4()))
    finally:
        await sdk(anon.close())
    assert (await sdk(sdk.service.scheduled_posts.get(post.id))).status == "processing"


async def test_metrics_merge_rank_and_stay_private(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me, them = sdk.of(nexus_user), sdk.of(nexus_other_user)
    conn = _connection(nexus_clean, nexus_user)
    low = await sdk(me.published_posts.create(platform="linkedin", content="low", status="published"))
    high = await sdk(me.published_posts.create(platform="x", content="high", status="published"))
    unrated = await sdk(me.published_posts.create(platform="x", content="none", status="published"))
    pending = await sdk(me.published_posts.create(platform="x", content="draft", platform_connection_id=conn))
    theirs = await sdk(them.published_posts.create(platform="x", content="theirs", status="published"))

    synced = dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC)
    first = await sdk(
        me.published_posts.record_metrics(low.id, {"likes": 1, "impressions": 100, "extra": "kept"})
    )
    assert first.metrics is not None
    assert (first.metrics.likes, first.metrics.impressions, first.metrics.engagement_rate) == (1, 100, 0.01)
    merged = await sdk(
        me.published_posts.record_metrics(
            low, PostMetrics(comments=1, shares=1, engagement_rate=0.9), synced_at=synced
        )
    )
    assert merged.metrics is not None
    # Earlier keys stay, the rate is the server's (3 / 100) whatever was sent, last_synced is synced_at.
    assert (merged.metrics.likes, merged.metrics.comments, merged.metrics.engagement_rate) == (1, 1, 0.03)
    assert merged.metrics.last_synced == synced
    assert (merged.metrics.model_extra or {}).get("extra") == "kept"
    await sdk(me.published_posts.record_metrics(high.id, {"likes": 5, "views": 10}))

    with pytest.raises(ValidationError):
        await sdk(me.published_posts.record_metrics(low.id, {"likes": -1}))
    with pytest.raises(ConflictError) as not_published:
        await sdk(me.published_posts.record_metrics(pending.id, {"likes": 1}))
    assert not_published.value.details == "not_published"
    with pytest.raises(NotFoundError):
        await sdk(them.published_posts.record_metrics(low.id, {"likes": 1000}))

    top = await sdk(me.published_posts.top())
    assert [p.id for p in top] == [high.id, low.id, unrated.id]  # no rate: last; the other user's: absent
    assert [p.id for p in await sdk(me.published_posts.top(platform="linkedin"))] == [low.id]
    assert [p.id for p in await sdk(me.published_posts.top(1))] == [high.id]
    assert [p.id for p in await sdk(them.published_posts.top())] == [theirs.id]
    everyone = await sdk(sdk.service.published_posts.top(limit=10))
    assert {p.id for p in everyone} == {high.id, low.id, unrated.id, theirs.id}
    only_them = await sdk(sdk.service.published_posts.top(user_id=nexus_other_user.id))
    assert [p.id for p in only_them] == [theirs.id]


async def test_set_default_voice_profile_in_one_call(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    first = await sdk(me.voice_profiles.create(name="Formal", is_default=True))
    second = await sdk(me.voice_profiles.create(name="Casual"))
    now_default = await sdk(me.voice_profiles.set_default(second))
    assert now_default.is_default
    assert not (await sdk(me.voice_profiles.get(first.id))).is_default
    assert (await sdk(me.voice_profiles.set_default(second.id))).is_default  # a repeat changes nothing
    with pytest.raises(NotFoundError):
        await sdk(sdk.of(nexus_other_user).voice_profiles.set_default(first.id))
    with pytest.raises(ValidationError):
        await sdk(me.voice_profiles.set_default("not-a-uuid"))


async def test_ideas_are_deduplicated_per_user_and_upsert_on_the_hash(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me, them = sdk.of(nexus_user), sdk.of(nexus_other_user)
    idea = await sdk(me.content_adaptations.create_idea("Remote work is here to stay", tone="calm"))
    same = await sdk(me.content_adaptations.create_idea("Remote work is here to stay", tone="loud"))
    assert (same.id, same.tone) == (idea.id, "calm")  # the existing row, unchanged
    different = await sdk(me.content_adaptations.create_idea("Remote work is here to stay "))
    assert different.id != idea.id  # compared exactly as given
    theirs = await sdk(them.content_adaptations.create_idea("Remote work is here to stay"))
    assert theirs.id != idea.id
    assert theirs.idea_hash == idea.idea_hash
    assert await sdk(me.content_adaptations.count()) == 2
    with pytest.raises(PermissionDeniedError):
        await sdk(me.content_adaptations.create_idea("for them", user_id=nexus_other_user.id))
    with pytest.raises(ValidationError, match="user_id"):
        await sdk(sdk.service.content_adaptations.create_idea("whose?"))
    by_service = await sdk(
        sdk.service.content_adaptations.create_idea("Remote work is here to stay", user_id=nexus_user.id)
    )
    assert by_service.id == idea.id

    assert idea.last_used_at is None
    used = await sdk(me.content_adaptations.mark_used(idea))
    assert used.last_used_at is not None
    with pytest.raises(NotFoundError):
        await sdk(them.content_adaptations.mark_used(idea.id))

    upserted = await sdk(
        me.content_adaptations.upsert(original_idea="Remote work is here to stay", tone="bold")
    )
    assert (upserted.id, upserted.tone) == (idea.id, "bold")
    fresh = await sdk(me.content_adaptations.upsert(original_idea="A brand new idea"))
    assert fresh.id not in {idea.id, different.id}
    assert await sdk(me.content_adaptations.count()) == 3

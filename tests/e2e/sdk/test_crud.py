"""Every repository operation of every table, through HTTP against the stack, as a signed-in user (RLS on).

Each test runs twice, through ``NexusClient`` and through ``AsyncNexusClient`` (the ``sdk`` fixture).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import pytest

from nexus_sdk import F
from nexus_sdk.errors import NotFoundError, PermissionDeniedError
from nexus_sdk.models import (
    Adaptations,
    ContentAdaptation,
    ContentAdaptationCreate,
    LinkedInAdaptation,
    PostMetrics,
    PublishedPostStatus,
    ScheduledPostStatus,
    SubstackAdaptation,
    VoiceCharacteristics,
    XAdaptation,
)
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime(2031, 1, 1, 9, 30, tzinfo=dt.UTC)


async def test_users_get_list_count_update(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user_factory: Any
) -> None:
    user: NexusTestUser = nexus_user_factory(metadata={"full_name": "Ada Lovelace"})
    users = sdk.of(user).users

    me = await sdk(users.get(user.id))
    assert (me.id, me.email, me.full_name, me.timezone) == (user.id, user.email, "Ada Lovelace", "UTC")
    assert [u.id for u in await sdk(users.list())] == [user.id]
    assert await sdk(users.count()) == 1

    changed = await sdk(users.update(user.id, timezone="Europe/London", avatar_url="https://x.example/a.png"))
    assert (changed.timezone, changed.avatar_url, changed.full_name) == (
        "Europe/London",
        "https://x.example/a.png",
        "Ada Lovelace",
    )
    assert changed.updated_at > me.updated_at
    # None sets the column to NULL; a field not given (timezone, avatar_url) is left alone.
    cleared = await sdk(users.update(user.id, full_name=None))
    assert (cleared.full_name, cleared.timezone, cleared.avatar_url) == (
        None,
        "Europe/London",
        changed.avatar_url,
    )


async def test_content_adaptations_round_trip_typed_jsonb(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    adaptations = Adaptations(
        linkedin=LinkedInAdaptation(text="A longer post.", hashtags=["ai", "writing"]),
        x=XAdaptation(text="Short take", thread=["1/2 more", "2/2 end"]),
        substack=SubstackAdaptation(title="An essay", body="Body text."),
    )
    created = await sdk(
        repo.create(original_idea="Write less, say more", adaptations=adaptations, tone="casual")
    )
    assert isinstance(created, ContentAdaptation)
    assert created.user_id == nexus_user.id
    assert created.idea_hash == hashlib.sha256(b"Write less, say more").hexdigest()

    fetched = await sdk(repo.get(created.id))
    assert fetched.adaptations.x is not None
    assert fetched.adaptations.x.thread == ["1/2 more", "2/2 end"]
    assert fetched.adaptations.linkedin is not None
    assert fetched.adaptations.linkedin.hashtags == [
        "ai",
        "writing",
    ]
    assert fetched.adaptations.substack == adaptations.substack
    assert fetched == created

    updated = await sdk(repo.update(created.id, tone=None, target_audience="founders"))
    assert (updated.tone, updated.target_audience, updated.original_idea) == (
        None,
        "founders",
        "Write less, say more",
    )
    assert updated.adaptations == created.adaptations

    await sdk(repo.delete(created.id))
    with pytest.raises(NotFoundError):
        await sdk(repo.get(created.id))
    with pytest.raises(NotFoundError):
        await sdk(repo.delete(created.id))
    assert await sdk(repo.count()) == 0


async def test_create_many_in_batches_list_filters_and_order(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    items = [{"original_idea": f"idea {i}", "tone": "dry" if i % 2 else "warm"} for i in range(7)]
    rows = await sdk(repo.create_many(items, batch_size=3))
    assert [r.original_idea for r in rows] == [f"idea {i}" for i in range(7)]
    assert await sdk(repo.count()) == 7
    assert await sdk(repo.count(where=F("tone") == "dry")) == 3

    warm = await sdk(repo.list(where={"tone": "warm"}, order_by="-original_idea"))
    assert [r.original_idea for r in warm] == ["idea 6", "idea 4", "idea 2", "idea 0"]
    page = await sdk(repo.list(order_by="original_idea", limit=2, offset=2))
    assert [r.original_idea for r in page] == ["idea 2", "idea 3"]
    some = await sdk(
        repo.list(where=F("original_idea").in_(["idea 1", "idea 5", "nope"]) & (F("tone") != "warm"))
    )
    assert sorted(r.original_idea for r in some) == ["idea 1", "idea 5"]

    # The same Create models again (a batch retried after a lost response): the stored rows, no new ones.
    batch = [ContentAdaptationCreate(original_idea=f"retried {i}") for i in range(4)]
    first = await sdk(repo.create_many(batch, batch_size=3))
    second = await sdk(repo.create_many(batch, batch_size=3))
    assert second == first
    assert await sdk(repo.count()) == 11


async def test_voice_profiles_crud(sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    repo = sdk.of(nexus_user).voice_profiles
    first = await sdk(
        repo.create(
            name="Professional",
            characteristics=VoiceCharacteristics(tone=["clear"], formality_level=7),
            sample_posts=["Hi."],
        )
    )
    assert first.is_default  # a user's first profile becomes the default
    second = await sdk(repo.create(name="Casual"))
    assert not second.is_default
    assert [p.name for p in await sdk(repo.list(order_by="name"))] == ["Casual", "Professional"]

    renamed = await sdk(repo.update(second.id, name="Relaxed", sample_posts=None))
    assert (renamed.name, renamed.sample_posts) == ("Relaxed", None)
    fetched = await sdk(repo.get(first.id))
    assert fetched.characteristics.formality_level == 7
    assert fetched.sample_posts == ["Hi."]

    await sdk(repo.delete(second.id))
    assert await sdk(repo.count()) == 1


async def test_platform_connections_crud(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).platform_connections
    conn = await sdk(
        repo.create(
            platform="linkedin",
            platform_user_id="urn:li:person:42",
            access_token="li-access-1",
            refresh_token="li-refresh-1",
            profile_data={"followers": 12},
            token_expires_at=LATER,
        )
    )
    assert conn.access_token.get_secret_value() == "li-access-1"
    assert "li-access-1" not in repr(conn)

    # Tokens change through update_tokens(), keyed on (user, platform), what they are encrypted for.
    rotated = await sdk(repo.update_tokens("linkedin", access_token="li-access-2", refresh_token=None))
    assert rotated.id == conn.id
    scoped = await sdk(repo.update(conn.id, scope="w_member_social", last_sync_at=LATER))
    assert (scoped.scope, scoped.last_sync_at) == ("w_member_social", LATER)
    assert scoped.access_token.get_secret_value() == "li-access-2"
    assert rotated.access_token.get_secret_value() == "li-access-2"
    assert rotated.refresh_token is None
    assert rotated.profile_data == {"followers": 12}

    fetched = await sdk(repo.get(conn.id))
    assert fetched.access_token.get_secret_value() == "li-access-2"
    assert [c.platform for c in await sdk(repo.list(where=F("platform") == "linkedin"))] == ["linkedin"]
    await sdk(repo.delete(conn.id))
    assert await sdk(repo.count()) == 0


async def test_published_posts_crud_and_metrics(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    idea = await sdk(client.content_adaptations.create(original_idea="metrics"))
    post = await sdk(
        client.published_posts.create(platform="x", content="hello", adaptation_id=idea.id, metadata={"k": 1})
    )
    assert post.status is PublishedPostStatus.PENDING
    assert post.metrics is None

    live = await sdk(
        client.published_posts.update(
            post.id,
            status="published",
            platform_post_id="1789",
            published_at=LATER,
            metrics=PostMetrics(views=100, likes=7),
        )
    )
    assert live.status is PublishedPostStatus.PUBLISHED
    assert live.metrics is not None
    assert (live.metrics.views, live.metrics.likes, live.metrics.shares) == (
        100,
        7,
        None,
    )
    assert live.metadata == {"k": 1}
    rows = await sdk(client.published_posts.list(where=F("status") == "published"))
    assert [r.platform_post_id for r in rows] == ["1789"]

    # RLS: a published post stays on record (the delete policy only matches unpublished posts).
    with pytest.raises(NotFoundError):
        await sdk(client.published_posts.delete(post.id))
    draft = await sdk(client.published_posts.create(platform="linkedin", content="draft"))
    await sdk(client.published_posts.delete(draft.id))
    assert await sdk(client.published_posts.count()) == 1


async def test_scheduled_posts_user_lifecycle(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    conn = await sdk(
        client.platform_connections.create(platform="x", platform_user_id="42", access_token="t")
    )
    queued = await sdk(
        client.scheduled_posts.create(
            platform_connection_id=conn.id,
            platform="x",
            content="soon",
            scheduled_for=LATER,
        )
    )
    assert queued.status is ScheduledPostStatus.SCHEDULED

    mine = await sdk(client.scheduled_posts.get(queued.id))
    assert mine.content == "soon"
    moved = await sdk(
        client.scheduled_posts.update(
            queued.id, scheduled_for=LATER + dt.timedelta(hours=1), timezone="Europe/Paris"
        )
    )
    assert moved.scheduled_for == LATER + dt.timedelta(hours=1)
    assert moved.timezone == "Europe/Paris"
    # A user may cancel, but not mark a post as being processed (the publisher's status).
    with pytest.raises(PermissionDeniedError):
        await sdk(client.scheduled_posts.update(queued.id, status="processing"))
    cancelled = await sdk(client.scheduled_posts.update(queued.id, status="cancelled"))
    assert cancelled.status is ScheduledPostStatus.CANCELLED
    # Once it left 'scheduled', the user can no longer edit or delete it.
    with pytest.raises(NotFoundError):
        await sdk(client.scheduled_posts.update(queued.id, content="edited"))
    with pytest.raises(NotFoundError):
        await sdk(client.scheduled_posts.delete(queued.id))

    other = await sdk(
        sdk.service.scheduled_posts.create(
            user_id=nexus_user.id,
            platform_connection_id=conn.id,
            platform="x",
            content="later",
            scheduled_for=LATER,
        )
    )
    await sdk(client.scheduled_posts.delete(other.id))
    assert [p.id for p in await sdk(client.scheduled_posts.list())] == [queued.id]


def test_user_can_create_scheduled_post(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    conn = nexus_user.client.platform_connections.create(
        platform="x", platform_user_id="42", access_token="t"
    )
    post = nexus_user.client.scheduled_posts.create(
        platform_connection_id=conn.id, platform="x", content="mine", scheduled_for=LATER
    )
    assert post.user_id == nexus_user.id


async def test_create_with_explicit_id_is_idempotent(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    row_id = uuid.uuid4()
    first = await sdk(repo.create(id=row_id, original_idea="once"))
    second = await sdk(repo.create(id=row_id, original_idea="once"))
    assert first == second
    assert await sdk(repo.count()) == 1

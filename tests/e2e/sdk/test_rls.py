"""Row-level security through the SDK: users are isolated, anon sees nothing, the service role sees all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk.errors import AuthenticationError, ConflictError, NotFoundError, PermissionDeniedError
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime(2031, 1, 1, tzinfo=dt.UTC)


async def _seed(sdk: Any, user: NexusTestUser) -> dict[str, Any]:
    """One row of every table for ``user``, made through the SDK."""
    client = sdk.of(user)
    conn = await sdk(
        client.platform_connections.create(platform="x", platform_user_id="p", access_token="tok")
    )
    idea = await sdk(client.content_adaptations.create(original_idea=f"idea of {user.email}"))
    voice = await sdk(client.voice_profiles.create(name="Mine"))
    post = await sdk(
        client.published_posts.create(platform="x", content="hi", platform_connection_id=conn.id)
    )
    queued = await sdk(
        client.scheduled_posts.create(
            platform_connection_id=conn.id, platform="x", content="c", scheduled_for=LATER
        )
    )
    return {
        "users": user.id,
        "platform_connections": conn.id,
        "content_adaptations": idea.id,
        "voice_profiles": voice.id,
        "published_posts": post.id,
        "scheduled_posts": queued.id,
    }


TABLES = [
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
]


async def test_users_cannot_see_or_touch_each_others_rows(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    alice = await _seed(sdk, nexus_user)
    await _seed(sdk, nexus_other_user)
    bob = sdk.of(nexus_other_user)
    for table in TABLES:
        repo = getattr(bob, table)
        visible = await sdk(repo.list())
        assert len(visible) == 1, table
        assert str(visible[0].id) != str(alice[table]), table
        assert await sdk(repo.count()) == 1, table
        with pytest.raises(NotFoundError):
            await sdk(repo.get(alice[table]))
    with pytest.raises(NotFoundError):
        await sdk(bob.content_adaptations.update(alice["content_adaptations"], tone="stolen"))
    with pytest.raises(NotFoundError):
        await sdk(bob.users.update(alice["users"], full_name="Mallory"))
    with pytest.raises(NotFoundError):
        await sdk(bob.voice_profiles.delete(alice["voice_profiles"]))
    with pytest.raises(NotFoundError):
        await sdk(bob.platform_connections.delete(alice["platform_connections"]))

    # Alice's rows are untouched.
    mine = sdk.of(nexus_user)
    assert (await sdk(mine.content_adaptations.get(alice["content_adaptations"]))).tone is None
    assert await sdk(mine.voice_profiles.count()) == 1
    assert await sdk(mine.platform_connections.count()) == 1


async def test_rows_cannot_be_created_for_or_pointed_at_another_user(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    alice = await _seed(sdk, nexus_user)
    bob = sdk.of(nexus_other_user)
    # RLS WITH CHECK: no row for someone else.
    with pytest.raises(PermissionDeniedError) as denied:
        await sdk(bob.content_adaptations.create(user_id=nexus_user.id, original_idea="planted"))
    assert denied.value.status_code == 403
    assert denied.value.code == "42501"
    # The composite foreign keys: no reference to another user's connection or idea.
    with pytest.raises(ConflictError) as conflict:
        await sdk(
            bob.published_posts.create(
                platform="x", content="x", platform_connection_id=alice["platform_connections"]
            )
        )
    assert conflict.value.code == "23503"
    with pytest.raises(ConflictError):
        await sdk(
            bob.published_posts.create(platform="x", content="x", adaptation_id=alice["content_adaptations"])
        )
    # Reusing the id of a row Bob cannot see is a conflict, never a read of Alice's row.
    with pytest.raises(ConflictError):
        await sdk(bob.content_adaptations.create(id=alice["content_adaptations"], original_idea="shadow"))
    assert await sdk(bob.content_adaptations.count()) == 0


@pytest.mark.parametrize("table", TABLES)
def test_anon_sees_nothing_and_gets_401(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, table: str
) -> None:
    nexus_user.client.content_adaptations.create(original_idea="private")
    with NexusClient(nexus_clean.url, nexus_clean.anon_key) as anon:
        assert anon.auth_mode == "anon"
        with pytest.raises(AuthenticationError) as refused:
            getattr(anon, table).list()
    # PostgREST answers 42501 with 401 for the anon role (403 for a signed-in one).
    assert refused.value.status_code == 401
    assert refused.value.code == "42501"


async def test_anon_async_client_is_refused(nexus_clean: NexusTestStack) -> None:
    async with AsyncNexusClient(nexus_clean.url, nexus_clean.anon_key) as anon:
        with pytest.raises(AuthenticationError):
            await anon.published_posts.count()


async def test_service_role_sees_and_manages_everyone(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    alice = await _seed(sdk, nexus_user)
    bob = await _seed(sdk, nexus_other_user)
    for table in TABLES:
        repo = getattr(sdk.service, table)
        ids = {str(row.id) for row in await sdk(repo.list())}
        assert ids == {str(alice[table]), str(bob[table])}, table
    assert await sdk(sdk.service.users.count(where={"email": nexus_user.email})) == 1
    # The service role writes where users may not: the publisher's status of a queued post.
    processing = await sdk(
        sdk.service.scheduled_posts.update(alice["scheduled_posts"], status="processing", retry_count=1)
    )
    assert processing.retry_count == 1
    # ... and creates rows for a user, which that user then sees.
    made = await sdk(
        sdk.service.content_adaptations.create(user_id=nexus_other_user.id, original_idea="from the backend")
    )
    got = await sdk(sdk.of(nexus_other_user).content_adaptations.get(made.id))
    assert got.original_idea == "from the backend"

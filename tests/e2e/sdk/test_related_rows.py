"""Related rows in one request, as nested typed models: a published post with its adaptation, a scheduled
post with its connection's platform and profile, an adaptation with its posts. Through the sync and the
async client, RLS on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from nexus_sdk import F, capture_responses
from nexus_sdk.errors import NotFoundError
from nexus_sdk.models import (
    Adaptations,
    ConnectionProfile,
    ContentAdaptation,
    ContentAdaptationWithPosts,
    LinkedInAdaptation,
    PublishedPost,
    PublishedPostWithAdaptation,
    ScheduledPostWithConnection,
    XAdaptation,
)
from nexus_sdk.models.related import CONNECTION_PROFILE_COLUMNS
from nexus_sdk.repositories.scheduled_posts import WITH_CONNECTION
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime(2031, 1, 1, 9, 30, tzinfo=dt.UTC)


def _connection(stack: NexusTestStack, user: NexusTestUser) -> str:
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token, profile_data)"
            " VALUES (%s, 'linkedin', 'urn:li:person:7', %s, '{\"name\": \"Ada\"}') RETURNING id",
            # A value of the stored token format: the database refuses plaintext (docs/schema.md, decision 26).
            (user.id, "nx1:placeholder:" + "A" * 48),
        )
        .fetchone()
    )
    assert row is not None
    return str(row[0])


async def test_a_published_post_with_its_adaptation(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    idea = await sdk(
        me.content_adaptations.create_idea(
            "ship it", adaptations=Adaptations(linkedin=LinkedInAdaptation(text="Shipping today."))
        )
    )
    with_idea = await sdk(
        me.published_posts.create(adaptation_id=idea.id, platform="linkedin", content="Shipping today.")
    )
    await sdk(me.published_posts.create(platform="x", content="no idea behind this one"))
    theirs = sdk.of(nexus_other_user)
    await sdk(theirs.published_posts.create(platform="x", content="not yours"))

    posts = await sdk(me.published_posts.list_with_adaptation(order_by="-platform"))
    assert [type(p) for p in posts] == [PublishedPostWithAdaptation, PublishedPostWithAdaptation]
    assert [p.content for p in posts] == ["no idea behind this one", "Shipping today."]
    assert posts[0].adaptation is None
    adaptation = posts[1].adaptation
    assert isinstance(adaptation, ContentAdaptation)
    assert adaptation.id == idea.id
    assert adaptation.adaptations.linkedin is not None
    assert adaptation.adaptations.linkedin.text == "Shipping today."

    one = await sdk(me.published_posts.get_with_adaptation(with_idea.id))
    assert one.adaptation == adaptation
    filtered = await sdk(me.published_posts.list_with_adaptation(where=F("platform") == "x"))
    assert [p.content for p in filtered] == ["no idea behind this one"]
    # Another user's post is invisible, embedded or not.
    with pytest.raises(NotFoundError):
        await sdk(theirs.published_posts.get_with_adaptation(with_idea.id))


async def test_an_adaptation_with_its_posts(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    idea = await sdk(
        me.content_adaptations.create_idea(
            "ship it", adaptations=Adaptations(x=XAdaptation(text="Shipping."))
        )
    )
    lonely = await sdk(
        me.content_adaptations.create_idea("no posts", adaptations=Adaptations(x=XAdaptation(text="Later.")))
    )
    first = await sdk(me.published_posts.create(adaptation_id=idea.id, platform="x", content="one"))
    second = await sdk(me.published_posts.create(adaptation_id=idea.id, platform="linkedin", content="two"))
    await sdk(sdk.of(nexus_other_user).published_posts.create(platform="x", content="not yours"))

    got = await sdk(me.content_adaptations.get_with_posts(idea.id))
    assert isinstance(got, ContentAdaptationWithPosts)
    assert all(isinstance(p, PublishedPost) for p in got.published_posts)
    assert [p.id for p in got.published_posts] == [first.id, second.id]  # oldest first
    listed = await sdk(me.content_adaptations.list_with_posts(order_by="original_idea"))
    assert [(a.id, len(a.published_posts)) for a in listed] == [(lonely.id, 0), (idea.id, 2)]


async def test_a_scheduled_post_with_its_connection(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    me = sdk.of(nexus_user)
    conn = _connection(nexus_clean, nexus_user)
    post = await sdk(me.scheduled_posts.schedule(conn, LATER, content="later"))

    (got,) = await sdk(me.scheduled_posts.list_with_connection())
    assert isinstance(got, ScheduledPostWithConnection)
    assert got.id == post.id
    assert got.connection == ConnectionProfile(
        id=conn,
        platform="linkedin",
        platform_user_id="urn:li:person:7",
        profile_data={"name": "Ada"},
        is_active=True,
    )
    again = await sdk(me.scheduled_posts.get_with_connection(post.id))
    assert again.connection.platform == "linkedin"


def test_related_rows_take_one_request_and_never_read_tokens(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    conn = _connection(nexus_clean, nexus_user)
    nexus_user.client.scheduled_posts.schedule(conn, LATER, content="later")
    with capture_responses() as responses:
        rows = nexus_user.client.scheduled_posts.list_with_connection()
    assert len(rows) == 1
    assert [(r.method, r.path) for r in responses] == [("GET", "/scheduled_posts")]
    assert not {"access_token", "refresh_token"} & set(CONNECTION_PROFILE_COLUMNS)
    assert "access_token" not in WITH_CONNECTION

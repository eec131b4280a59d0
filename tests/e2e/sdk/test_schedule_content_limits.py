"""No content over its platform's limit is scheduled, whichever arguments ``schedule()`` is given.

With ``platform=`` the content was checked; without it (the common call: the connection implies the
platform) 304 weighted characters for X, or 3001 for LinkedIn, were accepted. Both clients, real stack.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest

from nexus_sdk.errors import NotFoundError, ValidationError
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
CIPHERTEXT = "nx1:k1:" + base64.b64encode(bytes(40)).decode()


def _connection(stack: NexusTestStack, user: NexusTestUser, platform: str) -> str:
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, %s, 'pu', %s) RETURNING id",
            (user.id, platform, CIPHERTEXT),
        )
        .fetchone()
    )
    assert row is not None
    return str(row[0])


@pytest.mark.parametrize(
    ("platform", "too_long", "fits"), [("x", "a" * 304, "a" * 280), ("linkedin", "b" * 3001, "b" * 3000)]
)
async def test_content_over_the_connections_platform_limit_is_refused_without_platform(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, platform: str, too_long: str, fits: str
) -> None:
    me = sdk.of(nexus_user)
    conn = _connection(nexus_clean, nexus_user, platform)
    with pytest.raises(ValidationError) as refused:
        await sdk(me.scheduled_posts.schedule(conn, LATER, content=too_long))
    assert refused.value.errors[0]["loc"] == ("content",)
    # The same error as with platform= given.
    with pytest.raises(ValidationError) as explicit:
        await sdk(me.scheduled_posts.schedule(conn, LATER, content=too_long, platform=platform))
    assert refused.value.message == explicit.value.message
    assert await sdk(me.scheduled_posts.count()) == 0
    post = await sdk(me.scheduled_posts.schedule(conn, LATER, content=fits))
    assert (post.platform, post.content) == (platform, fits)


async def test_an_invisible_connection_is_not_found(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    theirs = _connection(nexus_clean, nexus_other_user, "x")
    for connection in (theirs, str(uuid.uuid4())):
        with pytest.raises(NotFoundError) as missing:
            await sdk(sdk.of(nexus_user).scheduled_posts.schedule(connection, LATER, content="hello"))
        assert missing.value.details == "connection_not_found"

"""Review findings through the stack: rows written by other tools stay readable, and round trips keep them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from nexus_sdk.models import ScheduledPostCreate
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

LATER = dt.datetime(2031, 1, 1, 9, 30, tzinfo=dt.UTC)


def _stored(stack: NexusTestStack, sql: str, *args: Any) -> Any:
    return stack.sql().execute(sql, args).fetchone()[0]  # type: ignore[index]


def test_ill_fitting_documents_are_readable_and_round_trip(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """Documents the CHECKs allow but our classes do not describe: read, then written back unchanged."""
    client = nexus_user.client
    idea = client.content_adaptations.create(original_idea="idea")
    adaptations = {"x": {"text": "a", "thread": None}, "linkedin": {"hashtags": ["ai"]}, "new": 1}
    nexus_clean.sql().execute(
        "UPDATE public.content_adaptations SET adaptations = %s::jsonb WHERE id = %s",
        (json.dumps(adaptations), idea.id),
    )
    read = client.content_adaptations.get(idea.id)
    assert read.adaptations.x is not None
    assert read.adaptations.x.text == "a"
    assert read.adaptations.get("new") == 1

    profile = client.voice_profiles.create(name="P")
    nexus_clean.sql().execute(
        "UPDATE public.voice_profiles SET characteristics = %s::jsonb, sample_posts = ARRAY['a', NULL] "
        "WHERE id = %s",
        ('{"tone": null, "style": "terse", "formality_level": 7.5}', profile.id),
    )
    voice = client.voice_profiles.get(profile.id)
    assert voice.sample_posts == ["a", None]
    assert voice.characteristics.style == "terse"
    # Writing back the readable parts after fixing the ill-fitting ones keeps everything else.
    voice.characteristics.tone = ["warm"]
    voice.characteristics.formality_level = 7
    client.voice_profiles.update(profile.id, characteristics=voice.characteristics, name="P2")
    stored = _stored(
        nexus_clean, "SELECT characteristics FROM public.voice_profiles WHERE id = %s", profile.id
    )
    assert stored == {"tone": ["warm"], "style": "terse", "formality_level": 7}

    post = client.published_posts.create(platform="x", content="hello")
    metrics = {"views": 1.5, "likes": 3, "last_synced": "soon", "reactions": {"clap": 2}}
    nexus_clean.sql().execute(
        "UPDATE public.published_posts SET metrics = %s::jsonb WHERE id = %s", (json.dumps(metrics), post.id)
    )
    rows = client.published_posts.list()
    assert rows[0].metrics is not None
    assert (rows[0].metrics.views, rows[0].metrics.likes) == (1.5, 3)
    frame = rows.to_pandas(flatten_metrics=True)
    assert list(frame["metrics.views"]) == [1.5]
    assert list(frame["metrics.likes"]) == [3]


def test_retry_count_beyond_integer_is_refused_before_sending(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """PostgreSQL's ``integer`` ends at 2147483647: the model now stops a larger count before the request."""
    conn = nexus_user.client.platform_connections.create(platform="x", platform_user_id="u", access_token="t")
    with pytest.raises(ValueError, match="2147483647"):
        ScheduledPostCreate(
            platform_connection_id=conn.id, platform="x", content="c", scheduled_for=LATER, retry_count=2**31
        )
    with pytest.raises(Exception, match="out of range"):
        nexus_clean.sql().execute("SELECT (2147483648)::integer")

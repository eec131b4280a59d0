"""At least once, never silently twice: a post whose previous attempt has no recorded outcome says so.

A worker that dies after its publisher posted, before the completion is recorded, leaves the post
``processing`` until its lease lapses; the next worker then publishes it again. That worker's publisher must
be told, so it can look the post up on the platform first, and the worker must log it at WARNING.
"""

from __future__ import annotations

import base64
import logging
import time

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk.models.publishing import ClaimedPost
from nexus_sdk.testing import NexusTestStack, NexusTestUser
from nexus_sdk.worker import arun_worker, run_worker

pytestmark = [pytest.mark.db, pytest.mark.e2e]

CIPHERTEXT = "nx1:k1:" + base64.b64encode(bytes(40)).decode()  # the shape of a stored token


def _due_post(stack: NexusTestStack, user: NexusTestUser, content: str) -> str:
    conn = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, 'linkedin', %s, %s)"
            " ON CONFLICT (user_id, platform) DO UPDATE SET is_active = true RETURNING id",
            (user.id, "pu", CIPHERTEXT),
        )
        .fetchone()
    )
    assert conn is not None
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
            " VALUES (%s, %s, %s, 'linkedin', now() - interval '1 minute') RETURNING id",
            (user.id, content, conn[0]),
        )
        .fetchone()
    )
    assert row is not None
    return str(row[0])


def _die_after_posting(nx: NexusClient) -> None:
    """A worker claims with a 1 s lease, 'posts', and dies before recording the outcome."""
    (claimed,) = nx.scheduled_posts.claim_due(1, worker_id="doomed", lease=1)
    assert not claimed.previous_attempt_unknown  # its first attempt
    time.sleep(1.3)


def test_the_next_worker_tells_the_publisher_and_warns(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, caplog: pytest.LogCaptureFixture
) -> None:
    post_id = _due_post(nexus_clean, nexus_user, "maybe already live")
    seen: list[tuple[str, bool]] = []

    def publisher(post: ClaimedPost) -> str:
        seen.append((str(post.id), post.previous_attempt_unknown))
        return "urn:li:share:1"

    with NexusClient(nexus_clean.url, nexus_clean.service_role_key) as nx:
        _die_after_posting(nx)
        fresh_id = _due_post(nexus_clean, nexus_user, "never tried")
        with caplog.at_level(logging.WARNING, logger="nexus_sdk.worker"):
            stats = run_worker(
                nx, {"linkedin": publisher}, idle_exit=0, poll_interval=0.05, handle_signals=False
            )

    assert sorted(seen) == sorted([(post_id, True), (fresh_id, False)])
    assert stats.unknown_previous == 1
    assert stats.published == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and post_id in r.getMessage()]
    assert len(warnings) == 1
    assert "without an outcome" in warnings[0].getMessage()
    assert "may already be live" in warnings[0].getMessage()
    assert not any(fresh_id in r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING)


async def test_async_worker_tells_the_publisher_too(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, caplog: pytest.LogCaptureFixture
) -> None:
    post_id = _due_post(nexus_clean, nexus_user, "maybe already live, async")
    with NexusClient(nexus_clean.url, nexus_clean.service_role_key) as nx:
        _die_after_posting(nx)
    seen: list[bool] = []

    async def publisher(post: ClaimedPost) -> str:
        seen.append(post.previous_attempt_unknown)
        return "urn:li:share:2"

    async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as anx:
        with caplog.at_level(logging.WARNING, logger="nexus_sdk.worker"):
            stats = await arun_worker(
                anx, {"linkedin": publisher}, idle_exit=0, poll_interval=0.05, handle_signals=False
            )
    assert seen == [True]
    assert stats.unknown_previous == 1
    assert any(post_id in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)


def test_a_failure_with_a_known_outcome_clears_the_flag(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    _due_post(nexus_clean, nexus_user, "lapsed, then failed knowingly")
    with NexusClient(nexus_clean.url, nexus_clean.service_role_key) as nx:
        _die_after_posting(nx)
        (again,) = nx.scheduled_posts.claim_due(1, worker_id="second", lease=60)
        assert again.previous_attempt_unknown
        # The second worker looked the post up, found nothing, and the platform refused it: a known outcome.
        nx.scheduled_posts.fail(again, error="platform said 503", base_delay=0)
        (third,) = nx.scheduled_posts.claim_due(1, worker_id="third", lease=60)
    assert not third.previous_attempt_unknown

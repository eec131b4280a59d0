"""Review of the publishing path through the SDK: the worker must never publish a post twice on its own.

Each test here failed before its fix. Workers are real ``run_worker`` / ``arun_worker`` calls against the
local stack as the service role; signals are real signals sent to this process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
import time
from collections import Counter
from typing import Any

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk.errors import ValidationError
from nexus_sdk.models.publishing import ClaimedPost
from nexus_sdk.testing import NexusTestStack, NexusTestUser
from nexus_sdk.worker import PublishError, arun_worker, run_worker

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture(scope="session")
def nexus_database_prefix() -> str:
    """Databases these tests create on NEXUS_TEST_DATABASE_URL's server carry this prefix."""
    return "pubrev_"


def _due_posts(stack: NexusTestStack, user: NexusTestUser, count: int) -> list[str]:
    """``count`` due linkedin posts of ``user``, made in SQL; their ids in due order."""
    row = (
        stack.sql()
        .execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, 'linkedin', 'pu', 'nx1:placeholder:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') RETURNING id",
            (user.id,),
        )
        .fetchone()
    )
    assert row is not None
    rows = (
        stack.sql()
        .execute(
            "INSERT INTO public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
            " SELECT %s, 'post ' || g, %s, 'linkedin', now() - interval '1 hour' + g * interval '1 ms'"
            " FROM generate_series(1, %s) g RETURNING id",
            (user.id, row[0], count),
        )
        .fetchall()
    )
    return [str(r[0]) for r in rows]


def _state(stack: NexusTestStack, post_id: str) -> tuple[Any, ...]:
    """``(status, retry_count, platform_post_id of its published row, published rows of the post)``."""
    row = (
        stack.sql()
        .execute(
            "SELECT s.status, s.retry_count, p.platform_post_id,"
            " (SELECT count(*) FROM public.published_posts q WHERE q.content = s.content)"
            " FROM public.scheduled_posts s LEFT JOIN public.published_posts p ON p.id = s.published_post_id"
            " WHERE s.id = %s",
            (post_id,),
        )
        .fetchone()
    )
    assert row is not None
    return tuple(row)


def _client(stack: NexusTestStack) -> NexusClient:
    return NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key)


# --- a publisher that returned is a post that is live ---------------------------------------------------


@pytest.mark.parametrize(
    ("returned", "recorded"),
    [(12345, "12345"), ({"id": "urn:li:share:1"}, None)],
    ids=["int-id", "dict"],
)
def test_a_publisher_returning_an_unexpected_type_is_completed_not_republished(
    nexus_clean: NexusTestStack,
    nexus_user: NexusTestUser,
    caplog: pytest.LogCaptureFixture,
    returned: Any,
    recorded: str | None,
) -> None:
    """Many platform APIs answer with a numeric id: ``return resp.json()["id"]`` is an easy mistake.

    The publisher returned, so the post is live; treating the bad return value as a failed attempt put it
    back in the queue and published it again on every retry (here: 3 times).
    """
    [post_id] = _due_posts(nexus_clean, nexus_user, 1)
    calls: Counter[str] = Counter()

    def publish(post: ClaimedPost) -> Any:
        calls[str(post.id)] += 1
        return returned

    caplog.set_level(logging.ERROR, logger="nexus_sdk.worker")
    with _client(nexus_clean) as client:
        stats = run_worker(
            client,
            {"linkedin": publish},
            max_attempts=3,
            base_delay=0,
            idle_exit=0.5,
            poll_interval=0.05,
            handle_signals=False,
        )
    assert calls == Counter({post_id: 1}), "a post whose publisher returned is never published again"
    assert (stats.published, stats.retried, stats.gave_up) == (1, 0, 0)
    assert _state(nexus_clean, post_id) == ("completed", 0, recorded, 1)
    assert "must return a str" in caplog.text


# --- options are checked before anything is claimed -----------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [{"base_delay": 7200}, {"base_delay": -1}, {"max_delay": 10, "base_delay": 20}],
    ids=["base-over-default-max", "negative", "base-over-max"],
)
def test_bad_backoff_options_are_refused_before_a_post_is_claimed(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, options: dict[str, Any]
) -> None:
    """These used to pass unchecked until the first failure: the worker then crashed holding its batch."""
    [post_id] = _due_posts(nexus_clean, nexus_user, 1)

    def publish(post: ClaimedPost) -> str:
        raise PublishError("platform down")

    with _client(nexus_clean) as client, pytest.raises(ValidationError):
        run_worker(client, {"linkedin": publish}, idle_exit=0, handle_signals=False, **options)
    assert _state(nexus_clean, post_id)[:2] == ("scheduled", 0), "nothing was claimed"


# --- asyncio: signals and cancellation -------------------------------------------------------------------


def test_the_async_worker_restores_the_sigint_handler_it_found(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """Under ``asyncio.run`` SIGINT cancels the main task; after the worker it must again, not raise raw."""
    assert threading.current_thread() is threading.main_thread()
    _due_posts(nexus_clean, nexus_user, 1)

    async def main() -> tuple[Any, Any, int]:
        before = signal.getsignal(signal.SIGINT)
        async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
            stats = await arun_worker(client, {"linkedin": lambda post: "li-1"}, idle_exit=0)
        return before, signal.getsignal(signal.SIGINT), stats.published

    before, after, published = asyncio.run(main())
    assert published == 1
    assert before is not signal.default_int_handler  # asyncio.run's own handler
    assert after is before
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_interrupts_a_hung_async_worker(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """The first Ctrl-C stops after the current post; a second one interrupts, as with ``run_worker``."""
    assert threading.current_thread() is threading.main_thread()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    [post_id] = _due_posts(nexus_clean, nexus_user, 1)

    async def main() -> None:
        started = asyncio.Event()

        async def publish(post: ClaimedPost) -> str:
            started.set()
            await asyncio.sleep(8)  # a platform call that hangs
            return "too-late"

        async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
            worker = asyncio.create_task(arun_worker(client, {"linkedin": publish}, poll_interval=0.05))
            await started.wait()
            os.kill(os.getpid(), signal.SIGINT)  # stop after the current post
            await asyncio.sleep(0.2)
            os.kill(os.getpid(), signal.SIGINT)  # now
            await worker

    began = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(main())
    assert time.monotonic() - began < 5, "the second SIGINT did not interrupt the hung publisher"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    # Nothing was published: the post stays claimed until its lease lapses.
    assert _state(nexus_clean, post_id)[0] == "processing"


async def test_cancelling_the_async_worker_right_after_a_publish_still_records_it(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """A cancellation that lands while the completion is being sent must not drop it: the post is live.

    Dropped, the post stayed ``processing``, its lease lapsed and another worker published it again.
    """
    [post_id] = _due_posts(nexus_clean, nexus_user, 1)
    worker: asyncio.Task[Any] | None = None

    async def publish(post: ClaimedPost) -> str:
        assert worker is not None
        # Cancel at the worker's next suspension: inside its complete() call.
        asyncio.get_running_loop().call_soon(worker.cancel)
        return "li-live"

    async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
        worker = asyncio.create_task(
            arun_worker(client, {"linkedin": publish}, poll_interval=0.05, handle_signals=False)
        )
        with pytest.raises(asyncio.CancelledError):
            await worker
    assert _state(nexus_clean, post_id) == ("completed", 0, "li-live", 1)


# --- handing back unstarted posts is not an attempt -----------------------------------------------------


def _queue(stack: NexusTestStack, ids: list[str]) -> list[tuple[Any, ...]]:
    """``(status, retry_count, last_error, scheduled_for, lease_expires_at)`` of each post, in order."""
    rows = stack.sql().execute(
        "SELECT id::text, status, retry_count, last_error, scheduled_for, lease_expires_at"
        " FROM public.scheduled_posts WHERE id = ANY(%s::uuid[])",
        (ids,),
    )
    by_id = {row[0]: tuple(row[1:]) for row in rows.fetchall()}
    return [by_id[i] for i in ids]


def test_a_stopped_worker_hands_back_its_batch_without_costing_an_attempt(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """Each stop (a deploy) used to charge every unstarted post an attempt and push it back by the backoff.

    Here the posts are on their last attempt: handed back through ``fail``, the three that were never
    tried were marked ``failed``.
    """
    ids = _due_posts(nexus_clean, nexus_user, 4)
    nexus_clean.sql().execute(
        "UPDATE public.scheduled_posts SET retry_count = 4, last_error = 'LinkedIn answered 503'"
        " WHERE id = ANY(%s::uuid[])",
        (ids,),
    )
    before = _queue(nexus_clean, ids)
    stop = threading.Event()

    def publish(post: ClaimedPost) -> str:
        stop.set()  # e.g. SIGTERM from a deploy, while the first post of the batch is being published
        return "li-1"

    with _client(nexus_clean) as client:
        stats = run_worker(
            client, {"linkedin": publish}, max_attempts=5, batch_size=4, stop=stop, handle_signals=False
        )
        assert (stats.claimed, stats.published, stats.released, stats.gave_up, stats.retried) == (
            4,
            1,
            3,
            0,
            0,
        )
        # Back exactly as they were before the claim: same attempts, same error, same (due) time, no lease.
        assert _queue(nexus_clean, ids[1:]) == [("scheduled", *row[1:4], None) for row in before[1:]]

        # Due at once: the next worker takes and publishes them, on the attempt they were on.
        after = run_worker(client, {"linkedin": lambda post: "li-2"}, idle_exit=0, handle_signals=False)
    assert (after.claimed, after.published) == (3, 3)
    assert [_state(nexus_clean, i)[:2] for i in ids] == [("completed", 4)] * 4


async def test_posts_handed_back_before_their_lease_lapses_are_not_charged_an_attempt(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    """A slow platform: the worker does not start posts late in the lease, and gives them back for free.

    With a 1 s lease a post is not started after 0.9 s; the first publication takes 1 s, so the other
    two are handed back (their lease has even lapsed by then, but nobody took them over) and claimed
    again at once. Before, each hand-back was a failed attempt (``retry_count`` 1).
    """
    ids = _due_posts(nexus_clean, nexus_user, 3)
    first = [True]

    async def publish(post: ClaimedPost) -> str:
        if first:  # only the first publication is slow
            first.clear()
            await asyncio.sleep(1.0)
        return f"li-{post.id}"

    async with AsyncNexusClient(nexus_clean.url, nexus_clean.service_role_key) as client:
        stats = await arun_worker(
            client, {"linkedin": publish}, lease=1, batch_size=3, idle_exit=0, handle_signals=False
        )
    assert (stats.claimed, stats.published, stats.released, stats.retried, stats.lost) == (5, 3, 2, 0, 0)
    assert [_state(nexus_clean, i) for i in ids] == [("completed", 0, f"li-{i}", 1) for i in ids]

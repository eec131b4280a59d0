"""The publisher worker: claim due posts, publish each with your code, record the outcome.

>>> from nexus_sdk import NexusClient
>>> from nexus_sdk.worker import run_worker
>>> def post_to_linkedin(post):                   # doctest: +SKIP
...     return linkedin.share(post.content)       # the platform's id of the new post
>>> with NexusClient.from_env() as nx:            # doctest: +SKIP
...     stats = run_worker(nx, {"linkedin": post_to_linkedin})

A publisher is a callable taking the :class:`~nexus_sdk.models.publishing.ClaimedPost` and returning the
platform's post id (``str``), a :class:`~nexus_sdk.models.publishing.PublishResult` (id, time, metadata) or
``None``. Raising marks the attempt failed: :class:`PublishError` says whether to retry; any other
exception is retried with exponential backoff until ``max_attempts``. The failure text is stored in
``scheduled_posts.last_error`` and logged with anything that looks like a key or token removed.

Delivery is **at least once**, and a possible second delivery is never silent (``docs/publishing.md``):

- A due post is handed to a publisher again until an outcome is recorded: published (``complete``), failed
  for good, or ``max_attempts`` used up. A lease that lapses counts as an attempt.
- A post can reach the platform twice only when an attempt's outcome went unrecorded: its worker died,
  hung or lost the database after the publisher was called and before ``complete`` was recorded (the
  worker retries recording a publication 4 times first). Once the lease lapses another worker claims the
  post; its publisher then sees ``post.previous_attempt_unknown`` True, and the worker logs it at WARNING,
  so the publisher can look the post up on the platform before posting again. A publisher that does so
  (or that passes an idempotency key the platform honours, such as the post's id) gets exactly-once.
- A worker whose completion finds its claim taken over logs ``claim_lost`` at ERROR: the post may now be
  live twice. A post is never started in the last tenth of its lease (at most 30 s), so that needs a
  publisher slower than that margin.

Several workers, in threads, processes or on several hosts, share the queue safely (the claim uses
``FOR UPDATE SKIP LOCKED``). A worker stops on SIGINT/SIGTERM (main thread only), when ``stop`` is set,
after ``max_posts`` posts, or after ``idle_exit`` seconds without work. Posts it claimed but did not start
go back to the queue at once, due as before (``release``: nothing was tried, so it costs no attempt).

The sync :func:`run_worker` and the async :func:`arun_worker` are thin drivers of one I/O-free loop, written
by hand twice rather than generated (``tools/async_to_sync.py``): how they wait, stop on a signal and unwind
a cancellation differs for real (a thread and an ``Event`` against tasks on an event loop).
Logs go to ``logging.getLogger("nexus_sdk.worker")``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, TypeAlias

from nexus_sdk import _redact
from nexus_sdk.errors import (
    APIConnectionError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from nexus_sdk.models.publishing import ClaimedPost, PublishResult
from nexus_sdk.query import row_count

if TYPE_CHECKING:
    from nexus_sdk.client import AsyncNexusClient, NexusClient

__all__ = [
    "AsyncPublisher",
    "PublishError",
    "Publisher",
    "WorkerStats",
    "arun_worker",
    "redact",
    "run_worker",
]

logger: Final = logging.getLogger("nexus_sdk.worker")

PublisherReturn: TypeAlias = "str | PublishResult | None"
Publisher: TypeAlias = "Callable[[ClaimedPost], str | PublishResult | None]"
"""Publishes one post and returns the platform's post id, a PublishResult, or None."""
AsyncPublisher: TypeAlias = (
    "Callable[[ClaimedPost], Awaitable[str | PublishResult | None] | str | PublishResult | None]"
)
"""A publisher for :func:`arun_worker`: a coroutine function, or a plain (quick) function."""

_TRANSIENT: Final = (APIConnectionError, InternalServerError, RateLimitError)
"""API failures a worker waits out instead of stopping (others mean misconfiguration, and are raised)."""
_COMPLETE_ATTEMPTS: Final = 4
"""Tries to record a publication (each already retried by the client): a post that is live must not be
left to lapse and be published again by another worker."""
_MAX_ERROR_LENGTH: Final = 1000


class PublishError(Exception):
    """Raise from a publisher to fail the attempt with this message and say whether to try again.

    The message is stored in ``scheduled_posts.last_error`` (visible to the user): describe the problem,
    never include a token.
    """

    retryable: bool
    """False: give the post up now (e.g. the platform rejected the content for good)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class WorkerStats:
    """What a worker did; returned when it stops."""

    worker_id: str
    """The id the worker claimed with (``scheduled_posts.claimed_by``)."""
    claimed: int = 0
    """Posts claimed."""
    published: int = 0
    """Posts published and completed."""
    retried: int = 0
    """Failed attempts scheduled for a retry."""
    gave_up: int = 0
    """Posts marked ``failed``."""
    released: int = 0
    """Claimed posts handed back unstarted (stopping, or lease about to lapse)."""
    lost: int = 0
    """Posts whose claim another worker took over (or that were deleted) before the outcome was recorded."""
    errors: int = 0
    """Transient API errors waited out."""
    unknown_previous: int = 0
    """Posts handed to a publisher whose previous attempt ended without a recorded outcome (its worker's
    lease lapsed): each may already be live, and was logged at WARNING."""
    started_at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def processed(self) -> int:
        """Claimed posts that reached an outcome (published, retried, given up or lost)."""
        return self.published + self.retried + self.gave_up + self.lost


# --- redaction -----------------------------------------------------------------------------------------------


def redact(text: str, secrets: Sequence[str] = ()) -> str:
    """Remove what looks like a credential from ``text`` (publisher errors are stored and logged).

    Args:
        text: An error message.
        secrets: Values known to be secret (the client's keys), removed wherever they appear.

    Returns:
        The text with JWTs, bearer values, ``token=...``-style pairs, the given secrets and long opaque
        strings (not UUIDs) replaced by the mask (see :mod:`nexus_sdk._redact`).
    """
    return _redact.redact(text, secrets, guess=True)


# --- the I/O-free loop -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Call:
    """Step: call ``client.scheduled_posts.<method>(*args, **kwargs)``."""

    method: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Publish:
    """Step: run the user's publisher on a post."""

    publisher: Callable[[ClaimedPost], Any]
    post: ClaimedPost


@dataclass(frozen=True, slots=True)
class _Wait:
    """Step: wait this long, or until the stop event is set."""

    seconds: float


_Step: TypeAlias = _Call | _Publish | _Wait
_Loop: TypeAlias = Generator[_Step, Any, WorkerStats]


def _seconds(name: str, value: float | dt.timedelta | None, *, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    raw = value.total_seconds() if isinstance(value, dt.timedelta) else value
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise ValidationError.at(name, f"{name} must be a non-negative number of seconds or a timedelta.")
    return float(raw)


class _WorkerCore:
    """Every decision of the worker: what to claim, when to stop, how to record each outcome."""

    def __init__(
        self,
        publishers: Mapping[str, Callable[[ClaimedPost], Any]],
        *,
        worker_id: str | None,
        batch_size: int,
        lease: float | dt.timedelta,
        poll_interval: float | dt.timedelta,
        max_posts: int | None,
        idle_exit: float | dt.timedelta | None,
        max_attempts: int,
        base_delay: float | dt.timedelta | None,
        max_delay: float | dt.timedelta | None,
        secrets: Sequence[str],
        stopped: Callable[[], bool],
    ) -> None:
        from nexus_sdk.repositories.scheduled_posts import backoff_seconds, new_worker_id

        if not isinstance(publishers, Mapping) or not all(callable(p) for p in publishers.values()):
            raise ValidationError.at("publishers", "publishers must map platform names to callables.")
        row_count("batch_size", batch_size)
        if max_posts is not None and (
            isinstance(max_posts, bool) or not isinstance(max_posts, int) or max_posts < 1
        ):
            raise ValidationError.at("max_posts", "max_posts must be a positive integer or None.")
        self.publishers = {name.strip().lower(): publisher for name, publisher in publishers.items()}
        self.batch_size = batch_size
        self.lease = _seconds("lease", lease) or 0.0
        if self.lease < 1:
            raise ValidationError.at("lease", "lease must be at least 1 second.")
        self.poll_interval = _seconds("poll_interval", poll_interval) or 0.0
        self.idle_exit = _seconds("idle_exit", idle_exit, allow_none=True)
        self.max_posts = max_posts
        worker = worker_id or new_worker_id()
        self.claim_options: dict[str, Any] = {
            "worker_id": worker,
            "lease": lease,
            "max_attempts": max_attempts,
        }
        # Checked now, as the database would check them at the first failure: by then the worker holds a
        # batch, and a refusal would stop it with its posts left to lapse.
        backoff_seconds(base_delay, max_delay)
        self.fail_options = {"max_attempts": max_attempts, "base_delay": base_delay, "max_delay": max_delay}
        # Do not start a post in the last tenth of its lease (at most 30 s): its claim could lapse while
        # it is being published and another worker publish it again.
        self.lease_margin = min(30.0, self.lease / 10)
        self.secrets = tuple(s for s in secrets if s)
        self.stopped = stopped
        self.stats = WorkerStats(worker_id=worker)

    def run(self) -> _Loop:
        """The worker's loop; the drivers perform the steps it yields."""
        logger.info("worker %s started", self.stats.worker_id)
        idle_since = time.monotonic()
        while not self.stopped():
            limit = self.batch_size
            if self.max_posts is not None:
                limit = min(limit, self.max_posts - self.stats.claimed)
                if limit <= 0:
                    logger.info("worker %s: reached max_posts=%d", self.stats.worker_id, self.max_posts)
                    break
            claimed_at = time.monotonic()
            try:
                posts: list[ClaimedPost] = yield _Call("claim_due", (limit,), self.claim_options)
            except _TRANSIENT as exc:
                self._transient("claim due posts", exc)
                # Never a busy loop against a failing server, whatever poll_interval says.
                yield _Wait(max(self.poll_interval, 0.05))
                continue
            if not posts:
                if self.idle_exit is not None and time.monotonic() - idle_since >= self.idle_exit:
                    logger.info("worker %s: idle, exiting", self.stats.worker_id)
                    break
                yield _Wait(self.poll_interval)
                continue
            self.stats.claimed += len(posts)
            logger.debug("worker %s claimed %d post(s)", self.stats.worker_id, len(posts))
            deadline = claimed_at + self.lease - self.lease_margin
            for index, post in enumerate(posts):
                if self.stopped() or time.monotonic() >= deadline:
                    reason = "worker stopping" if self.stopped() else "lease about to lapse"
                    yield from self._release(posts[index:], reason)
                    break
                yield from self._process(post)
            idle_since = time.monotonic()
        stats = self.stats
        logger.info(
            "worker %s stopped: %d published, %d retried, %d given up, %d released, %d lost",
            stats.worker_id,
            stats.published,
            stats.retried,
            stats.gave_up,
            stats.released,
            stats.lost,
        )
        return stats

    def _transient(self, action: str, exc: Exception) -> None:
        self.stats.errors += 1
        logger.warning("worker %s: could not %s (%s); will try again", self.stats.worker_id, action, exc)

    def _process(self, post: ClaimedPost) -> Generator[_Step, Any, None]:
        publisher = self.publishers.get(post.platform)
        if publisher is None:
            yield from self._fail(post, f"no publisher for platform {post.platform!r}", retryable=False)
            return
        if post.previous_attempt_unknown:
            # At-least-once made visible: the publisher sees post.previous_attempt_unknown as well.
            self.stats.unknown_previous += 1
            logger.warning(
                "post %s: the previous attempt ended without an outcome (%s); it may already be live on %s, "
                "so it is handed to the publisher with previous_attempt_unknown=True to look it up first",
                post.id,
                post.last_error,
                post.platform,
            )
        try:
            returned = yield _Publish(publisher, post)
        except Exception as exc:  # the user's code: any failure is this post's failure
            retryable = exc.retryable if isinstance(exc, PublishError) else True
            text = str(exc) if isinstance(exc, PublishError) else f"{type(exc).__name__}: {exc}"
            yield from self._fail(post, redact(text, self.secrets)[:_MAX_ERROR_LENGTH], retryable=retryable)
            return
        # Outside the try: the publisher returned, so the post is live. An unexpected return value must
        # not turn into a failed attempt, which would publish the post again.
        result = _as_result(post, returned)
        options = {
            "platform_post_id": result.platform_post_id,
            "published_at": result.published_at,
            "metadata": result.metadata,
        }
        for attempt in range(1, _COMPLETE_ATTEMPTS + 1):
            try:
                yield _Call("complete", (post,), options)
            except (ConflictError, NotFoundError) as exc:
                self.stats.lost += 1
                logger.error(
                    "post %s was published but the claim was lost (%s): it may now be published twice",
                    post.id,
                    exc.details or exc.message,
                )
                return
            except _TRANSIENT as exc:
                self._transient(f"record post {post.id} as published (attempt {attempt})", exc)
                yield _Wait(min(0.5 * 2.0 ** (attempt - 1), self.lease_margin))
                continue
            self.stats.published += 1
            logger.info("post %s published on %s", post.id, post.platform)
            return
        logger.error("post %s was published but could not be recorded: it may be published twice", post.id)

    def _fail(self, post: ClaimedPost, message: str, *, retryable: bool) -> Generator[_Step, Any, None]:
        options = {"error": message or "failed", "retryable": retryable, **self.fail_options}
        try:
            row = yield _Call("fail", (post,), options)
        except (ConflictError, NotFoundError) as exc:
            self.stats.lost += 1
            logger.warning("post %s: could not record the failure (%s)", post.id, exc.details or exc.message)
            return
        except _TRANSIENT as exc:
            # The lease will lapse and another worker retry the post; nothing was published.
            self._transient(f"record the failure of post {post.id}", exc)
            return
        if row.status == "failed":
            self.stats.gave_up += 1
            logger.warning(
                "post %s failed for good after %d attempt(s): %s", post.id, row.retry_count, message
            )
        else:
            self.stats.retried += 1
            logger.warning("post %s failed, retry at %s: %s", post.id, row.scheduled_for.isoformat(), message)

    def _release(self, posts: Sequence[ClaimedPost], reason: str) -> Generator[_Step, Any, None]:
        logger.info(
            "worker %s: handing back %d unstarted post(s): %s", self.stats.worker_id, len(posts), reason
        )
        for post in posts:
            # Not a failure: the post keeps its attempts, its last error and its (due) time, and is
            # claimable again at once instead of after the lease lapses. A release is safe to retry.
            try:
                yield _Call("release", (post,), {})
            except (ConflictError, NotFoundError) as exc:
                self.stats.lost += 1
                logger.warning("post %s: could not hand it back (%s)", post.id, exc.details or exc.message)
                continue
            except _TRANSIENT as exc:
                # The lease will lapse and another worker take the post over; nothing was published.
                self._transient(f"hand back post {post.id}", exc)
                continue
            self.stats.released += 1


def _as_result(post: ClaimedPost, value: Any) -> PublishResult:
    """What a publisher returned, as a PublishResult; a wrong type is logged and recorded as best it can."""
    if value is None:
        return PublishResult()
    if isinstance(value, PublishResult):
        return value
    if isinstance(value, str):
        return PublishResult(platform_post_id=value)
    # The post is live whatever came back: record it, keeping a numeric id (many platform APIs answer
    # with one), and say loudly what the publisher got wrong.
    logger.error(
        "post %s: a publisher must return a str, a PublishResult or None, not %s; recorded as published%s",
        post.id,
        type(value).__name__,
        "" if isinstance(value, int) and not isinstance(value, bool) else " without a platform_post_id",
    )
    if isinstance(value, int) and not isinstance(value, bool):
        return PublishResult(platform_post_id=str(value))
    return PublishResult()


def _secrets_of(client: Any) -> list[str]:
    settings = client.settings
    values = [settings.key, settings.anon_key, settings.access_token]
    return [value.get_secret_value() for value in values if value is not None]


# --- the drivers ---------------------------------------------------------------------------------------------

_OPTIONS: Final = frozenset(
    {
        "worker_id",
        "batch_size",
        "lease",
        "poll_interval",
        "max_posts",
        "idle_exit",
        "max_attempts",
        "base_delay",
        "max_delay",
    }
)
"""The driver arguments handed to :class:`_WorkerCore` unchanged."""


def _core(
    client: Any, publishers: Mapping[str, Any], stopped: Callable[[], bool], given: Mapping[str, Any]
) -> _WorkerCore:
    """The loop for a driver, from the driver's own arguments (``locals()``), so both read them alike."""
    options = {name: value for name, value in given.items() if name in _OPTIONS}
    return _WorkerCore(publishers, secrets=_secrets_of(client), stopped=stopped, **options)


def _advance(loop: _Loop, value: Any, error: Exception | None) -> _Step | WorkerStats:
    """Resume the loop with the last step's result (or exception); its next step, or the final stats."""
    try:
        return loop.throw(error) if error is not None else loop.send(value)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def _signals_set(stop: threading.Event, enabled: bool) -> Iterator[None]:
    """Make SIGINT/SIGTERM set ``stop`` while the worker runs (main thread only; restored afterwards)."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}

    def handler(signum: int, frame: Any) -> None:
        logger.info("received %s: stopping after the current post", signal.Signals(signum).name)
        stop.set()
        # A second signal acts as it would without the worker (e.g. Ctrl-C twice interrupts at once).
        for sig, old in previous.items():
            signal.signal(sig, old)

    for sig in _SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(
    client: NexusClient,
    publishers: Mapping[str, Publisher],
    *,
    worker_id: str | None = None,
    batch_size: int = 50,
    lease: float | dt.timedelta = 300,
    poll_interval: float | dt.timedelta = 5.0,
    max_posts: int | None = None,
    idle_exit: float | dt.timedelta | None = None,
    max_attempts: int = 5,
    base_delay: float | dt.timedelta | None = None,
    max_delay: float | dt.timedelta | None = None,
    stop: threading.Event | None = None,
    handle_signals: bool = True,
) -> WorkerStats:
    """Run a publisher worker until it is stopped (blocking; run several in threads for parallelism).

    Delivery is at least once (see the module docstring): when a post's previous attempt ended without a
    recorded outcome, the publisher gets it with ``post.previous_attempt_unknown`` True and a WARNING is
    logged; look the post up on the platform before posting it again.

    Args:
        client: A service-role client (claiming and completing need the service role).
        publishers: ``{platform: publisher}``; a post for a platform without a publisher fails for good.
        worker_id: Unique per worker; ``host:pid:random`` by default.
        batch_size: Posts per claim (1-1000).
        lease: Seconds (or a timedelta) the claim holds; must cover publishing a whole batch.
        poll_interval: Seconds to wait when nothing is due.
        max_posts: Stop after claiming this many posts.
        idle_exit: Stop once nothing has been due for this many seconds (0: at the first empty claim).
        max_attempts: Attempts before a post is marked ``failed``.
        base_delay: First retry delay in seconds; 60 by default (doubling, capped by ``max_delay``).
        max_delay: Retry delay cap in seconds; 3600 by default.
        stop: Set it (from any thread) to stop after the current post.
        handle_signals: In the main thread, SIGINT/SIGTERM set ``stop`` (a second signal is not caught).

    Returns:
        What the worker did.

    Raises:
        ValidationError: A bad option (before anything is claimed).
        APIStatusError: The server refused the worker (e.g. not the service role); transient failures
            (connection, 5xx, 429) are logged and waited out instead.
    """
    event = stop if stop is not None else threading.Event()
    core = _core(client, publishers, event.is_set, locals())
    repository = client.scheduled_posts

    def perform(step: _Step) -> Any:
        if isinstance(step, _Wait):
            return event.wait(step.seconds)
        if isinstance(step, _Publish):
            return step.publisher(step.post)
        return getattr(repository, step.method)(*step.args, **step.kwargs)

    with _signals_set(event, handle_signals):
        loop = core.run()
        value: Any = None
        error: Exception | None = None
        while not isinstance(step := _advance(loop, value, error), WorkerStats):
            value, error = None, None
            try:
                value = perform(step)
            except Exception as exc:  # handed to the loop, which re-raises what it cannot handle
                error = exc
        return step


@contextlib.contextmanager
def _loop_signals_set(stop: asyncio.Event, enabled: bool) -> Iterator[None]:
    """The asyncio form of :func:`_signals_set` (Unix event loops in the main thread).

    The handlers found are put back after the first signal and on exit: under ``asyncio.run`` that is
    the runner's SIGINT handler, which cancels the main task, so a second Ctrl-C interrupts a hung
    publisher (``loop.remove_signal_handler`` alone would leave Python's default handler instead).
    """
    installed: dict[signal.Signals, Any] = {}
    loop = asyncio.get_running_loop()

    def restore() -> None:
        for sig, previous in installed.items():
            loop.remove_signal_handler(sig)
            if previous is not None:  # None: not set from Python; the loop's reset is the best we have
                signal.signal(sig, previous)
        installed.clear()

    if enabled and threading.current_thread() is threading.main_thread():

        def handler(sig: signal.Signals) -> None:
            logger.info("received %s: stopping after the current post", sig.name)
            stop.set()
            # A second signal acts as it would without the worker (e.g. Ctrl-C twice interrupts at once).
            restore()

        for sig in _SIGNALS:
            previous = signal.getsignal(sig)
            try:
                loop.add_signal_handler(sig, handler, sig)
            except (NotImplementedError, RuntimeError):  # e.g. Windows' proactor loop
                break
            installed[sig] = previous
    try:
        yield
    finally:
        restore()


async def _complete_despite_cancel(post: ClaimedPost, completion: Awaitable[Any]) -> Any:
    """Await a completion to its end even if the worker is cancelled meanwhile, then let that through.

    The post is already live: a completion dropped half-way leaves it ``processing``, its lease lapses and
    another worker publishes it again. A second cancellation is not held back.
    """
    task = asyncio.ensure_future(completion)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            logger.warning(
                "post %s: cancelled while recording its publication; finishing that first", post.id
            )
        try:
            await task
        except Exception as exc:  # reported like the loop would, then the cancellation goes on
            logger.error("post %s was published but could not be recorded (%s)", post.id, exc)
        else:
            logger.info("post %s published on %s", post.id, post.platform)
        raise


async def arun_worker(
    client: AsyncNexusClient,
    publishers: Mapping[str, AsyncPublisher],
    *,
    worker_id: str | None = None,
    batch_size: int = 50,
    lease: float | dt.timedelta = 300,
    poll_interval: float | dt.timedelta = 5.0,
    max_posts: int | None = None,
    idle_exit: float | dt.timedelta | None = None,
    max_attempts: int = 5,
    base_delay: float | dt.timedelta | None = None,
    max_delay: float | dt.timedelta | None = None,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> WorkerStats:
    """Run a publisher worker on asyncio; see :func:`run_worker` (run several as tasks for parallelism).

    Publishers may be coroutine functions (awaited) or plain functions (called in the event loop, so keep
    them quick). Cancelling the task stops the worker at once, except that a post already published is
    still recorded (a second cancellation does not wait for that): posts it had claimed are retried by
    another worker once their lease lapses. With ``handle_signals``, the first SIGINT/SIGTERM stops it
    after the current post; the handlers found before (``asyncio.run``'s, which cancels the main task on
    SIGINT) are then back for a second one.
    """
    event = stop if stop is not None else asyncio.Event()
    core = _core(client, publishers, event.is_set, locals())
    repository = client.scheduled_posts

    async def perform(step: _Step) -> Any:
        if isinstance(step, _Wait):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), step.seconds)
            return None
        if isinstance(step, _Publish):
            result = step.publisher(step.post)
            return await result if inspect.isawaitable(result) else result
        call = getattr(repository, step.method)(*step.args, **step.kwargs)
        if step.method == "complete":
            return await _complete_despite_cancel(step.args[0], call)
        return await call

    with _loop_signals_set(event, handle_signals):
        loop = core.run()
        value: Any = None
        error: Exception | None = None
        while not isinstance(step := _advance(loop, value, error), WorkerStats):
            value, error = None, None
            try:
                value = await perform(step)
            except Exception as exc:  # handed to the loop, which re-raises what it cannot handle
                error = exc
        return step

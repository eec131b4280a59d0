"""``scheduled_posts``: the publishing queue.

Scheduling, rescheduling, cancelling, claiming, completing, failing and releasing are SQL functions called over
``/rpc/`` (``sql/schema/06*_api_*.sql``), one request each, so they stay atomic and race-free:
concurrent workers never claim the same post, and completing a post inserts its ``published_posts`` row
and closes the schedule in one transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Unpack, overload

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from nexus_sdk import query
from nexus_sdk._http import APIRequest, Operation, call
from nexus_sdk._results import RowList
from nexus_sdk.errors import NotFoundError, ValidationError
from nexus_sdk.models import (
    PublishedPost,
    ScheduledPost,
    ScheduledPostCreate,
    ScheduledPostUpdate,
    ScheduledPostWithConnection,
)
from nexus_sdk.models._fields import PlatformName, Timezone, check_post_content
from nexus_sdk.models.publishing import ClaimedPost
from nexus_sdk.models.related import CONNECTION_PROFILE_COLUMNS
from nexus_sdk.query import row_count
from nexus_sdk.repositories._base import (
    AsyncCreate,
    AsyncDelete,
    AsyncRead,
    AsyncUpdate,
    SyncCreate,
    SyncDelete,
    SyncRead,
    SyncUpdate,
)
from nexus_sdk.repositories._core import DEFAULT_LIST_LIMIT, RowId, TableCore, TableSpec
from nexus_sdk.repositories._fields import (
    ScheduledPostCreateFields,
    ScheduledPostOrder,
    ScheduledPostUpdateFields,
)
from nexus_sdk.repositories._rpc import call_rows, call_single, seconds, uuid_text, validate
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncScheduledPosts", "ScheduledPosts", "ScheduledPostsCore", "backoff_seconds", "new_worker_id"]

SPEC = TableSpec("scheduled_posts", ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate)

WITH_CONNECTION: Final = (
    f"*,connection:platform_connections!scheduled_posts_platform_connection_id_fkey"
    f"({','.join(CONNECTION_PROFILE_COLUMNS)})"
)
"""The post and its connection's public columns, through the same-owner key (never a token column)."""

DEFAULT_CLAIM_LIMIT: Final = 50
DEFAULT_LEASE_SECONDS: Final = 300
DEFAULT_MAX_ATTEMPTS: Final = 5
DEFAULT_BASE_DELAY_SECONDS: Final = 60
DEFAULT_MAX_DELAY_SECONDS: Final = 3600
_MAX_LEASE_SECONDS: Final = 86400
_MAX_DELAY: Final = 2**31 - 1

PostRef = ClaimedPost | ScheduledPost | RowId
"""A scheduled post, or its id."""


def new_worker_id() -> str:
    """A worker id unique to this call: ``host:pid:random`` (what ``claim_due`` uses by default).

    Returns:
        The id; keep it for the worker's lifetime so its claims can be completed.
    """
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class _ScheduleArgs(BaseModel):
    """The arguments of ``schedule_post``, checked before sending."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="schedule")

    platform_connection_id: uuid.UUID
    scheduled_for: AwareDatetime
    platform: PlatformName | None = None
    # Declared after ``platform`` so the content check can see it.
    content: str | None = None
    adaptation_id: uuid.UUID | None = None
    timezone: Timezone | None = None
    user_id: uuid.UUID | None = None
    id: uuid.UUID = Field(default_factory=uuid.uuid4)

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.strip():
            raise ValueError("content cannot be empty (leave it out to take the adaptation's text)")
        return check_post_content(info.data.get("platform"), value)


class _RescheduleArgs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", title="reschedule")

    post_id: uuid.UUID
    scheduled_for: AwareDatetime
    timezone: Timezone | None = None


def _claim_of(post: PostRef, worker_id: str | None) -> tuple[str, str]:
    """The post's id and the worker id to act with: the given one, else the claim's own."""
    if isinstance(post, ScheduledPost):
        worker = worker_id or post.claimed_by
        post_id = str(post.id)
    else:
        worker = worker_id
        post_id = uuid_text("post", post)
    if not worker:
        message = "worker_id is required: pass the ClaimedPost from claim_due(), or the worker_id it was claimed with."
        raise ValidationError.at("worker_id", message, "missing")
    return post_id, worker


def _delay(name: str, value: float | dt.timedelta | None, default: int) -> int:
    return default if value is None else seconds(name, value, low=0, high=_MAX_DELAY)


def backoff_seconds(
    base_delay: float | dt.timedelta | None, max_delay: float | dt.timedelta | None
) -> tuple[int, int]:
    """The retry delays ``fail()`` sends, checked as the database will check them.

    Args:
        base_delay: First retry delay in seconds (or a timedelta); 60 by default.
        max_delay: Cap of the delay; 3600 by default.

    Returns:
        ``(base_delay_seconds, max_delay_seconds)``, whole seconds.

    Raises:
        ValidationError: A negative or non-numeric delay, or a base delay above the cap (including the
            default cap of 3600 s): the database would refuse it only once a post had failed.
    """
    base = _delay("base_delay", base_delay, DEFAULT_BASE_DELAY_SECONDS)
    cap = _delay("max_delay", max_delay, DEFAULT_MAX_DELAY_SECONDS)
    if base > cap:
        message = f"base_delay ({base} s) must not exceed max_delay ({cap} s; 3600 by default)."
        raise ValidationError.at("base_delay", message, "range")
    return base, cap


class ScheduledPostsCore(TableCore[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate]):
    """The I/O-free operations of ``scheduled_posts``, including the publishing functions."""

    def _missing(self, post_id: str) -> NotFoundError:
        return NotFoundError.row(self.spec.table, post_id)

    def schedule(self, args: dict[str, Any], timeout: TimeoutTypes | NotGiven) -> Operation[ScheduledPost]:
        """``schedule_post``: validated here, then checked again (ownership, state) by the database.

        Content is checked against its platform's limit whichever arguments are given: without
        ``platform``, the connection's platform is read first (one more request, only then), so content
        over the limit is a ValidationError before ``schedule_post`` is called, as when ``platform`` is given.
        """
        given = {k: v for k, v in args.items() if v is not None}
        checked = validate(_ScheduleArgs, given)
        if checked.user_id is None and self.settings.user_id is None:
            message = "user_id is required unless the client acts as a user (as_user / access_token)."
            raise ValidationError.at("user_id", message, "missing")
        if checked.content is not None and checked.platform is None:
            platform = yield from self._connection_platform(checked.platform_connection_id, timeout)
            # Validated again with the platform, and sent with it: the database checks that it still matches.
            checked = validate(_ScheduleArgs, {**given, "platform": platform, "id": checked.id})
        body = checked.model_dump(mode="json", exclude_none=True)
        # The id is made here, so a retry after a lost response returns the row made the first time.
        return (
            yield from call_single(
                self.settings,
                "schedule_post",
                body,
                ScheduledPost,
                idempotent=True,
                timeout=timeout,
                missing=self._missing(body["id"]),
            )
        )

    def _connection_platform(
        self, connection_id: uuid.UUID, timeout: TimeoutTypes | NotGiven
    ) -> Operation[str]:
        """The platform of a connection visible to the caller; NotFoundError as ``schedule_post`` would say."""
        request = APIRequest(
            "GET",
            "/platform_connections",
            (("id", f"eq.{connection_id}"), ("select", "platform")),
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        rows = response.rows()
        if not rows or not isinstance(rows[0].get("platform"), str):
            missing = NotFoundError.row("platform_connections", connection_id)
            missing.details = "connection_not_found"  # what schedule_post says for the same case
            raise missing
        platform: str = rows[0]["platform"]
        return platform

    def reschedule(
        self, post: PostRef, scheduled_for: Any, tz: str | None, timeout: TimeoutTypes | NotGiven
    ) -> Operation[ScheduledPost]:
        """``reschedule_post``; moving a post to the same time twice is harmless, so it is retried."""
        post_id = str(post.id) if isinstance(post, ScheduledPost) else post
        checked = validate(
            _RescheduleArgs, {"post_id": post_id, "scheduled_for": scheduled_for, "timezone": tz}
        )
        body = checked.model_dump(mode="json", exclude_none=True)
        return call_single(
            self.settings,
            "reschedule_post",
            body,
            ScheduledPost,
            idempotent=True,
            timeout=timeout,
            missing=self._missing(body["post_id"]),
        )

    def cancel(self, post: PostRef, timeout: TimeoutTypes | NotGiven) -> Operation[ScheduledPost]:
        """``cancel_scheduled_post``; cancelling twice returns the cancelled row, so it is retried."""
        post_id = str(post.id) if isinstance(post, ScheduledPost) else uuid_text("post", post)
        return call_single(
            self.settings,
            "cancel_scheduled_post",
            {"post_id": post_id},
            ScheduledPost,
            idempotent=True,
            timeout=timeout,
            missing=self._missing(post_id),
        )

    def claim_due(
        self,
        limit: int,
        worker_id: str | None,
        lease: float | dt.timedelta,
        max_attempts: int,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[RowList[ClaimedPost]]:
        """``claim_due_posts``; never retried once sent (a repeat would claim a second batch)."""
        row_count("limit", limit)
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValidationError.at("max_attempts", "max_attempts must be an integer of at least 1.")
        worker = worker_id if worker_id is not None else new_worker_id()
        if not worker.strip():
            raise ValidationError.at("worker_id", "worker_id cannot be empty.")
        args = {
            "worker_id": worker,
            "max_posts": limit,
            "lease_seconds": seconds("lease", lease, low=1, high=_MAX_LEASE_SECONDS),
            "max_attempts": max_attempts,
        }
        return call_rows(
            self.settings, "claim_due_posts", args, ClaimedPost, idempotent=False, timeout=timeout
        )

    def complete(
        self,
        post: PostRef,
        worker_id: str | None,
        platform_post_id: str | None,
        published_at: dt.datetime | None,
        metadata: dict[str, Any] | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[PublishedPost]:
        """``complete_scheduled_post``; idempotent for the claiming worker, so it is retried."""
        post_id, worker = _claim_of(post, worker_id)
        if published_at is not None:
            published_at = validate(_Instant, {"at": published_at}).at
        args = {
            "post_id": post_id,
            "worker_id": worker,
            "platform_post_id": platform_post_id,
            "published_at": published_at,
            "metadata": metadata,
        }
        return call_single(
            self.settings,
            "complete_scheduled_post",
            args,
            PublishedPost,
            idempotent=True,
            timeout=timeout,
            missing=self._missing(post_id),
        )

    def fail(
        self,
        post: PostRef,
        error: str,
        worker_id: str | None,
        retryable: bool,
        max_attempts: int,
        base_delay: float | dt.timedelta | None,
        max_delay: float | dt.timedelta | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[ScheduledPost]:
        """``fail_scheduled_post``; not retried once sent (a repeat finds the post no longer claimed)."""
        post_id, worker = _claim_of(post, worker_id)
        if not isinstance(error, str) or not error.strip():
            raise ValidationError.at("error", "error must be a non-empty message.")
        base_delay_seconds, max_delay_seconds = backoff_seconds(base_delay, max_delay)
        args = {
            "post_id": post_id,
            "worker_id": worker,
            "error_message": error,
            "retryable": retryable,
            "max_attempts": max_attempts,
            "base_delay_seconds": base_delay_seconds,
            "max_delay_seconds": max_delay_seconds,
        }
        return call_single(
            self.settings,
            "fail_scheduled_post",
            args,
            ScheduledPost,
            idempotent=False,
            timeout=timeout,
            missing=self._missing(post_id),
        )

    def release(
        self, post: PostRef, worker_id: str | None, timeout: TimeoutTypes | NotGiven
    ) -> Operation[ScheduledPost]:
        """``release_scheduled_post``; a repeat by the same worker returns the released row, so it is retried."""
        post_id, worker = _claim_of(post, worker_id)
        return call_single(
            self.settings,
            "release_scheduled_post",
            {"post_id": post_id, "worker_id": worker},
            ScheduledPost,
            idempotent=True,
            timeout=timeout,
            missing=self._missing(post_id),
        )


class _Instant(BaseModel):
    model_config = ConfigDict(title="published_at")

    at: AwareDatetime


class AsyncScheduledPosts(
    AsyncRead[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    AsyncCreate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    AsyncUpdate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    AsyncDelete[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
):
    """The ``scheduled_posts`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        @overload  # type: ignore[override, no-overload-impl]
        async def create(
            self, data: ScheduledPostCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ScheduledPost: ...

        @overload
        async def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[ScheduledPostCreateFields]
        ) -> ScheduledPost: ...

        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: ScheduledPostUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ScheduledPostUpdateFields],
        ) -> ScheduledPost: ...

    spec = SPEC
    core_class = ScheduledPostsCore
    _core: ScheduledPostsCore

    async def schedule(
        self,
        platform_connection_id: RowId,
        scheduled_for: dt.datetime,
        *,
        content: str | None = None,
        adaptation_id: RowId | None = None,
        platform: str | None = None,
        timezone: str | None = None,
        user_id: RowId | None = None,
        id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Schedule a post on one of the user's platform connections (one ``/rpc/schedule_post`` call).

        The content is snapshotted: later edits of the adaptation do not change the post.

        Args:
            platform_connection_id: The connection to publish with; it must be the acting user's and active.
            scheduled_for: When to publish; time-zone aware, and not in the past (5 minutes of skew allowed).
            content: The text; by default the adaptation's text for the connection's platform.
            adaptation_id: The content adaptation this post comes from (the acting user's).
            platform: When given, the connection must be for this platform.
            timezone: The IANA zone the user scheduled in (for display); default: the user's.
            user_id: The user to act for; required with the service role, else the signed-in user.
            id: The new row's id; generated here by default, which makes a retried call harmless.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The new ``scheduled`` row (or, for a repeated ``id``, the row made the first time).

        Raises:
            ValidationError: A naive or non-datetime time, empty or over-long content, an unknown zone, no
                user (nothing was sent).
            NotFoundError: The connection or adaptation is not the acting user's (``details``:
                ``connection_not_found`` / ``adaptation_not_found``).
            BadRequestError: Inactive connection, platform mismatch, time in the past, no content.
            PermissionDeniedError: A user acting for someone else, or an anon client.
        """
        args = {
            "platform_connection_id": platform_connection_id,
            "scheduled_for": scheduled_for,
            "content": content,
            "adaptation_id": adaptation_id,
            "platform": platform,
            "timezone": timezone,
            "user_id": user_id,
            "id": id,
        }
        return await self._sender.run(self._core.schedule(args, timeout))

    async def reschedule(
        self,
        post: PostRef,
        scheduled_for: dt.datetime,
        *,
        timezone: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Move a post that is still ``scheduled`` to another time.

        Args:
            post: The post or its id.
            scheduled_for: The new time; time-zone aware, not in the past.
            timezone: A new display zone; unchanged by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: A naive time or an unknown zone (nothing was sent).
            NotFoundError: No such post visible to the caller.
            ConflictError: The post was already picked up, published, failed or cancelled
                (``details == "not_reschedulable"``).
        """
        return await self._sender.run(self._core.reschedule(post, scheduled_for, timezone, timeout))

    async def cancel(self, post: PostRef, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> ScheduledPost:
        """Cancel a post that is still ``scheduled`` (cancelling a cancelled post returns it unchanged).

        Args:
            post: The post or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The cancelled row.

        Raises:
            NotFoundError: No such post visible to the caller.
            ConflictError: The post was already picked up or finished (``details == "not_cancellable"``).
        """
        return await self._sender.run(self._core.cancel(post, timeout))

    async def claim_due(
        self,
        limit: int = DEFAULT_CLAIM_LIMIT,
        *,
        worker_id: str | None = None,
        lease: float | dt.timedelta = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ClaimedPost]:
        """Claim up to ``limit`` due posts for a worker (service role); no post is claimed twice.

        Due: ``scheduled`` and ``scheduled_for <= now()``, or ``processing`` with a lapsed lease (its worker
        died). Taking over a lapsed lease counts as a failed attempt; at ``max_attempts`` such a post is
        marked ``failed`` instead of handed out, so a claim may return fewer posts than are due.

        Args:
            limit: At most this many posts (1-1000).
            worker_id: This worker's id (unique per process, e.g. :func:`new_worker_id`); a new one by
                default. Each returned post carries it as ``claimed_by``.
            lease: Seconds (or a timedelta) until another worker may take a post over: publish before.
            max_attempts: Attempts after which a post whose lease lapsed is given up.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The claimed posts, ``processing``, in ``scheduled_for`` order.

        Raises:
            ValidationError: A bad limit, lease or worker id (nothing was sent).
            PermissionDeniedError: The client is not the service role.
        """
        return await self._sender.run(self._core.claim_due(limit, worker_id, lease, max_attempts, timeout))

    async def complete(
        self,
        post: PostRef,
        *,
        platform_post_id: str | None = None,
        published_at: dt.datetime | None = None,
        metadata: dict[str, Any] | None = None,
        worker_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PublishedPost:
        """Record that a claimed post is live: one atomic call, safe to repeat (service role).

        Inserts the ``published_posts`` row and marks the schedule ``completed``. Calling again with the
        same worker returns the same published row and changes nothing.

        Args:
            post: The :class:`ClaimedPost` (its ``claimed_by`` is the worker id), or the post's id.
            platform_post_id: The platform's id of the new post.
            published_at: When it went live (time-zone aware); the server's ``now()`` by default.
            metadata: Stored in ``published_posts.metadata``.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The ``published_posts`` row.

        Raises:
            ValidationError: No worker id (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: Not claimed (``details == "not_claimed"``), or another worker took the post
                over after the lease lapsed (``"claim_lost"``): a post made anyway is a duplicate.
        """
        operation = self._core.complete(post, worker_id, platform_post_id, published_at, metadata, timeout)
        return await self._sender.run(operation)

    async def fail(
        self,
        post: PostRef,
        *,
        error: str,
        retryable: bool = True,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay: float | dt.timedelta | None = None,
        max_delay: float | dt.timedelta | None = None,
        worker_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Record a failed attempt: retry later with exponential backoff, or give up (service role).

        ``retry_count`` grows by one and ``last_error`` keeps ``error`` (first 2000 characters). While
        ``retryable`` and ``retry_count < max_attempts`` the post is ``scheduled`` again after
        ``min(max_delay, base_delay * 2 ** (retry_count - 1))``; otherwise it is ``failed``.

        Args:
            post: The :class:`ClaimedPost`, or the post's id.
            error: What went wrong; stored and shown to the user, so never put a token in it.
            retryable: False to give up now (e.g. the platform rejected the content).
            max_attempts: Attempts before giving up.
            base_delay: First retry delay in seconds (or a timedelta); 60 by default.
            max_delay: Cap of the delay; 3600 by default.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row (``scheduled`` for a retry, ``failed`` when given up).

        Raises:
            ValidationError: Empty error, no worker id, or a negative delay or one above
                ``max_delay`` (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: The caller does not hold the claim (``not_claimed`` / ``claim_lost``).
        """
        operation = self._core.fail(
            post, error, worker_id, retryable, max_attempts, base_delay, max_delay, timeout
        )
        return await self._sender.run(operation)

    async def release(
        self, post: PostRef, *, worker_id: str | None = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ScheduledPost:
        """Hand back a claimed post that was never started: ``scheduled`` again at once (service role).

        Not an attempt, unlike :meth:`fail`: ``retry_count``, ``scheduled_for`` and ``last_error`` are left
        as they are, so the next claim takes the post at once. Only the lease is cleared; ``claimed_by``
        keeps the latest claim on record. Calling again with the same worker, before anyone else has
        claimed the post, returns the same row and changes nothing.

        Args:
            post: The :class:`ClaimedPost` (its ``claimed_by`` is the worker id), or the post's id.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The ``scheduled`` row.

        Raises:
            ValidationError: No worker id, or a post id that is not a UUID (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: The caller does not hold the claim: the post is not ``processing``
                (``details == "not_claimed"``, e.g. already completed or failed), or another worker
                took it over after the lease lapsed (``"claim_lost"``).
        """
        return await self._sender.run(self._core.release(post, worker_id, timeout))

    async def list_with_connection(
        self,
        *,
        where: query.WhereClause = None,
        order_by: ScheduledPostOrder | Sequence[ScheduledPostOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ScheduledPostWithConnection]:
        """Like :meth:`list`, each post with its connection's platform and profile, in the same request.

        The connection's tokens are never read.

        Args:
            where: Filters on the posts (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 posts.
            offset: Posts to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts; ``post.connection`` is a typed :class:`~nexus_sdk.models.ConnectionProfile`.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            ScheduledPostWithConnection,
            WITH_CONNECTION,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            timeout=timeout,
        )
        return await self._sender.run(operation)

    async def get_with_connection(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ScheduledPostWithConnection:
        """One scheduled post and its connection's platform and profile, in one request.

        Args:
            id: The post's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The post; ``post.connection`` is a typed :class:`~nexus_sdk.models.ConnectionProfile`.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such post visible to the caller.
        """
        operation = self._core.get_embedded(ScheduledPostWithConnection, WITH_CONNECTION, id, timeout=timeout)
        return await self._sender.run(operation)


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class ScheduledPosts(
    SyncRead[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    SyncCreate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    SyncUpdate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
    SyncDelete[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate, ScheduledPostOrder],
):
    """The ``scheduled_posts`` table."""

    if TYPE_CHECKING:

        @overload  # type: ignore[override, no-overload-impl]
        def create(
            self, data: ScheduledPostCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ScheduledPost: ...

        @overload
        def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[ScheduledPostCreateFields]
        ) -> ScheduledPost: ...

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: ScheduledPostUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ScheduledPostUpdateFields],
        ) -> ScheduledPost: ...

    spec = SPEC
    core_class = ScheduledPostsCore
    _core: ScheduledPostsCore

    def schedule(
        self,
        platform_connection_id: RowId,
        scheduled_for: dt.datetime,
        *,
        content: str | None = None,
        adaptation_id: RowId | None = None,
        platform: str | None = None,
        timezone: str | None = None,
        user_id: RowId | None = None,
        id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Schedule a post on one of the user's platform connections (one ``/rpc/schedule_post`` call).

        The content is snapshotted: later edits of the adaptation do not change the post.

        Args:
            platform_connection_id: The connection to publish with; it must be the acting user's and active.
            scheduled_for: When to publish; time-zone aware, and not in the past (5 minutes of skew allowed).
            content: The text; by default the adaptation's text for the connection's platform.
            adaptation_id: The content adaptation this post comes from (the acting user's).
            platform: When given, the connection must be for this platform.
            timezone: The IANA zone the user scheduled in (for display); default: the user's.
            user_id: The user to act for; required with the service role, else the signed-in user.
            id: The new row's id; generated here by default, which makes a retried call harmless.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The new ``scheduled`` row (or, for a repeated ``id``, the row made the first time).

        Raises:
            ValidationError: A naive or non-datetime time, empty or over-long content, an unknown zone, no
                user (nothing was sent).
            NotFoundError: The connection or adaptation is not the acting user's (``details``:
                ``connection_not_found`` / ``adaptation_not_found``).
            BadRequestError: Inactive connection, platform mismatch, time in the past, no content.
            PermissionDeniedError: A user acting for someone else, or an anon client.
        """
        args = {
            "platform_connection_id": platform_connection_id,
            "scheduled_for": scheduled_for,
            "content": content,
            "adaptation_id": adaptation_id,
            "platform": platform,
            "timezone": timezone,
            "user_id": user_id,
            "id": id,
        }
        return self._sender.run(self._core.schedule(args, timeout))

    def reschedule(
        self,
        post: PostRef,
        scheduled_for: dt.datetime,
        *,
        timezone: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Move a post that is still ``scheduled`` to another time.

        Args:
            post: The post or its id.
            scheduled_for: The new time; time-zone aware, not in the past.
            timezone: A new display zone; unchanged by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: A naive time or an unknown zone (nothing was sent).
            NotFoundError: No such post visible to the caller.
            ConflictError: The post was already picked up, published, failed or cancelled
                (``details == "not_reschedulable"``).
        """
        return self._sender.run(self._core.reschedule(post, scheduled_for, timezone, timeout))

    def cancel(self, post: PostRef, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> ScheduledPost:
        """Cancel a post that is still ``scheduled`` (cancelling a cancelled post returns it unchanged).

        Args:
            post: The post or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The cancelled row.

        Raises:
            NotFoundError: No such post visible to the caller.
            ConflictError: The post was already picked up or finished (``details == "not_cancellable"``).
        """
        return self._sender.run(self._core.cancel(post, timeout))

    def claim_due(
        self,
        limit: int = DEFAULT_CLAIM_LIMIT,
        *,
        worker_id: str | None = None,
        lease: float | dt.timedelta = DEFAULT_LEASE_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ClaimedPost]:
        """Claim up to ``limit`` due posts for a worker (service role); no post is claimed twice.

        Due: ``scheduled`` and ``scheduled_for <= now()``, or ``processing`` with a lapsed lease (its worker
        died). Taking over a lapsed lease counts as a failed attempt; at ``max_attempts`` such a post is
        marked ``failed`` instead of handed out, so a claim may return fewer posts than are due.

        Args:
            limit: At most this many posts (1-1000).
            worker_id: This worker's id (unique per process, e.g. :func:`new_worker_id`); a new one by
                default. Each returned post carries it as ``claimed_by``.
            lease: Seconds (or a timedelta) until another worker may take a post over: publish before.
            max_attempts: Attempts after which a post whose lease lapsed is given up.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The claimed posts, ``processing``, in ``scheduled_for`` order.

        Raises:
            ValidationError: A bad limit, lease or worker id (nothing was sent).
            PermissionDeniedError: The client is not the service role.
        """
        return self._sender.run(self._core.claim_due(limit, worker_id, lease, max_attempts, timeout))

    def complete(
        self,
        post: PostRef,
        *,
        platform_post_id: str | None = None,
        published_at: dt.datetime | None = None,
        metadata: dict[str, Any] | None = None,
        worker_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PublishedPost:
        """Record that a claimed post is live: one atomic call, safe to repeat (service role).

        Inserts the ``published_posts`` row and marks the schedule ``completed``. Calling again with the
        same worker returns the same published row and changes nothing.

        Args:
            post: The :class:`ClaimedPost` (its ``claimed_by`` is the worker id), or the post's id.
            platform_post_id: The platform's id of the new post.
            published_at: When it went live (time-zone aware); the server's ``now()`` by default.
            metadata: Stored in ``published_posts.metadata``.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The ``published_posts`` row.

        Raises:
            ValidationError: No worker id (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: Not claimed (``details == "not_claimed"``), or another worker took the post
                over after the lease lapsed (``"claim_lost"``): a post made anyway is a duplicate.
        """
        operation = self._core.complete(post, worker_id, platform_post_id, published_at, metadata, timeout)
        return self._sender.run(operation)

    def fail(
        self,
        post: PostRef,
        *,
        error: str,
        retryable: bool = True,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        base_delay: float | dt.timedelta | None = None,
        max_delay: float | dt.timedelta | None = None,
        worker_id: str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ScheduledPost:
        """Record a failed attempt: retry later with exponential backoff, or give up (service role).

        ``retry_count`` grows by one and ``last_error`` keeps ``error`` (first 2000 characters). While
        ``retryable`` and ``retry_count < max_attempts`` the post is ``scheduled`` again after
        ``min(max_delay, base_delay * 2 ** (retry_count - 1))``; otherwise it is ``failed``.

        Args:
            post: The :class:`ClaimedPost`, or the post's id.
            error: What went wrong; stored and shown to the user, so never put a token in it.
            retryable: False to give up now (e.g. the platform rejected the content).
            max_attempts: Attempts before giving up.
            base_delay: First retry delay in seconds (or a timedelta); 60 by default.
            max_delay: Cap of the delay; 3600 by default.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row (``scheduled`` for a retry, ``failed`` when given up).

        Raises:
            ValidationError: Empty error, no worker id, or a negative delay or one above
                ``max_delay`` (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: The caller does not hold the claim (``not_claimed`` / ``claim_lost``).
        """
        operation = self._core.fail(
            post, error, worker_id, retryable, max_attempts, base_delay, max_delay, timeout
        )
        return self._sender.run(operation)

    def release(
        self, post: PostRef, *, worker_id: str | None = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ScheduledPost:
        """Hand back a claimed post that was never started: ``scheduled`` again at once (service role).

        Not an attempt, unlike :meth:`fail`: ``retry_count``, ``scheduled_for`` and ``last_error`` are left
        as they are, so the next claim takes the post at once. Only the lease is cleared; ``claimed_by``
        keeps the latest claim on record. Calling again with the same worker, before anyone else has
        claimed the post, returns the same row and changes nothing.

        Args:
            post: The :class:`ClaimedPost` (its ``claimed_by`` is the worker id), or the post's id.
            worker_id: The claiming worker; needed only when ``post`` is an id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The ``scheduled`` row.

        Raises:
            ValidationError: No worker id, or a post id that is not a UUID (nothing was sent).
            NotFoundError: No such scheduled post.
            ConflictError: The caller does not hold the claim: the post is not ``processing``
                (``details == "not_claimed"``, e.g. already completed or failed), or another worker
                took it over after the lease lapsed (``"claim_lost"``).
        """
        return self._sender.run(self._core.release(post, worker_id, timeout))

    def list_with_connection(
        self,
        *,
        where: query.WhereClause = None,
        order_by: ScheduledPostOrder | Sequence[ScheduledPostOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ScheduledPostWithConnection]:
        """Like :meth:`list`, each post with its connection's platform and profile, in the same request.

        The connection's tokens are never read.

        Args:
            where: Filters on the posts (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 posts.
            offset: Posts to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts; ``post.connection`` is a typed :class:`~nexus_sdk.models.ConnectionProfile`.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            ScheduledPostWithConnection,
            WITH_CONNECTION,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            timeout=timeout,
        )
        return self._sender.run(operation)

    def get_with_connection(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ScheduledPostWithConnection:
        """One scheduled post and its connection's platform and profile, in one request.

        Args:
            id: The post's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The post; ``post.connection`` is a typed :class:`~nexus_sdk.models.ConnectionProfile`.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such post visible to the caller.
        """
        operation = self._core.get_embedded(ScheduledPostWithConnection, WITH_CONNECTION, id, timeout=timeout)
        return self._sender.run(operation)

"""``published_posts``: posts published (or attempted) on a platform, with their metrics.

Recording metrics (merge, engagement rate, ``last_synced``) and ranking by engagement are SQL functions
called over ``/rpc/`` (``record_post_metrics``, ``top_published_posts``), one request each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Unpack, overload

from nexus_sdk import query
from nexus_sdk._http import Operation
from nexus_sdk._results import RowList
from nexus_sdk.errors import NotFoundError, ValidationError
from nexus_sdk.models import (
    PostMetrics,
    PublishedPost,
    PublishedPostCreate,
    PublishedPostUpdate,
    PublishedPostWithAdaptation,
)
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
    PublishedPostCreateFields,
    PublishedPostOrder,
    PublishedPostUpdateFields,
)
from nexus_sdk.repositories._rpc import aware, call_rows, call_single, uuid_text, validate
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncPublishedPosts", "PublishedPosts", "PublishedPostsCore"]

SPEC = TableSpec("published_posts", PublishedPost, PublishedPostCreate, PublishedPostUpdate)

DEFAULT_TOP_LIMIT: Final = 10

WITH_ADAPTATION: Final = "*,adaptation:content_adaptations!published_posts_adaptation_id_fkey(*)"
"""The post and its adaptation, through the same-owner key (an explicit hint: never ambiguous)."""

MetricsInput = PostMetrics | Mapping[str, Any]
"""A metrics snapshot: a :class:`PostMetrics` or a mapping of its keys (unknown keys are kept)."""


class PublishedPostsCore(TableCore[PublishedPost, PublishedPostCreate, PublishedPostUpdate]):
    """The I/O-free operations of ``published_posts``, including metrics and ranking."""

    def record_metrics(
        self,
        post: PublishedPost | RowId,
        metrics: MetricsInput,
        synced_at: dt.datetime | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[PublishedPost]:
        """``record_post_metrics``: the snapshot is checked with the write rules of ``PostMetrics`` first."""
        post_id = str(post.id) if isinstance(post, PublishedPost) else uuid_text("post", post)
        if not isinstance(metrics, PostMetrics | Mapping):
            raise ValidationError.at(
                "metrics", f"metrics must be a PostMetrics or a mapping, not {type(metrics).__name__}."
            )
        # The Update model applies the documents' write rules (non-negative counters, rate in [0, 1]).
        snapshot = validate(PublishedPostUpdate, {"metrics": metrics}).to_request_json()["metrics"]
        # The server computes these two from the merged counters; sending them would only be overwritten.
        snapshot.pop("engagement_rate", None)
        snapshot.pop("last_synced", None)
        args: dict[str, Any] = {"post_id": post_id, "metrics": snapshot}
        if synced_at is not None:
            args["synced_at"] = aware("synced_at", synced_at)
        return call_single(
            self.settings,
            "record_post_metrics",
            args,
            PublishedPost,
            # Merging the same snapshot twice gives the same document, so a lost response is retried.
            idempotent=True,
            timeout=timeout,
            missing=NotFoundError.row(self.spec.table, post_id),
        )

    def top(
        self,
        limit: int,
        platform: str | None,
        since: dt.datetime | None,
        user_id: RowId | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[RowList[PublishedPost]]:
        """``top_published_posts`` (a read: retried)."""
        row_count("limit", limit)
        args = {
            "max_posts": limit,
            "platform": platform.strip().lower() if platform is not None else None,
            "since": aware("since", since) if since is not None else None,
            "user_id": uuid_text("user_id", user_id) if user_id is not None else None,
        }
        return call_rows(
            self.settings, "top_published_posts", args, PublishedPost, idempotent=True, timeout=timeout
        )


class AsyncPublishedPosts(
    AsyncRead[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    AsyncCreate[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    AsyncUpdate[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    AsyncDelete[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
):
    """The ``published_posts`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        @overload  # type: ignore[override, no-overload-impl]
        async def create(
            self, data: PublishedPostCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PublishedPost: ...

        @overload
        async def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[PublishedPostCreateFields]
        ) -> PublishedPost: ...

        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: PublishedPostUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PublishedPostUpdateFields],
        ) -> PublishedPost: ...

    spec = SPEC
    core_class = PublishedPostsCore
    _core: PublishedPostsCore

    async def record_metrics(
        self,
        post: PublishedPost | RowId,
        metrics: MetricsInput,
        *,
        synced_at: dt.datetime | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PublishedPost:
        """Merge a metrics snapshot into a published post (one atomic call).

        Keys in the snapshot replace stored ones, other stored keys are kept, and a key set to None
        (not reported this time) keeps its stored value; ``engagement_rate``
        (``(likes + comments + shares) / impressions``, else ``/ views``) and ``last_synced`` are then
        set by the server.

        Args:
            post: The post or its id.
            metrics: The counters fetched from the platform.
            synced_at: When they were fetched (time-zone aware); the server's ``now()`` by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: A negative counter or a naive time (nothing was sent).
            NotFoundError: No such post visible to the caller.
            ConflictError: The post is not ``published`` (``details == "not_published"``).
        """
        return await self._sender.run(self._core.record_metrics(post, metrics, synced_at, timeout))

    async def top(
        self,
        limit: int = DEFAULT_TOP_LIMIT,
        *,
        platform: str | None = None,
        since: dt.datetime | None = None,
        user_id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PublishedPost]:
        """The published posts with the highest engagement rate (posts without one come last).

        Args:
            limit: At most this many posts (1-1000).
            platform: Only this platform.
            since: Only posts published at or after this (time-zone aware) instant.
            user_id: Only this user's posts (service role; a user only ever sees their own).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts, best first (ties: newest first).

        Raises:
            ValidationError: A bad limit, time or user id (nothing was sent).
        """
        return await self._sender.run(self._core.top(limit, platform, since, user_id, timeout))

    async def list_with_adaptation(
        self,
        *,
        where: query.WhereClause = None,
        order_by: PublishedPostOrder | Sequence[PublishedPostOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PublishedPostWithAdaptation]:
        """Like :meth:`list`, each post with the adaptation it was made from, in the same request.

        Args:
            where: Filters on the posts (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 posts.
            offset: Posts to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts; ``post.adaptation`` is the typed adaptation, or None.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            PublishedPostWithAdaptation,
            WITH_ADAPTATION,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            timeout=timeout,
        )
        return await self._sender.run(operation)

    async def get_with_adaptation(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> PublishedPostWithAdaptation:
        """One post and its adaptation, in one request.

        Args:
            id: The post's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The post; ``post.adaptation`` is the typed adaptation, or None.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such post visible to the caller.
        """
        operation = self._core.get_embedded(PublishedPostWithAdaptation, WITH_ADAPTATION, id, timeout=timeout)
        return await self._sender.run(operation)


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class PublishedPosts(
    SyncRead[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    SyncCreate[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    SyncUpdate[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
    SyncDelete[PublishedPost, PublishedPostCreate, PublishedPostUpdate, PublishedPostOrder],
):
    """The ``published_posts`` table."""

    if TYPE_CHECKING:

        @overload  # type: ignore[override, no-overload-impl]
        def create(
            self, data: PublishedPostCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PublishedPost: ...

        @overload
        def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[PublishedPostCreateFields]
        ) -> PublishedPost: ...

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: PublishedPostUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PublishedPostUpdateFields],
        ) -> PublishedPost: ...

    spec = SPEC
    core_class = PublishedPostsCore
    _core: PublishedPostsCore

    def record_metrics(
        self,
        post: PublishedPost | RowId,
        metrics: MetricsInput,
        *,
        synced_at: dt.datetime | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PublishedPost:
        """Merge a metrics snapshot into a published post (one atomic call).

        Keys in the snapshot replace stored ones, other stored keys are kept, and a key set to None
        (not reported this time) keeps its stored value; ``engagement_rate``
        (``(likes + comments + shares) / impressions``, else ``/ views``) and ``last_synced`` are then
        set by the server.

        Args:
            post: The post or its id.
            metrics: The counters fetched from the platform.
            synced_at: When they were fetched (time-zone aware); the server's ``now()`` by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: A negative counter or a naive time (nothing was sent).
            NotFoundError: No such post visible to the caller.
            ConflictError: The post is not ``published`` (``details == "not_published"``).
        """
        return self._sender.run(self._core.record_metrics(post, metrics, synced_at, timeout))

    def top(
        self,
        limit: int = DEFAULT_TOP_LIMIT,
        *,
        platform: str | None = None,
        since: dt.datetime | None = None,
        user_id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PublishedPost]:
        """The published posts with the highest engagement rate (posts without one come last).

        Args:
            limit: At most this many posts (1-1000).
            platform: Only this platform.
            since: Only posts published at or after this (time-zone aware) instant.
            user_id: Only this user's posts (service role; a user only ever sees their own).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts, best first (ties: newest first).

        Raises:
            ValidationError: A bad limit, time or user id (nothing was sent).
        """
        return self._sender.run(self._core.top(limit, platform, since, user_id, timeout))

    def list_with_adaptation(
        self,
        *,
        where: query.WhereClause = None,
        order_by: PublishedPostOrder | Sequence[PublishedPostOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PublishedPostWithAdaptation]:
        """Like :meth:`list`, each post with the adaptation it was made from, in the same request.

        Args:
            where: Filters on the posts (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 posts.
            offset: Posts to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The posts; ``post.adaptation`` is the typed adaptation, or None.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            PublishedPostWithAdaptation,
            WITH_ADAPTATION,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            timeout=timeout,
        )
        return self._sender.run(operation)

    def get_with_adaptation(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> PublishedPostWithAdaptation:
        """One post and its adaptation, in one request.

        Args:
            id: The post's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The post; ``post.adaptation`` is the typed adaptation, or None.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such post visible to the caller.
        """
        operation = self._core.get_embedded(PublishedPostWithAdaptation, WITH_ADAPTATION, id, timeout=timeout)
        return self._sender.run(operation)

"""``content_adaptations``: content ideas and their per-platform adaptations.

One row per idea and user: ``(user_id, idea_hash)`` is unique (``idea_hash`` = SHA-256 of the idea's UTF-8
text, exactly as given). :meth:`ContentAdaptations.create_idea` deduplicates on it in one call
(``/rpc/create_idea``), and ``upsert`` resolves conflicts on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Unpack, overload

from nexus_sdk import query
from nexus_sdk._http import Operation
from nexus_sdk._results import RowList
from nexus_sdk.errors import NotFoundError
from nexus_sdk.models import (
    Adaptations,
    ContentAdaptation,
    ContentAdaptationCreate,
    ContentAdaptationUpdate,
    ContentAdaptationWithPosts,
)
from nexus_sdk.repositories._base import (
    AsyncCreate,
    AsyncDelete,
    AsyncRead,
    AsyncUpdate,
    AsyncUpsert,
    SyncCreate,
    SyncDelete,
    SyncRead,
    SyncUpdate,
    SyncUpsert,
)
from nexus_sdk.repositories._core import DEFAULT_LIST_LIMIT, RowId, TableCore, TableSpec
from nexus_sdk.repositories._fields import (
    ContentAdaptationCreateFields,
    ContentAdaptationOrder,
    ContentAdaptationUpdateFields,
)
from nexus_sdk.repositories._rpc import call_single, uuid_text
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncContentAdaptations", "ContentAdaptations", "ContentAdaptationsCore"]

SPEC = TableSpec(
    "content_adaptations",
    ContentAdaptation,
    ContentAdaptationCreate,
    ContentAdaptationUpdate,
    natural_key=("user_id", "idea_hash"),
)

WITH_POSTS: Final = "*,published_posts!published_posts_adaptation_id_fkey(*)"
"""The adaptation and its published posts, through the posts' same-owner key."""
POSTS_OLDEST_FIRST: Final = (("published_posts.order", "created_at.asc,id.asc"),)

_IDEA_ARGS = ("id", "user_id", "original_idea", "adaptations", "tone", "target_audience")


class ContentAdaptationsCore(TableCore[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate]):
    """The I/O-free operations of ``content_adaptations``."""

    def create_idea(
        self, fields: dict[str, Any], timeout: TimeoutTypes | NotGiven
    ) -> Operation[ContentAdaptation]:
        """``create_idea``: checked as a Create model, then deduplicated by the database."""
        # The Create model checks lengths and the adaptations' platform rules, and fills user_id from the
        # client's JWT (or asks for it with the service role) before anything is sent.
        body = self._raw_create_body(None, {k: v for k, v in fields.items() if v is not None})
        args = {name: body[name] for name in _IDEA_ARGS if body.get(name) is not None}
        return call_single(
            self.settings,
            "create_idea",
            args,
            ContentAdaptation,
            # The same idea twice is one row, so a retry after a lost response returns the first call's row.
            idempotent=True,
            timeout=timeout,
            missing=NotFoundError.row(self.spec.table, args["id"]),
        )

    def mark_used(
        self, adaptation: ContentAdaptation | RowId, timeout: TimeoutTypes | NotGiven
    ) -> Operation[ContentAdaptation]:
        """``mark_adaptation_used``: stamps ``last_used_at = now()``; a repeat only moves the stamp."""
        adaptation_id = (
            str(adaptation.id)
            if isinstance(adaptation, ContentAdaptation)
            else uuid_text("adaptation", adaptation)
        )
        return call_single(
            self.settings,
            "mark_adaptation_used",
            {"adaptation_id": adaptation_id},
            ContentAdaptation,
            idempotent=True,
            timeout=timeout,
            missing=NotFoundError.row(self.spec.table, adaptation_id),
        )


class AsyncContentAdaptations(
    AsyncRead[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    AsyncCreate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    AsyncUpdate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    AsyncDelete[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    AsyncUpsert[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
):
    """The ``content_adaptations`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        @overload  # type: ignore[override, no-overload-impl]
        async def create(
            self, data: ContentAdaptationCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ContentAdaptation: ...

        @overload
        async def create(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationCreateFields],
        ) -> ContentAdaptation: ...

        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: ContentAdaptationUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationUpdateFields],
        ) -> ContentAdaptation: ...

        @overload  # type: ignore[override, no-overload-impl]
        async def upsert(
            self, data: ContentAdaptationCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ContentAdaptation: ...

        @overload
        async def upsert(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationCreateFields],
        ) -> ContentAdaptation: ...

    spec = SPEC
    core_class = ContentAdaptationsCore
    _core: ContentAdaptationsCore

    async def create_idea(
        self,
        original_idea: str,
        *,
        adaptations: Adaptations | dict[str, Any] | None = None,
        tone: str | None = None,
        target_audience: str | None = None,
        user_id: RowId | None = None,
        id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ContentAdaptation:
        """Add an idea, or get the one the user already has with the same text (one call, race-free).

        Args:
            original_idea: The idea; compared exactly as given (no trimming, no Unicode normalisation).
            adaptations: Per-platform adaptations for a new row.
            tone: Tone for a new row.
            target_audience: Audience for a new row.
            user_id: The user to act for; required with the service role, else the signed-in user.
            id: The new row's id; generated here by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The new row, or the existing one unchanged (this call's adaptations, tone and audience are
            then not applied).

        Raises:
            ValidationError: Empty idea, over-long fields, adaptations breaking a platform's rules, or no
                user (nothing was sent).
            PermissionDeniedError: A user acting for someone else, or an anon client.
        """
        fields = {
            "original_idea": original_idea,
            "adaptations": adaptations,
            "tone": tone,
            "target_audience": target_audience,
            "user_id": user_id,
            "id": id,
        }
        return await self._sender.run(self._core.create_idea(fields, timeout))

    async def mark_used(
        self, adaptation: ContentAdaptation | RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ContentAdaptation:
        """Stamp ``last_used_at`` with the server's current time.

        Args:
            adaptation: The adaptation or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: Not a UUID (nothing was sent).
            NotFoundError: No such adaptation visible to the caller.
        """
        return await self._sender.run(self._core.mark_used(adaptation, timeout))

    async def list_with_posts(
        self,
        *,
        where: query.WhereClause = None,
        order_by: ContentAdaptationOrder | Sequence[ContentAdaptationOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ContentAdaptationWithPosts]:
        """Like :meth:`list`, each adaptation with the posts published from it, in the same request.

        Args:
            where: Filters on the adaptations (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 adaptations.
            offset: Adaptations to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The adaptations; ``adaptation.published_posts`` are typed posts, oldest first.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            ContentAdaptationWithPosts,
            WITH_POSTS,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            embedded=POSTS_OLDEST_FIRST,
            timeout=timeout,
        )
        return await self._sender.run(operation)

    async def get_with_posts(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ContentAdaptationWithPosts:
        """One adaptation and the posts published from it, in one request.

        Args:
            id: The adaptation's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The adaptation; ``adaptation.published_posts`` are typed posts, oldest first.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such adaptation visible to the caller.
        """
        operation = self._core.get_embedded(
            ContentAdaptationWithPosts, WITH_POSTS, id, embedded=POSTS_OLDEST_FIRST, timeout=timeout
        )
        return await self._sender.run(operation)


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class ContentAdaptations(
    SyncRead[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    SyncCreate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    SyncUpdate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    SyncDelete[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
    SyncUpsert[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate, ContentAdaptationOrder],
):
    """The ``content_adaptations`` table."""

    if TYPE_CHECKING:

        @overload  # type: ignore[override, no-overload-impl]
        def create(
            self, data: ContentAdaptationCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ContentAdaptation: ...

        @overload
        def create(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationCreateFields],
        ) -> ContentAdaptation: ...

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: ContentAdaptationUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationUpdateFields],
        ) -> ContentAdaptation: ...

        @overload  # type: ignore[override, no-overload-impl]
        def upsert(
            self, data: ContentAdaptationCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> ContentAdaptation: ...

        @overload
        def upsert(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[ContentAdaptationCreateFields],
        ) -> ContentAdaptation: ...

    spec = SPEC
    core_class = ContentAdaptationsCore
    _core: ContentAdaptationsCore

    def create_idea(
        self,
        original_idea: str,
        *,
        adaptations: Adaptations | dict[str, Any] | None = None,
        tone: str | None = None,
        target_audience: str | None = None,
        user_id: RowId | None = None,
        id: RowId | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> ContentAdaptation:
        """Add an idea, or get the one the user already has with the same text (one call, race-free).

        Args:
            original_idea: The idea; compared exactly as given (no trimming, no Unicode normalisation).
            adaptations: Per-platform adaptations for a new row.
            tone: Tone for a new row.
            target_audience: Audience for a new row.
            user_id: The user to act for; required with the service role, else the signed-in user.
            id: The new row's id; generated here by default.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The new row, or the existing one unchanged (this call's adaptations, tone and audience are
            then not applied).

        Raises:
            ValidationError: Empty idea, over-long fields, adaptations breaking a platform's rules, or no
                user (nothing was sent).
            PermissionDeniedError: A user acting for someone else, or an anon client.
        """
        fields = {
            "original_idea": original_idea,
            "adaptations": adaptations,
            "tone": tone,
            "target_audience": target_audience,
            "user_id": user_id,
            "id": id,
        }
        return self._sender.run(self._core.create_idea(fields, timeout))

    def mark_used(
        self, adaptation: ContentAdaptation | RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ContentAdaptation:
        """Stamp ``last_used_at`` with the server's current time.

        Args:
            adaptation: The adaptation or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated row.

        Raises:
            ValidationError: Not a UUID (nothing was sent).
            NotFoundError: No such adaptation visible to the caller.
        """
        return self._sender.run(self._core.mark_used(adaptation, timeout))

    def list_with_posts(
        self,
        *,
        where: query.WhereClause = None,
        order_by: ContentAdaptationOrder | Sequence[ContentAdaptationOrder] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[ContentAdaptationWithPosts]:
        """Like :meth:`list`, each adaptation with the posts published from it, in the same request.

        Args:
            where: Filters on the adaptations (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000 adaptations.
            offset: Adaptations to skip.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The adaptations; ``adaptation.published_posts`` are typed posts, oldest first.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list_embedded(
            ContentAdaptationWithPosts,
            WITH_POSTS,
            where=where,
            order_by=order_by,
            limit=limit,
            offset=offset,
            embedded=POSTS_OLDEST_FIRST,
            timeout=timeout,
        )
        return self._sender.run(operation)

    def get_with_posts(
        self, id: RowId, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> ContentAdaptationWithPosts:
        """One adaptation and the posts published from it, in one request.

        Args:
            id: The adaptation's id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The adaptation; ``adaptation.published_posts`` are typed posts, oldest first.

        Raises:
            ValidationError: The id is not a UUID; nothing was sent.
            NotFoundError: No such adaptation visible to the caller.
        """
        operation = self._core.get_embedded(
            ContentAdaptationWithPosts, WITH_POSTS, id, embedded=POSTS_OLDEST_FIRST, timeout=timeout
        )
        return self._sender.run(operation)

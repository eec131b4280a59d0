"""The repository classes: thin facades that hand :class:`TableCore` operations to a sender.

Capabilities are mixins, so each table exposes exactly the methods its row-level security allows:
``Read`` (get, list, iter, count), ``Create`` (create, create_many), ``Update``, ``Delete``, ``Upsert``.
Every method takes ``timeout=`` (seconds, an ``httpx.Timeout``, or ``None`` for none), overriding the
client's per-attempt timeout for that call.

The async classes are the source; the sync ones (``SyncRead`` ...) are generated from them below the marker
by ``tools/async_to_sync.py``.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Generic, TypeAlias, TypeVar

from nexus_sdk import query
from nexus_sdk._http import AsyncSender, Operation, SyncSender
from nexus_sdk._results import RowList
from nexus_sdk.repositories._core import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_LIST_LIMIT,
    DEFAULT_PAGE_SIZE,
    CreateT,
    PageCursor,
    RowId,
    RowT,
    TableCore,
    TableSpec,
    UpdateT,
)
from nexus_sdk.settings import NOT_GIVEN, ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "AsyncCreate",
    "AsyncDelete",
    "AsyncRead",
    "AsyncRepository",
    "AsyncUpdate",
    "AsyncUpsert",
    "SyncCreate",
    "SyncDelete",
    "SyncRead",
    "SyncRepository",
    "SyncUpdate",
    "SyncUpsert",
]

OrderT = TypeVar("OrderT", bound=str)
"""A table's ``order_by`` values: its column names, and ``"-column"`` for descending (a ``Literal``)."""

PageFetcher: TypeAlias = "Callable[[Any, TimeoutTypes | NotGiven], Operation[builtins.list[Any]]]"


class AsyncRepository(Generic[RowT, CreateT, UpdateT, OrderT]):
    """Base of the repositories: one table, one client configuration."""

    spec: ClassVar[TableSpec[Any, Any, Any]]
    """The table this repository reads and writes."""
    core_class: ClassVar[type[TableCore[Any, Any, Any]]] = TableCore

    def __init__(
        self, sender: AsyncSender, settings: ClientSettings, keys: Callable[[], Any] | None = None
    ) -> None:
        self._core: TableCore[RowT, CreateT, UpdateT] = self.core_class(self.spec, settings, keys)
        self._sender = sender

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self._core.spec.table!r})"


class AsyncRead(AsyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Reading: ``get``, ``list``, ``iter``, ``count``."""

    async def get(self, id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> RowT:
        """Fetch one row by its id.

        Args:
            id: The row's primary key.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The row.

        Raises:
            NotFoundError: No row with this id is visible to the caller.
        """
        return await self._sender.run(self._core.get(id, timeout=timeout))

    async def list(
        self,
        *,
        where: query.WhereClause = None,
        order_by: OrderT | Sequence[OrderT] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[RowT]:
        """Fetch up to ``limit`` rows in one request.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000, Supabase's cap per response; use :meth:`iter` for everything.
            offset: Rows to skip (prefer :meth:`iter` for deep pages).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The rows.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list(
            where=where, order_by=order_by, limit=limit, offset=offset, timeout=timeout
        )
        return await self._sender.run(operation)

    def iter(
        self,
        *,
        where: query.WhereClause = None,
        order_by: OrderT | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> AsyncIterator[RowT]:
        """Iterate over every matching row, one keyset-paginated request per page.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            order_by: One column or ``"-column"``; the id breaks ties; NULLs come last.
            page_size: Rows per request, at most 1000.
            timeout: Per-request timeout.

        Returns:
            An iterator of rows; requests are made as it is consumed.

        Raises:
            ValidationError: Bad filter, ordering or page size (raised here, before iterating).
        """
        fetch = self._core.plan_pages(where=where, order_by=order_by, page_size=page_size)
        return self._pages(fetch, page_size, timeout)

    async def _pages(
        self, fetch: PageFetcher, page_size: int, timeout: TimeoutTypes | NotGiven
    ) -> AsyncIterator[RowT]:
        cursor = PageCursor(page_size)
        while not cursor.done:
            rows = await self._sender.run(fetch(cursor.last, timeout))
            for row in rows:
                yield row
            cursor.advance(rows)

    async def count(
        self, *, where: query.WhereClause = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> int:
        """Count matching rows without fetching them.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The exact count.
        """
        return await self._sender.run(self._core.count(where=where, timeout=timeout))


class AsyncCreate(AsyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Inserting: ``create``, ``create_many``."""

    async def create(
        self, data: CreateT | None = None, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Any
    ) -> RowT:
        """Insert one row; safe to retry (the id is generated client-side).

        Args:
            data: A Create model, or omit it and pass the columns as keywords.
            timeout: Overrides the client's timeout for this call.
            **fields: The columns, when ``data`` is omitted.

        Returns:
            The stored row. Creating again with the same id returns the stored row.

        Raises:
            ValidationError: The fields do not make a valid Create model.
            ConflictError: A unique constraint failed, or the id belongs to a row the caller cannot see.
        """
        operation = self._core.create(data, fields, timeout=timeout)
        # The operation encrypts any token before sending: none in clear stays in this frame meanwhile.
        del data, fields
        return await self._sender.run(operation)

    async def create_many(
        self,
        items: Iterable[CreateT | dict[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[RowT]:
        """Insert many rows, one request per batch.

        Args:
            items: Create models or dicts of columns; all are validated before anything is sent.
            batch_size: Rows per request, at most 1000.
            timeout: Per-request timeout.

        Returns:
            The stored rows, in input order.

        Raises:
            ValidationError: An item is invalid; nothing was sent.
            ConflictError: A unique constraint failed (earlier batches stay inserted).
        """
        operation = self._core.create_many(items, batch_size=batch_size, timeout=timeout)
        del items  # see create()
        return await self._sender.run(operation)


class AsyncUpdate(AsyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Updating one row by id."""

    async def update(
        self,
        id: RowId,
        patch: UpdateT | None = None,
        /,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        **fields: Any,
    ) -> RowT:
        """Change some columns of one row.

        Args:
            id: The row's primary key.
            patch: An Update model (only the fields set on it are sent), or omit it and pass keywords;
                a keyword set to ``None`` sets the column to NULL.
            timeout: Overrides the client's timeout for this call.
            **fields: The columns to change, when ``patch`` is omitted.

        Returns:
            The updated row.

        Raises:
            ValidationError: Invalid or empty patch.
            NotFoundError: No row with this id is visible to the caller.
        """
        return await self._sender.run(self._core.update(id, patch, fields, timeout=timeout))


class AsyncDelete(AsyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Deleting one row by id."""

    async def delete(self, id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> None:
        """Delete one row.

        Args:
            id: The row's primary key.
            timeout: Overrides the client's timeout for this call.

        Raises:
            NotFoundError: No row with this id is visible to the caller.
        """
        await self._sender.run(self._core.delete(id, timeout=timeout))


class AsyncUpsert(AsyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Insert-or-update on the table's natural key."""

    async def upsert(
        self, data: CreateT | None = None, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Any
    ) -> RowT:
        """Insert a row, or update the one with the same natural key.

        Args:
            data: A Create model, or omit it and pass the columns as keywords.
            timeout: Per-request timeout.
            **fields: The columns, when ``data`` is omitted.

        Returns:
            The stored row (its id is the existing row's when there was one).

        Raises:
            ValidationError: The fields do not make a valid Create model.
        """
        operation = self._core.upsert(data, fields, timeout=timeout)
        del data, fields  # see create()
        return await self._sender.run(operation)


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class SyncRepository(Generic[RowT, CreateT, UpdateT, OrderT]):
    """Base of the repositories: one table, one client configuration."""

    spec: ClassVar[TableSpec[Any, Any, Any]]
    """The table this repository reads and writes."""
    core_class: ClassVar[type[TableCore[Any, Any, Any]]] = TableCore

    def __init__(
        self, sender: SyncSender, settings: ClientSettings, keys: Callable[[], Any] | None = None
    ) -> None:
        self._core: TableCore[RowT, CreateT, UpdateT] = self.core_class(self.spec, settings, keys)
        self._sender = sender

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self._core.spec.table!r})"


class SyncRead(SyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Reading: ``get``, ``list``, ``iter``, ``count``."""

    def get(self, id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> RowT:
        """Fetch one row by its id.

        Args:
            id: The row's primary key.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The row.

        Raises:
            NotFoundError: No row with this id is visible to the caller.
        """
        return self._sender.run(self._core.get(id, timeout=timeout))

    def list(
        self,
        *,
        where: query.WhereClause = None,
        order_by: OrderT | Sequence[OrderT] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[RowT]:
        """Fetch up to ``limit`` rows in one request.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            order_by: A column, ``"-column"`` for descending, or a sequence of them.
            limit: At most 1000, Supabase's cap per response; use :meth:`iter` for everything.
            offset: Rows to skip (prefer :meth:`iter` for deep pages).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The rows.

        Raises:
            ValidationError: Bad filter, ordering or limit; nothing was sent.
        """
        operation = self._core.list(
            where=where, order_by=order_by, limit=limit, offset=offset, timeout=timeout
        )
        return self._sender.run(operation)

    def iter(
        self,
        *,
        where: query.WhereClause = None,
        order_by: OrderT | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Iterator[RowT]:
        """Iterate over every matching row, one keyset-paginated request per page.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            order_by: One column or ``"-column"``; the id breaks ties; NULLs come last.
            page_size: Rows per request, at most 1000.
            timeout: Per-request timeout.

        Returns:
            An iterator of rows; requests are made as it is consumed.

        Raises:
            ValidationError: Bad filter, ordering or page size (raised here, before iterating).
        """
        fetch = self._core.plan_pages(where=where, order_by=order_by, page_size=page_size)
        return self._pages(fetch, page_size, timeout)

    def _pages(self, fetch: PageFetcher, page_size: int, timeout: TimeoutTypes | NotGiven) -> Iterator[RowT]:
        cursor = PageCursor(page_size)
        while not cursor.done:
            rows = self._sender.run(fetch(cursor.last, timeout))
            yield from rows
            cursor.advance(rows)

    def count(self, *, where: query.WhereClause = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> int:
        """Count matching rows without fetching them.

        Args:
            where: Filters (see :mod:`nexus_sdk.query`).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The exact count.
        """
        return self._sender.run(self._core.count(where=where, timeout=timeout))


class SyncCreate(SyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Inserting: ``create``, ``create_many``."""

    def create(
        self, data: CreateT | None = None, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Any
    ) -> RowT:
        """Insert one row; safe to retry (the id is generated client-side).

        Args:
            data: A Create model, or omit it and pass the columns as keywords.
            timeout: Overrides the client's timeout for this call.
            **fields: The columns, when ``data`` is omitted.

        Returns:
            The stored row. Creating again with the same id returns the stored row.

        Raises:
            ValidationError: The fields do not make a valid Create model.
            ConflictError: A unique constraint failed, or the id belongs to a row the caller cannot see.
        """
        operation = self._core.create(data, fields, timeout=timeout)
        del data, fields
        return self._sender.run(operation)

    def create_many(
        self,
        items: Iterable[CreateT | dict[str, Any]],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[RowT]:
        """Insert many rows, one request per batch.

        Args:
            items: Create models or dicts of columns; all are validated before anything is sent.
            batch_size: Rows per request, at most 1000.
            timeout: Per-request timeout.

        Returns:
            The stored rows, in input order.

        Raises:
            ValidationError: An item is invalid; nothing was sent.
            ConflictError: A unique constraint failed (earlier batches stay inserted).
        """
        operation = self._core.create_many(items, batch_size=batch_size, timeout=timeout)
        del items
        return self._sender.run(operation)


class SyncUpdate(SyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Updating one row by id."""

    def update(
        self,
        id: RowId,
        patch: UpdateT | None = None,
        /,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        **fields: Any,
    ) -> RowT:
        """Change some columns of one row.

        Args:
            id: The row's primary key.
            patch: An Update model (only the fields set on it are sent), or omit it and pass keywords;
                a keyword set to ``None`` sets the column to NULL.
            timeout: Overrides the client's timeout for this call.
            **fields: The columns to change, when ``patch`` is omitted.

        Returns:
            The updated row.

        Raises:
            ValidationError: Invalid or empty patch.
            NotFoundError: No row with this id is visible to the caller.
        """
        return self._sender.run(self._core.update(id, patch, fields, timeout=timeout))


class SyncDelete(SyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Deleting one row by id."""

    def delete(self, id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> None:
        """Delete one row.

        Args:
            id: The row's primary key.
            timeout: Overrides the client's timeout for this call.

        Raises:
            NotFoundError: No row with this id is visible to the caller.
        """
        self._sender.run(self._core.delete(id, timeout=timeout))


class SyncUpsert(SyncRepository[RowT, CreateT, UpdateT, OrderT]):
    """Insert-or-update on the table's natural key."""

    def upsert(
        self, data: CreateT | None = None, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Any
    ) -> RowT:
        """Insert a row, or update the one with the same natural key.

        Args:
            data: A Create model, or omit it and pass the columns as keywords.
            timeout: Per-request timeout.
            **fields: The columns, when ``data`` is omitted.

        Returns:
            The stored row (its id is the existing row's when there was one).

        Raises:
            ValidationError: The fields do not make a valid Create model.
        """
        operation = self._core.upsert(data, fields, timeout=timeout)
        del data, fields
        return self._sender.run(operation)

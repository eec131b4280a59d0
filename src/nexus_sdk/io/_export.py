"""Export: a table streamed page by page in id order (keyset pages), one page in memory at a time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TextIO

from nexus_sdk._http import APIRequest, Operation, call
from nexus_sdk._types import NOT_GIVEN, NotGiven
from nexus_sdk.io._checkpoint import Progress
from nexus_sdk.io._formats import Format, RowWriter
from nexus_sdk.io._plan import interruptible
from nexus_sdk.io._tables import EXPORT_TABLES, MASK, resolve_table
from nexus_sdk.query import row_count
from nexus_sdk.repositories._core import PageCursor, TableCore
from nexus_sdk.repositories._handle import sync_table

if TYPE_CHECKING:
    from nexus_sdk.client import NexusClient
    from nexus_sdk.query import WhereClause
    from nexus_sdk.settings import TimeoutTypes

__all__ = ["DEFAULT_PAGE_SIZE", "export_rows"]

DEFAULT_PAGE_SIZE: Final = 1000


def _page(
    core: TableCore[Any, Any, Any],
    base: list[tuple[str, str]],
    after: str | None,
    page_size: int,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[list[dict[str, Any]]]:
    """The rows after id ``after`` (from the start if None), as the server sent them (JSON objects)."""
    params = list(base)
    if after is not None:
        params.append(("id", f"gt.{after}"))
    params += [("order", "id.asc"), ("limit", str(page_size))]
    request = APIRequest("GET", core.path, tuple(params), retry_safe=True, timeout=timeout)
    response = yield from call(request, core.settings)
    # An array of objects, or APIResponseValidationError (a proxy's page, another service at the URL).
    return response.rows()


def _reveal_tokens(core: TableCore[Any, Any, Any], page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decrypt the token columns of raw rows through the table's core (the one place that knows how)."""
    from nexus_sdk.models._fields import REVEAL_KEY

    tokens = core.spec.token_columns
    models = core.decode_rows(json.dumps(page).encode())
    revealed = []
    for raw, model in zip(page, models, strict=True):
        with interruptible():
            plain = model.model_dump(mode="json", context={REVEAL_KEY: True})
        revealed.append({**raw, **{c: plain.get(c) for c in tokens}})
    return revealed


def export_rows(
    client: NexusClient,
    table: str,
    out: TextIO,
    *,
    format: Format = "jsonl",
    include_tokens: bool = False,
    where: WhereClause = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    progress: bool = False,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    on_page: Callable[[int], None] | None = None,
    delimiter: str = ",",
    excel: bool = False,
) -> int:
    """Stream every visible row of a table to ``out``, in id order, one page in memory at a time.

    Args:
        client: With a user's token, the user's rows (RLS); with the service role, everyone's.
        table: Any of the six tables (or an alias).
        out: A text stream (a file opened with ``newline=""`` for CSV, or ``sys.stdout``).
        format: ``jsonl`` (one JSON object per line, every column) or ``csv`` (a header, then the
            table's columns; JSON columns as JSON text; NULL an empty cell, an empty string ``""``).
        include_tokens: Write OAuth tokens decrypted (needs ``NEXUS_ENCRYPTION_KEYS``). By default they
            are written as ``"**********"`` (or null when there is none).
        where: Filters (see :mod:`nexus_sdk.query`), e.g. ``{"user_id": "..."}``.
        page_size: Rows per request (at most 1000). A server that caps responses below ``page_size``
            (Supabase's ``max_rows``) is still read whole, by the same rule as ``iter()``.
        progress: Show a progress bar of rows written.
        timeout: Per-request timeout.
        on_page: Called with the running row count after each page.
        delimiter: The CSV cell separator (``;`` for spreadsheets in comma-decimal locales).
        excel: For spreadsheets: a UTF-8 byte-order mark first (Excel then reads the file as UTF-8, not in
            the machine's code page), CRLF line ends, and a text a spreadsheet would run as a formula
            (``=...``, ``+...``, ``-...``, ``@...``) written with an apostrophe in front, which the import
            takes off (see :mod:`nexus_sdk.io._formulas`).

    Returns:
        The number of rows written.

    Raises:
        ValidationError: Unknown table, bad filter or page size.
        DecryptionError: ``include_tokens`` and a token cannot be decrypted.
    """
    from nexus_sdk import query

    table = resolve_table(table, EXPORT_TABLES)
    row_count("page_size", page_size)
    handle = sync_table(getattr(client, table))
    core = handle.core
    base = query.compile_where(core.spec.row, where)
    tokens = core.spec.token_columns
    writer = RowWriter(out, format, table, delimiter=delimiter, excel=excel)
    bar = Progress(progress, f"export {table}")
    written = 0
    # The same paging rule as iter(): a short page may be the server's cap (Supabase's max_rows).
    cursor = PageCursor(page_size)
    try:
        while not cursor.done:
            after = None if cursor.last is None else str(cursor.last["id"])
            page = handle.sender.run(_page(core, base, after, page_size, timeout))
            cursor.advance(page)
            if not page:
                break
            if tokens:
                if include_tokens:
                    page = _reveal_tokens(core, page)
                else:
                    page = [{**r, **{c: MASK if r.get(c) else r.get(c) for c in tokens}} for r in page]
            for row in page:
                writer.write(row)
            written += len(page)
            bar.update(len(page))
            if on_page is not None:
                on_page(written)
    finally:
        bar.close()
    return written

"""Import and export Nexus rows: JSONL and CSV, validated up front, batched, idempotent and resumable.

Import (:func:`import_rows`, :func:`aimport_rows`, :func:`import_file`):

1. Every row is validated with the table's Create model before it is sent; a bad row is reported with its
   line number and the reason, and never sent. Validation streams: a full batch of valid rows goes out
   while the next rows are being validated, so the client's work overlaps the server's.
2. A row without an ``id`` gets one derived from its content (:func:`derive_id`), so importing the same
   file twice inserts nothing the second time. Tables with a natural key (``content_adaptations`` on
   ``(user_id, idea_hash)``, ``platform_connections`` on ``(user_id, platform)``) conflict on it, the
   others on the id.
3. Good rows go in batches (one request each, ``resolution=ignore-duplicates``), a few in flight at once.
   A batch the server refuses because of one of its rows is split in halves until the culprit is alone;
   that row is rejected with the server's reason and the others go in.
4. A checkpoint file records every finished batch with a digest of its rows, so re-running after Ctrl-C, a
   network fault or a persistent 503 finishes the job without sending those batches again (and without
   duplicates either way).

The :class:`ImportReport` accounts for every row: ``read == inserted + duplicates + rejected``.

Export (:func:`export_rows`) streams a table page by page (keyset pagination on the id), so memory stays
constant whatever the size. OAuth tokens are masked unless ``include_tokens=True`` asks for them decrypted.
The formats are described in ``docs/import-export.md``.

The package, by responsibility: ``_tables`` (names, aliases, what each table's spec says), ``_formats``
(JSONL/CSV read and write), ``_formulas`` (text a spreadsheet would run as a formula: escaped on export
for spreadsheets, read back on import), ``_ids`` (derived ids), ``_plan`` (validation and batching),
``_send`` (sending), ``_checkpoint`` (checkpoint and progress), ``_report``, ``_import``, ``_export``. It
reaches a table's core and sender only through :mod:`nexus_sdk.repositories._handle`.
"""

from __future__ import annotations

from nexus_sdk.io._export import DEFAULT_PAGE_SIZE, export_rows
from nexus_sdk.io._formats import (
    DateOrder,
    Format,
    ReadFormat,
    RowReadError,
    detect_format,
    guess_format,
    read_rows,
)
from nexus_sdk.io._ids import derive_id
from nexus_sdk.io._import import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONCURRENCY,
    aimport_rows,
    default_checkpoint_path,
    default_rejects_path,
    import_file,
    import_rows,
)
from nexus_sdk.io._report import ImportReport, RejectedRow
from nexus_sdk.io._tables import ALIASES, EXPORT_TABLES, IMPORT_TABLES, MASK, SERVER_COLUMNS, resolve_table

__all__ = [
    "ALIASES",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_PAGE_SIZE",
    "EXPORT_TABLES",
    "IMPORT_TABLES",
    "MASK",
    "SERVER_COLUMNS",
    "DateOrder",
    "Format",
    "ImportReport",
    "ReadFormat",
    "RejectedRow",
    "RowReadError",
    "aimport_rows",
    "default_checkpoint_path",
    "default_rejects_path",
    "derive_id",
    "detect_format",
    "export_rows",
    "guess_format",
    "import_file",
    "import_rows",
    "read_rows",
    "resolve_table",
]

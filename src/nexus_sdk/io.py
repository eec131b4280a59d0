"""Import and export Nexus rows: JSONL and CSV, validated up front, batched, idempotent and resumable.

Import (:func:`import_rows`, :func:`aimport_rows`, :func:`import_file`):

1. Every row is validated with the table's Create model before it is sent; a bad row is reported with its
   line number and the reason, and never sent. Validation streams: a full batch of valid rows goes out
   while the next rows are being validated, so the client's work overlaps the server's.
2. A row without an ``id`` gets one derived from its content (:func:`derive_id`), so importing the same
   file twice inserts nothing the second time. ``content_adaptations`` and ``platform_connections``
   conflict on their natural keys (``(user_id, idea_hash)``, ``(user_id, platform)``), the other tables
   on the id.
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
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO

from nexus_sdk import _redact
from nexus_sdk._types import NOT_GIVEN, NotGiven
from nexus_sdk.errors import (
    BadRequestError,
    ConfigurationError,
    ConflictError,
    PermissionDeniedError,
    UnprocessableEntityError,
    ValidationError,
)

if TYPE_CHECKING:
    from nexus_sdk._http import Operation
    from nexus_sdk.client import AsyncNexusClient, NexusClient
    from nexus_sdk.query import WhereClause
    from nexus_sdk.settings import TimeoutTypes

__all__ = [
    "EXPORT_TABLES",
    "IMPORT_TABLES",
    "MASK",
    "Format",
    "ImportReport",
    "RejectedRow",
    "aimport_rows",
    "derive_id",
    "export_rows",
    "import_file",
    "import_rows",
    "read_rows",
    "resolve_table",
]

Format = Literal["jsonl", "csv"]

IMPORT_TABLES: Final = ("content_adaptations", "voice_profiles", "published_posts", "platform_connections")
"""Tables :func:`import_rows` accepts."""
EXPORT_TABLES: Final = (
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
)
"""Tables :func:`export_rows` accepts."""

ALIASES: Final = {
    "adaptations": "content_adaptations",
    "ideas": "content_adaptations",
    "connections": "platform_connections",
    "profiles": "voice_profiles",
    "voices": "voice_profiles",
    "posts": "published_posts",
    "scheduled": "scheduled_posts",
}
"""Short names accepted wherever a table is named (``nexus-sdk import adaptations ideas.jsonl``)."""

MASK: Final = _redact.MASK
"""What a token looks like in an export without ``include_tokens`` and in a rejects file."""

NATURAL_KEYS: Final[Mapping[str, tuple[str, ...]]] = {
    "content_adaptations": ("user_id", "idea_hash"),
    "platform_connections": ("user_id", "platform"),
}
"""Unique keys imports conflict on; other tables conflict on the id."""

TOKEN_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "platform_connections": ("access_token", "refresh_token"),
}

JSON_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "content_adaptations": ("adaptations",),
    "voice_profiles": ("characteristics", "sample_posts"),
    "published_posts": ("metadata", "metrics"),
    "platform_connections": ("profile_data",),
}
"""Columns written as JSON text in CSV files (JSONB documents and arrays)."""

SERVER_COLUMNS: Final = frozenset({"created_at", "updated_at"})
"""Columns the database sets; an export carries them, an import ignores them."""

DEFAULT_BATCH_SIZE: Final = 500
DEFAULT_CONCURRENCY: Final = 4
DEFAULT_PAGE_SIZE: Final = 1000

# A fixed namespace, so the same row gets the same id on every machine and every run.
_ID_NAMESPACE: Final = uuid.UUID("5b0f7c8e-2d1a-4f64-9a53-6c1e0e7d4a11")
_CHECKPOINT_VERSION: Final = 2
# Errors that a single row can cause (a constraint, a foreign key, RLS on that row's user_id): the batch is
# split to find the row. Anything else (auth, 5xx after retries, network) stops the import.
_ROW_ERRORS: Final = (BadRequestError, ConflictError, PermissionDeniedError, UnprocessableEntityError)
_SECRET_WORDS: Final = ("token", "secret", "password", "apikey", "api_key")


def resolve_table(name: str, tables: Sequence[str] = EXPORT_TABLES) -> str:
    """The table a name or alias stands for.

    Args:
        name: A table name (``content_adaptations``) or an alias (``adaptations``).
        tables: The tables allowed here.

    Returns:
        The table name.

    Raises:
        ValidationError: Not one of ``tables``.
    """
    table = ALIASES.get(name, name)
    if table not in tables:
        message = f"Unknown table {name!r}; expected one of: {', '.join(tables)}."
        raise ValidationError(message, errors=[{"loc": ("table",), "msg": message, "type": "table"}])
    return table


# --- reports -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, and why."""

    line: int
    """The row's line in the file (1-based; the header is line 1 of a CSV), or its position in ``rows``."""
    reason: str
    """Why it was rejected (never contains a token)."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Validation errors (``loc``, ``msg``, ``type``), when the reason is a validation failure."""
    row: Any = None
    """The row as read, with tokens masked."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the rejects file."""
        errors = [{**e, "loc": list(e.get("loc", ()))} for e in self.errors]
        return {"line": self.line, "reason": self.reason, "errors": errors, "row": self.row}


@dataclass
class ImportReport:
    """What an import did. Every row read is counted exactly once: inserted, duplicate or rejected."""

    table: str
    read: int = 0
    """Rows read from the source (blank lines are not rows)."""
    inserted: int = 0
    """Rows the database did not have and now has."""
    duplicates: int = 0
    """Rows that were already there (same id or natural key), so were skipped."""
    rejects: list[RejectedRow] = field(default_factory=list)
    """The rows not imported, by line, with reasons."""
    batches: int = 0
    """Batches of valid rows."""
    resumed_batches: int = 0
    """Batches a checkpoint showed as already sent by an earlier, interrupted run."""
    seconds: float = 0.0
    """Wall time of this run."""
    rejects_path: Path | None = None
    """Where the rejects were written, if anywhere."""

    @property
    def rejected(self) -> int:
        """Rows not imported (invalid, or refused by the database)."""
        return len(self.rejects)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejects

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of this run."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-compatible values (the CLI's ``--json`` output)."""
        return {
            "table": self.table,
            "read": self.read,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "batches": self.batches,
            "resumed_batches": self.resumed_batches,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            "rejects_path": str(self.rejects_path) if self.rejects_path else None,
            "rejects": [r.to_json() for r in self.rejects[:100]],
        }

    def summary(self) -> str:
        """A few lines for people."""
        lines = [
            f"{self.table}: {self.read} read, {self.inserted} inserted, "
            f"{self.duplicates} skipped as duplicates, {self.rejected} rejected "
            f"({self.rows_per_second:,.0f} rows/s)"
        ]
        if self.resumed_batches:
            lines.append(
                f"resumed: {self.resumed_batches} of {self.batches} batches were sent by an earlier run"
            )
        for reject in self.rejects[:10]:
            lines.append(f"  line {reject.line}: {reject.reason}")
        if len(self.rejects) > 10:
            lines.append(f"  ... and {len(self.rejects) - 10} more")
        if self.rejects_path is not None and self.rejects:
            lines.append(f"rejected rows written to {self.rejects_path}")
        return "\n".join(lines)


# --- reading files -------------------------------------------------------------------------------------


def guess_format(path: str | os.PathLike[str]) -> Format:
    """``csv`` for a ``.csv`` file, else ``jsonl``."""
    return "csv" if str(path).lower().endswith(".csv") else "jsonl"


@dataclass(frozen=True, slots=True)
class _Source:
    line: int
    data: Any
    error: str | None = None


def read_rows(
    path: str | os.PathLike[str], table: str, *, format: Format | None = None
) -> Iterator[tuple[int, Any]]:
    """Read a JSONL or CSV file as ``(line, row)`` pairs, lazily.

    A line that cannot be parsed yields ``(line, ParseError)`` instead of a row (an exception instance,
    not raised), so the import reports it with the others.

    Args:
        path: The file.
        table: The table the rows are for (CSV needs it to know which columns hold JSON).
        format: ``jsonl`` or ``csv``; guessed from the extension if omitted.

    Returns:
        An iterator of ``(line number, dict or ValueError)``.
    """
    fmt = format or guess_format(path)
    for source in _read_source(Path(path), table, fmt):
        yield source.line, source.data if source.error is None else ValueError(source.error)


def _read_source(path: Path, table: str, fmt: Format) -> Iterator[_Source]:
    if fmt == "csv":
        yield from _read_csv(path, table)
        return
    # utf-8-sig: a byte-order mark (Windows editors, Excel's "CSV UTF-8") is not part of the first row.
    with path.open(encoding="utf-8-sig") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield _Source(number, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                yield _Source(number, None, "not a JSON object")
                continue
            yield _Source(number, data)


def _read_csv(path: Path, table: str) -> Iterator[_Source]:
    json_columns = JSON_COLUMNS.get(table, ())
    text_columns = _text_columns(table)
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        # The default (131,072 characters) refuses a long post that the database holds happily.
        csv.field_size_limit(_CSV_FIELD_LIMIT)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        consumed: list[str] = []  # the physical lines of the record being parsed

        def lines() -> Iterator[str]:
            for line in handle:
                consumed.append(line)
                yield line

        reader = csv.reader(lines())
        header = next(reader, None)
        if header is None:
            return
        consumed.clear()
        end = reader.line_num  # a record may span several lines (quoted newlines)
        for values in reader:
            start, end = end + 1, reader.line_num
            raw = "".join(consumed)
            consumed.clear()
            if not values:
                continue  # a blank line is not a row
            if len(values) > len(header):
                yield _Source(
                    start,
                    _mask(dict(zip(header, values, strict=False))),
                    "more fields than the header has columns",
                )
                continue
            quoted = _quoted_empty_fields(raw, len(values)) if "" in values else ()
            data: dict[str, Any] = {}
            error = None
            for index, (column, value) in enumerate(zip(header, values, strict=False)):
                if value == "":
                    # An unquoted empty cell means "not given" (the column takes its default); a quoted
                    # one ("") is an empty string, in a text column (PostgreSQL's COPY convention).
                    if column in text_columns and index < len(quoted) and quoted[index]:
                        data[column] = ""
                    continue
                if column in json_columns:
                    try:
                        data[column] = json.loads(value)
                    except ValueError:
                        error = f"column {column!r} is not valid JSON"
                        continue
                else:
                    data[column] = value
            yield _Source(start, data if error is None else _mask(data), error)


_CSV_FIELD_LIMIT: Final = 2**31 - 1
"""The largest cell a CSV file may hold (the csv module's limit is a C long; 32 bits on Windows)."""
_QUOTED_FIELD: Final = re.compile(r'"(?:[^"]++|"")*+"')


def _quoted_empty_fields(record: str, count: int) -> list[bool]:
    """Which fields of a raw CSV record are a quoted empty string (``""``); all False if unsure.

    The csv module reads ``""`` and an empty cell alike; this looks at the record's text to tell them
    apart. It only needs to find field boundaries, the values themselves come from the csv module.
    """
    text = record.rstrip("\r\n")
    flags: list[bool] = []
    pos, size = 0, len(text)
    while True:
        if text.startswith('""', pos) and (pos + 2 == size or text[pos + 2] == ","):
            flags.append(True)
            pos += 2
        else:
            if pos < size and text[pos] == '"':
                match = _QUOTED_FIELD.match(text, pos)
                pos = match.end() if match else size
            comma = text.find(",", pos)
            pos = size if comma < 0 else comma
            flags.append(False)
        if pos >= size:
            break
        pos += 1  # the comma
    return flags if len(flags) == count else [False] * count


# --- preparing rows ------------------------------------------------------------------------------------


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _mask(row: Any) -> Any:
    """A copy of ``row`` with every token-like value replaced by :data:`MASK`."""
    if not isinstance(row, Mapping):
        return None
    return {str(k): (MASK if _is_secret_name(str(k)) and v not in (None, "") else v) for k, v in row.items()}


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# What json.dumps(ensure_ascii=False) escapes in a string; a natural key without any of these is written as is.
_JSON_ESCAPED: Final = re.compile(r'[\x00-\x1f"\\]')
_NAMESPACE_BYTES: Final = _ID_NAMESPACE.bytes
# Stands in for a missing id while a row is validated (the Create model would otherwise draw a random one,
# a system call per row); the derived id replaces it before the row goes anywhere.
_PLACEHOLDER_ID: Final = uuid.UUID(int=0)


def _canonical_key(values: list[Any]) -> str:
    """``_canonical(values)`` for a natural key, without json.dumps when every value is a plain string."""
    # The escape test runs on the bare values: the '","' separators would always match it.
    if values and all(type(v) is str for v in values) and _JSON_ESCAPED.search("".join(values)) is None:
        return '["' + '","'.join(values) + '"]'
    return _canonical(values)


# sha1 hex digit 16 -> the same digit with the RFC 4122 variant bits (10xx) set.
_VARIANT_DIGIT: Final = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}


def _uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(_ID_NAMESPACE, name))``, without building two UUID objects per row."""
    text = hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).hexdigest()
    # Digit 12 becomes the version (5); digit 16 gets the variant bits. The rest is the hash as it is.
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT_DIGIT[text[16]]}{text[17:20]}-{text[20:32]}"


def derive_id(table: str, body: Mapping[str, Any]) -> str:
    """The id an imported row gets when it has none: the same row always gets the same id.

    ``content_adaptations`` and ``platform_connections`` derive it from their natural key (``user_id`` +
    ``idea_hash``, ``user_id`` + ``platform``); the other tables from all of the row's values.

    Args:
        table: The table.
        body: The validated row (as sent: ``user_id`` filled in, defaults applied).

    Returns:
        A UUID (version 5) as text.
    """
    key = NATURAL_KEYS.get(table)
    if key:
        material = _canonical_key([body.get(c) for c in key])
    else:
        material = _canonical({k: v for k, v in body.items() if k != "id"})
    return _uuid5_text(f"{table}\n{material}")


@dataclass(frozen=True, slots=True)
class _Staged:
    """A row that passed the cheap checks and awaits validation with the rest of its chunk."""

    line: int
    data: dict[str, Any]
    has_id: bool
    source: Any


@dataclass(frozen=True, slots=True)
class _Rows:
    """Valid rows ready to send, held as parallel lists of their line, source and JSON body.

    A batch stays in memory while earlier ones are in flight. Held as dicts, its bodies were promoted to
    the garbage collector's oldest generation, and the full collections that followed cost a third of a
    bulk import's time. As bytes they are not tracked by the collector at all.
    """

    lines: list[int]
    sources: list[Any]
    """The rows as read (mask them with :func:`_mask` before they go anywhere: they may hold tokens)."""
    payloads: list[bytes]
    """Each row's JSON body as sent (tokens encrypted)."""
    columns: str
    """The columns the rows set, comma-separated for PostgREST's ``columns``."""

    def __len__(self) -> int:
        return len(self.lines)

    def split(self) -> tuple[_Rows, _Rows]:
        middle = len(self.lines) // 2
        return (
            _Rows(self.lines[:middle], self.sources[:middle], self.payloads[:middle], self.columns),
            _Rows(self.lines[middle:], self.sources[middle:], self.payloads[middle:], self.columns),
        )

    def content(self) -> bytes:
        return b"[" + b",".join(self.payloads) + b"]"


@dataclass(frozen=True, slots=True)
class _Batch:
    index: int
    rows: _Rows
    digest: str
    """Identifies the batch's content, so a checkpoint is trusted only for the very same rows."""


def _repository(client: Any, table: str) -> Any:
    return getattr(client, table)


def _numbered(rows: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    for index, item in enumerate(rows, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            yield item
        else:
            yield index, item


def _batch_digest(table: str, batch_size: int, plain: list[bytes]) -> str:
    """SHA-256 of the table, the batch size and the batch's bodies before encryption, as one JSON array."""
    digest = hashlib.sha256(f"{table}\n{batch_size}\n".encode())
    digest.update(b"[" + b",".join(plain) + b"]")
    return digest.hexdigest()


_VALIDATION_CHUNK: Final = 100
"""Rows validated together: enough to amortise pydantic's per-call cost, few enough that the staged
rows die young instead of being promoted through the collector's generations."""


class _Planner:
    """Validates rows as they are read and hands out full batches; nothing is sent here.

    Validation streams, so the first batches are on the wire while later rows are still being checked:
    the client's work overlaps the server's instead of preceding it.
    """

    def __init__(self, core: Any, table: str, *, user_id: str | None, batch_size: int) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValidationError("batch_size must be between 1 and 1000.")
        acting_user = core.settings.user_id
        if user_id is not None and acting_user is not None and str(user_id) != acting_user:
            raise ConfigurationError("user_id differs from the user the client acts as; leave it out.")
        self.core = core
        self.table = table
        self.user_id = user_id
        self.acting_user = acting_user
        self.batch_size = batch_size
        self.tokens = TOKEN_COLUMNS.get(table, ())
        if self.tokens:
            # Tokens are encrypted as batches are prepared: a missing key fails here, before a row is read.
            core._ring()
        self.read = 0
        self.valid = 0
        self.batch_count = 0
        self.rejects: list[RejectedRow] = []

    def batches(self, rows: Iterable[Any]) -> Iterator[_Batch]:
        """Validate ``rows`` lazily and yield each batch as soon as it is full (the last may be short).

        Rows are validated in chunks, with one pydantic call for each (see
        ``TableCore._raw_create_bodies``); batches are still made of ``batch_size`` valid rows in order.
        """
        staged: list[_Staged] = []
        ready = _Ready()
        for line, item in _numbered(rows):
            self.read += 1
            row = self._stage(line, item)
            if row is None:
                continue
            staged.append(row)
            if len(staged) == _VALIDATION_CHUNK:
                self._validate(staged, ready)
                staged = []
                while len(ready.lines) >= self.batch_size:
                    yield self._batch(ready.take(self.batch_size))
        self._validate(staged, ready)
        while ready.lines:
            yield self._batch(ready.take(self.batch_size))

    def _batch(self, taken: tuple[_Rows, list[bytes]]) -> _Batch:
        rows, plain = taken
        index = self.batch_count
        self.batch_count += 1
        self.valid += len(rows)
        return _Batch(index, rows, _batch_digest(self.table, self.batch_size, plain))

    def _reject(self, line: int, reason: str, item: Any, errors: list[dict[str, Any]] | None = None) -> None:
        self.rejects.append(RejectedRow(line, reason, errors or [], _mask(item)))

    def _stage(self, line: int, item: Any) -> _Staged | None:
        """The checks that need no model; ``None`` when the row is rejected here."""
        if isinstance(item, Exception):
            self.rejects.append(RejectedRow(line, str(item)))
            return None
        if not isinstance(item, Mapping):
            self.rejects.append(RejectedRow(line, f"expected an object, got {type(item).__name__}"))
            return None
        data = dict(item)
        for column in SERVER_COLUMNS:
            data.pop(column, None)
        masked_tokens = [c for c in self.tokens if data.get(c) == MASK]
        if masked_tokens:
            reason = (
                f"{', '.join(masked_tokens)} is masked (an export without --include-tokens); "
                "export again with --include-tokens to move tokens"
            )
            self._reject(line, reason, item)
            return None
        owner = data.get("user_id")
        if owner in (None, "") and self.user_id is not None:
            data["user_id"] = owner = self.user_id
        if self.acting_user is not None and owner not in (None, "", self.acting_user):
            self._reject(line, "user_id is another user's; a user can only import their own rows", item)
            return None
        has_id = data.get("id") not in (None, "")
        if not has_id:
            data["id"] = _PLACEHOLDER_ID
        return _Staged(line, data, has_id, item)

    def _validate(self, staged: list[_Staged], ready: _Ready) -> None:
        """Validate staged rows together; reject the invalid ones by line, add the rest to ``ready``."""
        if not staged:
            return
        from nexus_sdk._http import encode_json

        core = self.core
        bodies = core._raw_create_bodies([row.data for row in staged])
        columns: set[str] = set()
        for row, body in zip(staged, bodies, strict=True):
            if isinstance(body, ValidationError):
                self._reject(row.line, body.message, row.source, list(body.errors))
                continue
            if not row.has_id:
                body["id"] = derive_id(self.table, body)
            try:
                # The checkpoint digest is taken before encryption (a fresh nonce each run would defeat it).
                plain = encode_json(body)
                payload = encode_json(core.encode_row(body)) if self.tokens else plain
            except ValueError as exc:  # e.g. a NaN in a free-form JSON column
                self._reject(row.line, str(exc), row.source)
                continue
            columns.update(body)
            ready.lines.append(row.line)
            ready.sources.append(row.source)
            ready.plain.append(plain)
            ready.payloads.append(payload)
        ready.add_columns(columns, len(ready.lines))


class _Ready:
    """Valid rows not yet in a batch: parallel lists, so that no per-row object outlives validation."""

    __slots__ = ("_columns", "lines", "payloads", "plain", "sources")

    def __init__(self) -> None:
        self.lines: list[int] = []
        self.sources: list[Any] = []
        self.plain: list[bytes] = []
        self.payloads: list[bytes] = []
        self._columns: list[tuple[int, set[str]]] = []
        """(rows so far, columns): the columns of each validated chunk, with the row count it ends at."""

    def add_columns(self, columns: set[str], end: int) -> None:
        if columns:
            self._columns.append((end, columns))

    def take(self, count: int) -> tuple[_Rows, list[bytes]]:
        """Remove the first ``count`` rows: as rows to send, and their bodies before encryption."""
        names: set[str] = set()
        for end, columns in self._columns:
            names |= columns
            if end >= count:
                break
        # Chunks wholly taken are dropped; the one split by the cut stays for the rows after it.
        self._columns = [(end - count, columns) for end, columns in self._columns if end > count]
        rows = _Rows(self.lines[:count], self.sources[:count], self.payloads[:count], ",".join(sorted(names)))
        plain = self.plain[:count]
        del self.lines[:count], self.sources[:count], self.payloads[:count], self.plain[:count]
        return rows, plain


# --- sending -------------------------------------------------------------------------------------------


@dataclass
class _BatchResult:
    inserted: int = 0
    duplicates: int = 0
    rejects: list[RejectedRow] = field(default_factory=list)

    def __add__(self, other: _BatchResult) -> _BatchResult:
        return _BatchResult(
            self.inserted + other.inserted, self.duplicates + other.duplicates, self.rejects + other.rejects
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejects": [r.to_json() for r in self.rejects],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> _BatchResult:
        rejects = [
            RejectedRow(
                int(r["line"]),
                str(r["reason"]),
                [{**e, "loc": tuple(e.get("loc", ()))} for e in r.get("errors", [])],
                r.get("row"),
            )
            for r in data.get("rejects", [])
        ]
        return cls(int(data["inserted"]), int(data["duplicates"]), rejects)


def _insert(core: Any, rows: _Rows, timeout: TimeoutTypes | NotGiven) -> Operation[int]:
    """One POST of ``rows``; returns how many were inserted (the others were already there)."""
    from nexus_sdk._http import APIRequest, call

    table = core.spec.table
    target = ",".join(NATURAL_KEYS.get(table, ("id",)))
    request = APIRequest(
        "POST",
        f"/{table}",
        # Rows may set different optional columns: name them all and let the rest take their defaults.
        (("columns", rows.columns), ("on_conflict", target), ("select", "id")),
        {"Prefer": "return=representation,resolution=ignore-duplicates,missing=default"},
        # Safe: a repeat conflicts with what the first attempt inserted and inserts nothing.
        retry_safe=True,
        timeout=timeout,
        content=rows.content(),
    )
    response = yield from call(request, core.settings)
    returned = response.json() or []
    return len(returned)


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", str(exc))
    # PostgREST's ``details`` may quote the whole failing row (ciphertext included): left out on purpose.
    return f"refused by the database ({code}): {message}" if code else f"refused by the database: {message}"


def _send(core: Any, rows: _Rows, timeout: TimeoutTypes | NotGiven) -> Operation[_BatchResult]:
    """Insert ``rows``; when one row makes the batch fail, split it until that row is alone and reject it."""
    try:
        inserted = yield from _insert(core, rows, timeout)
    except _ROW_ERRORS as exc:
        if len(rows) == 1:
            return _BatchResult(
                rejects=[RejectedRow(rows.lines[0], _reason(exc), row=_mask(rows.sources[0]))]
            )
        first_half, second_half = rows.split()
        first = yield from _send(core, first_half, timeout)
        second = yield from _send(core, second_half, timeout)
        return first + second
    return _BatchResult(inserted, len(rows) - inserted)


# --- checkpoints -----------------------------------------------------------------------------------------


class _Checkpoint:
    """The finished batches of an import, saved after each batch (atomically) so a re-run can skip them.

    Each batch is saved with the digest of its rows, and skipped on a re-run only if the batch at that
    position has the same digest: an edited file, another batch size or another owner sends it again
    (and the database's conflict handling keeps that free of duplicates).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.saved: dict[int, tuple[str, _BatchResult]] = {}
        self.done: dict[int, _BatchResult] = {}
        """The batches of this run that are finished, sent now or by an earlier run."""
        self.resumed = 0
        self._saving = asyncio.Lock()
        if path is not None and path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                saved = None
            if isinstance(saved, dict) and saved.get("version") == _CHECKPOINT_VERSION:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self.saved = {
                        int(k): (str(v["digest"]), _BatchResult.from_json(v))
                        for k, v in saved.get("batches", {}).items()
                    }

    def resume(self, batch: _Batch) -> _BatchResult | None:
        """The saved result of ``batch`` if an earlier run finished exactly these rows, else None."""
        entry = self.saved.get(batch.index)
        if entry is None or entry[0] != batch.digest:
            return None
        self.done[batch.index] = entry[1]
        self.resumed += 1
        return entry[1]

    def record(self, batch: _Batch, result: _BatchResult) -> None:
        """Note a finished batch and save the file."""
        self._remember(batch, result)
        if self.path is not None:
            self._write(self.path, self._text())

    async def arecord(self, batch: _Batch, result: _BatchResult) -> None:
        """Like :meth:`record`, writing the file in a worker thread so the event loop never waits on disk."""
        self._remember(batch, result)
        if self.path is None:
            return
        # One save at a time, each taken when its turn comes, so a late write never replaces a newer one.
        async with self._saving:
            await asyncio.to_thread(self._write, self.path, self._text())

    def _remember(self, batch: _Batch, result: _BatchResult) -> None:
        self.done[batch.index] = result
        self.saved[batch.index] = (batch.digest, result)

    def _text(self) -> str:
        payload = {
            "version": _CHECKPOINT_VERSION,
            "batches": {str(k): {"digest": d, **r.to_json()} for k, (d, r) in sorted(self.saved.items())},
        }
        return json.dumps(payload)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        # Atomically: a crash mid-write leaves the previous checkpoint, never half of a new one.
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)

    def finish(self) -> None:
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


class _Progress:
    def __init__(self, enabled: bool, total: int | None, initial: int, table: str) -> None:
        self._bar: Any = None
        if enabled:
            # tqdm.auto draws a widget in Jupyter and a text bar in a terminal.
            from tqdm.auto import tqdm

            self._bar = tqdm(
                total=total, initial=initial, unit="row", unit_scale=True, desc=f"import {table}", leave=True
            )

    def update(self, rows: int) -> None:
        if self._bar is not None:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _total(rows: Iterable[Any]) -> int | None:
    """The number of rows when known without reading them (a list), for the progress bar."""
    return len(rows) if isinstance(rows, Sized) else None


def _report(
    planner: _Planner, saved: _Checkpoint, started: float, rejects_path: str | os.PathLike[str] | None
) -> ImportReport:
    total = _BatchResult()
    for index in sorted(saved.done):
        total = total + saved.done[index]
    rejects = sorted([*planner.rejects, *total.rejects], key=lambda r: r.line)
    report = ImportReport(
        table=planner.table,
        read=planner.read,
        inserted=total.inserted,
        duplicates=total.duplicates,
        rejects=rejects,
        batches=planner.batch_count,
        resumed_batches=saved.resumed,
        seconds=time.perf_counter() - started,
    )
    if rejects_path is not None:
        report.rejects_path = Path(rejects_path)
        _write_rejects(report.rejects_path, rejects)
    return report


def _write_rejects(path: Path, rejects: list[RejectedRow]) -> None:
    if not rejects:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a stale file from an earlier run would contradict this report
        return
    with path.open("w", encoding="utf-8") as handle:
        for reject in rejects:
            handle.write(json.dumps(reject.to_json(), ensure_ascii=False, default=str) + "\n")


def _note_interrupted(exc: BaseException, planner: _Planner, saved: _Checkpoint, checkpoint: Any) -> None:
    where = f"; re-run to resume from {checkpoint}" if checkpoint is not None else "; re-run to finish"
    exc.add_note(
        f"import stopped after {len(saved.done)} of {planner.batch_count} batches read so far{where} "
        "(no row is sent twice)"
    )


def import_rows(
    client: NexusClient,
    table: str,
    rows: Iterable[Mapping[str, Any] | tuple[int, Any]],
    *,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
) -> ImportReport:
    """Import rows into a table: validate each, insert the valid ones in batches, idempotently.

    Rows are validated as they are read and every full batch of valid rows is sent at once, while the
    next rows are validated; an invalid row is rejected with its reason and never sent.

    Args:
        client: A client acting as a user (rows are theirs) or with the service-role key (each row needs a
            ``user_id``, or pass ``user_id=``).
        table: ``content_adaptations``, ``voice_profiles``, ``published_posts`` or ``platform_connections``
            (or an alias such as ``adaptations``).
        rows: Dicts of column values (a row's position, from 1, is its line number), or ``(line, dict)``
            pairs as :func:`read_rows` yields them. Read once, lazily.
        user_id: Owner of rows that carry no ``user_id`` (service role only).
        batch_size: Rows per request (at most 1000).
        concurrency: Batches in flight at once.
        progress: Show a progress bar (``tqdm.auto``: a widget in Jupyter).
        checkpoint: A file recording finished batches; a re-run with the same rows skips them.
            Deleted when the import completes.
        rejects_path: Write the rejected rows here as JSONL (tokens masked).
        timeout: Per-request timeout.

    Returns:
        The report; ``report.rejects`` lists rows not imported, by line.

    Raises:
        ValidationError: Unknown table or bad batch size (nothing was read).
        ConfigurationError: ``user_id`` contradicts the client's user, or tokens need
            ``NEXUS_ENCRYPTION_KEYS``.
        APIStatusError: The server failed for the import as a whole (auth, 5xx after retries); batches
            sent so far are in the checkpoint.
        APIConnectionError: The network failed after retries; likewise resumable.
    """
    table = resolve_table(table, IMPORT_TABLES)
    started = time.perf_counter()
    repo = _repository(client, table)
    core = repo._core
    planner = _Planner(core, table, user_id=str(user_id) if user_id else None, batch_size=batch_size)
    saved = _Checkpoint(Path(checkpoint) if checkpoint is not None else None)
    bar = _Progress(progress, _total(rows), 0, table)
    sender = repo._sender
    workers = max(1, concurrency)
    pending: dict[Future[_BatchResult], _Batch] = {}

    def collect(finished: Iterable[Future[_BatchResult]]) -> None:
        for future in finished:
            batch = pending.pop(future)
            saved.record(batch, future.result())
            bar.update(len(batch.rows))

    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nexus-import") as pool:
            try:
                for batch in planner.batches(rows):
                    if saved.resume(batch) is not None:
                        bar.update(len(batch.rows))
                        continue
                    pending[pool.submit(sender.run, _send(core, batch.rows, timeout))] = batch
                    # One batch may wait behind those in flight, ready the moment a worker frees up;
                    # beyond that, validating more would only hold rows in memory.
                    while len(pending) > workers:
                        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                        collect(finished)
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    collect(finished)
            except BaseException as exc:
                # Stop starting batches; those in flight finish (their result is recorded when it succeeds).
                for future in pending:
                    future.cancel()
                for future, batch in pending.items():
                    if not future.cancelled():
                        with contextlib.suppress(BaseException):
                            saved.record(batch, future.result())
                _note_interrupted(exc, planner, saved, checkpoint)
                raise
        bar.update(len(planner.rejects))
    finally:
        bar.close()
    report = _report(planner, saved, started, rejects_path)
    saved.finish()
    return report


async def aimport_rows(
    client: AsyncNexusClient,
    table: str,
    rows: Iterable[Mapping[str, Any] | tuple[int, Any]],
    *,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,  # noqa: ASYNC109  # the HTTP timeout, as on every call
) -> ImportReport:
    """Import rows with an :class:`~nexus_sdk.AsyncNexusClient`; see :func:`import_rows`."""
    table = resolve_table(table, IMPORT_TABLES)
    started = time.perf_counter()
    repo = _repository(client, table)
    core = repo._core
    planner = _Planner(core, table, user_id=str(user_id) if user_id else None, batch_size=batch_size)
    saved = _Checkpoint(Path(checkpoint) if checkpoint is not None else None)
    bar = _Progress(progress, _total(rows), 0, table)
    workers = max(1, concurrency)
    slots = asyncio.Semaphore(workers + 1)  # as in import_rows: one batch waits ready behind those in flight
    limit = asyncio.Semaphore(workers)
    sender = repo._sender

    async def one(batch: _Batch) -> None:
        try:
            async with limit:
                result = await sender.run(_send(core, batch.rows, timeout))
            await saved.arecord(batch, result)
            bar.update(len(batch.rows))
        finally:
            slots.release()

    try:
        async with asyncio.TaskGroup() as group:
            for batch in planner.batches(rows):
                if saved.resume(batch) is not None:
                    bar.update(len(batch.rows))
                    continue
                await slots.acquire()
                group.create_task(one(batch))
                # Validation is CPU work on the event loop: let the sends progress between batches.
                await asyncio.sleep(0)
        bar.update(len(planner.rejects))
    except BaseExceptionGroup as group_error:
        # Surface the first real failure (the others are the same fault or cancellations).
        first = group_error.exceptions[0]
        _note_interrupted(first, planner, saved, checkpoint)
        raise first from None
    except BaseException as exc:
        _note_interrupted(exc, planner, saved, checkpoint)
        raise
    finally:
        bar.close()
    report = _report(planner, saved, started, rejects_path)
    saved.finish()
    return report


def default_rejects_path(path: str | os.PathLike[str]) -> Path:
    """``FILE.rejects.jsonl`` next to ``FILE``."""
    return Path(f"{os.fspath(path)}.rejects.jsonl")


def default_checkpoint_path(path: str | os.PathLike[str]) -> Path:
    """``FILE.checkpoint.json`` next to ``FILE``."""
    return Path(f"{os.fspath(path)}.checkpoint.json")


def import_file(
    client: NexusClient,
    table: str,
    path: str | os.PathLike[str],
    *,
    format: Format | None = None,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | NotGiven | None = NOT_GIVEN,
    rejects_path: str | os.PathLike[str] | NotGiven | None = NOT_GIVEN,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
) -> ImportReport:
    """Import a JSONL or CSV file; what ``nexus-sdk import`` runs.

    Args:
        client: See :func:`import_rows`.
        table: See :func:`import_rows`.
        path: The file.
        format: ``jsonl`` or ``csv``; guessed from the extension if omitted.
        user_id: See :func:`import_rows`.
        batch_size: See :func:`import_rows`.
        concurrency: See :func:`import_rows`.
        progress: See :func:`import_rows`.
        checkpoint: Default ``FILE.checkpoint.json``; ``None`` for no checkpoint.
        rejects_path: Default ``FILE.rejects.jsonl``; ``None`` to write none.
        timeout: See :func:`import_rows`.

    Returns:
        The report.

    Raises:
        OSError: The file cannot be read.
        ValidationError: See :func:`import_rows`.
    """
    table = resolve_table(table, IMPORT_TABLES)
    if isinstance(checkpoint, NotGiven):
        checkpoint = default_checkpoint_path(path)
    if isinstance(rejects_path, NotGiven):
        rejects_path = default_rejects_path(path)
    return import_rows(
        client,
        table,
        read_rows(path, table, format=format),
        user_id=user_id,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=progress,
        checkpoint=checkpoint,
        rejects_path=rejects_path,
        timeout=timeout,
    )


# --- export --------------------------------------------------------------------------------------------


def _row_model(table: str) -> Any:
    """The model of a row of ``table`` as the API returns it."""
    from nexus_sdk import models

    row_models: dict[str, Any] = {
        "users": models.User,
        "platform_connections": models.PlatformConnection,
        "content_adaptations": models.ContentAdaptation,
        "voice_profiles": models.VoiceProfile,
        "published_posts": models.PublishedPost,
        "scheduled_posts": models.ScheduledPost,
    }
    return row_models[table]


def _csv_columns(table: str) -> list[str]:
    return list(_row_model(table).model_fields)


def _text_columns(table: str) -> frozenset[str]:
    """The columns that hold plain text, where a CSV cell ``""`` is an empty string (not NULL)."""
    from typing import get_args

    if table not in EXPORT_TABLES:
        return frozenset()
    found = set()
    for name, info in _row_model(table).model_fields.items():
        annotation = info.annotation
        if annotation is str or str in get_args(annotation):
            found.add(name)
    return frozenset(found)


def _csv_cell(value: Any) -> str | None:
    """A value as CSV text; None for NULL (written as an empty, unquoted cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


_CSV_SPECIAL: Final = re.compile(r'[,"\r\n]')


def _csv_field(cell: str | None) -> str:
    """RFC 4180 quoting, plus PostgreSQL's COPY convention: NULL is an empty cell, "" an empty string."""
    if cell is None:
        return ""
    if cell == "":
        return '""'
    if _CSV_SPECIAL.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class _Writer:
    def __init__(self, out: TextIO, fmt: Format, table: str) -> None:
        self._out = out
        self._csv = fmt == "csv"
        self._columns: list[str] = []
        if self._csv:
            self._columns = _csv_columns(table)
            out.write(",".join(self._columns) + "\n")

    def write(self, row: Mapping[str, Any]) -> None:
        if self._csv:
            self._out.write(",".join([_csv_field(_csv_cell(row.get(c))) for c in self._columns]) + "\n")
        else:
            self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


def _reveal_tokens(core: Any, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decrypt the token columns of raw rows through the repository (the one place that knows how)."""
    from nexus_sdk.models._fields import REVEAL_KEY

    models = core.decode_rows(json.dumps(page).encode())
    revealed = []
    for raw, model in zip(page, models, strict=True):
        plain = model.model_dump(mode="json", context={REVEAL_KEY: True})
        revealed.append({**raw, **{c: plain.get(c) for c in TOKEN_COLUMNS[core.spec.table]}})
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

    Returns:
        The number of rows written.

    Raises:
        ValidationError: Unknown table, bad filter or page size.
        DecryptionError: ``include_tokens`` and a token cannot be decrypted.
    """
    from nexus_sdk import query
    from nexus_sdk._http import APIRequest, call
    from nexus_sdk.repositories._core import PageCursor

    table = resolve_table(table, EXPORT_TABLES)
    if not 1 <= page_size <= 1000:
        raise ValidationError("page_size must be between 1 and 1000.")
    repo = _repository(client, table)
    core = repo._core
    base = query.compile_where(core.spec.row, where)
    tokens = TOKEN_COLUMNS.get(table, ())
    writer = _Writer(out, format, table)
    bar = _Progress(progress, None, 0, table) if progress else None
    written = 0
    # The same paging rule as iter(): a short page may be the server's cap (Supabase's max_rows).
    cursor = PageCursor(page_size)
    try:
        while not cursor.done:
            params = list(base)
            if cursor.last is not None:
                params.append(("id", f"gt.{cursor.last['id']}"))
            params += [("order", "id.asc"), ("limit", str(page_size))]
            request = APIRequest("GET", f"/{table}", tuple(params), retry_safe=True, timeout=timeout)
            page: list[dict[str, Any]] = repo._sender.run(call(request, core.settings)).json() or []
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
            if bar is not None:
                bar.update(len(page))
            if on_page is not None:
                on_page(written)
    finally:
        if bar is not None:
            bar.close()
    return written

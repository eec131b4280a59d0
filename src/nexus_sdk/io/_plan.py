"""Validation and batching: rows are checked as they are read and handed out in full batches of JSON bytes.

Nothing here sends anything. Validation streams, so the first batches are on the wire while later rows are
still being checked: the client's work overlaps the server's instead of preceding it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic_core import PydanticSerializationError

from nexus_sdk._http import encode_json
from nexus_sdk.errors import ConfigurationError, ValidationError
from nexus_sdk.io._ids import PLACEHOLDER_ID, id_deriver
from nexus_sdk.io._report import RejectedRow
from nexus_sdk.io._tables import MASK, SERVER_COLUMNS, mask
from nexus_sdk.models._fields import sha256_hex
from nexus_sdk.query import row_count
from nexus_sdk.repositories._core import TableCore
from nexus_sdk.repositories._handle import create_bodies, load_keys

__all__ = ["Batch", "Planner", "Rows", "fewer_collections", "interruptible"]

_VALIDATION_CHUNK: Final = 100
"""Rows validated together: enough to amortise pydantic's per-call cost, few enough that the staged
rows die young instead of being promoted through the collector's generations."""


@dataclass(slots=True)
class _Staged:
    """A row that passed the cheap checks and awaits validation with the rest of its chunk.

    (Not frozen: a frozen dataclass sets each field through ``object.__setattr__``, which tripled the cost
    of making one, per row.)
    """

    line: int
    data: dict[str, Any]
    has_id: bool
    source: Any


@dataclass(frozen=True, slots=True)
class Rows:
    """Valid rows ready to send, held as parallel lists of their line, source and JSON body.

    A batch stays in memory while earlier ones are in flight. Held as dicts, its bodies were promoted to
    the garbage collector's oldest generation, and the full collections that followed cost a third of a
    bulk import's time. As bytes they are not tracked by the collector at all.
    """

    lines: list[int]
    sources: list[Any]
    """The rows as read (mask them with :func:`~nexus_sdk.io._tables.mask` before they go anywhere:
    they may hold tokens)."""
    payloads: list[bytes]
    """Each row's JSON body as sent (tokens encrypted)."""
    columns: str
    """The columns the rows set, comma-separated for PostgREST's ``columns``."""

    def __len__(self) -> int:
        return len(self.lines)

    def split(self) -> tuple[Rows, Rows]:
        """The first half and the second half."""
        middle = len(self.lines) // 2
        return (
            Rows(self.lines[:middle], self.sources[:middle], self.payloads[:middle], self.columns),
            Rows(self.lines[middle:], self.sources[middle:], self.payloads[middle:], self.columns),
        )

    def content(self) -> bytes:
        """The request body: a JSON array of the rows."""
        return b"[" + b",".join(self.payloads) + b"]"


@dataclass(frozen=True, slots=True)
class Batch:
    """A batch of valid rows, numbered in the order it was read."""

    index: int
    rows: Rows
    digest: str
    """Identifies the batch's content, so a checkpoint is trusted only for the very same rows."""


_COLLECTOR_THRESHOLD: Final = (10_000, 20, 20)
"""The garbage collector's thresholds during an import. Each row allocates a few dicts and a model that
die within its chunk; with the default (700, 10, 10) the collector runs every few rows and promotes
chunks in flight, and that cost a fifth of the client's CPU per row (measured by CPU time, which the load
of a shared machine does not skew)."""
_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] = (0, 0, 0)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the garbage collector less often for the duration (thread-safe, nested, restored after)."""
    global _collector_users, _collector_saved
    with _collector_lock:
        if _collector_users == 0:
            _collector_saved = gc.get_threshold()
            if _collector_saved[0] > 0:  # 0: automatic collection is off; leave it so
                gc.set_threshold(
                    *(max(a, b) for a, b in zip(_collector_saved, _COLLECTOR_THRESHOLD, strict=True))
                )
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0 and _collector_saved[0] > 0:
                gc.set_threshold(*_collector_saved)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Let Ctrl-C out of pydantic's serializer as what it is.

    A ``KeyboardInterrupt`` raised while pydantic-core runs Python code during serialization arrives
    wrapped in a ``PydanticSerializationError`` (a ``ValueError``), which would pass for a bad row.
    """
    try:
        yield
    except (PydanticSerializationError, ValueError) as exc:
        # ValueError too: encode_json re-raises pydantic's error as one, with the same text.
        if "KeyboardInterrupt" in str(exc):
            raise KeyboardInterrupt from exc
        raise


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


class Planner:
    """Validates rows as they are read and hands out full batches; nothing is sent here."""

    def __init__(
        self, core: TableCore[Any, Any, Any], table: str, *, user_id: str | None, batch_size: int
    ) -> None:
        row_count("batch_size", batch_size)
        acting_user = core.settings.user_id
        if user_id is not None and acting_user is not None and str(user_id) != acting_user:
            raise ConfigurationError("user_id differs from the user the client acts as; leave it out.")
        self.core = core
        self.table = table
        self.user_id = user_id
        self.acting_user = acting_user
        self.batch_size = batch_size
        self.tokens = core.spec.token_columns
        self.derive_id = id_deriver(table)
        """The id of a row given none, from its body (:func:`~nexus_sdk.io._ids.derive_id`)."""
        # Tokens are encrypted as batches are prepared: a missing key fails here, before a row is read.
        load_keys(core)
        self.read = 0
        self.valid = 0
        self.batch_count = 0
        self.rejects: list[RejectedRow] = []

    def batches(self, rows: Iterable[Any]) -> Iterator[Batch]:
        """Validate ``rows`` lazily and yield each batch as soon as it is full (the last may be short).

        Rows are validated in chunks, with one pydantic call for each; batches are still made of
        ``batch_size`` valid rows in order.
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

    def _batch(self, taken: tuple[Rows, list[bytes]]) -> Batch:
        rows, plain = taken
        index = self.batch_count
        self.batch_count += 1
        self.valid += len(rows)
        return Batch(index, rows, _batch_digest(self.table, self.batch_size, plain))

    def _reject(self, line: int, reason: str, item: Any, errors: list[dict[str, Any]] | None = None) -> None:
        self.rejects.append(RejectedRow(line, reason, errors or [], mask(item)))

    def _stage(self, line: int, item: Any) -> _Staged | None:
        """The checks that need no model; ``None`` when the row is rejected here."""
        if isinstance(item, Exception):
            # A row the reader could not read (RowReadError) carries the row as read, masked.
            errors = list(getattr(item, "errors", None) or [])
            self.rejects.append(RejectedRow(line, str(item), errors, getattr(item, "row", None)))
            return None
        if type(item) is not dict and not isinstance(item, Mapping):
            reason = f"expected an object, got {type(item).__name__}"
            self.rejects.append(
                RejectedRow(line, reason, row=item if isinstance(item, str | int | float) else repr(item))
            )
            return None
        data = dict(item)
        for column in SERVER_COLUMNS:
            data.pop(column, None)
        if self.tokens:
            masked_tokens = [c for c in self.tokens if data.get(c) == MASK]
            if masked_tokens:
                reason = (
                    f"{' and '.join(masked_tokens)} {'is' if len(masked_tokens) == 1 else 'are'} masked "
                    "(an export without --include-tokens); "
                    "export again with --include-tokens to move tokens"
                )
                self._reject(line, reason, item)
                return None
        if self.table == "content_adaptations" and _stale_idea_hash(data):
            reason = (
                "idea_hash is not the SHA-256 of original_idea (was the idea edited after it was exported?); "
                "leave idea_hash empty and it is computed from the idea"
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
            data["id"] = PLACEHOLDER_ID
        return _Staged(line, data, has_id, item)

    def _validate(self, staged: list[_Staged], ready: _Ready) -> None:
        """Validate staged rows together; reject the invalid ones by line, add the rest to ``ready``."""
        if not staged:
            return
        core = self.core
        with interruptible():
            bodies = create_bodies(core, [row.data for row in staged])
        derive = self.derive_id
        valid: list[dict[str, Any]] = []
        for row, body in zip(staged, bodies, strict=True):
            if isinstance(body, ValidationError):
                continue
            if not row.has_id:
                body["id"] = derive(body)
            valid.append(body)
        # The common case: every body encoded by one call, its bytes cut apart (see _encode_rows).
        encoded = None if self.tokens else _encode_rows(valid, core.spec.primary_key)
        taken = iter(encoded or ())
        columns: set[str] = set()
        for row, body in zip(staged, bodies, strict=True):
            if isinstance(body, ValidationError):
                reason = body.message
                if any(error.get("type") == "timezone_aware" for error in body.errors):
                    reason += (
                        " (a timestamp without an offset: give its time zone with --timezone / timezone=)"
                    )
                self._reject(row.line, reason, row.source, list(body.errors))
                continue
            if encoded is not None:
                plain = payload = next(taken)
            else:
                try:
                    # The checkpoint digest is taken before encryption (a fresh nonce each run would
                    # defeat it).
                    with interruptible():
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


def _stale_idea_hash(data: Mapping[str, Any]) -> bool:
    """Whether a row gives an ``idea_hash`` that is not its ``original_idea``'s (a row edited in a spreadsheet,
    say): stored as it is, the row would never be found as a duplicate of its own idea, and importing it where
    the old idea is stored would count it a duplicate of that one and drop the edit."""
    given, idea = data.get("idea_hash"), data.get("original_idea")
    if not (isinstance(given, str) and given and isinstance(idea, str)):
        return False  # no hash (computed from the idea) or no idea: the model's own checks apply
    return given != sha256_hex(idea)


def _encode_rows(bodies: list[dict[str, Any]], key: str) -> list[bytes] | None:
    """``[encode_json(body) for body in bodies]`` from one encoder call; None when a row needs its own.

    The array is encoded at once and cut between its elements. Every body starts with ``key`` (the
    primary key: always sent, first of the model's fields), so each cut between two rows is the text
    ``},{"id":``; that text may also occur inside a row (a list of objects in a document), which then
    makes more pieces than rows, and the caller encodes row by row. So does a body that ``encode_json``
    refuses (a NaN, a NUL character): row by row, the error names the row.
    """
    if not bodies:
        return []
    if any(next(iter(body), None) != key for body in bodies):
        return None
    try:
        with interruptible():
            blob = encode_json(bodies)
    except ValueError:
        return None
    start = b'{"' + key.encode() + b'":'
    pieces = blob[len(start) + 1 : -2].split(b"}," + start)
    if len(pieces) != len(bodies):
        return None
    return [start + piece + b"}" for piece in pieces]


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

    def take(self, count: int) -> tuple[Rows, list[bytes]]:
        """Remove the first ``count`` rows: as rows to send, and their bodies before encryption."""
        names: set[str] = set()
        for end, columns in self._columns:
            names |= columns
            if end >= count:
                break
        # Chunks wholly taken are dropped; the one split by the cut stays for the rows after it.
        self._columns = [(end - count, columns) for end, columns in self._columns if end > count]
        rows = Rows(self.lines[:count], self.sources[:count], self.payloads[:count], ",".join(sorted(names)))
        plain = self.plain[:count]
        del self.lines[:count], self.sources[:count], self.payloads[:count], self.plain[:count]
        return rows, plain

"""The file formats: JSONL and CSV, read row by row and written row by row.

CSV follows PostgreSQL's ``COPY ... CSV`` conventions: an unquoted empty cell is NULL (the column takes its
default on import), a quoted empty cell ``""`` is an empty string in a text column, and JSON columns hold
JSON text.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TextIO

from nexus_sdk.io._tables import json_columns, mask, spec, text_columns

__all__ = ["Format", "RowWriter", "Source", "guess_format", "read_rows", "read_sources"]

Format = Literal["jsonl", "csv"]

_CSV_FIELD_LIMIT: Final = 2**31 - 1
"""The largest cell a CSV file may hold (the csv module's limit is a C long; 32 bits on Windows)."""
_QUOTED_FIELD: Final = re.compile(r'"(?:[^"]++|"")*+"')
_CSV_SPECIAL: Final = re.compile(r'[,"\r\n]')


def guess_format(path: str | os.PathLike[str]) -> Format:
    """``csv`` for a ``.csv`` file, else ``jsonl``."""
    return "csv" if str(path).lower().endswith(".csv") else "jsonl"


@dataclass(frozen=True, slots=True)
class Source:
    """One row of a file as read: its line, its values (or the reason it could not be read)."""

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
    for source in read_sources(Path(path), table, format or guess_format(path)):
        yield source.line, source.data if source.error is None else ValueError(source.error)


def read_sources(path: Path, table: str, fmt: Format) -> Iterator[Source]:
    """The rows of a file as :class:`Source` records."""
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
                yield Source(number, None, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                yield Source(number, None, "not a JSON object")
                continue
            yield Source(number, data)


def _read_csv(path: Path, table: str) -> Iterator[Source]:
    documents = json_columns(table)
    texts = text_columns(table)
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
                yield Source(
                    start,
                    mask(dict(zip(header, values, strict=False))),
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
                    if column in texts and index < len(quoted) and quoted[index]:
                        data[column] = ""
                    continue
                if column in documents:
                    try:
                        data[column] = json.loads(value)
                    except ValueError:
                        error = f"column {column!r} is not valid JSON"
                        continue
                else:
                    data[column] = value
            yield Source(start, data if error is None else mask(data), error)


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


# --- writing ---------------------------------------------------------------------------------------------


def _csv_cell(value: Any) -> str | None:
    """A value as CSV text; None for NULL (written as an empty, unquoted cell)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _csv_field(cell: str | None) -> str:
    """RFC 4180 quoting, plus PostgreSQL's COPY convention: NULL is an empty cell, "" an empty string."""
    if cell is None:
        return ""
    if cell == "":
        return '""'
    if _CSV_SPECIAL.search(cell):
        return '"' + cell.replace('"', '""') + '"'
    return cell


class RowWriter:
    """Writes rows to a text stream as JSONL, or as CSV with the table's columns as the header."""

    def __init__(self, out: TextIO, fmt: Format, table: str) -> None:
        self._out = out
        self._csv = fmt == "csv"
        self._columns: list[str] = []
        if self._csv:
            self._columns = list(spec(table).row.model_fields)
            out.write(",".join(self._columns) + "\n")

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row."""
        if self._csv:
            self._out.write(",".join([_csv_field(_csv_cell(row.get(c))) for c in self._columns]) + "\n")
        else:
            self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")

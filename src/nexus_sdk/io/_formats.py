"""The file formats: JSONL and CSV, read row by row and written row by row.

CSV follows PostgreSQL's ``COPY ... CSV`` conventions: an unquoted empty cell is NULL (the column takes its
default on import), a quoted empty cell ``""`` is an empty string in a text column, and JSON columns hold
JSON text. A record with fewer cells than the header, or cut off inside a quoted field, is refused, as
``COPY`` refuses it. Files saved by spreadsheets read as they are: a byte-order mark, CRLF line ends, ``;``
between cells (comma-decimal locales), another encoding (``encoding=``), trailing rows of empty cells,
timestamps without an offset (``timezone=``).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import itertools
import json
import os
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Final, Literal, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import from_json

from nexus_sdk.errors import ValidationError
from nexus_sdk.io._tables import (
    json_columns,
    known_columns,
    mask,
    mask_text,
    spec,
    text_columns,
    timestamp_columns,
)

__all__ = ["FileReader", "Format", "RowReadError", "RowWriter", "guess_format", "read_rows"]

Format = Literal["jsonl", "csv"]

_CSV_FIELD_LIMIT: Final = 2**31 - 1
"""The largest cell a CSV file may hold (the csv module's limit is a C long; 32 bits on Windows)."""
_QUOTED_FIELD: Final = re.compile(r'"(?:[^"]++|"")*+"')


def guess_format(path: str | os.PathLike[str]) -> Format:
    """``csv`` for a ``.csv`` or ``.tsv`` file (tabs are detected from the header), else ``jsonl``."""
    return "csv" if str(path).lower().endswith((".csv", ".tsv")) else "jsonl"


class RowReadError(ValueError):
    """A row that could not be read: the reason, and the row as read (tokens masked)."""

    def __init__(self, message: str, row: Any) -> None:
        super().__init__(message)
        self.row = row
        """The cells by column (CSV), or the line's text (JSONL), with tokens masked."""


def _invalid(message: str, loc: str) -> ValidationError:
    return ValidationError(message, errors=[{"loc": (loc,), "msg": message, "type": "value_error"}])


def _codec(encoding: str | None) -> str:
    """The codec to read with: UTF-8 by default, where a byte-order mark is not part of the first row."""
    name = encoding or "utf-8"
    try:
        info = codecs.lookup(name)
    except LookupError:
        message = f"Unknown encoding {name!r} (e.g. utf-8, cp1252, latin-1, utf-16)."
        raise _invalid(message, "encoding") from None
    # utf-8-sig: Windows editors and Excel's "CSV UTF-8" start the file with a byte-order mark.
    return "utf-8-sig" if info.name == "utf-8" else info.name


def _zone(timezone: str | None) -> tzinfo | None:
    if timezone is None:
        return None
    try:
        return ZoneInfo(timezone)
    except (ValueError, ZoneInfoNotFoundError):
        message = f"Unknown time zone {timezone!r} (an IANA name such as Europe/Paris, or UTC)."
        raise _invalid(message, "timezone") from None


def _check_encoding(path: Path, codec: str) -> None:
    """Decode the whole file once, so a file in another encoding fails before a row is read or sent.

    Raises:
        ValidationError: Names the line, the column and the byte, and how to say the right encoding.
    """
    with path.open("rb") as handle:
        decoder = codecs.getincrementaldecoder(codec)()
        try:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            pass
        else:
            return
        # Rare: find the line, reading again line by line.
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(codec)()
        number = 0
        where = "at its end: the last character is cut off"
        for number, raw in enumerate(handle, start=1):  # the number is used after the loop
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                where = f"line {number}, column {exc.start + 1}: byte 0x{raw[exc.start]:02x}"
                break
    utf8 = codec.startswith("utf-8")
    hint = "; pass --encoding (e.g. cp1252 for a file saved by Excel on Windows)" if utf8 else ""
    with path.open("rb") as handle:
        head = handle.read(2)
    if utf8 and head in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # Excel's "Unicode Text" (and some exports) are UTF-16: cp1252 would read them as garbage.
        hint = '; it starts with a UTF-16 byte-order mark (Excel\'s "Unicode Text"): pass --encoding utf-16'
    message = f"{path.name} is not {'UTF-8' if utf8 else codec} text: {where}{hint}."
    raise ValidationError(message, errors=[{"loc": ("line", number), "msg": message, "type": "encoding"}])


class FileReader:
    """The rows of a JSONL or CSV file as ``(line, row)`` pairs, with how far into the file it has read.

    The options are checked, the whole file is decoded once (a wrong encoding is an error naming the line)
    and a CSV header is checked (an unknown column is an error, once for the file, naming the column it
    was probably meant to be), all when the reader is made: before a row is read.
    """

    def __init__(
        self,
        path: Path,
        table: str,
        fmt: Format,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        timezone: str | None = None,
    ) -> None:
        if delimiter is not None and len(delimiter) != 1:
            raise _invalid(f"The delimiter must be one character, got {delimiter!r}.", "delimiter")
        self.path = path
        self.table = table
        self.format: Format = fmt
        self._codec = _codec(encoding)
        self._zone = _zone(timezone)
        self._handle: TextIO | None = None
        self.size = path.stat().st_size
        """The file's size in bytes."""
        _check_encoding(path, self._codec)
        self.delimiter = delimiter or ","
        """The CSV cell separator (given, or detected from the header)."""
        self.header: list[str] = []
        if fmt == "csv":
            self._read_header(delimiter)

    def position(self) -> int:
        """Bytes read so far (ahead of the rows handed out by at most one buffer)."""
        handle = self._handle
        if handle is None:
            return 0
        return self.size if handle.closed else handle.buffer.tell()

    def _open(self) -> TextIO:
        return self.path.open(encoding=self._codec, newline="" if self.format == "csv" else None)

    def _read_header(self, delimiter: str | None) -> None:
        with self._open() as handle:
            first = handle.readline()
            if delimiter is None:
                # Spreadsheets in comma-decimal locales (de, fr, ...) separate cells with ';' (or a tab).
                counts = {d: first.count(d) for d in (",", ";", "\t")}
                self.delimiter = max(counts, key=counts.__getitem__) if any(counts.values()) else ","
            header = next(csv.reader(itertools.chain([first], handle), delimiter=self.delimiter), [])
        self.header = [name.strip() for name in header]
        known = known_columns(self.table)
        unknown = [name for name in self.header if name and name not in known]
        if unknown:
            parts = []
            for name in unknown:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                parts.append(repr(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
            message = (
                f"{self.path.name}: unknown column{'s' if len(parts) > 1 else ''} in the header: "
                f"{', '.join(parts)}; {self.table} has: {', '.join(sorted(known))}."
            )
            raise ValidationError(message, errors=[{"loc": ("header",), "msg": message, "type": "header"}])

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        with self._open() as handle:
            self._handle = handle
            if self.format == "csv":
                yield from self._csv(handle)
            else:
                yield from self._jsonl(handle)

    def _jsonl(self, handle: TextIO) -> Iterator[tuple[int, Any]]:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                # pydantic-core's parser, about twice as fast as json's, gives the same values for every
                # line both accept (tests/unit/test_io_files.py compares them).
                data = from_json(text)
            except ValueError:
                # json.loads decides what pydantic-core refuses: it also reads lone surrogates (\ud800)
                # and deeper nesting, and its message says where the line is broken.
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    reason = f"invalid JSON: {exc.msg} at column {exc.colno}"
                    yield number, RowReadError(reason, mask_text(text))
                    continue
            if not isinstance(data, dict):
                yield number, RowReadError("not a JSON object", mask_text(text))
                continue
            yield number, self._zoned(data)

    def _zoned(self, data: dict[str, Any]) -> dict[str, Any]:
        """Naive timestamps (no offset, as spreadsheets write them) read in the given time zone."""
        zone = self._zone
        if zone is None:
            return data
        for column in timestamp_columns(self.table):
            value = data.get(column)
            if isinstance(value, str):
                try:
                    parsed = datetime.fromisoformat(value.strip())
                except ValueError:
                    continue  # validation says what is wrong with it
                if parsed.tzinfo is None:
                    data[column] = parsed.replace(tzinfo=zone).isoformat()
        return data

    def _csv(self, handle: TextIO) -> Iterator[tuple[int, Any]]:
        documents = json_columns(self.table)
        texts = text_columns(self.table)
        header = self.header
        width = len(header)
        delimiter = self.delimiter
        if csv.field_size_limit() < _CSV_FIELD_LIMIT:
            # The default (131,072 characters) refuses a long post that the database holds happily.
            csv.field_size_limit(_CSV_FIELD_LIMIT)
        consumed: list[str] = []  # the physical lines of the record being parsed
        ended = False  # the reader asked for a line past the last one

        def lines() -> Iterator[str]:
            nonlocal ended
            for line in handle:
                consumed.append(line)
                yield line
            ended = True

        reader = csv.reader(lines(), delimiter=delimiter)
        if next(reader, None) is None:
            return
        consumed.clear()
        end = reader.line_num  # a record may span several lines (quoted newlines)
        for values in reader:
            start, end = end + 1, reader.line_num
            raw = "".join(consumed)
            consumed.clear()
            if not any(values):
                continue  # a blank line, or a row of empty cells (spreadsheets leave them), is not a row
            if ended:
                # Only a quoted field left open makes the reader ask for a line past the end of the file.
                cells = mask(dict(zip(header, values, strict=False)))
                yield (
                    start,
                    RowReadError("the file ends inside a quoted field: this record is cut off", cells),
                )
                continue
            if len(values) != width:
                cells = mask(dict(zip(header, values, strict=False)))
                if len(values) > width:
                    reason = "more fields than the header has columns"
                else:
                    reason = f"missing data for column {header[len(values)]!r} ({width} columns expected)"
                yield start, RowReadError(reason, cells)
                continue
            quoted = _quoted_empty_fields(raw, width, delimiter) if "" in values else ()
            data: dict[str, Any] = {}
            error = None
            for index, (column, value) in enumerate(zip(header, values, strict=True)):
                if value == "":
                    # An unquoted empty cell means "not given" (the column takes its default); a quoted
                    # one ("") is an empty string, in a text column (PostgreSQL's COPY convention).
                    if column in texts and index < len(quoted) and quoted[index]:
                        data[column] = ""
                    continue
                if not column:
                    error = f"column {index + 1} has a value but no name in the header"
                elif column in documents:
                    try:
                        data[column] = json.loads(value)
                    except ValueError:
                        error = f"column {column!r} is not valid JSON"
                else:
                    data[column] = value
            if error is not None:
                yield start, RowReadError(error, mask(dict(zip(header, values, strict=True))))
            else:
                yield start, self._zoned(data)


def _quoted_empty_fields(record: str, count: int, delimiter: str = ",") -> list[bool]:
    """Which fields of a raw CSV record are a quoted empty string (``""``); all False if unsure.

    The csv module reads ``""`` and an empty cell alike; this looks at the record's text to tell them
    apart. It only needs to find field boundaries, the values themselves come from the csv module.
    """
    text = record.rstrip("\r\n")
    flags: list[bool] = []
    pos, size = 0, len(text)
    while True:
        if text.startswith('""', pos) and (pos + 2 == size or text[pos + 2] == delimiter):
            flags.append(True)
            pos += 2
        else:
            if pos < size and text[pos] == '"':
                match = _QUOTED_FIELD.match(text, pos)
                pos = match.end() if match else size
            found = text.find(delimiter, pos)
            pos = size if found < 0 else found
            flags.append(False)
        if pos >= size:
            break
        pos += 1  # the delimiter
    return flags if len(flags) == count else [False] * count


def read_rows(
    path: str | os.PathLike[str],
    table: str,
    *,
    format: Format | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Read a JSONL or CSV file as ``(line, row)`` pairs, lazily.

    A row that cannot be read yields ``(line, error)`` instead of a row: a :class:`RowReadError` (a
    ``ValueError``, not raised) whose ``row`` attribute holds the row as read, so the import reports it with the others. A
    CSV record cut off inside a quoted field (a truncated file), or with fewer cells than the header, is
    such an error, as PostgreSQL's ``COPY`` refuses it. Blank lines and CSV rows of empty cells are skipped.

    Args:
        path: The file.
        table: The table the rows are for (CSV needs it to know which columns hold JSON).
        format: ``jsonl`` or ``csv``; guessed from the extension if omitted.
        delimiter: The CSV cell separator; by default detected from the header (``,``, or ``;`` as
            spreadsheets save it in comma-decimal locales, or a tab).
        encoding: The file's text encoding; default UTF-8 (with or without a byte-order mark).
        timezone: An IANA time zone for timestamps written without an offset (as spreadsheets write
            them); without it such a timestamp is a rejected row.

    Returns:
        An iterator of ``(line number, dict or ValueError)``.

    Raises:
        ValidationError: The file is not in ``encoding`` (the message names the line), a CSV header
            names an unknown column, or an option is invalid; raised before any row is read.
    """
    fmt = format or guess_format(path)
    return iter(FileReader(Path(path), table, fmt, delimiter=delimiter, encoding=encoding, timezone=timezone))


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


class RowWriter:
    """Writes rows to a text stream as JSONL, or as CSV with the table's columns as the header.

    CSV cells are quoted as RFC 4180 says, with PostgreSQL's COPY convention: NULL is an empty cell, an
    empty string ``""``. ``excel=True`` starts the file with a UTF-8 byte-order mark (so Excel reads it as
    UTF-8, not in the machine's code page) and ends lines with CRLF.
    """

    def __init__(
        self, out: TextIO, fmt: Format, table: str, *, delimiter: str = ",", excel: bool = False
    ) -> None:
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise _invalid(
                f"The delimiter must be one character other than a quote, got {delimiter!r}.", "delimiter"
            )
        self._out = out
        self._csv = fmt == "csv"
        self._delimiter = delimiter
        excel = excel and self._csv  # a JSONL file is for programs, not spreadsheets
        self._end = "\r\n" if excel else "\n"
        self._special = re.compile("[" + re.escape(delimiter) + '"\r\n]')
        self._columns: list[str] = []
        if excel:
            out.write("\ufeff")
        if self._csv:
            self._columns = list(spec(table).row.model_fields)
            out.write(delimiter.join(self._columns) + self._end)

    def _field(self, cell: str | None) -> str:
        if cell is None:
            return ""
        if cell == "":
            return '""'
        if self._special.search(cell):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row."""
        if self._csv:
            cells = [self._field(_csv_cell(row.get(c))) for c in self._columns]
            self._out.write(self._delimiter.join(cells) + self._end)
        else:
            self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + self._end)

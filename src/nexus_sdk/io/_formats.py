"""The file formats: JSONL and CSV, read row by row and written row by row.

CSV follows PostgreSQL's ``COPY ... CSV`` conventions: an unquoted empty cell is NULL (the column takes its
default on import), a quoted empty cell ``""`` is an empty string in a text column, and JSON columns hold
JSON text. A record with fewer cells than the header, or cut off inside a quoted field, is refused, as
``COPY`` refuses it. Files saved by spreadsheets read as they are: a byte-order mark, CRLF line ends, ``;``
between cells (comma-decimal locales), another encoding (``encoding=``), trailing rows of empty cells,
timestamps without an offset (``timezone=``). A text a spreadsheet would run as a formula is written with an
apostrophe in front in a file for spreadsheets, and every CSV and ``.xlsx`` reader takes it off
(:mod:`._formulas`).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import itertools
import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic_core import from_json

from nexus_sdk.errors import ValidationError
from nexus_sdk.io._formulas import escape_formula, formula_columns, unescape_formula
from nexus_sdk.io._tables import (
    boolean_columns,
    json_columns,
    known_columns,
    mask,
    mask_text,
    spec,
    text_columns,
    timestamp_columns,
)

if TYPE_CHECKING:
    from nexus_sdk.io._xlsx import Sheet

__all__ = [
    "DateOrder",
    "FileReader",
    "Format",
    "ReadFormat",
    "RowReadError",
    "RowWriter",
    "detect_format",
    "guess_format",
    "read_rows",
]

Format = Literal["jsonl", "csv"]
"""The formats an export writes."""
ReadFormat = Literal["jsonl", "csv", "xlsx"]
"""The formats an import reads: an export's, and a spreadsheet's own ``.xlsx`` (``nexus-sdk[xlsx]``)."""
DateOrder = Literal["dmy", "mdy"]
"""How dates written with slashes or dots are read: day first (``06/12/2026`` is 6 December) or month first."""

_CSV_FIELD_LIMIT: Final = 2**31 - 1
"""The largest cell a CSV file may hold (the csv module's limit is a C long; 32 bits on Windows)."""
_QUOTED_FIELD: Final = re.compile(r'"(?:[^"]++|"")*+"')


def guess_format(path: str | os.PathLike[str]) -> Format:
    """``csv`` for a ``.csv`` or ``.tsv`` file (tabs are detected from the header), else ``jsonl``."""
    return "csv" if str(path).lower().endswith((".csv", ".tsv")) else "jsonl"


_ZIP_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SAVE_AS: Final = 'save it as "Excel Workbook (.xlsx)" or as "CSV UTF-8 (Comma delimited) (.csv)"'


def _not_readable(path: Path, what: str) -> ValidationError:
    message = f"{path.name} is {what}, which import does not read: {_SAVE_AS}, then import that file."
    return ValidationError(message, errors=[{"loc": ("file",), "msg": message, "type": "file_format"}])


def _zip_kind(path: Path) -> str:
    """What a ZIP-based file holds: ``xlsx``, or a description of another spreadsheet format."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype").decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, KeyError):
        return "a damaged or incomplete ZIP file (a spreadsheet still being written?)"
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        if "xl/workbook.bin" in names:
            return "an Excel binary workbook (.xlsb)"
        return "xlsx"
    if "opendocument.spreadsheet" in mimetype:
        return "an OpenDocument spreadsheet (.ods, LibreOffice Calc)"
    if any(name.startswith("Index/") for name in names):
        return "an Apple Numbers document"
    return "a ZIP archive, not a table"


def detect_format(path: str | os.PathLike[str]) -> ReadFormat:
    """The format to read ``path`` in, from its first bytes and then its extension.

    An ``.xlsx`` workbook is ``xlsx`` whatever its name; ``.csv``/``.tsv`` are CSV, and so is a ``.txt``
    file (Excel's "Unicode Text" and "Text (Tab delimited)") unless it starts with ``{`` (JSONL); anything
    else is JSONL.

    Raises:
        ValidationError: A spreadsheet format import does not read (``.xls``, ``.ods``, ``.xlsb``, Apple
            Numbers): the message says how to save it instead.
    """
    file = Path(path)
    with file.open("rb") as handle:
        head = handle.read(512)
    if head.startswith(_ZIP_MAGIC):
        kind = _zip_kind(file)
        if kind == "xlsx":
            return "xlsx"
        raise _not_readable(file, kind)
    if head.startswith(_OLE_MAGIC):
        raise _not_readable(file, "an Excel 97-2003 workbook (.xls)")
    suffix = file.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".numbers"):
        # Not a workbook inside, whatever the name says (a CSV renamed, an empty file): read it as text.
        return "csv"
    if suffix == ".txt":
        text = head.decode("utf-16" if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "latin-1")
        return "jsonl" if text.lstrip("\ufeff \t\r\n").startswith("{") else "csv"
    return guess_format(file)


class RowReadError(ValueError):
    """A row that could not be read: the reason, and the row as read (tokens masked)."""

    def __init__(self, message: str, row: Any, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.row = row
        """The cells by column (CSV), or the line's text (JSONL), with tokens masked."""
        self.errors: list[dict[str, Any]] = errors or []
        """The errors by column (``loc``, ``msg``, ``type``), when the reason is about a column."""


def _invalid(message: str, loc: str) -> ValidationError:
    return ValidationError(message, errors=[{"loc": (loc,), "msg": message, "type": "value_error"}])


def _codec(encoding: str | None, path: Path | None = None) -> str:
    """The codec to read with: UTF-8 by default, where a byte-order mark is not part of the first row.

    Without ``encoding``, a file that starts with a UTF-16 byte-order mark (Excel's "Unicode Text") is
    read as UTF-16: the mark says so, nothing is guessed.
    """
    if encoding is None and path is not None:
        with path.open("rb") as handle:
            if handle.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                return "utf-16"
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


def _cp1252_hint(byte: int | None) -> str:
    """What to pass for a file that is not UTF-8: cp1252 (Excel's "CSV" on Western Windows) if it can be."""
    excel = 'Excel\'s "CSV (Comma delimited)" on Windows'
    others = "cp1250 Central European, cp1251 Cyrillic, ..."
    if byte is None:
        return f"; pass --encoding with the encoding it was saved in (e.g. cp1252 for {excel})"
    try:
        shown = bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return (
            f" (no character in cp1252); pass --encoding with the encoding it was saved in, "
            f"e.g. a Windows code page: {others}"
        )
    return (
        f" ({shown!r} in cp1252). A CSV saved as {excel} is cp1252: pass --encoding cp1252 (or save it as "
        f'"CSV UTF-8"); a file from another language\'s Windows needs its code page ({others})'
    )


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
        byte: int | None = None
        found = False
        for chunk in handle:
            # A line ends with LF, CRLF, or CR alone (Excel for Mac's "CSV (Macintosh)").
            for raw in chunk.splitlines(keepends=True):
                number += 1
                try:
                    decoder.decode(raw)
                except UnicodeDecodeError as exc:
                    byte = raw[exc.start] if exc.start < len(raw) else None
                    where = f"line {number}, column {exc.start + 1}: byte 0x{raw[exc.start]:02x}"
                    found = True
                    break
            if found:
                break
    utf8 = codec.startswith("utf-8")
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    # Not guessed: a Cyrillic or Polish file read as cp1252 would import as the wrong letters, silently.
    hint = _cp1252_hint(byte) if utf8 else ""
    if utf8 and byte is not None and b"\r" in head and b"\n" not in head:
        # Lines ending in CR alone: Excel for Mac's "CSV (Macintosh)", in Mac OS Roman, where 0x8e is 'é'
        # (and 'Ž' in cp1252).
        shown = bytes([byte]).decode("mac_roman")
        hint = (
            f" ({shown!r} in mac_roman). Its lines end with CR alone, as Excel for Mac saves "
            '"CSV (Macintosh)": pass --encoding mac_roman (or save it as "CSV UTF-8")'
        )
    if utf8 and head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        # Excel's "Unicode Text" (and some exports) are UTF-16: cp1252 would read them as garbage.
        hint = '; it starts with a UTF-16 byte-order mark (Excel\'s "Unicode Text"): pass --encoding utf-16'
    message = f"{path.name} is not {'UTF-8' if utf8 else codec} text: {where}{hint}."
    raise ValidationError(message, errors=[{"loc": ("line", number), "msg": message, "type": "encoding"}])


def _column_name(name: str, known: frozenset[str]) -> str:
    """A header cell as a column name: spaces around it dropped, and its case if that makes it a column.

    Spreadsheet users retype headers as ``Original_Idea `` or ``IS_DEFAULT``; our columns are all lower case,
    so that reads as one column and no other.
    """
    name = name.strip()
    if name not in known and name.lower() in known:
        return name.lower()
    return name


def _not_json(column: str, exc: ValueError) -> str:
    detail = f": {exc.msg} at character {exc.pos + 1}" if isinstance(exc, json.JSONDecodeError) else ""
    return (
        f"column {column!r} is not valid JSON{detail} (numbers in JSON take a '.' for decimals and no "
        "thousands separators: 1234.5, not 1,234.5)"
    )


_BOOLEANS: Final = {
    # Excel writes a boolean cell in the language of its installation, in CSV files too.
    **dict.fromkeys(("WAHR", "VRAI", "VERDADERO", "VERDADEIRO", "VERO", "WAAR", "SANT", "SAND", "SANN", "PRAWDA", "TOSI", "PRAVDA", "IGAZ", "DOĞRU", "ИСТИНА"), True),
    **dict.fromkeys(("FALSCH", "FAUX", "FALSO", "ONWAAR", "FALSKT", "FALSK", "USANN", "FAŁSZ", "EPÄTOSI", "NEPRAVDA", "HAMIS", "YANLIŞ", "ЛОЖЬ"), False),
}  # fmt: skip
"""TRUE and FALSE as Excel writes them in other languages (German, French, Spanish, Portuguese, Italian,
Dutch, Swedish, Danish, Norwegian, Polish, Finnish, Czech, Hungarian, Turkish, Russian). English ``TRUE``/
``FALSE`` (and ``true``, ``1``, ``yes`` ...) are read by validation."""


def _boolean(value: str) -> str | bool:
    """A boolean cell: a localized TRUE/FALSE as a bool, anything else as it is (validation decides)."""
    return _BOOLEANS.get(value.strip().upper(), value)


_SEP_LINE: Final = re.compile(r"sep=(.)\r?\n?")
"""Excel's first line naming the cell separator (``sep=;``), in files written for Excel."""
_SCIENTIFIC: Final = re.compile(r"[+-]?\d+(?:[.,]\d+)?[Ee][+-]?\d+")
"""A number as a spreadsheet shows a long one: ``1.7890123456789E+018``."""


def _id_text_columns(table: str) -> frozenset[str]:
    """The text columns holding another system's id (``platform_post_id``): digits a spreadsheet mangles."""
    return frozenset(column for column in text_columns(table) if column.endswith("_id"))


def _lost_digits(column: str, value: str) -> str:
    return (
        f"column {column!r}: {value!r} is an id a spreadsheet turned into a number and wrote in scientific "
        "notation: its digits are lost; import the file as exported, or format the column as text "
        "before opening the file in the spreadsheet"
    )


_DAY_MONTH: Final = re.compile(
    r"(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{2}|\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?"
    r"\s*(?P<half>[AaPp]\.?[Mm]\.?)?)?"
)
_YEAR_FIRST: Final = re.compile(
    r"(?P<year>\d{4})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<a>\d{1,2})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,6}))?)?)?"
)
_ISO_FORMAT: Final = "YYYY-MM-DD HH:MM"


class Timestamps:
    """Reads a row's timestamp cells as spreadsheets write them, never guessing.

    - ISO 8601 (``2026-12-06 14:30``, ``2026-12-06T14:30:00+01:00``): as it is; one without an offset
      takes ``timezone`` (without it, validation rejects the row and says to pass ``--timezone``).
    - ``2026/12/06 14:30``: year first is always year, month, day.
    - ``12/6/2026 14:30``, ``06.12.2026``: day first or month first depends on the spreadsheet's locale,
      so it is read only with ``date_order`` (``dmy`` or ``mdy``); without it the row is rejected with a
      reason naming the column and the option. A two-digit year is 20YY (``12/06/26``, as LibreOffice
      writes a date cell): these tables hold no timestamps before 2000.
    - A bare number (``46362``, a date cell formatted as a number: the spreadsheet's day count) is
      rejected: validation would read it as seconds since 1970.
    """

    def __init__(self, table: str, zone: tzinfo | None, order: DateOrder | None) -> None:
        self.columns = tuple(sorted(timestamp_columns(table)))
        self.zone = zone
        self.order = order

    def read(
        self, data: dict[str, Any], as_read: Callable[..., Any], *args: Any
    ) -> dict[str, Any] | RowReadError:
        """``data`` with its timestamp cells as ISO 8601, or the error for the first one that is not.

        Args:
            data: The row (changed in place).
            as_read: ``as_read(*args)`` returns the row as read (tokens masked), for the error; called
                only then (no closure made per row: this runs for every row of an import).
            args: Its arguments.
        """
        read: dict[str, str] | None = None
        for column in self.columns:
            value = data.get(column)
            if not isinstance(value, str):
                continue
            try:
                text = self.text(value)
            except ValueError as exc:
                reason = f"column {column!r}: {exc}"
                error = {"loc": (column,), "msg": str(exc), "type": "timestamp_format"}
                return RowReadError(reason, as_read(*args), [error])
            if text is not value:
                read = read or {}
                read[column] = text
        if read:
            data.update(read)
        return data

    def text(self, value: str) -> str:
        """One cell as ISO 8601 text (an offset added from the time zone, when there is one).

        Raises:
            ValueError: The reason the cell is not read (slashes without a date order, a number, ...).
        """
        text = value.strip()
        parsed: datetime | None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = self._spreadsheet(text)
            if parsed is None:
                return value  # validation says what is wrong with it
        else:
            if parsed.tzinfo is not None or self.zone is None:
                return value  # as written; without an offset or a zone, validation names --timezone
        if parsed.tzinfo is None and self.zone is not None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.isoformat()

    def _spreadsheet(self, text: str) -> datetime | None:
        if re.fullmatch(r"[+-]?\d+(?:[.,]\d+)?", text):
            raise ValueError(
                f"{text!r} is a number, not a date (a date cell formatted as a number?); "
                f"format the column as a date, e.g. {_ISO_FORMAT}"
            )
        year_first = _YEAR_FIRST.fullmatch(text)
        match = year_first or _DAY_MONTH.fullmatch(text)
        if match is None:
            return None
        a, b, year = int(match["a"]), int(match["b"]), int(match["year"])
        if len(match["year"]) == 2:
            # LibreOffice writes a date cell as 12/06/26 by default. Every timestamp these tables hold
            # is after 2000, so a stated order reads 26 as 2026 (the docs say so).
            year += 2000
        if year_first:
            day, month = a, b
        elif self.order is None:
            if a > 12 >= b:
                fits = "it can only be day first: pass --date-order dmy"
            elif b > 12 >= a:
                fits = "it can only be month first: pass --date-order mdy"
            elif a > 12:
                raise ValueError(f"{text!r} is not a date (neither day nor month first)")
            else:
                fits = (
                    f"it may be {a} {_MONTHS[b - 1]} (--date-order dmy) or {b} {_MONTHS[a - 1]} "
                    "(--date-order mdy): pass the one the spreadsheet's locale writes"
                )
            raise ValueError(
                f"{text!r}: a date with slashes or dots is read only in a stated order; {fits} "
                f"(date_order= in Python), or format the column as {_ISO_FORMAT}"
            )
        elif self.order == "dmy":
            day, month = a, b
        else:
            month, day = a, b
        hour = int(match["hour"] or 0)
        half = (match.groupdict().get("half") or "").replace(".", "").lower()
        if half and not 1 <= hour <= 12:
            raise ValueError(f"{text!r} is not a time: the hour of an AM/PM time is 1 to 12")
        if half:
            hour = hour % 12 + (12 if half == "pm" else 0)
        fraction = (match["fraction"] or "").ljust(6, "0")
        order = (
            "year/month/day"
            if year_first
            else ("day/month/year" if self.order == "dmy" else "month/day/year")
        )
        try:
            return datetime(
                year,
                month,
                day,
                hour,
                int(match["minute"] or 0),
                int(match["second"] or 0),
                int(fraction),
            )
        except ValueError:
            raise ValueError(f"{text!r} is not a date read as {order}") from None


_MONTHS: Final = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip


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
        fmt: ReadFormat,
        *,
        delimiter: str | None = None,
        encoding: str | None = None,
        timezone: str | None = None,
        date_order: DateOrder | None = None,
        sheet: str | None = None,
    ) -> None:
        if delimiter is not None and len(delimiter) != 1:
            raise _invalid(f"The delimiter must be one character, got {delimiter!r}.", "delimiter")
        if date_order not in (None, "dmy", "mdy"):
            raise _invalid(f"The date order must be 'dmy' or 'mdy', got {date_order!r}.", "date_order")
        if sheet is not None and fmt != "xlsx":
            raise _invalid("A sheet is chosen only in an .xlsx workbook.", "sheet")
        self.path = path
        self.table = table
        self.format: ReadFormat = fmt
        self._zone = _zone(timezone)
        self._dates = Timestamps(table, self._zone, date_order)
        self._handle: TextIO | None = None
        self._sheet = sheet
        self._sheet_rows = (0, 0)  # rows read, rows the sheet has (for the position)
        self._open_sheet: Sheet | None = None  # the sheet being read
        self._header_sheet: Sheet | None = None  # opened for the header, read next (a workbook loads once)
        self._sep_line = False  # the file starts with Excel's "sep=X" line
        self.size = path.stat().st_size
        """The file's size in bytes."""
        self.delimiter = delimiter or ","
        """The CSV cell separator (given, or detected from the header)."""
        self.header: list[str] = []
        if fmt == "xlsx":
            self._codec = ""
            self._read_sheet_header()
            return
        with path.open("rb") as handle:
            head = handle.read(len(_OLE_MAGIC))
        if head.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
            # --format csv on a workbook would fail as "not UTF-8 text", which says nothing useful.
            kind = detect_format(path)  # raises for a format that is not read at all
            message = (
                f"{path.name} is an Excel workbook, not {fmt}: pass --format {kind} or leave --format out."
            )
            raise ValidationError(
                message, errors=[{"loc": ("format",), "msg": message, "type": "file_format"}]
            )
        self._codec = _codec(encoding, path)
        _check_encoding(path, self._codec)
        if fmt == "csv":
            self._read_header(delimiter)

    def position(self) -> int:
        """Bytes read so far (ahead of the rows handed out by at most one buffer)."""
        if self.format == "xlsx":
            done, total = self._sheet_rows
            if total:
                return self.size * min(done, total) // total
            # A workbook that does not say how many rows it has (written by a program): how far into
            # the file openpyxl has read.
            sheet = self._open_sheet
            return self.size if sheet is None else min(sheet.tell(), self.size)
        handle = self._handle
        if handle is None:
            return 0
        return self.size if handle.closed else handle.buffer.tell()

    def _open(self) -> TextIO:
        return self.path.open(encoding=self._codec, newline="" if self.format == "csv" else None)

    def _read_header(self, delimiter: str | None) -> None:
        with self._open() as handle:
            first = handle.readline()
            hint = _SEP_LINE.fullmatch(first)
            if hint:
                # "sep=;": a line files made for Excel start with, naming the separator; not the header.
                self._sep_line = True
                delimiter = delimiter or hint[1]
                self.delimiter = delimiter
                first = handle.readline()
            if delimiter is None:
                # Spreadsheets in comma-decimal locales (de, fr, ...) separate cells with ';' (or a tab).
                counts = {d: first.count(d) for d in (",", ";", "\t")}
                self.delimiter = max(counts, key=counts.__getitem__) if any(counts.values()) else ","
            header = next(csv.reader(itertools.chain([first], handle), delimiter=self.delimiter), [])
        self._check_header(header)

    def _read_sheet_header(self) -> None:
        from nexus_sdk.io._xlsx import Sheet

        sheet = Sheet(self.path, self._sheet)
        try:
            self._check_header(sheet.header)
        except BaseException:
            sheet.close()
            raise
        # Kept for the rows: opening a workbook reads all of its shared strings (0.7 s for 100k rows).
        self._header_sheet = sheet

    def _check_header(self, header: list[str]) -> None:
        known = known_columns(self.table)
        self.header = [_column_name(name, known) for name in header]
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
        if self.format == "xlsx":
            yield from self._iter_xlsx()
            return
        with self._open() as handle:
            self._handle = handle
            if self.format == "csv":
                yield from self._csv(handle)
            else:
                yield from self._jsonl(handle)

    def _iter_xlsx(self) -> Iterator[tuple[int, Any]]:
        from nexus_sdk.io._xlsx import Sheet, cell_value

        documents = json_columns(self.table)
        texts = text_columns(self.table)
        formulas = formula_columns(self.table)
        stamps = timestamp_columns(self.table)
        booleans = boolean_columns(self.table)
        header = self.header
        width = len(header)
        sheet = self._header_sheet or Sheet(self.path, self._sheet)
        self._header_sheet = None
        self._open_sheet = sheet
        try:
            self._sheet_rows = (0, sheet.rows)
            for number, cells in sheet:
                self._sheet_rows = (number, sheet.rows)
                values = [value for value, _ in cells]
                if all(v is None or v == "" for v in values):
                    continue  # an empty row, or a row of empty cells, is not a row
                data: dict[str, Any] = {}
                error: str | None = None
                column = ""
                for index, (value, is_error) in enumerate(cells):
                    if value is None:
                        continue
                    column = header[index] if index < width else ""
                    if not column:
                        error = f"column {index + 1} has a value but no name in the header"
                    elif is_error:
                        error = f"column {column!r} holds the spreadsheet error {value}"
                    elif value == "":
                        if column in texts:
                            data[column] = ""
                        continue
                    elif column in documents:
                        if not isinstance(value, str):
                            error = f"column {column!r} holds {value!r}, not JSON text"
                        else:
                            try:
                                data[column] = json.loads(value)
                            except ValueError as exc:
                                error = _not_json(column, exc)
                    elif column in booleans and isinstance(value, str):
                        data[column] = _boolean(value)
                    elif column in formulas and isinstance(value, str):
                        data[column] = unescape_formula(value)
                    else:
                        try:
                            data[column] = cell_value(
                                value, text=column in texts, timestamp=column in stamps, zone=self._zone
                            )
                        except ValueError as exc:
                            error = f"column {column!r}: {exc}"
                    if error is not None:
                        break
                as_read = _sheet_cells(header, values)
                if error is not None:
                    errors = [{"loc": (column,), "msg": error, "type": "cell"}] if column else []
                    yield number, RowReadError(error, as_read(), errors)
                else:
                    yield number, self._dates.read(data, as_read)
        finally:
            self._open_sheet = None
            sheet.close()

    def _jsonl(self, handle: TextIO) -> Iterator[tuple[int, Any]]:
        stamps = timestamp_columns(self.table)
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
            # Most rows have no timestamp: the check costs less than the call (this runs for every row).
            yield number, data if stamps.isdisjoint(data) else self._dates.read(data, mask, data)

    def _csv(self, handle: TextIO) -> Iterator[tuple[int, Any]]:
        stamps = timestamp_columns(self.table)
        documents = json_columns(self.table)
        texts = text_columns(self.table)
        formulas = formula_columns(self.table)  # a text cell "'=1" reads as "=1" (_formulas)
        ids = _id_text_columns(self.table)
        booleans = boolean_columns(self.table)
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
        if self._sep_line:
            next(reader, None)
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
            if len(values) > width and not any(values[width:]):
                del values[width:]  # empty cells past the header's last column (a spreadsheet's used range)
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
                    except ValueError as exc:
                        error = _not_json(column, exc)
                elif column in ids and _SCIENTIFIC.fullmatch(value):
                    error = _lost_digits(column, value)
                elif column in booleans:
                    data[column] = _boolean(value)
                elif column in formulas:
                    data[column] = unescape_formula(value)
                else:
                    data[column] = value
            if error is not None:
                yield start, RowReadError(error, mask(dict(zip(header, values, strict=True))))
            elif stamps.isdisjoint(data):
                yield start, data
            else:
                yield start, self._dates.read(data, _masked_cells, header, values)


def _masked_cells(header: list[str], values: list[str]) -> dict[str, Any] | None:
    return mask(dict(zip(header, values, strict=True)))


def _sheet_cells(header: list[str], values: list[Any]) -> Callable[[], Any]:
    """A function returning a sheet row as read (tokens masked, dates as text), for a rejected row."""

    def as_read() -> Any:
        cells = {
            (header[i] if i < len(header) and header[i] else f"column {i + 1}"): (
                v
                if isinstance(v, str | int | float | bool)
                else (v.isoformat() if isinstance(v, date | time) else str(v))
            )
            for i, v in enumerate(values)
            if v is not None
        }
        return mask(cells)

    return as_read


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
    format: ReadFormat | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
    date_order: DateOrder | None = None,
    sheet: str | None = None,
) -> Iterator[tuple[int, Any]]:
    """Read a JSONL, CSV or Excel (``.xlsx``) file as ``(line, row)`` pairs, lazily.

    A row that cannot be read yields ``(line, error)`` instead of a row: a :class:`RowReadError` (a
    ``ValueError``, not raised) whose ``row`` attribute holds the row as read, so the import reports it with the others. A
    CSV record cut off inside a quoted field (a truncated file), or with fewer cells than the header, is
    such an error, as PostgreSQL's ``COPY`` refuses it. Blank lines and CSV rows of empty cells are skipped.

    Args:
        path: The file.
        table: The table the rows are for (CSV needs it to know which columns hold JSON).
        format: ``jsonl``, ``csv`` or ``xlsx``; if omitted, detected (:func:`detect_format`): an Excel
            workbook by its content, then ``.csv``/``.tsv``/``.txt`` as CSV, anything else as JSONL.
        delimiter: The CSV cell separator; by default detected from the header (``,``, or ``;`` as
            spreadsheets save it in comma-decimal locales, or a tab).
        encoding: The file's text encoding; default UTF-8 (with or without a byte-order mark).
        timezone: An IANA time zone for timestamps written without an offset (as spreadsheets write
            them, and as an ``.xlsx`` stores every date); without it such a timestamp is a rejected row.
        date_order: ``dmy`` or ``mdy``: how to read dates written with slashes or dots
            (``06/12/2026 14:30``); without it such a date is a rejected row, never a guess.
        sheet: The worksheet of an ``.xlsx`` workbook; needed when it has more than one.

    Returns:
        An iterator of ``(line number, dict or ValueError)``.

    Raises:
        ValidationError: The file is not in ``encoding`` (the message names the line), a header names an
            unknown column, the file is a spreadsheet format that is not read (``.xls``, ``.ods``,
            Numbers: the message says how to save it), or an option is invalid; raised before any row is
            read.
        ConfigurationError: An ``.xlsx`` file without openpyxl (``pip install 'nexus-sdk[xlsx]'``).
    """
    fmt = format or detect_format(path)
    reader = FileReader(
        Path(path),
        table,
        fmt,
        delimiter=delimiter,
        encoding=encoding,
        timezone=timezone,
        date_order=date_order,
        sheet=sheet,
    )
    return iter(reader)


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
    UTF-8, not in the machine's code page), ends lines with CRLF, and writes a text a spreadsheet would run
    as a formula (``=HYPERLINK(...)``, ``- item``) with an apostrophe in front (:mod:`._formulas`).
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
        self._formulas: frozenset[str] = frozenset()
        # Text a spreadsheet would run as a formula is escaped only in a file for spreadsheets; a plain
        # CSV is for programs (COPY, pandas, our import), which read "=1" as the text it is. Both escape a
        # text that already looks escaped ("'=1"), so that the import's unescape gives every text back.
        self._spreadsheet = excel
        if excel:
            out.write("\ufeff")
        if self._csv:
            self._columns = list(spec(table).row.model_fields)
            self._formulas = formula_columns(table)
            out.write(delimiter.join(self._columns) + self._end)

    def _field(self, cell: str | None) -> str:
        if cell is None:
            return ""
        if cell == "":
            return '""'
        if self._special.search(cell):
            return '"' + cell.replace('"', '""') + '"'
        return cell

    def _cell(self, column: str, value: Any) -> str:
        if isinstance(value, str) and column in self._formulas:
            return self._field(escape_formula(value, spreadsheet=self._spreadsheet))
        return self._field(_csv_cell(value))

    def write(self, row: Mapping[str, Any]) -> None:
        """Write one row."""
        if self._csv:
            cells = [self._cell(c, row.get(c)) for c in self._columns]
            self._out.write(self._delimiter.join(cells) + self._end)
        else:
            self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + self._end)

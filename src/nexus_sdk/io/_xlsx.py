"""Excel workbooks (``.xlsx``) read row by row with openpyxl, the ``xlsx`` extra.

A sheet's first row is the header; its cells are read by type, as a CSV cell's text would be: text as
it is (JSON columns parsed), numbers as text in text columns, dates and times as timestamps. Excel stores
a date without a time zone, so a timestamp cell needs ``timezone=`` as a CSV cell without an offset
does. A number in a timestamp column (a date cell formatted as a number) and an error cell (``#N/A``)
reject their row: neither has a meaning we could import without guessing.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from nexus_sdk.errors import ConfigurationError, ValidationError

__all__ = ["Sheet", "cell_value"]

_EXACT_DIGITS = 1e15
"""Excel keeps 15 significant digits: a number cell at or above this may have lost some."""
_EXTRA_HINT = (
    "reading .xlsx files needs openpyxl: pip install 'nexus-sdk[xlsx]' (or save the sheet as CSV UTF-8)"
)


class Sheet:
    """One worksheet of a workbook, opened read-only: its header and its rows as ``(row number, cells)``."""

    def __init__(self, path: Path, sheet: str | None) -> None:
        try:
            import openpyxl
        except ImportError as exc:
            raise ConfigurationError(_EXTRA_HINT) from exc
        # A file object, not the path: openpyxl judges a path by its extension, and a workbook saved as
        # ".csv" by mistake is still a workbook. A read-only workbook reads it until it is closed.
        self._file = path.open("rb")
        try:
            # data_only: a formula cell reads as the value Excel saved with it, not as its formula.
            self._book = openpyxl.load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            self._file.close()
            message = f"{path.name} cannot be read as an Excel workbook: {type(exc).__name__}: {exc}"
            raise ValidationError(
                message, errors=[{"loc": ("file",), "msg": message, "type": "file_format"}]
            ) from None
        # Closed by close(), or when the sheet is dropped unread (a reader that only looked at the header).
        self._closer = weakref.finalize(self, _close, self._book, self._file)
        try:
            names = list(self._book.sheetnames)
            worksheets = {ws.title: ws for ws in self._book.worksheets}
            if sheet is None and len(worksheets) > 1:
                listed = ", ".join(repr(n) for n in worksheets)
                message = f"{path.name} has {len(worksheets)} sheets ({listed}): pass --sheet NAME (sheet= in Python)."
                raise ValidationError(message, errors=[{"loc": ("sheet",), "msg": message, "type": "sheet"}])
            if sheet is not None and sheet not in worksheets:
                listed = ", ".join(repr(n) for n in worksheets)
                message = f"{path.name} has no sheet {sheet!r}; its sheets: {listed}."
                raise ValidationError(message, errors=[{"loc": ("sheet",), "msg": message, "type": "sheet"}])
            if not worksheets:
                message = f"{path.name} has no worksheet (sheets: {', '.join(names)})."
                raise ValidationError(message, errors=[{"loc": ("sheet",), "msg": message, "type": "sheet"}])
            self._sheet = worksheets[sheet] if sheet is not None else next(iter(worksheets.values()))
            self.rows: int = self._sheet.max_row or 0
            """How many rows the sheet says it has (for progress; 0 if it does not say)."""
            self.header = self._header()
        except BaseException:
            self.close()
            raise

    def _header(self) -> list[str]:
        for cells in self._sheet.iter_rows(min_row=1, max_row=1):
            header = ["" if c.value is None else str(c.value).strip() for c in cells]
            while header and not header[-1]:
                header.pop()  # columns a spreadsheet reports past the last header cell
            return header
        return []

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        """The rows after the header as ``(row number, cells)``; a cell is ``(value, is_error)``."""
        for number, cells in enumerate(self._sheet.iter_rows(min_row=2), start=2):
            yield number, [(c.value, getattr(c, "data_type", None) == "e") for c in cells]

    def tell(self) -> int:
        """How far into the file the workbook has read (its sheet is read as it goes)."""
        return 0 if self._file.closed else self._file.tell()

    def close(self) -> None:
        """Close the workbook (a read-only workbook keeps its file open until then)."""
        self._closer()


def _close(book: Any, file: Any) -> None:
    try:
        book.close()
    finally:
        file.close()


def cell_value(value: Any, *, text: bool, timestamp: bool, zone: tzinfo | None) -> Any:
    """A typed cell as the value a CSV cell's text would give.

    Args:
        value: The cell's value (``str``, ``int``, ``float``, ``bool``, ``datetime``, ...).
        text: The column holds text: numbers are written as text (``123``, not ``123.0``).
        timestamp: The column holds a timestamp: a datetime takes ``zone``; a number is refused.
        zone: The time zone of the workbook's dates, if given.

    Raises:
        ValueError: The cell cannot stand for a value of its column.
    """
    if isinstance(value, datetime | date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, datetime):
        if timestamp and value.tzinfo is None and zone is not None:
            value = value.replace(tzinfo=zone)
        return value.isoformat(sep=" " if not timestamp else "T")
    if isinstance(value, time | timedelta):
        if timestamp:
            raise ValueError(f"{value} is a time of day or a duration, not a date")
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if timestamp:
            raise ValueError(
                f"{value!r} is a number, not a date (a date cell formatted as a number?); "
                "format the column as a date"
            )
        if text:
            if abs(value) >= _EXACT_DIGITS:
                # An id typed into a number cell: the spreadsheet kept 15 digits and lost the rest.
                raise ValueError(
                    f"{value!r} is a number too long for a spreadsheet to keep exactly; "
                    "format the column as text and type it again"
                )
            return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return value

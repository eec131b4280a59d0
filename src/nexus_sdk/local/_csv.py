"""``Content-Type: text/csv`` request bodies, read as PostgREST reads them (into the rows of an insert)."""

from __future__ import annotations

import csv
import io

from nexus_sdk.local._errors import ApiError

__all__ = ["csv_rows"]


def csv_rows(raw: bytes) -> list[dict[str, str | None]]:
    """The rows of a CSV body: a header line of column names, then one record per line.

    As PostgREST reads it: fields are RFC 4180 (double quotes, ``""`` inside them), the value ``NULL`` is
    null and every other value a string (the column's type reads it); a record's fields past the header's
    are dropped.

    Raises:
        ApiError: 400 PGRST102 for a body that is not UTF-8 CSV, or records with different fields.
    """
    try:
        text = raw.decode("utf-8", errors="strict")
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid CSV", details=str(exc)) from exc
    if not records:
        raise ApiError(400, "PGRST102", "Empty or invalid CSV", details="The CSV has no header line")
    header = records[0]
    rows: list[dict[str, str | None]] = []
    for record in records[1:]:
        # A blank line is a record of one empty field; fields past the header's are dropped (zip stops).
        fields = zip(header, record or [""], strict=False)
        row = {name: (None if value == "NULL" else value) for name, value in fields}
        # As PostgREST checks it: every record has the keys of the first (not those of the header).
        if rows and row.keys() != rows[0].keys():
            raise ApiError(400, "PGRST102", "All lines must have same number of fields")
        rows.append(row)
    return rows

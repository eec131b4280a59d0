"""Rows as an HTML table, for notebooks (Jupyter calls ``_repr_html_``); no dependency beyond the stdlib.

Ids are shown as their canonical text, times as ``2025-02-10 12:00:00 UTC`` (another offset as
``+02:00``), enums by value, JSONB documents and open objects as compact JSON, secrets as the mask, long
text cut to :data:`MAX_TEXT` characters. Every value is HTML-escaped. At most :data:`MAX_ROWS` rows are
drawn (the first and last halves, as pandas does), with the total below the table.
"""

from __future__ import annotations

import datetime as dt
import enum
import html
import json
import uuid
from collections.abc import Sequence
from typing import Any, Final

from pydantic import BaseModel, SecretStr

__all__ = ["MAX_ROWS", "MAX_TEXT", "html_table"]

MAX_ROWS: Final = 20
"""Rows drawn at most; the rest are summarised as "… N more rows"."""
MAX_TEXT: Final = 80
"""Characters of a cell's text shown at most; longer text ends with "…"."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return str(value)  # the mask, never the secret
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None and value.utcoffset() == dt.timedelta(0):
            return value.strftime("%Y-%m-%d %H:%M:%S") + " UTC"
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json"), ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
    return str(value)


def _cell(value: Any) -> str:
    text = _text(value)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return "<td>" + html.escape(text) + "</td>"


def html_table(rows: Sequence[BaseModel], model: type[BaseModel] | None = None) -> str:
    """An HTML table of ``rows``, one column per field of ``model`` (else of the first row's class).

    Args:
        rows: pydantic models, typically rows of one table.
        model: the row class, so that an empty result still shows its columns.

    Returns:
        A ``<table>`` with a header row, then a line giving the number of rows.
    """
    cls = model or (type(rows[0]) if rows else None)
    columns = list(cls.model_fields) if cls is not None else []
    shown: list[BaseModel | None] = list(rows)
    if len(rows) > MAX_ROWS:
        half = MAX_ROWS // 2
        shown = [*rows[:half], None, *rows[-half:]]
    lines = ['<table class="nexus-rows">', "<thead><tr>"]
    lines.extend("<th>" + html.escape(name) + "</th>" for name in columns)
    lines.append("</tr></thead><tbody>")
    for row in shown:
        if row is None:  # the elided middle
            lines.append("<tr>" + "<td>…</td>" * len(columns) + "</tr>")
            continue
        values = row.__dict__
        lines.append("<tr>" + "".join(_cell(values.get(name)) for name in columns) + "</tr>")
    lines.append("</tbody></table>")
    name = html.escape(cls.__name__) if cls is not None else "row"
    count = len(rows)
    lines.append(f"<p>{count} {name} row{'' if count == 1 else 's'}</p>")
    return "\n".join(lines)

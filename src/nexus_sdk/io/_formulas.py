"""Text that a spreadsheet would run as a formula (CSV or formula injection), escaped and read back.

A spreadsheet opening a CSV file evaluates a cell whose text starts with ``=``, ``+``, ``-`` or ``@``
(``=HYPERLINK(...)`` sends data away, ``- item`` shows ``#NAME?``); a leading tab, CR or LF can hide one
from a naive check, and some spreadsheets also read the full-width ``＝ ＋ － ＠`` typed with East Asian
input methods as the start of a formula. An export for spreadsheets writes such a text with an apostrophe
in front: spreadsheets show it as text, never run it, and save it back as it is.

The rule is a bijection on text, so every import can undo it without knowing where a file came from:

- escape: a text made of zero or more apostrophes then one of those characters gets one more apostrophe
  in front (``=1`` -> ``'=1``, ``'=1`` -> ``''=1``);
- unescape: a text made of one or more apostrophes then one of those characters loses the first one
  (``'=1`` -> ``=1``, ``''=1`` -> ``'=1``), which is also how a spreadsheet shows ``'=1`` typed into a
  cell. Any other text is left alone (``'tis``, ``'123``).

Only text columns (and decrypted tokens) are concerned: JSON, numbers, booleans, ids and timestamps cannot
start a formula (a JSON document starts with ``{``, ``[``, ``"``, a digit or ``-`` followed by a digit,
which a spreadsheet reads as a number).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from nexus_sdk.io._tables import text_columns, token_columns

__all__ = ["FORMULA_STARTS", "escape_formula", "formula_columns", "unescape_formula"]

FORMULA_STARTS: Final = "=+-@\t\r\n\uff1d\uff0b\uff0d\uff20"
"""The first characters that make a spreadsheet read a cell as a formula (``＝ ＋ － ＠`` are full-width)."""
_ESCAPED_OR_NOT: Final = re.compile("'*[" + re.escape(FORMULA_STARTS) + "]")


def escape_formula(text: str, *, spreadsheet: bool = True) -> str:
    """A text cell as written so that no spreadsheet runs it and :func:`unescape_formula` gives it back.

    Args:
        text: The column's value.
        spreadsheet: False for a plain CSV (a file for programs): only a text that already looks escaped
            (``'=1``) gets its apostrophe, so the import still gives it back; ``=1`` is written as it is.
    """
    if _ESCAPED_OR_NOT.match(text) and (spreadsheet or text[0] == "'"):
        return "'" + text
    return text


def unescape_formula(text: str) -> str:
    """A text cell as imported: ``'=1`` is ``=1``, ``''=1`` is ``'=1``, anything else as it is."""
    if text[:1] == "'" and _ESCAPED_OR_NOT.match(text, 1):
        return text[1:]
    return text


@cache
def formula_columns(table: str) -> frozenset[str]:
    """The columns of ``table`` whose cells are escaped on export and unescaped on import: text and tokens."""
    return text_columns(table) | frozenset(token_columns(table))

"""Parsing PostgREST's query-string grammar into a small syntax tree. No SQL here, no I/O.

Only the grammar documented in docs/local-stack.md is accepted; anything else raises PGRST100 so that a
request this stack does not understand is refused rather than answered wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from nexus_sdk.local._errors import ApiError, parse_error, unsupported

__all__ = [
    "Condition",
    "Field",
    "Logic",
    "OrderTerm",
    "SelectItem",
    "parse_columns",
    "parse_filter",
    "parse_logic",
    "parse_order",
    "parse_select",
]

OPERATORS: Final = frozenset(
    {
        "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch", "is", "isdistinct",
        "in", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj", "fts", "plfts", "phfts", "wfts",
    }
)  # fmt: skip
"""The filter operators implemented (PostgREST's names)."""

FTS_OPERATORS: Final = frozenset({"fts", "plfts", "phfts", "wfts"})

# A column name: anything but PostgREST's reserved characters. Quoting of names is not supported.
_NAME = r"[^\s.,:()\"'\->!]+"
_FIELD_RE: Final = re.compile(rf"^({_NAME})((?:->>?(?:-?\d+|{_NAME}))*)$")
_ARROW_RE: Final = re.compile(rf"(->>?)(-?\d+|{_NAME})")
_QUOTED_RE: Final = re.compile(r'"(?:[^"\\]|\\.)+"')
_LANG_RE: Final = re.compile(r"^(\w+)\((\w+)\)$")


@dataclass(frozen=True, slots=True)
class Field:
    """A column, optionally followed by a JSON path (``data->a->>b``)."""

    column: str
    path: tuple[tuple[str, str | int], ...] = ()

    @property
    def output_name(self) -> str:
        """The key PostgREST gives this field in a response: the last path key, else the column."""
        return str(self.path[-1][1]) if self.path else self.column


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One entry of ``select=``: ``*`` (``field is None``) or ``alias:field::cast``."""

    field: Field | None
    alias: str | None = None
    cast: str | None = None


@dataclass(frozen=True, slots=True)
class Condition:
    """``field=[not.]op.value``."""

    field: Field
    op: str
    value: str | tuple[str, ...]
    negated: bool = False
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Logic:
    """``or=(...)``, ``and=(...)`` and their ``not.`` forms, arbitrarily nested."""

    op: Literal["and", "or"]
    children: tuple[Condition | Logic, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One term of ``order=``."""

    field: Field
    descending: bool = False
    nulls: Literal["first", "last"] | None = None


CASTS: Final = frozenset(
    {
        "text", "int", "integer", "int4", "bigint", "int8", "smallint", "numeric", "real", "float4",
        "float8", "double precision", "boolean", "bool", "json", "jsonb", "date", "timestamp",
        "timestamptz", "uuid", "varchar",
    }
)  # fmt: skip
"""The casts allowed in ``select=`` (a fixed list, so no type name from a request reaches SQL)."""


def parse_field(text: str) -> Field:
    """Parse ``column`` or ``column->key->>key``.

    Raises:
        ApiError: PGRST100 when the text is not a plain column with an optional JSON path.
    """
    if _QUOTED_RE.fullmatch(text):
        return Field(_unquote(text))
    m = _FIELD_RE.match(text)
    if m is None:
        if "." in text:
            raise unsupported(f"Embedded resources or qualified names ({text!r})")
        raise parse_error(f'"failed to parse field name ({text})"', details="unexpected character")
    path: list[tuple[str, str | int]] = []
    for arrow, key in _ARROW_RE.findall(m.group(2)):
        # isdigit() alone also accepts characters like "²" that int() rejects: ASCII digits only.
        digits = key.lstrip("-")
        path.append((arrow, int(key) if digits.isascii() and digits.isdigit() else key))
    return Field(m.group(1), tuple(path))


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split at ``sep`` outside parentheses, braces and double quotes.

    Raises:
        ApiError: PGRST100 for unbalanced parentheses or quotes.
    """
    parts: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            if ch == "\\" and i + 1 < len(text):
                current.append(ch + text[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
            if depth < 0:
                raise parse_error(f'"failed to parse ({text})"', details="unbalanced parentheses")
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    if quoted or depth != 0:
        raise parse_error(f'"failed to parse ({text})"', details="unbalanced parentheses or quotes")
    parts.append("".join(current))
    return parts


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def parse_select(text: str) -> list[SelectItem]:
    """Parse ``select=``.

    Raises:
        ApiError: PGRST100 for syntax errors and for embedding, spreads and aggregates (unsupported).
    """
    items: list[SelectItem] = []
    for raw in split_top(text):
        part = raw.strip()
        if part == "":
            continue
        if "(" in part or part.startswith("..."):
            raise unsupported(f"Embedded resources, spreads and aggregates in select ({part!r})")
        if part == "*":
            items.append(SelectItem(None))
            continue
        alias: str | None = None
        cast: str | None = None
        if "::" in part:
            part, cast = part.rsplit("::", 1)
            if cast not in CASTS:
                raise unsupported(f"The cast ::{cast}")
        if ":" in part:
            alias, part = part.split(":", 1)
            if not re.fullmatch(_NAME, alias):
                raise parse_error(f'"failed to parse select parameter ({text})"', details="bad alias")
        items.append(SelectItem(parse_field(part), alias, cast))
    return items or [SelectItem(None)]


def parse_columns(text: str) -> list[str]:
    """Parse ``columns=`` (for POST) or ``on_conflict=``: a comma-separated list of plain names.

    Raises:
        ApiError: PGRST100 for anything but plain names.
    """
    names = []
    for raw in split_top(text):
        name = raw.strip()
        if not name:
            continue
        if _QUOTED_RE.fullmatch(name):
            # Clients (supabase-py among them) quote each name: "a","b".
            name = _unquote(name)
        elif not re.fullmatch(_NAME, name):
            raise parse_error(f'"failed to parse columns parameter ({text})"', details="bad column name")
        names.append(name)
    return names


def _parse_in_list(text: str) -> tuple[str, ...]:
    if not (text.startswith("(") and text.endswith(")")):
        raise parse_error(f'"failed to parse filter (in.{text})"', details="expecting a list in parentheses")
    inner = text[1:-1]
    if inner.strip() == "":
        return ()
    return tuple(_unquote(v) for v in split_top(inner))


def parse_operation(field: Field, text: str, *, in_logic: bool = False) -> Condition:
    """Parse the right-hand side of a filter, ``[not.]op.value``, for ``field``.

    Raises:
        ApiError: PGRST100 for an unknown operator or a malformed value.
    """
    negated = False
    if text.startswith("not."):
        negated = True
        text = text[4:]
    op, dot, value = text.partition(".")
    if not dot:
        raise parse_error(f'"failed to parse filter ({text})"', details="expecting operator.value")
    language: str | None = None
    m = _LANG_RE.match(op)
    if m and m.group(1) in FTS_OPERATORS:
        op, language = m.group(1), m.group(2)
    if op not in OPERATORS:
        if re.fullmatch(r"\w+\((any|all)\)", op):
            raise unsupported(f"The operator modifier {op}")
        raise parse_error(f'"failed to parse filter ({text})"', details=f"unknown operator {op!r}")
    if op == "in":
        return Condition(field, op, _parse_in_list(value), negated)
    if in_logic:
        value = _unquote(value)
    if op == "is" and value.lower() not in ("null", "not_null", "true", "false", "unknown"):
        raise parse_error(
            f'"failed to parse filter (is.{value})"',
            details="expecting null, not_null, true, false or unknown",
        )
    if op in ("like", "ilike"):
        # PostgREST lets * stand for % so that the wildcard needs no URL escaping.
        value = value.replace("*", "%")
    return Condition(field, op, value, negated, language)


def parse_filter(key: str, value: str) -> Condition:
    """Parse one ``column=op.value`` query parameter.

    Raises:
        ApiError: PGRST100 when either side is malformed.
    """
    return parse_operation(parse_field(key), value)


def parse_logic(key: str, value: str) -> Logic:
    """Parse ``or=(...)``, ``and=(...)``, ``not.or=(...)`` or ``not.and=(...)``.

    Raises:
        ApiError: PGRST100 when the tree is malformed.
    """
    negated = key.startswith("not.")
    op = key[4:] if negated else key
    if op not in ("and", "or"):
        raise parse_error(f'"failed to parse logic tree ({key})"')
    return _logic_tree("and" if op == "and" else "or", value, negated)


def _logic_tree(op: Literal["and", "or"], text: str, negated: bool) -> Logic:
    if not (text.startswith("(") and text.endswith(")")):
        raise parse_error(f'"failed to parse logic tree ({text})"', details="expecting ( ... )")
    children: list[Condition | Logic] = []
    for raw in split_top(text[1:-1]):
        item = raw.strip()
        m = re.match(r"^(not\.)?(and|or)(\(.*\))$", item, re.DOTALL)
        if m:
            sub: Literal["and", "or"] = "and" if m.group(2) == "and" else "or"
            children.append(_logic_tree(sub, m.group(3), bool(m.group(1))))
            continue
        name, dot, rest = item.partition(".")
        if not dot:
            raise parse_error(f'"failed to parse logic tree ({text})"', details=f"bad condition {item!r}")
        children.append(parse_operation(parse_field(name), rest, in_logic=True))
    if not children:
        raise parse_error(f'"failed to parse logic tree ({text})"', details="empty")
    return Logic(op, tuple(children), negated)


def parse_order(text: str) -> list[OrderTerm]:
    """Parse ``order=col.desc.nullslast,col2``.

    Raises:
        ApiError: PGRST100 for unknown modifiers.
    """
    terms: list[OrderTerm] = []
    for raw in split_top(text):
        part = raw.strip()
        if not part:
            continue
        if "(" in part:
            raise unsupported(f"Ordering by an embedded resource ({part!r})")
        name, *mods = part.split(".")
        descending = False
        nulls: Literal["first", "last"] | None = None
        for mod in mods:
            if mod in ("asc", "desc"):
                descending = mod == "desc"
            elif mod in ("nullsfirst", "nullslast"):
                nulls = "first" if mod == "nullsfirst" else "last"
            else:
                raise parse_error(f'"failed to parse order ({text})"', details=f"unknown modifier {mod!r}")
        terms.append(OrderTerm(parse_field(name), descending, nulls))
    return terms


def parse_nonnegative(name: str, text: str) -> int:
    """Parse ``limit=`` / ``offset=``.

    Raises:
        ApiError: PGRST100 when the value is not a non-negative integer.
    """
    # isdigit() alone also accepts characters like "²" that int() rejects: ASCII digits only.
    if not (text.isascii() and text.isdigit()):
        raise parse_error(f'"failed to parse {name} parameter ({text})"', details="expecting an integer")
    return int(text)


def parse_range_header(text: str | None) -> tuple[int, int | None] | None:
    """Parse ``Range: 0-9`` (items); an unparseable header is ignored, as PostgREST does.

    Raises:
        ApiError: 416 PGRST103 when the lower bound exceeds the upper one.
    """
    if not text:
        return None
    m = re.fullmatch(r"\s*(?:items=)?(\d+)-(\d*)\s*", text)
    if m is None:
        return None
    lower = int(m.group(1))
    upper = int(m.group(2)) if m.group(2) else None
    if upper is not None and upper < lower:
        raise ApiError(416, "PGRST103", "Requested range not satisfiable", details=None)
    return lower, upper

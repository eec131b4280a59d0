"""Parsing PostgREST's query-string grammar into a small syntax tree. No SQL here, no I/O.

The grammar follows PostgREST's (its ``QueryParams`` parser): names are double-quoted or made of letters,
digits, ``_``, ``$`` and spaces, joined by ``-`` (never ``->``); JSON keys may hold any character but
``(-:.,>)``; an index ends a path element only when ``->``, ``::``, ``.``, ``,`` or the end follows. Embedded
resources (``alias:name!hint!inner(...)``, spreads ``...name(...)``) nest; filters, ``order``, ``limit``,
``offset``, ``or``/``and`` may be prefixed with an embedding path (``posts.status=eq.x``). What this stack does
not implement raises PGRST100, so that a request it does not understand is refused rather than answered
wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from nexus_sdk.local._errors import ApiError, parse_error, unsupported

__all__ = [
    "Condition",
    "EmbedItem",
    "Field",
    "Logic",
    "NodeOptions",
    "OrderTerm",
    "QueryParams",
    "SelectItem",
    "parse_columns",
    "parse_order",
    "parse_query",
    "parse_select",
]

# The filter operators, in the order PostgREST's parser tries them (a longer name before its prefix).
_SIMPLE_OPERATORS: Final = ("neq", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj")
_QUANT_ORDER: Final = ("eq", "gte", "gt", "lte", "lt", "like", "ilike", "match", "imatch")
_FTS_ORDER: Final = ("fts", "plfts", "phfts", "wfts")
_IS_VALUES: Final = ("null", "not_null", "true", "false", "unknown")
_DIGITS: Final = frozenset("0123456789")

CASTS: Final = frozenset(
    {
        "text", "int", "integer", "int4", "bigint", "int8", "smallint", "numeric", "real", "float4",
        "float8", "double precision", "boolean", "bool", "json", "jsonb", "date", "timestamp",
        "timestamptz", "uuid", "varchar",
    }
)  # fmt: skip
"""The casts allowed in ``select=`` (a fixed list, so no type name from a request reaches SQL)."""


@dataclass(frozen=True, slots=True)
class Field:
    """A column, optionally followed by a JSON path (``data->a->>b``)."""

    column: str
    path: tuple[tuple[str, str | int], ...] = ()

    @property
    def output_name(self) -> str:
        """The key PostgREST gives this field in a response: the path's last key, else the column.

        An index never names a field (``data->0`` is keyed ``data``, ``data->k->1`` is keyed ``k``).
        """
        for _, key in reversed(self.path):
            if isinstance(key, str):
                return key
        return self.column


@dataclass(frozen=True, slots=True)
class SelectItem:
    """One entry of ``select=``: ``*`` (``field is None``) or ``alias:field::cast``."""

    field: Field | None
    alias: str | None = None
    cast: str | None = None


@dataclass(frozen=True, slots=True)
class EmbedItem:
    """An embedded resource in ``select=``: ``alias:name!hint!inner(...)`` or the spread ``...name(...)``."""

    name: str
    children: tuple[SelectItem | EmbedItem, ...]
    alias: str | None = None
    hint: str | None = None
    join: Literal["inner", "left"] | None = None
    spread: bool = False

    @property
    def output_name(self) -> str:
        """The key of the embedded value, and the name filters use to address it."""
        return self.alias or self.name


@dataclass(frozen=True, slots=True)
class Condition:
    """``field=[not.]op.value``."""

    field: Field
    op: str
    value: str | tuple[str, ...]
    negated: bool = False
    language: str | None = None
    quantifier: Literal["any", "all"] | None = None


@dataclass(frozen=True, slots=True)
class Logic:
    """``or=(...)``, ``and=(...)`` and their ``not.`` forms, arbitrarily nested."""

    op: Literal["and", "or"]
    children: tuple[Condition | Logic, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One term of ``order=``; ``relation`` names a to-one embedded resource (``order=rel(col).desc``)."""

    field: Field
    descending: bool = False
    nulls: Literal["first", "last"] | None = None
    relation: str | None = None


@dataclass(slots=True)
class NodeOptions:
    """What the query string asks of one level of the result: the top level or an embedded resource."""

    filters: list[Condition | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


@dataclass(slots=True)
class QueryParams:
    """A query string, parsed."""

    select: list[SelectItem | EmbedItem]
    root: NodeOptions
    embedded: dict[tuple[str, ...], NodeOptions]
    """Options of embedded resources by their path of output names (aliases, else names)."""
    rpc_args: list[tuple[str, str]]
    """For a function read: the parameters whose value is not an operator expression (its arguments)."""
    has_limit: bool = False


class _Cursor:
    """A position in a text being parsed, with PostgREST's lexical rules."""

    __slots__ = ("i", "s", "shown", "what")

    def __init__(self, text: str, what: str, shown: str | None = None) -> None:
        self.s = text
        self.i = 0
        self.what = what
        self.shown = text if shown is None else shown
        """The text an error message quotes (a logic tree is parsed with its operator in front)."""

    def fail(self, expecting: str) -> ApiError:
        found = f'"{self.s[self.i]}"' if self.i < len(self.s) else "end of input"
        return parse_error(
            f'"failed to parse {self.what} ({self.shown})" (line 1, column {self.i + 1})',
            details=f"unexpected {found} expecting {expecting}",
        )

    def fail_at(self, expecting: str, *, quote: str = '"') -> ApiError:
        """Like :meth:`fail`, showing the unexpected character in ``quote`` (parsec's ``eof`` shows it in
        single quotes)."""
        found = f"{quote}{self.s[self.i]}{quote}" if self.i < len(self.s) else "end of input"
        return parse_error(
            f'"failed to parse {self.what} ({self.shown})" (line 1, column {self.i + 1})',
            details=f"unexpected {found} expecting {expecting}",
        )

    def fail_word(self, word: str, expecting: str) -> ApiError:
        """A failed match of ``word`` here, reported as parsec's ``string`` reports it: at the word's start,
        naming the first character that differs."""
        rest = self.s[self.i :]
        differing = next((c for c, w in zip(rest, word, strict=False) if c != w), None)
        found = f'"{differing}"' if differing is not None else "end of input"
        return parse_error(
            f'"failed to parse {self.what} ({self.shown})" (line 1, column {self.i + 1})',
            details=f"unexpected {found} expecting {expecting}",
        )

    def at_end(self) -> bool:
        return self.i >= len(self.s)

    def peek(self, lit: str) -> bool:
        return self.s.startswith(lit, self.i)

    def eat(self, lit: str) -> bool:
        if self.s.startswith(lit, self.i):
            self.i += len(lit)
            return True
        return False

    def expect(self, lit: str) -> None:
        if not self.eat(lit):
            raise self.fail(f'"{lit}"')

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t":
            self.i += 1

    def quoted(self) -> str:
        # "..." with backslash escaping any character.
        self.expect('"')
        out: list[str] = []
        while True:
            if self.at_end():
                raise self.fail('"\\"" closing the quoted name')
            ch = self.s[self.i]
            if ch == '"':
                self.i += 1
                return "".join(out)
            if ch == "\\" and self.i + 1 < len(self.s):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            out.append(ch)
            self.i += 1

    def _run(self, ok: type[_Ident] | type[_KeyChars]) -> str:
        start = self.i
        while self.i < len(self.s) and ok.accepts(self.s[self.i]):
            self.i += 1
        return self.s[start : self.i]

    def _dashed(self, ok: type[_Ident] | type[_KeyChars], expecting: str) -> str:
        parts: list[str] = []
        while True:
            run = self._run(ok)
            if not run:
                raise self.fail(expecting)
            parts.append(run.strip())
            # A dash joins names unless it starts an arrow.
            if self.peek("-") and not self.peek("->"):
                self.i += 1
                continue
            return "-".join(parts)

    def name(self) -> str:
        """A field name: quoted, or identifiers joined by dashes."""
        if self.peek('"'):
            return self.quoted()
        return self._dashed(_Ident, "field name (* or [a..z0..9_$])")

    def identifier(self) -> str:
        run = self._run(_Ident).strip()
        if not run:
            raise self.fail("identifier")
        return run

    def json_key(self) -> str:
        if self.peek('"'):
            return self.quoted()
        return self._dashed(_KeyChars, "any non reserved character different from: .,>()")

    def json_path(self) -> tuple[tuple[str, str | int], ...]:
        path: list[tuple[str, str | int]] = []
        while True:
            if self.eat("->>"):
                arrow = "->>"
            elif self.eat("->"):
                arrow = "->"
            else:
                return tuple(path)
            index = self._index()
            path.append((arrow, index if index is not None else self.json_key()))

    def _index(self) -> int | None:
        # -?digits, taken as an index only when a path end follows; else the operand is a key ("0xy1").
        start = self.i
        j = start + 1 if self.peek("-") else start
        k = j
        while k < len(self.s) and self.s[k] in _DIGITS:
            k += 1
        if k == j:
            if j != start:
                # "-" that no digit follows: a key cannot start with "-" either (PostgREST's error).
                self.i = j
                raise self.fail("digit")
            return None
        rest = self.s[k:]
        if rest == "" or rest.startswith(("->", "::", ".", ",")):
            self.i = k
            return int(self.s[start:k])
        if j != start:
            # A "-" that is not followed by a well-formed number: PostgREST fails here too.
            self.i = k
            raise self.fail_at('digit, "->", "::", ".", "," or end of input', quote="'")
        return None

    def field(self) -> Field:
        self.ws()
        name = self.name()
        path = self.json_path()
        self.ws()
        return Field(name, path)


class _Ident:
    @staticmethod
    def accepts(ch: str) -> bool:
        return ch.isalpha() or ch in _DIGITS or ch in "_ $"


class _KeyChars:
    @staticmethod
    def accepts(ch: str) -> bool:
        return ch not in "(-:.,>)"


# -- select ---------------------------------------------------------------------------------------------


def parse_select(text: str) -> list[SelectItem | EmbedItem]:
    """Parse ``select=`` into items and embedded resources.

    Raises:
        ApiError: PGRST100 for syntax errors, PGRST123 for aggregates (disabled on Supabase).
    """
    cur = _Cursor(text, "select parameter")
    # What follows the last item (it can only start with ")") is ignored, as PostgREST's parser leaves it.
    items = _forest(cur)
    return items or [SelectItem(None)]


def _forest(cur: _Cursor) -> list[SelectItem | EmbedItem]:
    items: list[SelectItem | EmbedItem] = []
    cur.ws()
    if cur.at_end() or cur.peek(")"):
        return items
    while True:
        items.append(_select_item(cur))
        cur.ws()
        if not cur.eat(","):
            return items
        cur.ws()


def _embed_params(cur: _Cursor) -> tuple[str | None, Literal["inner", "left"] | None]:
    hint: str | None = None
    join: Literal["inner", "left"] | None = None
    for _ in range(2):
        if not cur.eat("!"):
            break
        if cur.peek("inner") and _ends_param(cur, 5):
            cur.i += 5
            join = join or "inner"
        elif cur.peek("left") and _ends_param(cur, 4):
            cur.i += 4
            join = join or "left"
        else:
            hint = hint or cur.name()
    return hint, join


def _ends_param(cur: _Cursor, n: int) -> bool:
    nxt = cur.s[cur.i + n : cur.i + n + 1]
    return nxt in ("(", "!")


def _select_item(cur: _Cursor) -> SelectItem | EmbedItem:
    cur.ws()
    start = cur.i
    if cur.eat("..."):
        name = cur.name()
        hint, join = _embed_params(cur)
        if not cur.peek("("):
            raise cur.fail('"("')
        return EmbedItem(name, _children(cur), None, hint, join, spread=True)
    if cur.eat("*"):
        cur.ws()
        if not (cur.at_end() or cur.peek(",") or cur.peek(")")):
            raise cur.fail_at('")", "," or end of input', quote="'")
        return SelectItem(None)
    # alias? (a name followed by ":" that does not start "::")
    alias: str | None = None
    name = cur.name()
    if cur.peek(":") and not cur.peek("::"):
        cur.i += 1
        alias = name
        cur.ws()
        start = cur.i
        if cur.peek("..."):
            raise cur.fail("field name")
        name = cur.name()
    if name == "count" and cur.peek("()"):
        raise aggregates_not_allowed()
    if cur.peek("!") or cur.peek("("):
        # As PostgREST: an embedding only when name, hints and "(" all parse; else a column (whose error
        # names what may follow a column).
        try:
            hint, join = _embed_params(cur)
            embedding = cur.peek("(")
        except ApiError:
            embedding = False
        if embedding:
            return EmbedItem(name, _children(cur), alias, hint, join)
    cur.i = start
    f = cur.field()
    cast: str | None = None
    if cur.eat("::"):
        if cur.at_end() or not _Ident.accepts(cur.s[cur.i]):
            raise cur.fail("letter or digit")
        cast = cur.identifier()
        if cast not in CASTS:
            raise unsupported(f"The cast ::{cast}")
    if cur.peek(".") and cur.s[cur.i + 1 : cur.i + 2].isalpha():
        raise aggregates_not_allowed()
    cur.ws()
    if not (cur.at_end() or cur.peek(",") or cur.peek(")")):
        if cast is None and not f.path:
            raise cur.fail_at(
                'letter, digit, "-", "->>", "->", "::", ".", ")", "," or end of input', quote="'"
            )
        raise cur.fail('"::", "->", "," or ")"')
    return SelectItem(f, alias, cast)


def aggregates_not_allowed() -> ApiError:
    """PGRST123: Supabase runs PostgREST with aggregates disabled (``db-aggregates-enabled`` false)."""
    return ApiError(400, "PGRST123", "Use of aggregate functions is not allowed")


def _children(cur: _Cursor) -> tuple[SelectItem | EmbedItem, ...]:
    cur.expect("(")
    items = _forest(cur)
    cur.ws()
    cur.expect(")")
    return tuple(items)


def parse_columns(text: str, what: str = "columns parameter") -> list[str]:
    """Parse ``columns=`` or ``on_conflict=``: a comma-separated list of names (quoted or not).

    Raises:
        ApiError: PGRST100 for anything but names.
    """
    cur = _Cursor(text, what)
    names: list[str] = []
    while True:
        cur.ws()
        names.append(cur.name())
        cur.ws()
        if not cur.eat(","):
            # PostgREST ignores what follows the last name.
            return names


# -- filters ----------------------------------------------------------------------------------------------


def _in_list(cur: _Cursor) -> tuple[str, ...]:
    cur.ws()
    cur.expect("(")
    cur.ws()
    values: list[str] = []
    while True:
        if cur.peek('"'):
            save = cur.i
            value = cur.quoted()
            if not (cur.at_end() or cur.peek(",") or cur.peek(")")):
                cur.i = save
                value = _until(cur, ",)")
        else:
            value = _until(cur, ",)")
        values.append(value)
        if not cur.eat(","):
            break
    cur.ws()
    cur.expect(")")
    cur.ws()
    if values == [""]:
        return ()
    return tuple(values)


def _until(cur: _Cursor, stop: str) -> str:
    start = cur.i
    while cur.i < len(cur.s) and cur.s[cur.i] not in stop:
        cur.i += 1
    return cur.s[start : cur.i]


def _operation(cur: _Cursor, f: Field, *, in_logic: bool) -> Condition:
    negated = cur.eat("not.")
    if cur.eat("in."):
        return Condition(f, "in", _in_list(cur), negated)
    if cur.eat("is."):
        for v in _IS_VALUES:
            if cur.s[cur.i : cur.i + len(v)].lower() == v:
                cur.i += len(v)
                return Condition(f, "is", v, negated)
        raise cur.fail("isVal: (null, not_null, true, false, unknown)")
    if cur.eat("isdistinct."):
        return Condition(f, "isdistinct", _value(cur, in_logic), negated)
    for op in _FTS_ORDER:
        if cur.peek(op + ".") or cur.peek(op + "("):
            cur.i += len(op)
            language: str | None = None
            if cur.eat("("):
                language = cur.identifier()
                cur.expect(")")
            cur.expect(".")
            return Condition(f, op, _value(cur, in_logic), negated, language)
    for op in _SIMPLE_OPERATORS:
        if cur.eat(op + "."):
            return Condition(f, op, _value(cur, in_logic), negated)
    for op in _QUANT_ORDER:
        if cur.peek(op + ".") or cur.peek(op + "("):
            cur.i += len(op)
            quant: Literal["any", "all"] | None = None
            if cur.eat("(any)"):
                quant = "any"
            elif cur.eat("(all)"):
                quant = "all"
            if not cur.eat("."):
                raise cur.fail("operator (eq, gt, ...)")
            value = _value(cur, in_logic)
            if op in ("like", "ilike"):
                # PostgREST lets * stand for % so that the wildcard needs no URL escaping.
                value = value.replace("*", "%")
            return Condition(f, op, value, negated, quantifier=quant)
    raise cur.fail('"not" or operator (eq, gt, ...)')


def _value(cur: _Cursor, in_logic: bool) -> str:
    if not in_logic:
        value = cur.s[cur.i :]
        cur.i = len(cur.s)
        return value
    if cur.peek('"'):
        save = cur.i
        value = cur.quoted()
        if cur.at_end() or cur.peek(",") or cur.peek(")"):
            return value
        cur.i = save
    if cur.peek("{"):
        close = cur.s.find("}", cur.i)
        inner = cur.s[cur.i + 1 : close] if close != -1 else ""
        if close != -1 and "{" not in inner:
            value = cur.s[cur.i : close + 1]
            cur.i = close + 1
            return value
    return _until(cur, ",)")


def parse_operation(f: Field, text: str) -> Condition:
    """Parse the right-hand side of a filter, ``[not.]op.value``, for ``f``.

    Raises:
        ApiError: PGRST100 for an unknown operator or a malformed value.
    """
    cur = _Cursor(text, "filter")
    # What follows an in.(...) list or an is. value is ignored, as PostgREST's parser leaves it.
    return _operation(cur, f, in_logic=False)


def _tree_path(key: str) -> tuple[tuple[str, ...], Field]:
    # Names joined by ".", then a JSON path; what follows is ignored, as PostgREST's parser leaves it.
    cur = _Cursor(key, "tree path")
    names = [cur.name()]
    while cur.eat("."):
        names.append(cur.name())
    path = cur.json_path()
    return tuple(names[:-1]), Field(names[-1], path)


def _logic_param(key: str, value: str) -> tuple[tuple[str, ...], Condition | Logic]:
    parts = key.split(".")
    negated = "not" in parts[:-1]
    path = tuple(p for p in parts[:-1] if p != "not")
    op = parts[-1]
    if op not in ("and", "or"):
        raise parse_error(f'"failed to parse logic path ({key})"')
    # As PostgREST: the operator and the value are parsed as one tree (error columns count the operator;
    # ?or=id.eq.1 is a filter on a column "orid"), and what follows the tree is ignored.
    cur = _Cursor(("not." if negated else "") + op + value, "logic tree", shown=value)
    return path, _logic_node(cur)


def _logic_tree(cur: _Cursor, op: Literal["and", "or"], negated: bool) -> Logic:
    cur.ws()
    cur.expect("(")
    cur.ws()
    children: list[Condition | Logic] = []
    while True:
        cur.ws()
        children.append(_logic_node(cur))
        cur.ws()
        if not cur.eat(","):
            break
    cur.ws()
    cur.expect(")")
    cur.ws()
    return Logic(op, tuple(children), negated)


def _logic_node(cur: _Cursor) -> Condition | Logic:
    # As PostgREST's pLogicTree: a filter if one parses here, else [not.](and|or)(...).
    start = cur.i
    try:
        f = cur.field()
        cur.expect(".")
        return _operation(cur, f, in_logic=True)
    except ApiError as filter_error:
        failed_at = cur.i
        cur.i = start
        negated = cur.eat("not.")
        for op in ("and", "or"):
            if cur.eat(op):
                return _logic_tree(cur, "and" if op == "and" else "or", negated)
        if negated:
            raise cur.fail("logic operator (and, or)") from None
        if failed_at > start:
            raise filter_error from None
        raise cur.fail(
            "field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)"
        ) from None


# -- order, ranges -----------------------------------------------------------------------------------------


def parse_order(text: str) -> list[OrderTerm]:
    """Parse ``order=col.desc.nullslast,rel(col).asc``, with PostgREST's error messages and columns.

    Raises:
        ApiError: PGRST100 for unknown modifiers.
    """
    cur = _Cursor(text, "order")
    terms: list[OrderTerm] = []
    while True:
        cur.ws()
        relation: str | None = None
        save = cur.i
        try:
            # rel(col): PostgREST tries it first and, when it fails, reads the term as a column.
            name = cur.name()
            if not cur.eat("("):
                raise cur.fail('"("')
            f = cur.field()
            cur.expect(")")
            relation = name
        except ApiError:
            cur.i = save
            f = cur.field()
            if not (cur.at_end() or cur.peek(",") or cur.peek(".")) and not f.path:
                raise cur.fail_at(
                    'letter, digit, "-", "->>", "->", delimiter (.), "," or end of input', quote="'"
                ) from None
        descending, nulls = _order_modifiers(cur)
        terms.append(OrderTerm(f, descending, nulls, relation))
        if not cur.eat(","):
            return terms


_DIRECTIONS: Final = ("asc", "desc")
_NULLS: Final = ("nullsfirst", "nullslast")


def _order_modifiers(cur: _Cursor) -> tuple[bool, Literal["first", "last"] | None]:
    descending = False
    nulls: Literal["first", "last"] | None = None
    for slot in (_DIRECTIONS + _NULLS, _NULLS):
        if not cur.peek("."):
            break
        words = slot if nulls is None else ()
        word = next((w for w in words if cur.s.startswith(w, cur.i + 1)), None)
        if word is None:
            cur.i += 1
            raise cur.fail_word(
                slot[0], " or ".join([", ".join(f'"{w}"' for w in slot[:-1]), f'"{slot[-1]}"'])
            )
        cur.i += 1 + len(word)
        if word in _NULLS:
            nulls = "first" if word == "nullsfirst" else "last"
            break
        descending = word == "desc"
    if not (cur.at_end() or cur.peek(",")):
        expecting = '"," or end of input' if nulls is not None else 'delimiter (.), "," or end of input'
        raise cur.fail_at(expecting, quote="'")
    return descending, nulls


def _read_integer(text: str) -> int | None:
    # Haskell's readMaybe for Integer: optional minus sign, ASCII digits, surrounding spaces.
    m = re.fullmatch(r"\s*(-?[0-9]+)\s*", text)
    return int(m.group(1)) if m else None


def negative_limit() -> ApiError:
    """416 PGRST103 for ``limit=-1``, as PostgREST answers it."""
    return ApiError(
        416,
        "PGRST103",
        "Requested range not satisfiable",
        details="Limit should be greater than or equal to zero.",
    )


def parse_range_header(text: str | None) -> tuple[int, int | None] | None:
    """Parse ``Range: 0-9``; any other form is ignored, as PostgREST does.

    Raises:
        ApiError: 416 PGRST103 when the lower bound exceeds the upper one.
    """
    if not text:
        return None
    # PostgREST's pattern is ^([0-9]+)-([0-9]*)$: "items=0-9" or "0-9, 20-29" is not read (all rows).
    m = re.fullmatch(r"([0-9]+)-([0-9]*)", text)
    if m is None:
        return None
    lower = int(m.group(1))
    upper = int(m.group(2)) if m.group(2) else None
    if upper is not None and upper < lower:
        raise ApiError(
            416,
            "PGRST103",
            "Requested range not satisfiable",
            details="The lower boundary must be lower than or equal to the upper boundary in the Range header.",
        )
    return lower, upper


# -- the whole query string ----------------------------------------------------------------------------

_RESERVED: Final = frozenset({"select", "columns", "on_conflict", "apikey"})
_EMBEDDABLE: Final = frozenset({"order", "limit", "offset", "and", "or"})


def parse_query(items: Sequence[tuple[str, str]], *, rpc_read: bool = False) -> QueryParams:
    """Parse a query string's parameters as PostgREST does.

    Args:
        items: the (key, value) pairs in order.
        rpc_read: a GET/HEAD of a function: a parameter whose value is not an operator expression is an
            argument of the function, not a filter.

    Returns:
        The select tree, the options of the top level and of each embedding path, and the RPC arguments.

    Raises:
        ApiError: PGRST100 for malformed parameters; 416 PGRST103 for a negative limit.
    """
    select_text = next((v for k, v in items if k == "select"), "*")
    result = QueryParams(parse_select(select_text), NodeOptions(), {}, [])
    for key, value in items:
        if key in _RESERVED:
            continue
        last = key.rsplit(".", 1)[-1]
        if last in _EMBEDDABLE:
            if last in ("and", "or"):
                path, logic = _logic_param(key, value)
                _node(result, path).filters.append(logic)
                continue
            path = tuple(key.split(".")[:-1])
            if last == "order":
                # PostgREST reads an order key's path as a filter's (names up to the first character that
                # cannot continue one): "rel!hint.order" is the top level's order.
                path = _tree_path(key)[0]
            node = _node(result, path)
            if last == "order":
                node.order = parse_order(value)
            elif last == "limit":
                limit = _read_integer(value)
                if limit is not None:
                    if limit < 0:
                        raise negative_limit()
                    node.limit = limit
                    if not path:
                        result.has_limit = True
            else:
                offset = _read_integer(value)
                if offset is not None:
                    # A negative offset is a no-op in PostgREST.
                    node.offset = max(offset, 0)
            continue
        path, f = _tree_path(key)
        if rpc_read and not path:
            try:
                cond = parse_operation(f, value)
            except ApiError:
                result.rpc_args.append((key, value))
                continue
        else:
            cond = parse_operation(f, value)
        _node(result, path).filters.append(cond)
    return result


def _node(result: QueryParams, path: tuple[str, ...]) -> NodeOptions:
    if not path:
        return result.root
    return result.embedded.setdefault(path, NodeOptions())

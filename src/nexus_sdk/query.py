"""Typed filters, ordering and pages, turned into PostgREST query parameters. No I/O here.

Filters are built from column references, :class:`F`, and checked against a Row model before
anything is sent::

    from nexus_sdk.query import F

    nx.published_posts.list(
        where=(F("platform") == "x") & (F("created_at") >= since) & F("status").in_(["published", "failed"]),
        order_by="-created_at",
        limit=50,
    )

- Comparisons: ``==`` ``!=`` ``>`` ``>=`` ``<`` ``<=`` (or ``.eq()`` ... ``.lte()``).
- Text: ``.like("a%")``, ``.ilike("%A%")`` (``*`` works too, as in PostgREST).
- ``.is_(None | True | False)``, ``.in_([...])``.
- Arrays and JSON: ``.contains(v)`` (cs), ``.contained_by(v)`` (cd), ``.overlaps(v)`` (ov).
- Logic: ``a & b``, ``a | b`` (an or-group), ``~a`` (not).
- ``where=`` also accepts a mapping of equalities, ``{"platform": "x", "published_at": None}``
  (``None`` means ``IS NULL``), or a sequence of filters that must all hold.

An unknown column, an operator that does not fit the column's type, or a value of the wrong type
raises :class:`~nexus_sdk.errors.ValidationError`.

Ordering: ``order_by="created_at"`` or ``"-created_at"`` (descending), or a sequence of those.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import types
import typing
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias

from nexus_sdk.errors import ValidationError

# pydantic loads on first use (validating a filter), so `import nexus_sdk` stays fast.
if TYPE_CHECKING:
    from pydantic import BaseModel, TypeAdapter

__all__ = [
    "MAX_PAGE_SIZE",
    "And",
    "Condition",
    "F",
    "Filter",
    "Or",
    "WhereClause",
    "compile_order",
    "compile_where",
    "encode_scalar",
    "keyset_filter",
    "parse_order",
    "row_count",
]

MAX_PAGE_SIZE: Final = 1000
"""Supabase returns at most this many rows per response (PostgREST ``max_rows``)."""


def row_count(name: str, value: object) -> int:
    """Check a number of rows per request (a limit, a page or batch size): the one rule, used everywhere.

    Args:
        name: The argument's name, for the error's location.
        value: What the caller passed.

    Returns:
        ``value``, an ``int`` between 1 and :data:`MAX_PAGE_SIZE`.

    Raises:
        ValidationError: Not an integer (``True`` is refused: it is an ``int`` to Python, not a count), or
            out of range.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        message = (
            f"{name} must be an integer between 1 and {MAX_PAGE_SIZE} (Supabase returns at most "
            f"{MAX_PAGE_SIZE} rows per response; iter() reads everything)."
        )
        raise ValidationError.at(name, message, "row_count")
    return value


Operator = Literal["eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is", "in", "cs", "cd", "ov"]

# The characters that make PostgREST split or misread a value inside `in.(...)`; the same set the
# official client quotes, so our query strings match theirs.
_LIST_RESERVED: Final = ',:()"\\'
# Inside or=(...)/and=(...) the tree parser also splits `col.op.value` on dots.
_TREE_RESERVED: Final = ',.:()"\\'


class Filter:
    """A boolean condition on a table's rows; combine with ``&``, ``|`` and ``~``."""

    __slots__ = ()

    def __and__(self, other: Filter) -> Filter:
        return And((*_flatten(self, And), *_flatten(other, And)))

    def __or__(self, other: Filter) -> Filter:
        return Or((*_flatten(self, Or), *_flatten(other, Or)))

    def __invert__(self) -> Filter:
        raise NotImplementedError  # every concrete filter overrides this


def _flatten(item: Filter, kind: type[And] | type[Or]) -> tuple[Filter, ...]:
    # (a & b) & c becomes one group of three, so the query string stays flat.
    if isinstance(item, kind) and type(item) is kind and not item.negated:
        return item.items
    return (item,)


@dataclass(frozen=True, slots=True)
class Condition(Filter):
    """One ``column op value`` test."""

    column: str
    op: Operator
    value: Any
    negated: bool = False

    def __invert__(self) -> Condition:
        return Condition(self.column, self.op, self.value, not self.negated)


@dataclass(frozen=True, slots=True)
class And(Filter):
    """All of ``items`` hold."""

    items: tuple[Filter, ...]
    negated: bool = False

    def __invert__(self) -> And:
        return And(self.items, not self.negated)


@dataclass(frozen=True, slots=True)
class Or(Filter):
    """At least one of ``items`` holds."""

    items: tuple[Filter, ...]
    negated: bool = False

    def __invert__(self) -> Or:
        return Or(self.items, not self.negated)


class F:
    """A reference to a column, the start of every filter: ``F("platform") == "x"``."""

    __slots__ = ("name",)

    name: str
    """The column name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"F({self.name!r})"

    __hash__ = None  # type: ignore[assignment]  # == builds a filter, so F cannot be a dict key

    def eq(self, value: Any) -> Condition:
        """``column = value``."""
        return Condition(self.name, "eq", value)

    def neq(self, value: Any) -> Condition:
        """``column <> value``."""
        return Condition(self.name, "neq", value)

    def gt(self, value: Any) -> Condition:
        """``column > value``."""
        return Condition(self.name, "gt", value)

    def gte(self, value: Any) -> Condition:
        """``column >= value``."""
        return Condition(self.name, "gte", value)

    def lt(self, value: Any) -> Condition:
        """``column < value``."""
        return Condition(self.name, "lt", value)

    def lte(self, value: Any) -> Condition:
        """``column <= value``."""
        return Condition(self.name, "lte", value)

    def like(self, pattern: str) -> Condition:
        """``column LIKE pattern`` (``%`` or ``*`` as the wildcard)."""
        return Condition(self.name, "like", pattern)

    def ilike(self, pattern: str) -> Condition:
        """``column ILIKE pattern``."""
        return Condition(self.name, "ilike", pattern)

    def is_(self, value: bool | None) -> Condition:
        """``column IS NULL`` / ``IS TRUE`` / ``IS FALSE``."""
        return Condition(self.name, "is", value)

    def in_(self, values: Iterable[Any]) -> Condition:
        """``column IN (values)``."""
        return Condition(self.name, "in", values)

    def contains(self, value: Any) -> Condition:
        """``column @> value`` for arrays and JSON (PostgREST ``cs``)."""
        return Condition(self.name, "cs", value)

    def contained_by(self, value: Any) -> Condition:
        """``column <@ value`` for arrays and JSON (PostgREST ``cd``)."""
        return Condition(self.name, "cd", value)

    def overlaps(self, value: Iterable[Any]) -> Condition:
        """``column && value`` for arrays (PostgREST ``ov``)."""
        return Condition(self.name, "ov", value)

    def __eq__(self, value: object) -> Condition:  # type: ignore[override]
        return self.eq(value)

    def __ne__(self, value: object) -> Condition:  # type: ignore[override]
        return self.neq(value)

    def __gt__(self, value: object) -> Condition:
        return self.gt(value)

    def __ge__(self, value: object) -> Condition:
        return self.gte(value)

    def __lt__(self, value: object) -> Condition:
        return self.lt(value)

    def __le__(self, value: object) -> Condition:
        return self.lte(value)


WhereClause: TypeAlias = Filter | Mapping[str, Any] | Sequence[Filter] | None
"""What ``where=`` accepts: a filter, a mapping of equalities, a sequence of filters, or nothing."""


# --- column types ------------------------------------------------------------------------------

Kind = Literal["bool", "number", "text", "time", "uuid", "array", "json", "secret", "other"]

_OPS_FOR_KIND: Final[dict[str, frozenset[str]]] = {
    "bool": frozenset({"eq", "neq", "is", "in"}),
    "number": frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "is", "in"}),
    "text": frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "is", "in"}),
    "time": frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "is", "in"}),
    "uuid": frozenset({"eq", "neq", "gt", "gte", "lt", "lte", "is", "in"}),
    "array": frozenset({"eq", "neq", "is", "cs", "cd", "ov"}),
    "json": frozenset({"is", "cs", "cd"}),
    # Encrypted tokens: comparing ciphertexts means nothing, so only presence can be tested.
    "secret": frozenset({"is"}),
    "other": frozenset({"eq", "neq", "is", "in"}),
}


def _pydantic_datetimes() -> tuple[type, ...]:
    import pydantic

    # pydantic's datetime markers are plain classes at runtime, not datetime subclasses.
    return (
        pydantic.AwareDatetime,
        pydantic.NaiveDatetime,
        pydantic.PastDatetime,
        pydantic.FutureDatetime,
        pydantic.PastDate,
        pydantic.FutureDate,
    )


_ORDERABLE: Final = frozenset({"bool", "number", "text", "time", "uuid"})


@dataclass(frozen=True, slots=True)
class _Column:
    name: str
    kind: Kind
    annotation: Any
    """The column's Python type without ``None``."""
    nullable: bool


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        nullable = len(args) != len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], nullable
        return typing.Union[tuple(args)], nullable  # noqa: UP007  # built from a runtime tuple
    return annotation, False


def _kind(annotation: Any) -> Kind:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _kind(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        kinds = {_kind(arg) for arg in typing.get_args(annotation)}
        # e.g. `Platform | str`: an open set of names is still text.
        return kinds.pop() if len(kinds) == 1 else "other"
    if origin is Literal:
        values = typing.get_args(annotation)
        return "text" if all(isinstance(value, str) for value in values) else "other"
    if origin in (list, tuple, set, frozenset, Sequence):
        return "array"
    if origin in (dict, Mapping):
        return "json"
    if not isinstance(annotation, type):
        return "other"
    from pydantic import BaseModel, SecretStr

    if issubclass(annotation, bool):
        return "bool"
    if issubclass(annotation, enum.Enum):
        return "text"
    if issubclass(annotation, int | float | Decimal):
        return "number"
    if issubclass(annotation, str):
        return "text"
    if issubclass(annotation, (dt.datetime, dt.date, dt.time, *_pydantic_datetimes())):
        return "time"
    if issubclass(annotation, uuid.UUID):
        return "uuid"
    if issubclass(annotation, SecretStr):
        return "secret"
    if issubclass(annotation, BaseModel | dict):
        return "json"
    if issubclass(annotation, list | tuple | set | frozenset):
        return "array"
    return "other"


@lru_cache(maxsize=64)
def _columns(model: type[BaseModel]) -> dict[str, _Column]:
    columns: dict[str, _Column] = {}
    for name, info in model.model_fields.items():
        annotation, nullable = _strip_optional(info.annotation)
        column_name = info.alias or name
        columns[column_name] = _Column(column_name, _kind(annotation), annotation, nullable)
    return columns


@lru_cache(maxsize=256)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(annotation)


def _column(model: type[BaseModel], name: str) -> _Column:
    columns = _columns(model)
    try:
        return columns[name]
    except KeyError:
        raise ValidationError.at(
            (name,),
            f"{_table_name(model)} has no column {name!r}; columns are: {', '.join(sorted(columns))}.",
            "unknown_column",
        ) from None


def _table_name(model: type[BaseModel]) -> str:
    return str(getattr(model, "table", model.__name__))


# --- value encoding ----------------------------------------------------------------------------


def encode_scalar(value: Any) -> str:
    """Render one value as PostgREST reads it in a filter.

    Args:
        value: A validated Python value.

    Returns:
        Its text form: ``true``/``false``, ``null``, ISO 8601 for dates and times, an enum's value.

    Raises:
        ValidationError: A naive datetime (its time zone would be the server's guess).
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return encode_scalar(value.value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError.at(
                (), "Datetimes in filters must be timezone-aware (e.g. datetime.now(UTC)).", "naive_datetime"
            )
        return value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if hasattr(value, "model_dump_json"):  # a pydantic model, e.g. a JSONB document
        return str(value.model_dump_json(by_alias=True))
    if isinstance(value, dict | list):
        return json.dumps(_jsonable(value), separators=(",", ":"))
    return str(value)


def _jsonable(value: Any) -> Any:
    return _adapter(Any).dump_python(value, mode="json")


def _quote(text: str, reserved: str) -> str:
    if text and not any(char in text for char in reserved) and text == text.strip():
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _array_literal(values: Iterable[Any]) -> str:
    # PostgreSQL array syntax: quote empty, NULL-looking, or delimiter-bearing elements.
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
            continue
        text = encode_scalar(value)
        needs_quotes = (
            text == ""
            or text.lower() == "null"
            or any(char in text for char in '{},"\\')
            or any(char.isspace() for char in text)
        )
        parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"' if needs_quotes else text)
    return "{" + ",".join(parts) + "}"


def _validate(column: _Column, value: Any, loc: tuple[str | int, ...]) -> Any:
    from pydantic import ValidationError as PydanticValidationError

    try:
        return _adapter(column.annotation).validate_python(value)
    except PydanticValidationError as exc:
        # The input itself is left out: it may be a secret.
        reasons = "; ".join(error["msg"] for error in exc.errors(include_input=False, include_url=False))
        raise ValidationError.at(
            loc, f"Bad value for {column.name} ({_type_name(column.annotation)}): {reasons}.", "value_type"
        ) from None


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)


def _encoded(column: _Column, value: Any, loc: tuple[str | int, ...]) -> str:
    validated = _validate(column, value, loc)
    if column.kind == "other" and isinstance(value, str):
        # Types such as URLs normalise on validation (adding a trailing slash): compare what was given.
        return value
    return encode_scalar(validated)


def _condition_value(column: _Column, condition: Condition, in_tree: bool) -> str:
    """Validate a condition's value against its column and encode it."""
    op, value, loc = condition.op, condition.value, (column.name, condition.op)
    if op == "is":
        if value is None:
            return "null"
        if isinstance(value, bool) and column.kind == "bool":
            return "true" if value else "false"
        raise ValidationError.at(
            loc, f"is_() on {column.name} takes None, True or False (booleans only on bool).", "is"
        )
    if op in ("like", "ilike"):
        if not isinstance(value, str):
            raise ValidationError.at(loc, f"{op} on {column.name} takes a string pattern.", "pattern")
        return _quote(value, _TREE_RESERVED) if in_tree else value
    if op == "in":
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise ValidationError.at(loc, f"in_() on {column.name} takes a list of values.", "in")
        items = [_encoded(column, item, (*loc, i)) for i, item in enumerate(value)]
        return "(" + ",".join(_quote(item, _LIST_RESERVED) for item in items) + ")"
    if column.kind == "json":
        if not (isinstance(value, Mapping | list) or hasattr(value, "model_dump_json")):
            raise ValidationError.at(
                loc, f"{op} on JSON column {column.name} takes a dict or a list.", "json"
            )
        text = encode_scalar(dict(value) if isinstance(value, Mapping) else value)
    elif column.kind == "array":
        if isinstance(value, str | bytes) or not isinstance(value, Iterable):
            raise ValidationError.at(loc, f"{op} on array column {column.name} takes a list.", "array")
        text = _array_literal(_validate(column, list(value), loc))
    else:
        if value is None:
            raise ValidationError.at(loc, f"Use F({column.name!r}).is_(None) to test for NULL.", "none")
        text = _encoded(column, value, loc)
    return _quote(text, _TREE_RESERVED) if in_tree else text


def _check_op(column: _Column, op: str) -> None:
    if op not in _OPS_FOR_KIND[column.kind]:
        allowed = ", ".join(sorted(_OPS_FOR_KIND[column.kind]))
        raise ValidationError.at(
            (column.name, op),
            f"Operator {op!r} does not fit column {column.name} ({column.kind}); it takes: {allowed}.",
            "operator",
        )


def _tree_item(model: type[BaseModel], item: Filter) -> str:
    """Render a filter inside an ``or=(...)`` / ``and=(...)`` tree."""
    if isinstance(item, Condition):
        column = _column(model, item.column)
        _check_op(column, item.op)
        negation = "not." if item.negated else ""
        return f"{column.name}.{negation}{item.op}.{_condition_value(column, item, in_tree=True)}"
    if isinstance(item, And | Or):
        name = "and" if isinstance(item, And) else "or"
        negation = "not." if item.negated else ""
        return f"{negation}{name}({','.join(_tree_item(model, child) for child in item.items)})"
    raise ValidationError.at((), f"Not a filter: {type(item).__name__}.", "filter")


def _as_filter(where: WhereClause) -> Filter | None:
    if where is None:
        return None
    if isinstance(where, Filter):
        return where
    if isinstance(where, Mapping):
        conditions: list[Filter] = [
            Condition(str(name), "is", None) if value is None else Condition(str(name), "eq", value)
            for name, value in where.items()
        ]
        return And(tuple(conditions)) if conditions else None
    if isinstance(where, Sequence) and not isinstance(where, str | bytes):
        if not all(isinstance(item, Filter) for item in where):
            raise ValidationError.at((), "where= takes filters built with F(...), or a mapping.", "filter")
        return And(tuple(where)) if where else None
    raise ValidationError.at(
        (), f"where= takes a filter, a mapping or a list of filters, not {type(where).__name__}.", "filter"
    )


def compile_where(model: type[BaseModel], where: WhereClause) -> list[tuple[str, str]]:
    """Turn ``where=`` into PostgREST query parameters, validating it against ``model``.

    Top-level conditions become ``column=op.value`` parameters (PostgREST ANDs them); or-groups
    become ``or=(...)``; a negated group becomes ``not.or=(...)`` / ``not.and=(...)``.

    Args:
        model: The Row model whose fields are the table's columns.
        where: The filters.

    Returns:
        The parameters, in order; a key may repeat.

    Raises:
        ValidationError: Unknown column, unfitting operator, or a value of the wrong type.
    """
    root = _as_filter(where)
    if root is None:
        return []
    items = _flatten(root, And)
    params: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, Condition):
            column = _column(model, item.column)
            _check_op(column, item.op)
            negation = "not." if item.negated else ""
            params.append(
                (column.name, f"{negation}{item.op}.{_condition_value(column, item, in_tree=False)}")
            )
        elif isinstance(item, And | Or):
            name = "and" if isinstance(item, And) else "or"
            key = f"not.{name}" if item.negated else name
            params.append((key, "(" + ",".join(_tree_item(model, child) for child in item.items) + ")"))
        else:
            raise ValidationError.at((), f"Not a filter: {type(item).__name__}.", "filter")
    return params


# --- ordering and keyset pages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderTerm:
    """One ``ORDER BY`` term."""

    column: str
    descending: bool = False


def parse_order(model: type[BaseModel], order_by: str | Sequence[str] | None) -> list[OrderTerm]:
    """Parse ``order_by`` (``"col"``, ``"-col"`` or a sequence of them) against ``model``.

    Raises:
        ValidationError: Unknown or unorderable column.
    """
    if order_by is None:
        return []
    names = [order_by] if isinstance(order_by, str) else list(order_by)
    terms = []
    for raw in names:
        descending = raw.startswith("-")
        column = _column(model, raw.lstrip("-+"))
        if column.kind not in _ORDERABLE:
            raise ValidationError.at(
                (column.name,), f"Cannot order by {column.name} ({column.kind}).", "order"
            )
        terms.append(OrderTerm(column.name, descending))
    return terms


def compile_order(terms: Sequence[OrderTerm], *, nulls_last: bool = False) -> list[tuple[str, str]]:
    """The ``order=`` parameter for ``terms`` (none when there are no terms)."""
    if not terms:
        return []
    suffix = ".nullslast" if nulls_last else ""
    return [("order", ",".join(f"{t.column}.{'desc' if t.descending else 'asc'}{suffix}" for t in terms))]


def keyset_filter(
    model: type[BaseModel], term: OrderTerm, primary_key: str, last_value: Any, last_id: Any
) -> list[tuple[str, str]]:
    """The filter selecting rows after ``(last_value, last_id)`` in ``term`` then primary-key order.

    Pages are ordered ``term NULLS LAST, primary_key`` (both in ``term``'s direction), so the rows
    after a non-null value ``X`` are ``col > X`` (``<`` when descending), ``col = X and id > Y``, and
    every NULL; after a NULL they are the NULLs with a greater id.

    Returns:
        One ``or=(...)`` or ``and=(...)`` parameter, or ``pk=gt.Y`` when ordering by the key itself.
    """
    column = _column(model, term.column)
    pk = _column(model, primary_key)
    step = "lt" if term.descending else "gt"
    last_id_text = _quote(encode_scalar(last_id), _TREE_RESERVED)
    if column.name == pk.name:
        return [(pk.name, f"{step}.{encode_scalar(last_id)}")]
    if last_value is None:
        return [("and", f"({column.name}.is.null,{pk.name}.{step}.{last_id_text})")]
    value = _quote(encode_scalar(last_value), _TREE_RESERVED)
    branches = [
        f"{column.name}.{step}.{value}",
        f"and({column.name}.eq.{value},{pk.name}.{step}.{last_id_text})",
    ]
    if column.nullable:
        branches.append(f"{column.name}.is.null")
    return [("or", "(" + ",".join(branches) + ")")]

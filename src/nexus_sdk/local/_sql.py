"""Turning a parsed request into one SQL statement, composed with psycopg.sql.

Identifiers reach SQL only after they were found in the schema cache, and then only through
``sql.Identifier``; every value from a request is a bound parameter. Keywords come from fixed tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from psycopg import sql

from nexus_sdk.local._catalog import Column, Function, Table
from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._parse import Condition, Field, Logic, OrderTerm, SelectItem

__all__ = ["Params", "ReadPlan", "Source", "build_read", "build_scalar_set_read", "build_where"]

_BINARY: Final[dict[str, str]] = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
    "match": "~",
    "imatch": "~*",
    "isdistinct": "IS DISTINCT FROM",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxr": "&<",
    "nxl": "&>",
    "adj": "-|-",
}
_IS: Final[dict[str, str]] = {
    "null": "IS NULL",
    "not_null": "IS NOT NULL",
    "true": "IS TRUE",
    "false": "IS FALSE",
    "unknown": "IS UNKNOWN",
}
_FTS: Final[dict[str, str]] = {
    "fts": "to_tsquery",
    "plfts": "plainto_tsquery",
    "phfts": "phraseto_tsquery",
    "wfts": "websearch_to_tsquery",
}


class Params:
    """Collects bound values under generated names, so placeholders may appear in any order or twice."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> sql.Placeholder:
        """Bind ``value``; returns its placeholder."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


@dataclass(frozen=True, slots=True)
class Source:
    """What a read selects from: a table, or a function call's result."""

    from_clause: sql.Composable
    qualifier: sql.Composable
    columns: Mapping[str, Column]
    display_name: str
    """Used in error messages, as PostgreSQL would name the relation."""
    call: bool = False
    """A function call, which must run once per request even when the count reads its rows again."""


def undefined_column(relation: str, column: str) -> ApiError:
    """The error PostgreSQL raises for an unknown column, which PostgREST passes on (400, 42703)."""
    return ApiError(400, "42703", f"column {relation}.{column} does not exist")


def field_expr(src: Source, f: Field, params: Params) -> sql.Composable:
    """The SQL for a column with its JSON path, after checking the column exists.

    Raises:
        ApiError: 400 42703 for an unknown column.
    """
    if f.column not in src.columns:
        raise undefined_column(src.display_name, f.column)
    expr: sql.Composable = sql.SQL("{}.{}").format(src.qualifier, sql.Identifier(f.column))
    for arrow, key in f.path:
        cast = sql.SQL("::integer" if isinstance(key, int) else "::text")
        expr = sql.SQL("({} {} {}{})").format(expr, sql.SQL(arrow), params.add(key), cast)
    return expr


def _condition(src: Source, cond: Condition, params: Params) -> sql.Composable:
    lhs = field_expr(src, cond.field, params)
    expr: sql.Composable
    if cond.op == "is":
        assert isinstance(cond.value, str)
        expr = sql.SQL("{} {}").format(lhs, sql.SQL(_IS[cond.value.lower()]))
    elif cond.op == "in":
        assert isinstance(cond.value, tuple)
        if cond.value:
            expr = sql.SQL("{} IN ({})").format(lhs, sql.SQL(", ").join(params.add(v) for v in cond.value))
        else:
            expr = sql.SQL("FALSE")
    elif cond.op in _FTS:
        fn = sql.SQL(_FTS[cond.op])
        if cond.language is not None:
            expr = sql.SQL("{} @@ {}({}::regconfig, {})").format(
                lhs, fn, params.add(cond.language), params.add(cond.value)
            )
        else:
            expr = sql.SQL("{} @@ {}({})").format(lhs, fn, params.add(cond.value))
    else:
        expr = sql.SQL("{} {} {}").format(lhs, sql.SQL(_BINARY[cond.op]), params.add(cond.value))
    return sql.SQL("NOT ({})").format(expr) if cond.negated else expr


def _node(src: Source, node: Condition | Logic, params: Params) -> sql.Composable:
    if isinstance(node, Condition):
        return _condition(src, node, params)
    joiner = sql.SQL(" AND ") if node.op == "and" else sql.SQL(" OR ")
    inner = sql.SQL("({})").format(joiner.join(_node(src, c, params) for c in node.children))
    return sql.SQL("NOT {}").format(inner) if node.negated else inner


def build_where(src: Source, filters: Sequence[Condition | Logic], params: Params) -> sql.Composable:
    """``WHERE ...`` for the filters, ANDed as PostgREST does; empty when there are none."""
    if not filters:
        return sql.SQL("")
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(_node(src, f, params) for f in filters))


def select_list(src: Source, items: Sequence[SelectItem], params: Params) -> sql.Composable:
    """The output columns for ``select=``."""
    parts: list[sql.Composable] = []
    for item in items:
        if item.field is None:
            parts.append(sql.SQL("{}.*").format(src.qualifier))
            continue
        expr = field_expr(src, item.field, params)
        if item.cast is not None:
            expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(item.cast))
        name = item.alias or item.field.output_name
        parts.append(sql.SQL("{} AS {}").format(expr, sql.Identifier(name)))
    return sql.SQL(", ").join(parts)


def order_by(src: Source, terms: Sequence[OrderTerm], params: Params) -> sql.Composable:
    """``ORDER BY ...``; empty when there are no terms."""
    if not terms:
        return sql.SQL("")
    parts = []
    for t in terms:
        nulls = {"first": " NULLS FIRST", "last": " NULLS LAST", None: ""}[t.nulls]
        parts.append(
            sql.SQL("{}{}{}").format(
                field_expr(src, t.field, params), sql.SQL(" DESC" if t.descending else " ASC"), sql.SQL(nulls)
            )
        )
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(parts))


@dataclass(slots=True)
class ReadPlan:
    """Everything a read needs besides its source."""

    select: list[SelectItem] = field(default_factory=list)
    filters: list[Condition | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    count: bool = False
    singular: bool = False
    body: bool = True


def body_expr(singular: bool, wanted: bool, rows: sql.Composable | None = None) -> sql.Composable:
    """The aggregate that renders the result rows (``pgrst_t`` unless ``rows``) as PostgREST's JSON body."""
    if not wanted:
        return sql.SQL("NULL::text")
    alias = sql.Identifier("pgrst_t") if rows is None else rows
    if singular:
        return sql.SQL("coalesce((json_agg({})->0)::text, 'null')").format(alias)
    return sql.SQL("coalesce(json_agg({}), '[]')::text").format(alias)


def _page(plan: ReadPlan) -> sql.Composable:
    """`` LIMIT n OFFSET m`` for the plan's range (either part empty when not needed)."""
    limit: sql.Composable = sql.SQL("")
    if plan.limit is not None:
        limit = sql.SQL(" LIMIT {}").format(sql.Literal(int(plan.limit)))
    offset = sql.SQL(" OFFSET {}").format(sql.Literal(int(plan.offset))) if plan.offset else sql.SQL("")
    return sql.Composed([limit, offset])


def _shared_call(
    src: Source, plan: ReadPlan, columns: sql.Composable
) -> tuple[sql.Composable, sql.Composable]:
    """``(WITH prefix, FROM item)`` so that a counted function call runs once, not once per reference.

    The count reads the call's rows a second time; a CTE referenced twice is evaluated once, so a volatile
    function's side effects (an INSERT ... RETURNING, say) happen once, as in PostgREST.
    """
    if not (plan.count and src.call):
        return sql.SQL(""), src.from_clause
    prefix = sql.SQL("WITH pgrst_source AS (SELECT {} FROM {}) ").format(columns, src.from_clause)
    return prefix, sql.SQL("pgrst_source AS {}").format(src.qualifier)


def build_read(src: Source, plan: ReadPlan, params: Params) -> sql.Composed:
    """One statement that returns ``(total or NULL, page row count, body text)``."""
    prefix, from_clause = _shared_call(src, plan, sql.SQL("{}.*").format(src.qualifier))
    where = build_where(src, plan.filters, params)
    total: sql.Composable = sql.SQL("NULL::bigint")
    if plan.count:
        total = sql.SQL("(SELECT pg_catalog.count(*) FROM {}{})").format(from_clause, where)
    return sql.SQL(
        "{prefix}SELECT {total}, pg_catalog.count(*), {body} FROM (SELECT {cols} FROM {src}{where}{order}{page}) pgrst_t"
    ).format(
        prefix=prefix,
        total=total,
        body=body_expr(plan.singular, plan.body),
        cols=select_list(src, plan.select, params),
        src=from_clause,
        where=where,
        order=order_by(src, plan.order, params),
        page=_page(plan),
    )


def build_scalar_set_read(call: sql.Composable, plan: ReadPlan) -> sql.Composed:
    """The read of a function returning ``SETOF`` a scalar: a JSON array of the values, or one value.

    Only the range, the count and the singular/plural choice apply (filters, order and select do not).
    """
    qualifier = sql.Identifier("pgrst_call")
    src = Source(sql.SQL("{} AS pgrst_call(pgrst_scalar)").format(call), qualifier, {}, "", call=True)
    prefix, from_clause = _shared_call(src, plan, sql.SQL("pgrst_call.pgrst_scalar"))
    total: sql.Composable = sql.SQL("NULL::bigint")
    if plan.count:
        total = sql.SQL("(SELECT pg_catalog.count(*) FROM {})").format(from_clause)
    return sql.SQL(
        "{prefix}SELECT {total}, pg_catalog.count(*), {body} "
        "FROM (SELECT pgrst_call.pgrst_scalar FROM {src}{page}) pgrst_t"
    ).format(
        prefix=prefix,
        total=total,
        body=body_expr(plan.singular, plan.body, sql.SQL("pgrst_t.pgrst_scalar")),
        src=from_clause,
        page=_page(plan),
    )


def table_ident(table: Table) -> sql.Composable:
    """``"schema"."table"``."""
    return sql.Identifier(table.schema, table.name)


def table_source(table: Table) -> Source:
    """A read source over a table or view."""
    ident = table_ident(table)
    return Source(ident, ident, table.columns, table.name)


def unknown_payload_column(table: Table, column: str) -> ApiError:
    """PGRST204: a payload or ``columns=`` key that is not a column."""
    return ApiError(
        400, "PGRST204", f"Could not find the '{column}' column of '{table.name}' in the schema cache"
    )


def check_columns(table: Table, names: Iterable[str]) -> list[str]:
    """Return ``names`` as a list after checking each is a column of ``table``.

    Raises:
        ApiError: 400 PGRST204 for an unknown column.
    """
    out = []
    for name in names:
        if name not in table.columns:
            raise unknown_payload_column(table, name)
        out.append(name)
    return out


RETURNING_SOURCE: Final = Source(
    sql.Identifier("pgrst_source"), sql.Identifier("pgrst_source"), {}, "pgrst_source"
)


def _mutation_tail(
    table: Table,
    cte: sql.Composable,
    *,
    representation: bool,
    location: bool,
    select: Sequence[SelectItem],
    singular: bool,
    params: Params,
) -> sql.Composed:
    """Wrap a data-modifying statement as PostgREST does: count, body and Location from its RETURNING."""
    src = Source(sql.Identifier("pgrst_source"), sql.Identifier("pgrst_source"), table.columns, table.name)
    cols: sql.Composable = sql.SQL("1 AS pgrst_one")
    if representation:
        cols = select_list(src, select, params)
    loc: sql.Composable = sql.SQL("NULL::text")
    if location and table.primary_key:
        pk = sql.SQL(", ").join(
            sql.SQL("{}, {}").format(sql.Literal(c), sql.Identifier("pgrst_source", c))
            for c in table.primary_key
        )
        loc = sql.SQL("(SELECT json_build_object({})::text FROM pgrst_source LIMIT 1)").format(pk)
    return sql.SQL(
        "WITH pgrst_source AS ({cte}) SELECT NULL::bigint, pg_catalog.count(*), {body}, {loc} "
        "FROM (SELECT {cols} FROM pgrst_source) pgrst_t"
    ).format(cte=cte, body=body_expr(singular, representation), loc=loc, cols=cols)


def returning(table: Table, representation: bool, location: bool) -> sql.Composable:
    """What a mutation returns: the whole row for a representation, else only what is needed."""
    if representation:
        return sql.SQL(" RETURNING {}.*").format(table_ident(table))
    if location and table.primary_key:
        return sql.SQL(" RETURNING {}").format(
            sql.SQL(", ").join(
                sql.SQL("{}.{}").format(table_ident(table), sql.Identifier(c)) for c in table.primary_key
            )
        )
    # RETURNING 1 needs no SELECT privilege or policy on the new rows, which return=minimal must not need.
    return sql.SQL(" RETURNING 1")


@dataclass(slots=True)
class InsertPlan:
    """A POST to a table."""

    columns: list[str]
    rows: list[dict[str, Any]]
    body_text: str
    body_is_array: bool
    upsert: str | None = None
    """``merge-duplicates``, ``ignore-duplicates`` or ``None``."""
    on_conflict: list[str] | None = None
    missing_default: bool = False


def shared_columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> list[str] | None:
    """The ``columns`` present in every row when all rows hold the same ones, else None.

    Args:
        rows: The payload objects.
        columns: The columns of the insert (``columns=`` or the first object's keys).

    Returns:
        Those of ``columns`` that every row has, in ``columns`` order; None when rows differ in which of
        ``columns`` they hold.
    """
    wanted = frozenset(columns)
    first = wanted.intersection(rows[0])
    for row in rows[1:]:
        # The common case (the same keys as the first row, all wanted) costs one set comparison per row.
        keys = row.keys()
        if not (keys == first or wanted.intersection(keys) == first):
            return None
    return [c for c in columns if c in first]


def build_insert(
    table: Table,
    plan: InsertPlan,
    *,
    representation: bool,
    location: bool,
    select: Sequence[SelectItem],
    singular: bool,
    params: Params,
) -> sql.Composed:
    """One statement inserting (or upserting) the payload rows.

    Raises:
        ApiError: PGRST204 for unknown columns; 400 when an upsert has no conflict target.
    """
    ident = table_ident(table)
    columns = plan.columns
    per_row_defaults = False
    if plan.missing_default and plan.rows:
        shared = shared_columns(plan.rows, columns)
        if shared is not None and (len(shared) == len(columns) or plan.upsert != "merge-duplicates"):
            # Every object has the same keys: the columns they all lack are left out of the target list, so
            # they take their defaults, and the whole array is read by one json_populate_recordset (the
            # per-row VALUES below costs a json_populate_record per cell: ~10x slower for a bulk insert).
            # A merge must still reset the missing columns to their defaults, which only VALUES can say.
            columns = shared
        else:
            per_row_defaults = True
    cols = [sql.Identifier(c) for c in columns]
    collist = sql.SQL(", ").join(cols)
    if not plan.rows:
        # An empty array inserts nothing; PostgREST still answers 201 with [].
        source: sql.Composable = sql.SQL("SELECT {} WHERE FALSE").format(
            sql.SQL(", ").join(sql.SQL("NULL") for _ in cols) if cols else sql.SQL("")
        )
        target = sql.SQL(" ({})").format(collist) if cols else sql.SQL("")
    elif per_row_defaults:
        # Keys missing from an object take the column's default, which only VALUES can express.
        row_sql = []
        for row in plan.rows:
            ph = params.add(_json_text(row))
            vals = [
                sql.SQL("(json_populate_record(NULL::{}, {}::json)).{}").format(ident, ph, sql.Identifier(c))
                if c in row
                else sql.SQL("DEFAULT")
                for c in columns
            ]
            row_sql.append(sql.SQL("({})").format(sql.SQL(", ").join(vals)))
        source = sql.SQL("VALUES {}").format(sql.SQL(", ").join(row_sql))
        target = sql.SQL(" ({})").format(collist)
    else:
        body = params.add(plan.body_text)
        records = (
            sql.SQL("{}::json").format(body)
            if plan.body_is_array
            else sql.SQL("json_build_array({}::json)").format(body)
        )
        if cols:
            source = sql.SQL("SELECT {} FROM json_populate_recordset(NULL::{}, {}) pgrst_body").format(
                sql.SQL(", ").join(sql.SQL("pgrst_body.{}").format(c) for c in cols), ident, records
            )
            target = sql.SQL(" ({})").format(collist)
        else:
            # Objects without keys insert rows of defaults, one per object.
            source = sql.SQL("SELECT FROM json_array_elements({}) pgrst_body").format(records)
            target = sql.SQL("")
    conflict: sql.Composable = sql.SQL("")
    if plan.upsert is not None:
        keys = plan.on_conflict or list(table.primary_key)
        if not keys and plan.upsert == "merge-duplicates":
            raise ApiError(
                400,
                "42P10",
                "there is no unique or exclusion constraint matching the ON CONFLICT specification",
            )
        keysql = (
            sql.SQL(" ({})").format(sql.SQL(", ").join(sql.Identifier(k) for k in keys))
            if keys
            else sql.SQL("")
        )
        if plan.upsert == "ignore-duplicates" or not cols:
            conflict = sql.SQL(" ON CONFLICT{} DO NOTHING").format(keysql)
        else:
            sets = sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(c, c) for c in cols)
            conflict = sql.SQL(" ON CONFLICT{} DO UPDATE SET {}").format(keysql, sets)
    cte = sql.SQL("INSERT INTO {}{} {}{}{}").format(
        ident, target, source, conflict, returning(table, representation, location)
    )
    return _mutation_tail(
        table,
        cte,
        representation=representation,
        location=location,
        select=select,
        singular=singular,
        params=params,
    )


def build_update(
    table: Table,
    columns: Sequence[str],
    body_text: str,
    filters: Sequence[Condition | Logic],
    *,
    representation: bool,
    select: Sequence[SelectItem],
    singular: bool,
    params: Params,
) -> sql.Composed:
    """One UPDATE of the filtered rows with the payload's columns."""
    ident = table_ident(table)
    where = build_where(table_source(table), filters, params)
    sets = sql.SQL(", ").join(sql.SQL("{0} = pgrst_body.{0}").format(sql.Identifier(c)) for c in columns)
    cte = sql.SQL(
        "UPDATE {t} SET {sets} FROM (SELECT * FROM json_populate_record(NULL::{t}, {body}::json)) pgrst_body{where}{ret}"
    ).format(
        t=ident,
        sets=sets,
        body=params.add(body_text),
        where=where,
        ret=returning(table, representation, False),
    )
    return _mutation_tail(
        table,
        cte,
        representation=representation,
        location=False,
        select=select,
        singular=singular,
        params=params,
    )


def build_delete(
    table: Table,
    filters: Sequence[Condition | Logic],
    *,
    representation: bool,
    select: Sequence[SelectItem],
    singular: bool,
    params: Params,
) -> sql.Composed:
    """One DELETE of the filtered rows."""
    where = build_where(table_source(table), filters, params)
    cte = sql.SQL("DELETE FROM {}{}{}").format(
        table_ident(table), where, returning(table, representation, False)
    )
    return _mutation_tail(
        table,
        cte,
        representation=representation,
        location=False,
        select=select,
        singular=singular,
        params=params,
    )


def rpc_source(
    fn: Function, args: Mapping[str, Any], params: Params, *, from_text: bool = False
) -> sql.Composable:
    """``FROM`` items calling ``fn`` with named arguments.

    A JSON body's arguments are read with ``json_to_record`` (JSON semantics: a JSON string stays a string
    even for a ``jsonb`` argument); query-string arguments (``from_text``) are text, cast to the argument's
    type by its input function, as PostgREST does for GET.
    """
    call_name = sql.Identifier(fn.schema, fn.name)
    used = [a for a in fn.args if a.name in args]
    if not used:
        return sql.SQL("{}()").format(call_name)
    if from_text:
        casts = sql.SQL(", ").join(
            sql.SQL("{} := CAST({} AS {})").format(
                sql.Identifier(a.name), params.add(str(args[a.name])), sql.SQL(a.type)
            )
            for a in used
        )
        return sql.SQL("{}({})").format(call_name, casts)
    named = sql.SQL(", ").join(sql.SQL("{0} := pgrst_args.{0}").format(sql.Identifier(a.name)) for a in used)
    # Argument types come from the catalog (format_type), never from the request.
    coldefs = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(a.name), sql.SQL(a.type)) for a in used
    )
    return sql.SQL("json_to_record({}::json) AS pgrst_args({}), LATERAL {}({})").format(
        params.add(_json_text({a.name: args[a.name] for a in used})), coldefs, call_name, named
    )


def _json_text(value: Any) -> str:
    return json.dumps(value)

"""Turning a parsed request into one SQL statement, composed with psycopg.sql.

Identifiers reach SQL only after they were found in the schema cache, and then only through
``sql.Identifier``; every value from a request is a bound parameter. Keywords come from fixed tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from psycopg import sql

from nexus_sdk.local import _fuzzy
from nexus_sdk.local._catalog import Catalog, Column, Function, Relationship, Table
from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._parse import (
    Condition,
    EmbedItem,
    Field,
    Logic,
    NodeOptions,
    OrderTerm,
    SelectItem,
)

__all__ = ["Params", "ReadPlan", "Source", "build_read", "build_scalar_set_read", "build_where"]

Item = SelectItem | EmbedItem


def _ident(*names: str) -> sql.Identifier:
    """``sql.Identifier``, safe in a statement run with parameters: a ``%`` in a name must not read as a
    placeholder (every statement here is executed with a parameter mapping, which doubles ``%%`` back)."""
    return sql.Identifier(*(n.replace("%", "%%") for n in names))


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
    relation: str | None = None
    """The relation of the schema cache whose rows these are (for embedding), if any."""
    star: tuple[str, ...] | None = None
    """The columns ``*`` stands for, when the source has more (a RETURNING with bookkeeping columns)."""
    computed: Mapping[str, Function] = field(default_factory=dict)
    """Computed fields: functions of the row (``full_name(people)``), selected, filtered and ordered by
    name like columns, never part of ``*``."""
    row: sql.Composable | None = None
    """How the whole row is referenced, to pass it to a computed field."""


def undefined_column(relation: str, column: str) -> ApiError:
    """The error PostgreSQL raises for an unknown column, which PostgREST passes on (400, 42703)."""
    return ApiError(400, "42703", f"column {relation}.{column} does not exist")


def field_expr(src: Source, f: Field, params: Params) -> sql.Composable:
    """The SQL for a column with its JSON path, after checking the column exists.

    Raises:
        ApiError: 400 42703 for an unknown column.
    """
    expr: sql.Composable
    if f.column in src.columns:
        expr = sql.SQL("{}.{}").format(src.qualifier, _ident(f.column))
    elif f.column in src.computed and src.row is not None:
        fn = src.computed[f.column]
        expr = sql.SQL("{}({})").format(_ident(fn.schema, fn.name), src.row)
    else:
        raise undefined_column(src.display_name, f.column)
    for arrow, key in f.path:
        cast = sql.SQL("::integer" if isinstance(key, int) else "::text")
        expr = sql.SQL("({} {} {}{})").format(expr, sql.SQL(arrow), params.add(key), cast)
    return expr


def _condition(
    src: Source, cond: Condition, params: Params, embeds: Mapping[str, sql.Composable]
) -> sql.Composable:
    if cond.field.column in embeds and cond.field.column not in src.columns and not cond.field.path:
        # Null filtering on an embedded resource: is.null (an anti-join) or not.is.null (like !inner).
        if cond.op != "is" or cond.value not in ("null", "not_null"):
            raise ApiError(
                400,
                "PGRST120",
                f"Bad operator on the '{cond.field.column}' embedded resource",
                details="Only is null or not is null filters are allowed on embedded resources",
            )
        is_null = (cond.value == "null") != cond.negated
        return sql.SQL("({} IS {})").format(
            embeds[cond.field.column], sql.SQL("NULL" if is_null else "NOT NULL")
        )
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
        column = src.columns.get(cond.field.column)
        is_tsvector = column is not None and column.type == "tsvector" and not cond.field.path
        lang = params.add(cond.language) if cond.language is not None else None
        if not is_tsvector:
            # PostgREST converts text, json and jsonb with to_tsvector, in the query's language.
            lhs = (
                sql.SQL("to_tsvector({}::regconfig, {})").format(lang, lhs)
                if lang is not None
                else sql.SQL("to_tsvector({})").format(lhs)
            )
        if lang is not None:
            expr = sql.SQL("{} @@ {}({}::regconfig, {})").format(lhs, fn, lang, params.add(cond.value))
        else:
            expr = sql.SQL("{} @@ {}({})").format(lhs, fn, params.add(cond.value))
    elif cond.quantifier is not None:
        expr = sql.SQL("{} {} {}({})").format(
            lhs,
            sql.SQL(_BINARY[cond.op]),
            sql.SQL("ANY" if cond.quantifier == "any" else "ALL"),
            params.add(cond.value),
        )
    else:
        expr = sql.SQL("{} {} {}").format(lhs, sql.SQL(_BINARY[cond.op]), params.add(cond.value))
    return sql.SQL("NOT ({})").format(expr) if cond.negated else expr


def _node(
    src: Source, node: Condition | Logic, params: Params, embeds: Mapping[str, sql.Composable]
) -> sql.Composable:
    if isinstance(node, Condition):
        return _condition(src, node, params, embeds)
    joiner = sql.SQL(" AND ") if node.op == "and" else sql.SQL(" OR ")
    inner = sql.SQL("({})").format(joiner.join(_node(src, c, params, embeds) for c in node.children))
    return sql.SQL("NOT {}").format(inner) if node.negated else inner


def conditions(
    src: Source,
    filters: Sequence[Condition | Logic],
    params: Params,
    embeds: Mapping[str, sql.Composable] | None = None,
) -> list[sql.Composable]:
    """The SQL of each filter (to be ANDed)."""
    return [_node(src, f, params, embeds or {}) for f in filters]


def build_where(
    src: Source,
    filters: Sequence[Condition | Logic],
    params: Params,
    embeds: Mapping[str, sql.Composable] | None = None,
) -> sql.Composable:
    """``WHERE ...`` for the filters, ANDed as PostgREST does; empty when there are none."""
    if not filters:
        return sql.SQL("")
    return sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conditions(src, filters, params, embeds)))


def _item_expr(src: Source, item: SelectItem, params: Params) -> sql.Composable:
    assert item.field is not None
    expr = field_expr(src, item.field, params)
    if item.cast is not None:
        expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(item.cast))
    name = item.alias or item.field.output_name
    return sql.SQL("{} AS {}").format(expr, _ident(name))


def _order_terms(
    src: Source, terms: Sequence[OrderTerm], params: Params, related: _RelatedOrder | None = None
) -> sql.Composable:
    if not terms:
        return sql.SQL("")
    parts = []
    for t in terms:
        nulls = {"first": " NULLS FIRST", "last": " NULLS LAST", None: ""}[t.nulls]
        if t.relation is not None:
            if related is None:
                raise not_embedded(t.relation)
            expr = related.term(t)
        else:
            expr = field_expr(src, t.field, params)
        parts.append(
            sql.SQL("{}{}{}").format(expr, sql.SQL(" DESC" if t.descending else " ASC"), sql.SQL(nulls))
        )
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(parts))


def not_embedded(name: str) -> ApiError:
    """PGRST108: a filter, order or limit names a resource the select does not embed."""
    return ApiError(
        400,
        "PGRST108",
        f"'{name}' is not an embedded resource in this request",
        hint=f"Verify that '{name}' is included in the 'select' query parameter.",
    )


@dataclass(slots=True)
class _Shape:
    """One level of a read: its output columns, the lateral joins of its embedded resources."""

    columns: list[sql.Composable] = field(default_factory=list)
    joins: list[sql.Composable] = field(default_factory=list)
    embeds: dict[str, sql.Composable] = field(default_factory=dict)
    """Output name -> the embedded value (NULL when no row), for ``rel=is.null`` filters."""
    related_order: dict[str, tuple[Relationship, Table, sql.Composable]] = field(default_factory=dict)
    used: set[str] | None = field(default_factory=set)
    """Source columns referenced; None when ``*`` asks for all of them."""
    names: list[str] = field(default_factory=list)
    """The output names of ``columns``, in order (a to-many spread aggregates each one)."""


class Embedder:
    """Builds the select list of a read with PostgREST's resource embedding: one lateral join each.

    Every relationship comes from the schema cache's foreign keys; every embedded query is a subquery of
    the same statement, so it runs as the same role and row-level security applies to it.
    """

    def __init__(
        self,
        catalog: Catalog | None,
        params: Params,
        embedded: Mapping[tuple[str, ...], NodeOptions] | None = None,
    ) -> None:
        self.catalog = catalog
        self.params = params
        self.embedded = dict(embedded or {})
        self._n = 0
        self._seen: set[tuple[str, ...]] = set()

    def next_number(self) -> int:
        """A number for the next alias of this statement (``pgrst_<n>``), unique within it."""
        self._n += 1
        return self._n

    def check_paths(self) -> None:
        """Every embedding path named by a filter, order or limit must be embedded.

        Raises:
            ApiError: 400 PGRST108.
        """
        for path in self.embedded:
            if path not in self._seen:
                raise not_embedded(path[-1] if len(path) == 1 else ".".join(path))

    def shape(self, src: Source, items: Sequence[Item], path: tuple[str, ...] = ()) -> _Shape:
        """The columns and joins for ``items`` read from ``src``."""
        out = _Shape()
        for item in items:
            if isinstance(item, SelectItem):
                if item.field is None:
                    if src.star is not None:
                        out.columns.extend(
                            sql.SQL("{}.{}").format(src.qualifier, _ident(c)) for c in src.star
                        )
                    else:
                        out.columns.append(sql.SQL("{}.*").format(src.qualifier))
                    out.names.extend(src.star if src.star is not None else src.columns)
                    out.used = None
                else:
                    out.columns.append(_item_expr(src, item, self.params))
                    out.names.append(item.alias or item.field.output_name)
                    if out.used is not None:
                        out.used.add(item.field.column)
                continue
            self._embed(src, item, path, out)
        return out

    def _embed(self, src: Source, item: EmbedItem, path: tuple[str, ...], out: _Shape) -> None:
        rel = self.resolve(src, item)
        assert self.catalog is not None
        target = self.catalog.tables[rel.target]
        n = self.next_number()
        alias = _ident(f"pgrst_{n}")
        child_src = Source(
            table_ident(target),
            alias,
            target.columns,
            target.name,
            relation=target.name,
            computed=self.catalog.computed.get(target.name, {}),
            row=alias,
        )
        child_path = (*path, item.output_name)
        self._seen.add(child_path)
        opts = self.embedded.get(child_path, NodeOptions())
        child = self.shape(child_src, item.children, child_path)
        from_: sql.Composable = sql.SQL("{} AS {}").format(table_ident(target), alias)
        conds: list[sql.Composable] = []
        if rel.junction is not None:
            junction = _ident(f"pgrst_{n}_j")
            on = sql.SQL(" AND ").join(
                sql.SQL("{}.{} = {}.{}").format(junction, _ident(jc), alias, _ident(tc))
                for jc, tc in rel.junction_pairs
            )
            from_ = sql.SQL("{} JOIN {} AS {} ON {}").format(
                from_, table_ident(self.catalog.tables[rel.junction]), junction, on
            )
            left = junction
        else:
            left = alias
        for scol, tcol in rel.pairs:
            conds.append(sql.SQL("{}.{} = {}.{}").format(left, _ident(tcol), src.qualifier, _ident(scol)))
            if out.used is not None:
                out.used.add(scol)
        conds += conditions(child_src, opts.filters, self.params, child.embeds)
        order = _order_terms(child_src, opts.order, self.params, _RelatedOrder(self, child_src, child))
        page: sql.Composable = sql.SQL("")
        if opts.limit is not None:
            page = sql.SQL(" LIMIT {}").format(sql.Literal(opts.limit))
        if opts.offset:
            page = sql.Composed([page, sql.SQL(" OFFSET {}").format(sql.Literal(opts.offset))])
        inner = sql.SQL("SELECT {} FROM {}{} WHERE {}{}{}").format(
            sql.SQL(", ").join(child.columns),
            from_,
            sql.Composed(child.joins),
            sql.SQL(" AND ").join(conds),
            order,
            page,
        )
        lateral = _ident(f"pgrst_{n}_e")
        join_kind = sql.SQL(" INNER JOIN LATERAL " if item.join == "inner" else " LEFT JOIN LATERAL ")
        name = _ident(item.output_name)
        if item.spread:
            if rel.to_one:
                out.joins.append(sql.SQL("{}({}) AS {} ON TRUE").format(join_kind, inner, lateral))
            else:
                # A to-many spread: each column becomes an array, the arrays correlated (same row order).
                arrays = sql.SQL(", ").join(
                    sql.SQL("coalesce(json_agg(pgrst_r.{0}), '[]') AS {0}").format(_ident(n))
                    for n in child.names
                )
                out.joins.append(
                    sql.SQL("{}(SELECT {} FROM ({}) pgrst_r) AS {} ON TRUE").format(
                        join_kind, arrays, inner, lateral
                    )
                )
            if child.columns:
                out.columns.append(sql.SQL("{}.*").format(lateral))
                out.names.extend(child.names)
            return
        body = sql.SQL("{}.pgrst_body").format(lateral)
        if rel.to_one:
            out.joins.append(
                sql.SQL(
                    "{}(SELECT row_to_json(pgrst_r) AS pgrst_body FROM ({}) pgrst_r) AS {} ON TRUE"
                ).format(join_kind, inner, lateral)
            )
            if item.children:
                out.columns.append(sql.SQL("{} AS {}").format(body, name))
                out.names.append(item.output_name)
            out.related_order[item.output_name] = (rel, target, src.qualifier)
        else:
            agg_on: sql.Composable = (
                sql.SQL("{} IS NOT NULL").format(body) if item.join == "inner" else sql.SQL("TRUE")
            )
            out.joins.append(
                sql.SQL("{}(SELECT json_agg(pgrst_r) AS pgrst_body FROM ({}) pgrst_r) AS {} ON {}").format(
                    join_kind, inner, lateral, agg_on
                )
            )
            if item.children:
                out.columns.append(sql.SQL("coalesce({}, '[]') AS {}").format(body, name))
                out.names.append(item.output_name)
        out.embeds[item.output_name] = body

    def _no_relationship_hint(self, src: Source, name: str, rels: list[Relationship]) -> str | None:
        """PostgREST's suggestion: a relation of ``src`` like ``name`` (never ``name`` itself), or, when
        ``src`` has no relationships, a relation that has some like ``src``."""
        if self.catalog is None or src.relation is None:
            return None
        if rels:
            targets = sorted({r.target for r in rels})
            similar = _fuzzy.closest(name, targets, min_score=_fuzzy.RELATED_SCORE, exclude_exact=True)
            return f"Perhaps you meant '{similar}' instead of '{name}'." if similar else None
        catalog = self.catalog
        parents = [t for t in sorted(catalog.tables) if catalog.relationships(t)]
        similar = _fuzzy.closest(src.relation, parents, min_score=_fuzzy.RELATED_SCORE)
        return f"Perhaps you meant '{similar}' instead of '{src.relation}'." if similar else None

    def resolve(self, src: Source, item: EmbedItem) -> Relationship:
        """The one relationship ``item`` names from ``src``, as PostgREST chooses it.

        Raises:
            ApiError: 400 PGRST200 when there is none, 300 PGRST201 when several fit.
        """
        origin = src.relation or src.display_name
        rels = self.catalog.relationships(src.relation) if self.catalog and src.relation else []
        found = [r for r in rels if _matches(r, item.name, item.hint, self.catalog)]
        if not found:
            using = f"' using the hint '{item.hint}" if item.hint else ""
            schema = self.catalog.schema if self.catalog else "public"
            raise ApiError(
                400,
                "PGRST200",
                f"Could not find a relationship between '{origin}' and '{item.name}' in the schema cache",
                details=f"Searched for a foreign key relationship between '{origin}' and '{item.name}{using}' "
                f"in the schema '{schema}', but no matches were found.",
                hint=self._no_relationship_hint(src, item.name, rels),
            )
        if len(found) > 1:
            choices = ", ".join(f"'{item.name}!{r.hint_name()}'" for r in found)
            raise _AmbiguousEmbed(
                [r.describe() for r in found],
                300,
                "PGRST201",
                f"Could not embed because more than one relationship was found for '{origin}' and '{item.name}'",
                hint=f"Try changing '{item.name}' to one of the following: {choices}. "
                "Find the desired relationship in the 'details' key.",
            )
        return found[0]


class _AmbiguousEmbed(ApiError):
    """PGRST201, whose ``details`` is a list of the candidate relationships rather than a string."""

    def __init__(self, candidates: list[dict[str, str]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.candidates = candidates

    def body(self) -> bytes:
        """The JSON body, with the candidates as ``details``."""
        return json.dumps(
            {"code": self.code, "details": self.candidates, "hint": self.hint, "message": self.message},
            separators=(",", ":"),
        ).encode()


class _RelatedOrder:
    """Order expressions for ``order=rel(col)``, built on demand (a correlated subquery per term)."""

    def __init__(self, embedder: Embedder, src: Source, shape: _Shape) -> None:
        self._embedder = embedder
        self._src = src
        self._shape = shape

    def term(self, term: OrderTerm) -> sql.Composable:
        """The value ``term`` orders by: the related row's column, through the embedding's key."""
        assert term.relation is not None
        entry = self._shape.related_order.get(term.relation)
        if entry is None:
            if term.relation in self._shape.embeds:
                raise ApiError(
                    400,
                    "PGRST118",
                    f"A related order on '{term.relation}' is not possible",
                    details=f"'{self._src.relation}' and '{term.relation}' do not form a many-to-one or "
                    "one-to-one relationship",
                )
            raise not_embedded(term.relation)
        rel, target, parent = entry
        alias = _ident(f"pgrst_{self._embedder.next_number()}")
        tsrc = Source(table_ident(target), alias, target.columns, target.name)
        col = field_expr(tsrc, term.field, self._embedder.params)
        conds = sql.SQL(" AND ").join(
            sql.SQL("{}.{} = {}.{}").format(alias, _ident(tcol), parent, _ident(scol))
            for scol, tcol in rel.pairs
        )
        return sql.SQL("(SELECT {} FROM {} AS {} WHERE {})").format(col, table_ident(target), alias, conds)


def _matches(rel: Relationship, target: str, hint: str | None, catalog: Catalog | None) -> bool:
    """PostgREST's rule for whether ``target!hint`` names ``rel``."""
    direct = rel.junction is None
    single = len(rel.pairs) == 1
    fk_col = rel.pairs[0][0] if single and direct else None
    ref_col = rel.pairs[0][1] if single and direct else None
    target_is_view = bool(catalog and rel.target in catalog.tables and catalog.tables[rel.target].is_view)
    if direct and rel.source == rel.target:
        # A self-relationship: the table name gives the one-to-many, the column the many-to-one.
        if hint is None:
            return (target == rel.target and rel.cardinality == "one-to-many") or (
                target == fk_col and rel.cardinality == "many-to-one"
            )
        return target == rel.target and rel.cardinality == "one-to-many" and hint == ref_col
    if hint is None:
        return (
            target == rel.target
            or (direct and target == rel.fk.name and not target_is_view)
            or (direct and fk_col is not None and target == fk_col and not target_is_view)
        )
    return target == rel.target and (
        (direct and hint == rel.fk.name)
        or (fk_col is not None and hint == fk_col)
        or (ref_col is not None and hint == ref_col)
        or (not direct and hint == rel.junction)
    )


@dataclass(slots=True)
class ReadPlan:
    """Everything a read needs besides its source."""

    select: list[Item] = field(default_factory=list)
    filters: list[Condition | Logic] = field(default_factory=list)
    order: list[OrderTerm] = field(default_factory=list)
    offset: int = 0
    limit: int | None = None
    count: bool = False
    singular: bool = False
    csv: bool = False
    strip: bool = False
    """``nulls=stripped``: null object fields are left out of the JSON body."""
    body: bool = True
    embedded: dict[tuple[str, ...], NodeOptions] = field(default_factory=dict)
    count_limit: int | None = None
    """Count at most this many rows (``count=estimated`` counts exactly only up to ``max_rows``)."""


# PostgREST's CSV: a header of the first row's keys (empty without rows), then each row as PostgreSQL's
# record text without its parentheses (quoted where the record syntax needs it, NULL as nothing).
_CSV_BODY: Final = sql.SQL(
    "array_to_string(ARRAY(SELECT json_object_keys(row_to_json((array_agg(pgrst_t))[1]))), ',') || E'\\n' || "
    "coalesce(string_agg(substring(pgrst_t::text, 2, length(pgrst_t::text) - 2), E'\\n'), '')"
)


def body_expr(
    singular: bool,
    wanted: bool,
    rows: sql.Composable | None = None,
    *,
    csv: bool = False,
    strip: bool = False,
) -> sql.Composable:
    """The aggregate that renders the result rows (``pgrst_t`` unless ``rows``) as PostgREST's JSON body
    (or, with ``csv``, the rows of ``pgrst_t`` as PostgREST's CSV); ``strip`` (``nulls=stripped``) drops
    null object fields, nested ones included, as PostgREST does with ``json_strip_nulls``."""
    if not wanted:
        return sql.SQL("NULL::text")
    if csv:
        return _CSV_BODY
    alias = _ident("pgrst_t") if rows is None else rows
    agg = sql.SQL("json_agg({})->0" if singular else "json_agg({})").format(alias)
    if strip:
        agg = sql.SQL("json_strip_nulls({})").format(agg)
    return sql.SQL("coalesce(({})::text, {})").format(agg, sql.SQL("'null'" if singular else "'[]'"))


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


def build_read(src: Source, plan: ReadPlan, params: Params, catalog: Catalog | None = None) -> sql.Composed:
    """One statement that returns ``(total or NULL, page row count, body text)``.

    Raises:
        ApiError: for unknown columns (42703), relationships (PGRST200/201) and embedding paths (PGRST108).
    """
    prefix, from_clause = _shared_call(src, plan, sql.SQL("{}.*").format(src.qualifier))
    embedder = Embedder(catalog, params, plan.embedded)
    shape = embedder.shape(src, plan.select)
    joins = sql.Composed(shape.joins)
    conds = conditions(src, plan.filters, params, shape.embeds)
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conds)) if conds else sql.SQL("")
    order = _order_terms(src, plan.order, params, _RelatedOrder(embedder, src, shape))
    embedder.check_paths()
    total: sql.Composable = sql.SQL("NULL::bigint")
    if plan.count:
        cap: sql.Composable = sql.SQL("")
        if plan.count_limit is not None:
            cap = sql.SQL(" LIMIT {}").format(sql.Literal(plan.count_limit))
        total = sql.SQL("(SELECT pg_catalog.count(*) FROM (SELECT 1 FROM {}{}{}{}) pgrst_c)").format(
            from_clause, joins, where, cap
        )
    return sql.SQL(
        "{prefix}SELECT {total}, pg_catalog.count(*), {body} FROM (SELECT {cols} FROM {src}{joins}{where}{order}{page}) pgrst_t"
    ).format(
        prefix=prefix,
        total=total,
        body=body_expr(plan.singular, plan.body, csv=plan.csv, strip=plan.strip),
        cols=sql.SQL(", ").join(shape.columns) if shape.columns else sql.SQL(""),
        src=from_clause,
        joins=joins,
        where=where,
        order=order,
        page=_page(plan),
    )


def build_count_explain(
    src: Source, plan: ReadPlan, params: Params, catalog: Catalog | None = None
) -> sql.Composed:
    """``EXPLAIN (FORMAT JSON)`` of the rows a read counts: the planner's estimate for planned counts."""
    embedder = Embedder(catalog, params, plan.embedded)
    shape = embedder.shape(src, plan.select)
    conds = conditions(src, plan.filters, params, shape.embeds)
    where = sql.SQL(" WHERE {}").format(sql.SQL(" AND ").join(conds)) if conds else sql.SQL("")
    return sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {}{}{}").format(
        src.from_clause, sql.Composed(shape.joins), where
    )


def build_scalar_set_read(call: sql.Composable, plan: ReadPlan) -> sql.Composed:
    """The read of a function returning ``SETOF`` a scalar: a JSON array of the values, or one value.

    Only the range, the count and the singular/plural choice apply (filters, order and select do not).
    """
    qualifier = _ident("pgrst_call")
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
        body=body_expr(plan.singular, plan.body, sql.SQL("pgrst_t.pgrst_scalar"), strip=plan.strip),
        src=from_clause,
        page=_page(plan),
    )


def table_ident(table: Table) -> sql.Composable:
    """``"schema"."table"``."""
    return _ident(table.schema, table.name)


def table_source(table: Table, catalog: Catalog | None = None) -> Source:
    """A read source over a table or view (with its computed fields when ``catalog`` is given)."""
    ident = table_ident(table)
    computed = catalog.computed.get(table.name, {}) if catalog is not None else {}
    # The FROM item is named after the table, so its unqualified name is the whole-row reference.
    return Source(
        ident,
        ident,
        table.columns,
        table.name,
        relation=table.name,
        computed=computed,
        row=_ident(table.name),
    )


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


class Mutation:
    """What a write returns, as PostgREST shapes it: the count, the body (``select=``, embedding included), the
    primary key for ``Location``, and whether any row was inserted (an upsert that only updated is 200).

    RETURNING names only the columns the response needs, so a role with column-level SELECT grants can
    still ask for the columns it may read.
    """

    def __init__(
        self,
        table: Table,
        *,
        representation: bool,
        location: bool,
        select: Sequence[Item],
        singular: bool,
        params: Params,
        catalog: Catalog | None = None,
        embedded: Mapping[tuple[str, ...], NodeOptions] | None = None,
        track_inserts: Literal["xmax", "guc"] | None = None,
        csv: bool = False,
        strip: bool = False,
        order: Sequence[OrderTerm] = (),
    ) -> None:
        self.table = table
        self.representation = representation
        self.location = location and bool(table.primary_key)
        self.singular = singular
        self.csv = csv
        self.strip = strip
        self.params = params
        self.track_inserts = track_inserts
        src = Source(
            _ident("pgrst_source"),
            _ident("pgrst_source"),
            table.columns,
            table.name,
            relation=table.name,
            star=tuple(table.columns),
        )
        self.shape = _Shape(columns=[sql.SQL("1 AS pgrst_one")])
        self.order: sql.Composable = sql.SQL("")
        if representation:
            embedder = Embedder(catalog, params, embedded)
            self.shape = embedder.shape(src, select)
            # order= orders the returned rows (PostgREST 13+); the columns it names are returned too.
            self.order = _order_terms(src, order, params, _RelatedOrder(embedder, src, self.shape))
            if self.shape.used is not None:
                self.shape.used.update(t.field.column for t in order if t.relation is None)
            embedder.check_paths()

    def returning(self) -> sql.Composable:
        """The RETURNING clause of the data-modifying statement."""
        parts = self.returned()
        if not parts:
            # RETURNING 1 needs no SELECT privilege or policy on the new rows, which return=minimal must not.
            return sql.SQL(" RETURNING 1")
        return sql.SQL(" RETURNING {}").format(sql.SQL(", ").join(parts))

    def returned(self) -> list[sql.Composable]:
        """The columns the statement returns (none for ``return=minimal``)."""
        ident = table_ident(self.table)
        wanted: list[str]
        if self.representation and self.shape.used is None:
            wanted = list(self.table.columns)
        else:
            used = set(self.shape.used or ()) if self.representation else set()
            if self.location:
                used.update(self.table.primary_key)
            wanted = [c for c in self.table.columns if c in used]
        parts: list[sql.Composable] = [sql.SQL("{}.{}").format(ident, _ident(c)) for c in wanted]
        if self.track_inserts == "xmax":
            # An inserted row has no xmax; a row an upsert updated has its updater's.
            parts.append(sql.SQL("({}.xmax = 0) AS pgrst_inserted").format(ident))
        return parts

    def statement(self, cte: sql.Composable) -> sql.Composed:
        """``cte`` wrapped: ``(NULL, affected rows, body, primary key of the first row, inserted rows)``."""
        loc: sql.Composable = sql.SQL("NULL::text")
        if self.location:
            pk = sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(c.replace("%", "%%")), _ident("pgrst_source", c))
                for c in self.table.primary_key
            )
            loc = sql.SQL("(SELECT json_build_object({})::text FROM pgrst_source LIMIT 1)").format(pk)
        inserted: sql.Composable = sql.SQL("NULL::bigint")
        if self.track_inserts == "xmax":
            inserted = sql.SQL(
                "(SELECT pg_catalog.count(*) FROM pgrst_source WHERE pgrst_source.pgrst_inserted)"
            )
        elif self.track_inserts == "guc":
            inserted = sql.SQL("coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0)")
        cols = self.shape.columns
        return sql.SQL(
            "WITH pgrst_source AS ({cte}) SELECT NULL::bigint, pg_catalog.count(*), {body}, {loc}, {inserted} "
            "FROM (SELECT {cols} FROM pgrst_source{joins}{order}) pgrst_t"
        ).format(
            cte=cte,
            body=body_expr(self.singular, self.representation, csv=self.csv, strip=self.strip),
            loc=loc,
            inserted=inserted,
            cols=sql.SQL(", ").join(cols) if cols else sql.SQL(""),
            joins=sql.Composed(self.shape.joins),
            order=self.order,
        )


def _count_inserted(step: int) -> sql.Composable:
    """A condition that is always true and adds ``step`` to the transaction's ``pgrst.inserted``."""
    return sql.SQL(
        "set_config('pgrst.inserted', (coalesce(nullif(current_setting('pgrst.inserted', true), '')::int, 0) "
        "{} 1)::text, true) <> {}"
    ).format(sql.SQL("+" if step > 0 else "-"), sql.Literal("0" if step > 0 else "-1"))


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
    put_filters: Sequence[Condition] = ()
    """``PUT``: the primary key's ``eq`` filters; only payload rows matching them are offered."""


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
    select: Sequence[Item],
    singular: bool,
    params: Params,
    catalog: Catalog | None = None,
    embedded: Mapping[tuple[str, ...], NodeOptions] | None = None,
    csv: bool = False,
    strip: bool = False,
    order: Sequence[OrderTerm] = (),
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
    cols = [_ident(c) for c in columns]
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
                sql.SQL("(json_populate_record(NULL::{}, {}::json)).{}").format(ident, ph, _ident(c))
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
            body_src = Source(_ident("pgrst_body"), _ident("pgrst_body"), table.columns, "pgrst_body")
            source = sql.SQL("SELECT {} FROM json_populate_recordset(NULL::{}, {}) pgrst_body{}").format(
                sql.SQL(", ").join(sql.SQL("pgrst_body.{}").format(c) for c in cols),
                ident,
                records,
                build_where(body_src, plan.put_filters, params),
            )
            target = sql.SQL(" ({})").format(collist)
        else:
            # Objects without keys insert rows of defaults, one per object.
            source = sql.SQL("SELECT FROM json_array_elements({}) pgrst_body").format(records)
            target = sql.SQL("")
    conflict: sql.Composable = sql.SQL("")
    track: Literal["xmax", "guc"] | None = None
    if plan.upsert == "merge-duplicates" and not plan.rows:
        track = "guc"
    elif plan.upsert == "merge-duplicates" and cols:
        if per_row_defaults:
            # VALUES with DEFAULT cannot be filtered; a table's rows tell inserted from updated by xmax.
            track = None if table.is_view else "xmax"
        else:
            # Count rows offered, minus rows the conflict clause updated (PostgREST's own bookkeeping).
            track = "guc"
            source = sql.SQL("SELECT * FROM ({}) pgrst_offered WHERE {}").format(source, _count_inserted(1))
    if plan.upsert is not None:
        keys = plan.on_conflict or list(table.primary_key)
        keysql = sql.SQL(" ({})").format(sql.SQL(", ").join(_ident(k) for k in keys)) if keys else sql.SQL("")
        if plan.upsert == "ignore-duplicates" or not cols:
            conflict = sql.SQL(" ON CONFLICT{} DO NOTHING").format(keysql)
        else:
            sets = sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(c, c) for c in cols)
            conflict = sql.SQL(" ON CONFLICT{} DO UPDATE SET {}").format(keysql, sets)
            if track == "guc":
                conflict = sql.SQL("{} WHERE {}").format(conflict, _count_inserted(-1))
    mutation = Mutation(
        table,
        representation=representation,
        location=location,
        select=select,
        singular=singular,
        params=params,
        catalog=catalog,
        embedded=embedded,
        csv=csv,
        strip=strip,
        order=order,
        track_inserts=track,
    )
    cte = sql.SQL("INSERT INTO {}{} {}{}{}").format(ident, target, source, conflict, mutation.returning())
    return mutation.statement(cte)


def build_update(
    table: Table,
    columns: Sequence[str],
    body_text: str,
    filters: Sequence[Condition | Logic],
    *,
    representation: bool,
    select: Sequence[Item],
    singular: bool,
    params: Params,
    defaults: Sequence[str] = (),
    catalog: Catalog | None = None,
    embedded: Mapping[tuple[str, ...], NodeOptions] | None = None,
    csv: bool = False,
    strip: bool = False,
    order: Sequence[OrderTerm] = (),
) -> sql.Composed:
    """One UPDATE of the filtered rows with the payload's columns (``defaults`` are set to their DEFAULT)."""
    ident = table_ident(table)
    where = build_where(table_source(table), filters, params)
    sets = sql.SQL(", ").join(
        [sql.SQL("{0} = pgrst_body.{0}").format(_ident(c)) for c in columns]
        + [sql.SQL("{} = DEFAULT").format(_ident(c)) for c in defaults]
    )
    mutation = Mutation(
        table,
        representation=representation,
        location=False,
        select=select,
        singular=singular,
        params=params,
        catalog=catalog,
        embedded=embedded,
        csv=csv,
        strip=strip,
        order=order,
    )
    cte = sql.SQL(
        "UPDATE {t} SET {sets} FROM (SELECT * FROM json_populate_record(NULL::{t}, {body}::json)) pgrst_body{where}{ret}"
    ).format(
        t=ident,
        sets=sets,
        body=params.add(body_text),
        where=where,
        ret=mutation.returning(),
    )
    return mutation.statement(cte)


def build_noop_update(table: Table, **options: Any) -> sql.Composed:
    """A ``PATCH`` whose payload names no column: no row is updated (PostgREST selects the returned
    columns ``WHERE false`` instead of an UPDATE, which could not be written without a column).

    ``options`` are :class:`Mutation`'s (``representation``, ``select``, ``singular``, ``params`` ...).
    """
    mutation = Mutation(table, location=False, **options)
    parts = mutation.returned() or [sql.SQL("1")]
    cte = sql.SQL("SELECT {} FROM {} WHERE false").format(sql.SQL(", ").join(parts), table_ident(table))
    return mutation.statement(cte)


def build_delete(
    table: Table,
    filters: Sequence[Condition | Logic],
    *,
    representation: bool,
    select: Sequence[Item],
    singular: bool,
    params: Params,
    catalog: Catalog | None = None,
    embedded: Mapping[tuple[str, ...], NodeOptions] | None = None,
    csv: bool = False,
    strip: bool = False,
    order: Sequence[OrderTerm] = (),
) -> sql.Composed:
    """One DELETE of the filtered rows."""
    where = build_where(table_source(table), filters, params)
    mutation = Mutation(
        table,
        representation=representation,
        location=False,
        select=select,
        singular=singular,
        params=params,
        catalog=catalog,
        embedded=embedded,
        csv=csv,
        strip=strip,
        order=order,
    )
    cte = sql.SQL("DELETE FROM {}{}{}").format(table_ident(table), where, mutation.returning())
    return mutation.statement(cte)


def rpc_source(
    fn: Function, args: Mapping[str, Any], params: Params, *, from_text: bool = False
) -> sql.Composable:
    """``FROM`` items calling ``fn`` with named arguments.

    A JSON body's arguments are read with ``json_to_record`` (JSON semantics: a JSON string stays a string
    even for a ``jsonb`` argument); query-string arguments (``from_text``) are text, cast to the argument's
    type by its input function, as PostgREST does for GET.
    """
    call_name = _ident(fn.schema, fn.name)
    if len(fn.args) == 1 and fn.args[0].name == "" and "" in args:
        # One unnamed json/jsonb parameter: it gets the request body as is.
        return sql.SQL("{}({}::{})").format(call_name, params.add(str(args[""])), sql.SQL(fn.args[0].type))
    used = [a for a in fn.args if a.name in args]
    if not used:
        return sql.SQL("{}()").format(call_name)
    if from_text:
        # A VARIADIC argument gets the values of its repeated parameter as an array, as PostgREST passes it.
        casts = sql.SQL(", ").join(
            sql.SQL("{}{} := CAST({} AS {})").format(
                sql.SQL("VARIADIC " if a.name == fn.variadic else ""),
                _ident(a.name),
                params.add(args[a.name] if a.name == fn.variadic else str(args[a.name])),
                sql.SQL(a.type),
            )
            for a in used
        )
        return sql.SQL("{}({})").format(call_name, casts)
    named = sql.SQL(", ").join(
        sql.SQL("{1}{0} := pgrst_args.{0}").format(
            _ident(a.name), sql.SQL("VARIADIC " if a.name == fn.variadic else "")
        )
        for a in used
    )
    # Argument types come from the catalog (format_type), never from the request.
    coldefs = sql.SQL(", ").join(sql.SQL("{} {}").format(_ident(a.name), sql.SQL(a.type)) for a in used)
    return sql.SQL("json_to_record({}::json) AS pgrst_args({}), LATERAL {}({})").format(
        params.add(_json_text({a.name: args[a.name] for a in used})), coldefs, call_name, named
    )


def _json_text(value: Any) -> str:
    return json.dumps(value)

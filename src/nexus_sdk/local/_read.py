"""Reads of tables and views (``GET``/``HEAD``): the read plan from the query string, the response."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from starlette.responses import Response

from nexus_sdk.local._catalog import Table
from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._negotiate import EncodedResponse, body_media, content_range
from nexus_sdk.local._parse import (
    QueryParams,
    parse_query,
    parse_range_header,
)
from nexus_sdk.local._request import Engine, RequestContext
from nexus_sdk.local._sql import Params, ReadPlan, build_count_explain, build_read, table_source

__all__ = ["RESERVED", "PlanCache", "read", "read_plan", "read_response"]

RESERVED: Final = frozenset(
    {
        "select",
        "order",
        "limit",
        "offset",
        "columns",
        "on_conflict",
        "or",
        "and",
        "not.or",
        "not.and",
        "apikey",
    }
)
"""Query parameters that are not filters."""

_CACHE_SIZE: Final = 1024
# Operators whose value is bound as it stands (like/ilike rewrite * and in./is. are parsed): a read that
# differs from another only in such values has the same statement, so its plan is cached by shape.
_BOUND_AS_IS: Final = frozenset(
    {"eq", "neq", "gt", "gte", "lt", "lte", "match", "imatch", "isdistinct", "cs", "cd", "ov", "sl", "sr", "nxr", "nxl", "adj"}
)  # fmt: skip
# Stands for the i-th value while the statement of a shape is planned (private-use characters; the planned
# values are replaced by the request's, so a client's value can never be mistaken for a slot).
_SLOT_OPEN: Final = "\ue000"
_SLOT_CLOSE: Final = "\ue001"


class _Entry:
    """A cached read: the plan, its statement, the bound values, the EXPLAIN for a planned count, the
    parameters (``slots``) that take the request's own filter values, and its ``Content-Location`` split
    at those values (``None`` when it must be made for each request)."""

    __slots__ = ("explain", "location", "plan", "slots", "statement", "values")

    def __init__(
        self,
        plan: ReadPlan,
        statement: bytes,
        values: dict[str, Any],
        explain: bytes | None,
        slots: tuple[tuple[str, int], ...],
        location: tuple[str | int, ...] | None,
    ) -> None:
        self.plan = plan
        self.statement = statement
        self.values = values
        self.explain = explain
        self.slots = slots
        self.location = location

    def bind(self, taken: Sequence[str]) -> dict[str, Any]:
        """The statement's parameters for a request whose simple filter values are ``taken``."""
        if not self.slots:
            return self.values
        values = dict(self.values)
        for name, index in self.slots:
            values[name] = taken[index]
        return values


class PlanCache:
    """Read plans and their SQL by the request's shape, so a repeated read skips parsing and composing.

    The shape is the query string with every simple filter value (``id=eq.<value>``) taken out: reads of
    different rows share one entry, and the values are bound as parameters.
    """

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._plans: dict[tuple[Any, ...], _Entry] = {}

    def get(self, key: tuple[Any, ...]) -> _Entry | None:
        return self._plans.get(key)

    def put(self, key: tuple[Any, ...], entry: _Entry) -> _Entry:
        if len(self._plans) >= self._size:
            self._plans.clear()
        self._plans[key] = entry
        return entry

    def clear(self) -> None:
        """Forget every plan (the schema cache changed)."""
        self._plans.clear()


def _shape(items: Sequence[tuple[str, str]]) -> tuple[tuple[tuple[str, str], ...], list[str]]:
    """The query with each simple filter's value replaced by a numbered slot, and the values taken out."""
    shaped: list[tuple[str, str]] = []
    taken: list[str] = []
    for key, value in items:
        if key not in RESERVED:
            negated = value.startswith("not.")
            op, dot, rest = (value[4:] if negated else value).partition(".")
            if dot and op in _BOUND_AS_IS:
                slot = f"{_SLOT_OPEN}{len(taken)}{_SLOT_CLOSE}"
                shaped.append((key, f"{'not.' if negated else ''}{op}.{slot}"))
                taken.append(rest)
                continue
        shaped.append((key, value))
    return tuple(shaped), taken


def _slots(
    values: dict[str, Any], statements: Sequence[bytes], count: int
) -> tuple[tuple[str, int], ...] | None:
    """Which parameter holds each slot; None when a slot was not bound exactly once, as it stands."""
    found: dict[int, str] = {}
    for name, value in values.items():
        if isinstance(value, str) and value.startswith(_SLOT_OPEN) and value.endswith(_SLOT_CLOSE):
            index = int(value[1:-1])
            if index in found:
                return None
            found[index] = name
    if len(found) != count or any(_SLOT_OPEN.encode() in statement for statement in statements):
        return None
    return tuple((name, index) for index, name in found.items())


def read_plan(
    engine: Engine,
    ctx: RequestContext,
    items: Sequence[tuple[str, str]],
    *,
    rpc_read: bool = False,
    query: QueryParams | None = None,
) -> ReadPlan:
    """The read plan: select tree, filters, order, embedded options, the page (limit/offset/Range, capped)."""
    q = query if query is not None else parse_query(items, rpc_read=rpc_read)
    plan = ReadPlan()
    plan.select = q.select
    plan.filters = q.root.filters
    plan.order = q.root.order
    plan.embedded = q.embedded
    offset = q.root.offset
    limit = q.root.limit
    upper = None if limit is None else offset + limit - 1
    # PostgREST reads the Range header on GET only (RFC 9110 has other methods ignore it; HEAD too).
    header_range = parse_range_header(ctx.headers.get("range")) if ctx.method == "GET" else None
    if header_range is not None:
        # The Range header and limit/offset both narrow the result: the intersection applies.
        h_lower, h_upper = header_range
        offset = max(offset, h_lower)
        if h_upper is not None:
            upper = h_upper if upper is None else min(upper, h_upper)
    if upper is not None:
        limit = max(upper - offset + 1, 0)
    max_rows = engine.max_rows
    if max_rows is not None:
        limit = max_rows if limit is None else min(limit, max_rows)
    plan.offset, plan.limit = offset, limit
    kind = ctx.prefs.count_kind
    # planned: the planner's estimate only; estimated: exact up to max_rows, the estimate beyond.
    plan.count = kind in ("exact", "estimated")
    if kind == "estimated" and max_rows is not None:
        plan.count_limit = max_rows + 1
    plan.singular = ctx.singular
    plan.csv = ctx.csv
    plan.strip = ctx.strip
    plan.body = ctx.method != "HEAD"
    return plan


def wants_estimate(ctx: RequestContext, engine: Engine) -> bool:
    """Whether the count needs the planner's estimate (``count=planned``, or ``estimated`` with a cap)."""
    kind = ctx.prefs.count_kind
    return kind == "planned" or (kind == "estimated" and engine.max_rows is not None)


def read_total(ctx: RequestContext, engine: Engine, row: tuple[Any, ...]) -> int | None:
    """The count to report for a read's result row (exact, planned or estimated)."""
    kind = ctx.prefs.count_kind
    exact: int | None = row[0]
    estimate: int | None = row[-1] if wants_estimate(ctx, engine) and len(row) > 3 else None
    if kind == "planned":
        return estimate
    if kind == "estimated" and engine.max_rows is not None and exact is not None and exact > engine.max_rows:
        return estimate if estimate is not None else exact
    return exact


def read_response(
    ctx: RequestContext,
    plan: ReadPlan,
    row: tuple[Any, ...],
    *,
    total: int | None = None,
    location: str | None = None,
) -> Response:
    """The response to a read from its row ``(total, rows, body)``.

    Raises:
        ApiError: 416 PGRST103 for an offset past the end of a counted result.
    """
    rows, body = row[1], row[2]
    if total is None:
        total = row[0]
    lines = [(b"content-range", content_range(plan.offset, rows, total).encode("latin-1"))]
    if location is not None:
        lines.append((b"content-location", location.encode("latin-1")))
    status = 200
    if total is not None:
        if plan.offset > total and rows == 0:
            raise ApiError(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                details=f"An offset of {plan.offset} was requested, but there are only {total} rows.",
                headers={"Content-Range": f"*/{total}"},
            )
        if rows < total:
            status = 206
    applied = ctx.prefs.applied()
    if applied:
        lines.append((b"preference-applied", applied.encode("latin-1")))
    media = body_media(singular=plan.singular, csv=plan.csv, strip=plan.strip)
    content = b"" if ctx.method == "HEAD" else (body or "").encode()
    return EncodedResponse(content, status, lines, media)


_URL_SAFE: Final = re.compile(r"[A-Za-z0-9\-_.~]*")
_URL_ESCAPES: Final = tuple(
    chr(b) if (chr(b).isascii() and chr(b).isalnum()) or chr(b) in "-_.~" else f"%{b:02X}" for b in range(256)
)


def _url_encode(text: str) -> str:
    # Network.HTTP.Base.urlEncode, which PostgREST's canonical query string uses: two upper-case hex digits
    # per byte. PostgREST hands it the query's bytes as characters, so a byte past ASCII is encoded as the
    # UTF-8 of that code point (é, C3 A9, becomes %C3%83%C2%A9), as PostgREST sends it.
    if _URL_SAFE.fullmatch(text):
        return text  # most keys and values (eq.<uuid>, column names) need no escape
    return "".join([_URL_ESCAPES[byte] for byte in text.encode("utf-8").decode("latin-1").encode("utf-8")])


_SLOT_IN_LOCATION: Final = re.compile(
    re.escape(_url_encode(_SLOT_OPEN)) + "([0-9]+)" + re.escape(_url_encode(_SLOT_CLOSE))
)


def location_template(
    name: str, shaped: Sequence[tuple[str, str]], slots: int
) -> tuple[str | int, ...] | None:
    """:func:`canonical_location` of a read's shape (:func:`_shape`), split at its slots: text, slot index,
    text, ... ; ``None`` when the shape's own text could be mistaken for a slot.

    Escaping is character by character and the sort is by name only, so the location of a request of that
    shape is the template with each slot replaced by the escaped value taken out (:func:`fill_location`).
    """
    text = canonical_location(name, shaped)
    parts = _SLOT_IN_LOCATION.split(text)
    if len(parts) != 2 * slots + 1 or text.count(_url_encode(_SLOT_OPEN)) != slots:
        return None
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts))


def fill_location(template: tuple[str | int, ...], taken: Sequence[str]) -> str:
    """The ``Content-Location`` of a request whose values taken out of the shape are ``taken``."""
    return "".join([part if isinstance(part, str) else _url_encode(taken[part]) for part in template])


def canonical_location(name: str, items: Sequence[tuple[str, str]]) -> str:
    """``Content-Location`` of a read: the path and the parameters sorted by name, as PostgREST sends it."""
    pairs = sorted(((k, v) for k, v in items if k != "apikey"), key=lambda kv: kv[0])
    if len({k for k, _ in pairs}) == len(pairs):  # each key once, the usual case: no values to gather
        query = "&".join([f"{_url_encode(k)}={_url_encode(v)}" for k, v in pairs])
        return f"/{name}?{query}" if query else f"/{name}"
    parts: list[str] = []
    done: set[str] = set()
    for key, _ in pairs:
        if key in done:
            continue
        done.add(key)
        values = [_url_encode(v) for k, v in pairs if k == key]
        parts.append(f"{_url_encode(key)}={','.join(values)}")
    return f"/{name}" + (f"?{'&'.join(parts)}" if parts else "")


async def read(engine: Engine, ctx: RequestContext, table: Table, cache: PlanCache) -> Response:
    """``GET``/``HEAD`` on a table or view."""
    headers = ctx.headers
    items = ctx.query_items
    shaped, taken = _shape(items)
    # The statement depends only on these; the values taken out are bound parameters.
    key: tuple[Any, ...] = (
        ctx.method,
        table.name,
        shaped,
        headers.get("accept"),
        ",".join(headers.prefer),
        headers.get("range"),
    )
    entry = cache.get(key)
    if entry is None:
        entry = _compile(engine, ctx, table, shaped, len(taken))
        if entry is None:
            # A value is not bound as it stands: this exact request gets a plan of its own.
            key = (*key, tuple(taken))
            entry = cache.get(key) or _compile(engine, ctx, table, items, 0)
            assert entry is not None  # without slots there is nothing to miss
        cache.put(key, entry)
    plan = entry.plan
    row = await engine.run(
        ctx,
        entry.statement,
        entry.bind(taken),
        read_only=True,
        expect_one=plan.singular,
        explain=entry.explain,
    )
    total = read_total(ctx, engine, row)
    location = (
        canonical_location(table.name, items)
        if entry.location is None
        else fill_location(entry.location, taken)
    )
    return read_response(ctx, plan, row, total=total, location=location)


def _compile(
    engine: Engine, ctx: RequestContext, table: Table, items: Sequence[tuple[str, str]], slots: int
) -> _Entry | None:
    plan = read_plan(engine, ctx, items)
    params = Params()
    src = table_source(table, engine.catalog)
    statement = build_read(src, plan, params, engine.catalog).as_bytes(None)
    explain = None
    if wants_estimate(ctx, engine):
        explain = build_count_explain(src, plan, params, engine.catalog).as_bytes(None)
    found = _slots(params.values, [statement, explain or b""], slots)
    if found is None:
        return None
    location = location_template(table.name, items, slots)
    return _Entry(plan, statement, params.values, explain, found, location)

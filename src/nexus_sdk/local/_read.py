"""Reads of tables and views (``GET``/``HEAD``): the read plan from the query string, the response."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from starlette.responses import Response

from nexus_sdk.local._catalog import Table
from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._negotiate import JSON, OBJECT, content_range
from nexus_sdk.local._parse import (
    Condition,
    Logic,
    parse_filter,
    parse_logic,
    parse_nonnegative,
    parse_order,
    parse_range_header,
    parse_select,
)
from nexus_sdk.local._request import Engine, RequestContext
from nexus_sdk.local._sql import Params, ReadPlan, build_read, table_source

__all__ = ["RESERVED", "PlanCache", "filters", "read", "read_plan", "read_response"]

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


class PlanCache:
    """Read plans and their SQL by what they depend on, so a repeated read skips parsing and composing."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._size = size
        self._plans: dict[tuple[str | None, ...], tuple[ReadPlan, bytes, dict[str, Any]]] = {}

    def get(self, key: tuple[str | None, ...]) -> tuple[ReadPlan, bytes, dict[str, Any]] | None:
        return self._plans.get(key)

    def put(
        self, key: tuple[str | None, ...], entry: tuple[ReadPlan, bytes, dict[str, Any]]
    ) -> tuple[ReadPlan, bytes, dict[str, Any]]:
        if len(self._plans) >= self._size:
            self._plans.clear()
        self._plans[key] = entry
        return entry

    def clear(self) -> None:
        """Forget every plan (the schema cache changed)."""
        self._plans.clear()


def filters(items: Sequence[tuple[str, str]], skip: frozenset[str] = frozenset()) -> list[Condition | Logic]:
    """The filters among the query parameters (``col=op.value``, ``or=``, ``and=`` ...)."""
    out: list[Condition | Logic] = []
    for key, value in items:
        if key in ("or", "and", "not.or", "not.and"):
            out.append(parse_logic(key, value))
        elif key in RESERVED or key in skip:
            continue
        else:
            out.append(parse_filter(key, value))
    return out


def read_plan(
    engine: Engine, ctx: RequestContext, items: Sequence[tuple[str, str]], skip: frozenset[str] = frozenset()
) -> ReadPlan:
    """The read plan: select list, filters, order, the page (limit/offset/Range intersected, capped)."""
    q = dict(items)
    plan = ReadPlan()
    plan.select = parse_select(q.get("select", "*"))
    plan.filters = filters(items, skip)
    plan.order = parse_order(q["order"]) if "order" in q else []
    offset = parse_nonnegative("offset", q["offset"]) if "offset" in q else 0
    limit = parse_nonnegative("limit", q["limit"]) if "limit" in q else None
    upper = None if limit is None else offset + limit - 1
    header_range = (
        parse_range_header(ctx.request.headers.get("range")) if ctx.method in ("GET", "HEAD") else None
    )
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
    plan.count = ctx.prefs.count
    plan.singular = ctx.singular
    plan.body = ctx.method != "HEAD"
    return plan


def read_response(ctx: RequestContext, plan: ReadPlan, row: tuple[Any, ...]) -> Response:
    """The response to a read from its row ``(total, rows, body)``.

    Raises:
        ApiError: 416 PGRST103 for an offset past the end of a counted result.
    """
    total, rows, body = row[0], row[1], row[2]
    headers = {"Content-Range": content_range(plan.offset, rows, total)}
    status = 200
    if total is not None:
        if plan.offset > total:
            raise ApiError(
                416,
                "PGRST103",
                "Requested range not satisfiable",
                details=f"An offset of {plan.offset} was requested, but there are only {total} rows.",
                headers={"Content-Range": f"*/{total}"},
            )
        if rows < total:
            status = 206
    if ctx.prefs.applied:
        headers["Preference-Applied"] = ", ".join(p for p in ctx.prefs.applied if p.startswith("count"))
        if not headers["Preference-Applied"]:
            del headers["Preference-Applied"]
    media = OBJECT if plan.singular else JSON
    content = b"" if ctx.method == "HEAD" else (body or "").encode()
    return Response(content, status_code=status, headers=headers, media_type=media)


async def read(engine: Engine, ctx: RequestContext, table: Table, cache: PlanCache) -> Response:
    """``GET``/``HEAD`` on a table or view."""
    headers = ctx.request.headers
    # The statement depends only on these (values are bound parameters taken from the query string),
    # so a repeated read skips parsing and SQL composition.
    key = (
        ctx.method,
        table.name,
        ctx.request.url.query,
        headers.get("accept"),
        ",".join(headers.getlist("prefer")),
        headers.get("range"),
    )
    cached = cache.get(key)
    if cached is None:
        plan = read_plan(engine, ctx, ctx.request.query_params.multi_items())
        params = Params()
        statement = build_read(table_source(table), plan, params).as_bytes(None)
        cached = cache.put(key, (plan, statement, params.values))
    plan, statement, values = cached
    row = await engine.run(ctx, statement, values, read_only=True, expect_one=plan.singular)
    return read_response(ctx, plan, row)

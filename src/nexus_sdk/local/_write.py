"""Writes to tables: ``POST`` (insert, upsert), ``PATCH`` (update) and ``DELETE``."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from starlette.responses import Response

from nexus_sdk.local._catalog import Table
from nexus_sdk.local._errors import ApiError, unsupported
from nexus_sdk.local._negotiate import JSON, OBJECT, content_range
from nexus_sdk.local._parse import Condition, Logic, SelectItem, parse_columns, parse_select
from nexus_sdk.local._read import filters
from nexus_sdk.local._request import Engine, RequestContext, json_body
from nexus_sdk.local._sql import InsertPlan, Params, build_delete, build_insert, build_update, check_columns

__all__ = ["delete", "insert", "update"]


def _prelude(ctx: RequestContext) -> tuple[list[SelectItem], list[Condition | Logic]]:
    items = ctx.request.query_params.multi_items()
    q = dict(items)
    for key in ("limit", "offset", "order"):
        if key in q:
            raise unsupported(f"{key}= on {ctx.method}")
    return parse_select(q.get("select", "*")), filters(items)


def _response(ctx: RequestContext, table: Table, row: tuple[Any, ...], *, created: bool) -> Response:
    rows, body, location = row[1], row[2], row[3]
    prefs = ctx.prefs
    headers: dict[str, str] = {}
    total = rows if prefs.count else None
    headers["Content-Range"] = (
        f"*/{'*' if total is None else total}" if created else content_range(0, rows, total)
    )
    if prefs.applied:
        headers["Preference-Applied"] = ", ".join(prefs.applied)
    if created and prefs.returning == "headers-only" and location:
        pk = json.loads(location)
        query = "&".join(f"{k}=eq.{urllib.parse.quote(str(v), safe='')}" for k, v in pk.items())
        headers["Location"] = f"/{table.name}?{query}"
    if prefs.returning == "representation":
        media = OBJECT if ctx.singular else JSON
        return Response(
            (body or "").encode(), status_code=201 if created else 200, headers=headers, media_type=media
        )
    return Response(status_code=201 if created else 204, headers=headers)


async def insert(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``POST``: one object or an array of them; an upsert with ``Prefer: resolution=``."""
    select, conditions = _prelude(ctx)
    if conditions:
        raise unsupported("Filters on POST")
    payload, text = await json_body(ctx)
    q = dict(ctx.request.query_params.multi_items())
    if isinstance(payload, dict):
        rows, is_array = [payload], False
    elif isinstance(payload, list) and all(isinstance(r, dict) for r in payload):
        rows, is_array = payload, True
    else:
        raise ApiError(
            400,
            "PGRST102",
            "All object keys must match",
            details="Expected an object or array of objects",
        )
    if "columns" in q:
        columns = check_columns(table, parse_columns(q["columns"]))
    else:
        keys = list(rows[0]) if rows else []
        for r in rows[1:]:
            if set(r) != set(keys):
                raise ApiError(400, "PGRST102", "All object keys must match")
        columns = check_columns(table, keys)
    on_conflict = check_columns(table, parse_columns(q["on_conflict"])) if "on_conflict" in q else None
    plan = InsertPlan(
        columns=columns,
        rows=rows,
        body_text=text,
        body_is_array=is_array,
        upsert=ctx.prefs.resolution,
        on_conflict=on_conflict,
        missing_default=ctx.prefs.missing_default,
    )
    params = Params()
    statement = build_insert(
        table,
        plan,
        representation=ctx.prefs.returning == "representation",
        location=ctx.prefs.returning == "headers-only",
        select=select,
        singular=ctx.singular,
        params=params,
    )
    row = await engine.run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
    return _response(ctx, table, row, created=True)


async def update(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``PATCH`` with filters: one object of new values."""
    select, conditions = _prelude(ctx)
    payload, text = await json_body(ctx)
    if not isinstance(payload, dict):
        raise ApiError(400, "PGRST102", "Empty or invalid json", details="PATCH expects a single JSON object")
    if not conditions:
        # Supabase loads pg-safeupdate for the API, which refuses an UPDATE without WHERE.
        raise ApiError(400, "21000", "UPDATE requires a WHERE clause")
    columns = check_columns(table, payload)
    if not columns:
        raise unsupported("PATCH with an empty object")
    params = Params()
    statement = build_update(
        table,
        columns,
        text,
        conditions,
        representation=ctx.prefs.returning == "representation",
        select=select,
        singular=ctx.singular,
        params=params,
    )
    row = await engine.run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
    return _response(ctx, table, row, created=False)


async def delete(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``DELETE`` with filters."""
    select, conditions = _prelude(ctx)
    if not conditions:
        raise ApiError(400, "21000", "DELETE requires a WHERE clause")
    params = Params()
    statement = build_delete(
        table,
        conditions,
        representation=ctx.prefs.returning == "representation",
        select=select,
        singular=ctx.singular,
        params=params,
    )
    row = await engine.run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
    return _response(ctx, table, row, created=False)

"""Writes to tables: ``POST`` (insert, upsert), ``PATCH`` (update) and ``DELETE``."""

from __future__ import annotations

import dataclasses
import json
import urllib.parse
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from nexus_sdk.local._catalog import Table
from nexus_sdk.local._csv import csv_rows
from nexus_sdk.local._errors import ApiError, unsupported
from nexus_sdk.local._media import decode
from nexus_sdk.local._negotiate import body_media, content_range
from nexus_sdk.local._parse import Condition, QueryParams, parse_columns, parse_query
from nexus_sdk.local._request import Engine, RequestContext, json_body, request_body
from nexus_sdk.local._sql import (
    InsertPlan,
    Params,
    build_delete,
    build_insert,
    build_noop_update,
    build_update,
    check_columns,
)

__all__ = ["delete", "insert", "put", "update"]


def _prelude(ctx: RequestContext) -> QueryParams:
    return _without_ranges(parse_query(ctx.query_items))


def _without_ranges(q: QueryParams) -> QueryParams:
    """The query of a write: ``limit``/``offset`` (top level and embedded) are ignored, as PostgREST 13+
    ignores them on writes (it dropped limited updates and deletes); ``order=`` orders the returned rows."""
    q.root.limit, q.root.offset = None, 0
    q.embedded = {path: dataclasses.replace(o, limit=None, offset=0) for path, o in q.embedded.items()}
    return q


def _response(
    ctx: RequestContext,
    table: Table,
    row: tuple[Any, ...],
    *,
    created: bool,
    resolution: bool = True,
    deleted: bool = False,
) -> Response:
    rows, body, location = row[1], row[2], row[3]
    inserted = row[4] if len(row) > 4 else None
    prefs = ctx.prefs
    headers: dict[str, str] = {}
    total = rows if prefs.count else None
    if created or deleted:
        headers["Content-Range"] = f"*/{'*' if total is None else total}"
    else:
        headers["Content-Range"] = content_range(0, rows, total)
    applied = prefs.applied(write=True, resolution=resolution, max_affected=not created)
    if applied:
        headers["Preference-Applied"] = applied
    if created and prefs.returning == "headers-only" and location:
        pk = json.loads(location)
        query = "&".join(f"{k}=eq.{urllib.parse.quote(str(v), safe='')}" for k, v in pk.items())
        headers["Location"] = f"/{table.name}?{query}"
    status = 201 if created else 200
    if (
        created
        and resolution
        and prefs.resolution == "merge-duplicates"
        and inserted is not None
        and inserted <= 0
    ):
        # An upsert that inserted nothing (every row existed) answers 200.
        status = 200
    if prefs.returning == "representation":
        media = body_media(singular=ctx.singular, csv=ctx.csv, strip=ctx.strip)
        return Response((body or "").encode(), status_code=status, headers=headers, media_type=media)
    return Response(status_code=status if created else 204, headers=headers)


def _max_affected(ctx: RequestContext) -> int | None:
    # Honoured only with handling=strict, as in PostgREST.
    return ctx.prefs.max_affected if ctx.prefs.strict else None


async def _payload(ctx: RequestContext) -> tuple[Any, str, bool]:
    """A write's body as PostgREST 14 reads it, by its ``Content-Type``: the value, its JSON text, and
    whether it was CSV.

    JSON (also no ``Content-Type``), ``text/csv`` (a header line, then records) and
    ``application/x-www-form-urlencoded`` (one object of strings) are read; any other type is refused.

    Raises:
        ApiError: 400 PGRST102 for a body that cannot be read, or a Content-Type PostgREST does not read.
    """
    ctype = ctx.request.headers.get("content-type")
    media = decode(ctype) if ctype is not None else None
    raw = await request_body(ctx)
    if media is None or media.kind == "json":
        payload, text = await json_body(ctx)
        return payload, text, False
    if media.kind == "csv":
        rows = csv_rows(raw)
        return rows, json.dumps(rows), True
    if media.form:
        form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
        return form, json.dumps(form), False
    raise ApiError(400, "PGRST102", f"Content-Type not acceptable: {media.mime}")


def _object_rows(payload: Any, *, uniform: bool) -> tuple[list[dict[str, Any]], bool]:
    """The rows of a write's body and whether it was an array, as PostgREST 14 reads them: one object, or
    an array of objects (with the same keys, when ``uniform``); any other JSON value is an empty array.

    Raises:
        ApiError: 400 PGRST102 ``All object keys must match`` for an array of anything but such objects.
    """
    if isinstance(payload, dict):
        return [payload], False
    if not isinstance(payload, list):
        return [], True
    if not all(isinstance(r, dict) for r in payload):
        raise ApiError(400, "PGRST102", "All object keys must match")
    if uniform and payload:
        keys = payload[0].keys()
        if any(row.keys() != keys for row in payload[1:]):
            raise ApiError(400, "PGRST102", "All object keys must match")
    return payload, True


async def insert(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``POST``: one object or an array of them; an upsert with ``Prefer: resolution=``."""
    query = _prelude(ctx)
    if query.root.filters:
        raise unsupported("Filters on POST")
    q = dict(ctx.query_items)
    payload, text, from_csv = await _payload(ctx)
    if from_csv or not isinstance(payload, dict | list):
        # PostgREST reads columns= only with a JSON body: a CSV body's columns are its header line's.
        q.pop("columns", None)
    rows, is_array = _object_rows(payload, uniform="columns" not in q)
    if "columns" in q:
        columns = check_columns(table, parse_columns(q["columns"]))
    else:
        columns = check_columns(table, list(rows[0]) if rows else [])
    on_conflict = (
        check_columns(table, parse_columns(q["on_conflict"], "on_conflict parameter"))
        if "on_conflict" in q
        else None
    )
    upsert = ctx.prefs.resolution
    # PostgREST ignores the resolution on a relation without a primary key unless on_conflict names one.
    resolution = upsert is None or bool(on_conflict or table.primary_key)
    plan = InsertPlan(
        columns=columns,
        rows=rows,
        body_text=text,
        body_is_array=is_array,
        upsert=upsert if resolution else None,
        on_conflict=on_conflict,
        missing_default=ctx.prefs.missing_default,
    )
    params = Params()
    statement = build_insert(
        table,
        plan,
        representation=ctx.prefs.returning == "representation",
        location=ctx.prefs.returning == "headers-only",
        select=query.select,
        singular=ctx.singular,
        params=params,
        catalog=engine.catalog,
        embedded=query.embedded,
        csv=ctx.csv,
        strip=ctx.strip,
        order=query.root.order,
    )
    row = await engine.run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
    return _response(ctx, table, row, created=True, resolution=resolution)


def _put_filters(table: Table, query: QueryParams) -> list[Condition]:
    """The filters of a ``PUT``, which must be exactly one ``eq`` per primary key column.

    Raises:
        ApiError: 400 PGRST114 for ``limit``/``offset``; 405 PGRST105 for other filters, or none.
    """
    if query.root.limit is not None or query.root.offset > 0:
        raise ApiError(400, "PGRST114", "limit/offset querystring parameters are not allowed for PUT")
    filters = query.root.filters
    if (
        table.primary_key
        and all(
            isinstance(f, Condition)
            and f.op == "eq"
            and not f.negated
            and f.quantifier is None
            and not f.field.path
            for f in filters
        )
        and {f.field.column for f in filters if isinstance(f, Condition)} == set(table.primary_key)
    ):
        return [f for f in filters if isinstance(f, Condition)]
    raise ApiError(
        405, "PGRST105", "Filters must include all and only primary key columns with 'eq' operators"
    )


async def put(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``PUT``: insert or replace the one row its primary key filters name (201 inserted, 200 replaced).

    Only payload rows whose key matches the filters are written; unless exactly one is, nothing is
    (400 PGRST115).
    """
    query = parse_query(ctx.query_items)
    filters = _put_filters(table, query)
    query = _without_ranges(query)
    payload, text, _ = await _payload(ctx)
    rows, is_array = _object_rows(payload, uniform=True)
    columns = check_columns(table, list(rows[0]) if rows else [])
    mismatch = ApiError(400, "PGRST115", "Payload values do not match URL in primary key column(s)")
    if not set(table.primary_key) <= set(columns):
        raise mismatch
    plan = InsertPlan(
        columns=columns,
        rows=rows,
        body_text=text,
        body_is_array=is_array,
        upsert="merge-duplicates",
        on_conflict=list(table.primary_key),
        put_filters=filters,
    )
    params = Params()
    representation = ctx.prefs.returning == "representation"
    statement = build_insert(
        table, plan, representation=representation, location=False, select=query.select, singular=ctx.singular,
        params=params, catalog=engine.catalog, embedded=query.embedded, csv=ctx.csv, strip=ctx.strip,
        order=query.root.order,
    )  # fmt: skip
    row = await engine.run(
        ctx, statement, params, read_only=False, expect_one=ctx.singular, require_one=mismatch
    )
    headers: dict[str, str] = {}
    applied = ctx.prefs.applied(write=True, resolution=False)
    if applied:
        headers["Preference-Applied"] = applied
    if not representation:
        return Response(status_code=204, headers=headers)
    inserted = row[4] if len(row) > 4 else None
    status = 201 if inserted is not None and inserted > 0 else 200
    media = body_media(singular=ctx.singular, csv=ctx.csv, strip=ctx.strip)
    return Response((row[2] or "").encode(), status_code=status, headers=headers, media_type=media)


async def update(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``PATCH`` with filters: the new values of an object (only ``columns=`` when given).

    As PostgREST 14: an array's first object gives the values (its objects must have the same keys); a
    payload without keys (``{}``, ``[]``, ``[{}]``, a scalar) updates nothing and answers as an update of no
    row, without the filters being needed.
    """
    query = _prelude(ctx)
    payload, text, from_csv = await _payload(ctx)
    q = dict(ctx.query_items)
    if from_csv or not isinstance(payload, dict | list):
        q.pop("columns", None)
    rows, _ = _object_rows(payload, uniform="columns" not in q)
    values: dict[str, Any] = rows[0] if rows else {}
    defaults: list[str] = []
    if "columns" in q:
        wanted = check_columns(table, parse_columns(q["columns"]))
        columns = [c for c in wanted if c in values]
        missing = [c for c in wanted if c not in values]
        if ctx.prefs.missing_default:
            defaults = missing
        else:
            # Keys the payload lacks are set to NULL, as PostgREST does for columns= without missing=default.
            columns = wanted
    else:
        columns = check_columns(table, list(values))
    representation = ctx.prefs.returning == "representation"
    params = Params()
    if not columns and not defaults:
        statement = build_noop_update(
            table, representation=representation, select=query.select, singular=ctx.singular, params=params,
            catalog=engine.catalog, embedded=query.embedded, csv=ctx.csv, strip=ctx.strip,
            order=query.root.order,
        )  # fmt: skip
        row = await engine.run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
        return _response(ctx, table, row, created=False)
    if not query.root.filters:
        # Supabase loads pg-safeupdate for the API, which refuses an UPDATE without WHERE.
        raise ApiError(400, "21000", "UPDATE requires a WHERE clause")
    statement = build_update(
        table,
        columns,
        text if isinstance(payload, dict) else json.dumps(values),
        query.root.filters,
        representation=representation,
        select=query.select,
        singular=ctx.singular,
        params=params,
        defaults=defaults,
        catalog=engine.catalog,
        embedded=query.embedded,
        csv=ctx.csv,
        strip=ctx.strip,
        order=query.root.order,
    )
    row = await engine.run(
        ctx, statement, params, read_only=False, expect_one=ctx.singular, max_affected=_max_affected(ctx)
    )
    return _response(ctx, table, row, created=False)


async def delete(engine: Engine, ctx: RequestContext, table: Table) -> Response:
    """``DELETE`` with filters."""
    query = _prelude(ctx)
    if not query.root.filters:
        raise ApiError(400, "21000", "DELETE requires a WHERE clause")
    params = Params()
    statement = build_delete(
        table,
        query.root.filters,
        representation=ctx.prefs.returning == "representation",
        select=query.select,
        singular=ctx.singular,
        params=params,
        catalog=engine.catalog,
        embedded=query.embedded,
        csv=ctx.csv,
        strip=ctx.strip,
        order=query.root.order,
    )
    row = await engine.run(
        ctx, statement, params, read_only=False, expect_one=ctx.singular, max_affected=_max_affected(ctx)
    )
    return _response(ctx, table, row, created=False, deleted=True)

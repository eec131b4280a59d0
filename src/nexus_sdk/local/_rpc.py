"""Function calls: ``/rpc/<fn>`` with ``POST`` (a JSON object of named arguments), ``GET`` and ``HEAD``."""

from __future__ import annotations

from typing import Any

from psycopg import sql
from starlette.responses import Response

from nexus_sdk.local._catalog import Function
from nexus_sdk.local._errors import ApiError, unsupported
from nexus_sdk.local._negotiate import JSON
from nexus_sdk.local._read import RESERVED, read_plan, read_response
from nexus_sdk.local._request import Engine, RequestContext, json_body
from nexus_sdk.local._sql import Params, Source, build_read, build_scalar_set_read, rpc_source

__all__ = ["call_function", "pick_function"]


def pick_function(engine: Engine, name: str, args: dict[str, Any]) -> Function:
    """The one overload of ``name`` whose parameters fit the argument names.

    Raises:
        ApiError: 404 PGRST202 when none fits, 300 PGRST203 when several do.
    """
    candidates = [
        fn
        for fn in engine.catalog.functions.get(name, [])
        if set(args) <= {a.name for a in fn.args} and fn.required_args <= set(args)
    ]
    if not candidates:
        listed = ", ".join(sorted(args))
        raise ApiError(
            404,
            "PGRST202",
            f"Could not find the function {engine.schema}.{name}({listed}) in the schema cache",
            hint="If a new function was created in the database with this name and parameters, "
            "try reloading the schema cache.",
        )
    if len(candidates) > 1:
        raise ApiError(
            300,
            "PGRST203",
            f"Could not choose the best candidate function between: {engine.schema}.{name}",
        )
    return candidates[0]


async def call_function(engine: Engine, ctx: RequestContext, name: str) -> Response:
    """Call ``name`` with the request's arguments and answer its result in the shape its type asks for."""
    items = ctx.request.query_params.multi_items()
    if ctx.method in ("GET", "HEAD"):
        arg_names = {a.name for fn in engine.catalog.functions.get(name, []) for a in fn.args}
        args: dict[str, Any] = {k: v for k, v in items if k in arg_names and k not in RESERVED}
    elif ctx.method == "POST":
        raw = await ctx.request.body()
        if raw.strip():
            payload, _ = await json_body(ctx)
            if not isinstance(payload, dict):
                raise unsupported("Calling a function with a non-object body")
            args = payload
        else:
            args = {}
        arg_names = set()
    else:
        raise ApiError(405, "PGRST101", "Only GET, HEAD and POST are allowed for functions")
    fn = pick_function(engine, name, args)
    read_only = ctx.method in ("GET", "HEAD") or not fn.volatile
    params = Params()
    call = rpc_source(fn, args, params, from_text=ctx.method in ("GET", "HEAD"))
    plan = read_plan(engine, ctx, items, skip=frozenset(arg_names))
    if fn.result_columns is not None:
        src = Source(
            sql.SQL("{} AS pgrst_call").format(call),
            sql.Identifier("pgrst_call"),
            {c.name: c for c in fn.result_columns},
            name,
            call=True,
        )
        if not fn.returns_set:
            plan.singular = True
        statement = build_read(src, plan, params)
        row = await engine.run(ctx, statement, params, read_only=read_only, expect_one=ctx.singular)
        if not fn.returns_set:
            return Response(
                b"" if ctx.method == "HEAD" else (row[2] or "null").encode(),
                status_code=200,
                media_type=JSON,
            )
        return read_response(ctx, plan, row)
    if plan.filters or plan.order or (plan.select and plan.select[0].field is not None):
        raise unsupported("Filtering, ordering or selecting on a function returning a scalar")
    if fn.returns_void:
        statement = sql.SQL(
            "SELECT NULL::bigint, pg_catalog.count(*), NULL::text FROM {} AS pgrst_call"
        ).format(call)
        await engine.run(ctx, statement, params, read_only=read_only, expect_one=False)
        return Response(status_code=204)
    if fn.returns_set:
        statement = build_scalar_set_read(call, plan)
        row = await engine.run(ctx, statement, params, read_only=read_only, expect_one=plan.singular)
        return read_response(ctx, plan, row)
    # A function that is not set-returning yields exactly one row in FROM.
    statement = sql.SQL(
        "SELECT NULL::bigint, pg_catalog.count(*) OVER (), coalesce(to_json(pgrst_call.pgrst_scalar)::text, 'null') "
        "FROM {} AS pgrst_call(pgrst_scalar)"
    ).format(call)
    row = await engine.run(ctx, statement, params, read_only=read_only, expect_one=False)
    body = b"" if ctx.method == "HEAD" else (row[2] or "null").encode()
    return Response(body, status_code=200, media_type=JSON)

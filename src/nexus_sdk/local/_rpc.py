"""Function calls: ``/rpc/<fn>`` with ``POST`` (a JSON object of named arguments), ``GET`` and ``HEAD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from psycopg import sql
from starlette.responses import Response

from nexus_sdk.local import _fuzzy
from nexus_sdk.local._catalog import Function
from nexus_sdk.local._errors import ApiError, unsupported
from nexus_sdk.local._negotiate import JSON, response_media
from nexus_sdk.local._parse import SelectItem, parse_query
from nexus_sdk.local._read import read_plan, read_response
from nexus_sdk.local._request import Engine, RequestContext, json_body, request_body
from nexus_sdk.local._sql import Params, Source, build_read, build_scalar_set_read, rpc_source

__all__ = ["call_function", "pick_function"]


def _no_function(engine: Engine, name: str, args: dict[str, Any], *, json_post: bool = False) -> ApiError:
    schema = engine.schema
    listed = ", ".join(sorted(args))
    if args:
        message = f"Could not find the function {schema}.{name}({listed}) in the schema cache"
        noun = "parameter" if len(args) == 1 else "parameters"
        searched = f"Searched for the function {schema}.{name} with {noun} {listed}"
    else:
        message = f"Could not find the function {schema}.{name} without parameters in the schema cache"
        searched = f"Searched for the function {schema}.{name} without parameters"
    if json_post:
        searched += " or with a single unnamed json/jsonb parameter"
    return ApiError(
        404,
        "PGRST202",
        message,
        details=f"{searched}, but no matches were found in the schema cache.",
        hint=_no_function_hint(engine, name, args),
    )


def _parameter_list(names: Iterable[str]) -> str:
    return "(" + ", ".join(sorted(names)) + ")"


def _no_function_hint(engine: Engine, name: str, args: dict[str, Any]) -> str | None:
    """PostgREST's suggestion: another function's name, or (when ``name`` exists) an overload's parameters."""
    overloads = engine.catalog.functions.get(name)
    if not overloads:
        similar = _fuzzy.closest(name, sorted(engine.catalog.functions), min_score=_fuzzy.NAME_SCORE)
        suggestion = similar
    else:
        lists = [_parameter_list(a.name for a in fn.args) for fn in overloads]
        params = _fuzzy.closest(_parameter_list(args), lists, min_score=_fuzzy.RELATED_SCORE)
        suggestion = name + params if params is not None else None
    if suggestion is None:
        return None
    return f"Perhaps you meant to call the function {engine.schema}.{suggestion}"


def _single_unnamed_json(fn: Function) -> bool:
    return len(fn.args) == 1 and fn.args[0].name == "" and fn.args[0].type in ("json", "jsonb")


def pick_function(engine: Engine, name: str, args: dict[str, Any], *, json_post: bool = False) -> Function:
    """The one overload of ``name`` whose parameters fit the argument names; for a JSON ``POST`` that fits
    none, the overload taking one unnamed ``json``/``jsonb`` parameter (it gets the whole body).

    Raises:
        ApiError: 404 PGRST202 when none fits, 300 PGRST203 when several do.
    """
    overloads = engine.catalog.functions.get(name, [])
    candidates = [
        fn
        for fn in overloads
        if not _single_unnamed_json(fn)
        and set(args) <= {a.name for a in fn.args}
        and fn.required_args <= set(args)
    ]
    if not candidates and json_post:
        candidates = [fn for fn in overloads if _single_unnamed_json(fn)]
    if not candidates:
        raise _no_function(engine, name, args, json_post=json_post)
    if len(candidates) > 1:
        raise ApiError(
            300,
            "PGRST203",
            f"Could not choose the best candidate function between: {engine.schema}.{name}",
            hint="Try renaming the parameters or the function itself in the database so function "
            "overloading can be resolved",
        )
    return candidates[0]


def _relation_of(engine: Engine, fn: Function) -> str | None:
    """The table or view whose rows ``fn`` returns (for embedding on its result), if any."""
    name = fn.return_type.rsplit(".", 1)[-1].strip('"')
    return name if name in engine.catalog.tables else None


def _one_value(ctx: RequestContext, body: str | None) -> Response:
    # A function that returns one value or one row answers it as one item of a one-row result.
    headers = {"Content-Range": f"0-0/{'1' if ctx.prefs.count else '*'}"}
    applied = ctx.prefs.applied()
    if applied:
        headers["Preference-Applied"] = applied
    content = b"" if ctx.method == "HEAD" else (body or "null").encode()
    return Response(content, status_code=200, headers=headers, media_type=JSON)


async def call_function(engine: Engine, ctx: RequestContext, name: str) -> Response:
    """Call ``name`` with the request's arguments and answer its result in the shape its type asks for."""
    if ctx.csv:
        # Functions answer JSON only: the next media type the client accepts, else 406.
        ctx.csv = False
        ctx.singular = response_media(ctx.request.headers.get("accept"), csv=False) == "object"
    items = ctx.query_items
    body_text: str | None = None
    payload: Any = None
    if ctx.method in ("GET", "HEAD"):
        # A parameter whose value is not an operator expression is an argument, as in PostgREST: also one
        # the function does not take (404 PGRST202); ?id=5&id=gt.2 passes id and filters on it.
        query = parse_query(items, rpc_read=True)
        args: dict[str, Any] = dict(query.rpc_args)
    elif ctx.method == "POST":
        query = parse_query(items)
        raw = await request_body(ctx)
        if raw.strip():
            payload, body_text = await json_body(ctx)
            args = payload if isinstance(payload, dict) else {}
        else:
            args = {}
    else:
        raise ApiError(405, "PGRST101", "Only GET, HEAD and POST are allowed for functions")
    if body_text is not None and not isinstance(payload, dict):
        raise unsupported("Calling a function with a non-object body")
    json_post = ctx.method == "POST"
    fn = pick_function(engine, name, args, json_post=json_post)
    if json_post and _single_unnamed_json(fn):
        # The whole body is the one argument; an empty body is {}.
        args = {"": body_text if body_text is not None else "{}"}
    read_only = ctx.method in ("GET", "HEAD") or not fn.volatile
    max_affected = ctx.prefs.max_affected if ctx.prefs.strict else None
    if max_affected is not None and not fn.returns_set:
        raise ApiError(
            400,
            "PGRST128",
            "Function must return SETOF or TABLE when max-affected preference is used with handling=strict",
        )
    params = Params()
    call = rpc_source(fn, args, params, from_text=ctx.method in ("GET", "HEAD"))
    plan = read_plan(engine, ctx, items, query=query)
    # A function's rows have no planner estimate worth the name: every count kind counts them exactly.
    plan.count, plan.count_limit = ctx.prefs.count, None
    if fn.result_columns is not None:
        src = Source(
            sql.SQL("{} AS pgrst_call").format(call),
            sql.Identifier("pgrst_call"),
            {c.name: c for c in fn.result_columns},
            name,
            call=True,
            relation=_relation_of(engine, fn),
        )
        if not fn.returns_set:
            plan.singular = True
        statement = build_read(src, plan, params, engine.catalog)
        row = await engine.run(
            ctx,
            statement,
            params,
            read_only=read_only,
            expect_one=ctx.singular,
            max_affected=max_affected,
        )
        if not fn.returns_set:
            return _one_value(ctx, row[2])
        return read_response(ctx, plan, row)
    if (
        plan.filters
        or plan.order
        or plan.embedded
        or any(not isinstance(item, SelectItem) or item.field is not None for item in plan.select)
    ):
        raise unsupported("Filtering, ordering or selecting on a function returning a scalar")
    if fn.returns_void:
        statement = sql.SQL(
            "SELECT NULL::bigint, pg_catalog.count(*), NULL::text FROM {} AS pgrst_call"
        ).format(call)
        await engine.run(ctx, statement, params, read_only=read_only, expect_one=False)
        return Response(status_code=204)
    if fn.returns_set:
        statement = build_scalar_set_read(call, plan)
        row = await engine.run(
            ctx,
            statement,
            params,
            read_only=read_only,
            expect_one=plan.singular,
            max_affected=max_affected,
        )
        return read_response(ctx, plan, row)
    # A function that is not set-returning yields exactly one row in FROM.
    statement = sql.SQL(
        "SELECT NULL::bigint, pg_catalog.count(*) OVER (), coalesce(to_json(pgrst_call.pgrst_scalar)::text, 'null') "
        "FROM {} AS pgrst_call(pgrst_scalar)"
    ).format(call)
    row = await engine.run(ctx, statement, params, read_only=read_only, expect_one=False)
    return _one_value(ctx, row[2])

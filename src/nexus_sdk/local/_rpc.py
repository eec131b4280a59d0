"""Function calls: ``/rpc/<fn>`` with ``POST`` (a JSON object of named arguments), ``GET`` and ``HEAD``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import parse_qsl

from psycopg import sql
from starlette.responses import Response

from nexus_sdk.local import _fuzzy
from nexus_sdk.local._catalog import Function
from nexus_sdk.local._csv import csv_rows
from nexus_sdk.local._errors import ApiError, unsupported
from nexus_sdk.local._media import MediaType, decode
from nexus_sdk.local._negotiate import body_media, negotiate
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
        # PostgREST names each candidate with its parameters: schema.f(a => integer, b => text).
        listed = ", ".join(
            f"{fn.schema}.{fn.name}({', '.join(f'{a.name} => {a.type}' for a in fn.args)})"
            for fn in candidates
        )
        raise ApiError(
            300,
            "PGRST203",
            f"Could not choose the best candidate function between: {listed}",
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
    media = body_media(singular=ctx.singular, csv=False, strip=ctx.strip)
    return Response(content, status_code=200, headers=headers, media_type=media)


_RAW_TYPES: Final = {"text/plain": "text", "text/xml": "xml", "application/octet-stream": "bytea"}
"""Bodies PostgREST passes whole to a function's one unnamed parameter of the type shown."""


def _json_args(payload: Any) -> dict[str, Any]:
    """A JSON body's arguments, as PostgREST 14 reads them: an object's keys, the first object of an array
    (all with the same keys), none for any other value.

    Raises:
        ApiError: 400 PGRST102 for an array of anything but objects with the same keys.
    """
    if isinstance(payload, dict):
        return payload
    if isinstance(payload, list) and payload:
        first = payload[0]
        if not all(isinstance(r, dict) and r.keys() == first.keys() for r in payload):
            raise ApiError(400, "PGRST102", "All object keys must match")
        return dict(first)
    return {}


def _raw_body_function(engine: Engine, name: str, mime: str) -> Function:
    """The function taking one unnamed parameter of the raw body's type.

    Raises:
        ApiError: 404 PGRST202 (PostgREST's message for such a search: no parameter list, no hint).
    """
    wanted = _RAW_TYPES[mime]
    for fn in engine.catalog.functions.get(name, []):
        if len(fn.args) == 1 and fn.args[0].name == "" and fn.args[0].type == wanted:
            return fn
    schema = engine.schema
    raise ApiError(
        404,
        "PGRST202",
        f"Could not find the function {schema}.{name} in the schema cache",
        details=f"Searched for the function {schema}.{name} with a single unnamed {wanted} parameter, "
        "but no matches were found in the schema cache.",
    )


async def call_function(engine: Engine, ctx: RequestContext, name: str) -> Response:
    """Call ``name`` with the request's arguments and answer its result in the shape its type asks for."""
    items = ctx.query_items
    body_text: str | None = None
    payload: Any = None
    media: MediaType | None = None
    from_text = ctx.method in ("GET", "HEAD", "OPTIONS")
    pairs: list[tuple[str, str]] = []
    if from_text:
        # A parameter whose value is not an operator expression is an argument, as in PostgREST: also one
        # the function does not take (404 PGRST202); ?id=5&id=gt.2 passes id and filters on it.
        query = parse_query(items, rpc_read=True)
        pairs = list(query.rpc_args)
        args: dict[str, Any] = dict(pairs)
    elif ctx.method == "POST":
        query = parse_query(items)
        ctype = ctx.request.headers.get("content-type")
        media = decode(ctype) if ctype is not None else None
        raw = await request_body(ctx)
        if media is None or media.kind == "json":
            if raw.strip():
                payload, body_text = await json_body(ctx)
            args = _json_args(payload)
        elif media.kind == "csv":
            # As PostgREST: the records become a JSON array, whose first object gives the arguments.
            rows = csv_rows(raw)
            args = dict(rows[0]) if rows else {}
        elif media.form:
            # Arguments as text, read by each parameter's type, as a GET's are.
            pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
            args = dict(pairs)
            from_text = True
        elif media.mime in _RAW_TYPES:
            # PostgREST passes such a body to a function with one unnamed parameter of that type.
            fn = _raw_body_function(engine, name, media.mime)
            raise unsupported(f"Calling a function with a raw {media.mime} body ({fn.name})")
        else:
            raise ApiError(400, "PGRST102", f"Content-Type not acceptable: {media.mime}")
    else:
        raise ApiError(405, "PGRST101", f"Cannot use the {ctx.method} method on RPC")
    json_post = ctx.method == "POST" and not from_text and (media is None or media.kind == "json")
    fn = pick_function(engine, name, args, json_post=json_post)
    if from_text and fn.variadic is not None and fn.variadic in args:
        # Every value of a VARIADIC argument's parameter, in order (?v=a&v=b is ARRAY['a', 'b']).
        args[fn.variadic] = [v for k, v in pairs if k == fn.variadic]
    if ctx.csv and not (fn.returns_set and fn.result_columns is not None):
        # CSV is answered for rows a function returns (SETOF a row type, TABLE); for other results the next
        # media type the client accepts, else 406.
        ctx.csv = False
        answer, ctx.strip = negotiate(ctx.request.headers.get("accept"), csv=False)
        ctx.singular = answer == "object"
    if ctx.method == "OPTIONS":
        # PostgREST's Allow for a function: a volatile one is called with POST only.
        return Response(
            status_code=200, headers={"Allow": "OPTIONS,POST" if fn.volatile else "OPTIONS,GET,HEAD,POST"}
        )
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
    call = rpc_source(fn, args, params, from_text=from_text)
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
        # No body, but the headers of a one-row result, as PostgREST answers void.
        headers = {"Content-Range": f"0-0/{'1' if ctx.prefs.count else '*'}"}
        applied = ctx.prefs.applied()
        if applied:
            headers["Preference-Applied"] = applied
        return Response(status_code=204, headers=headers)
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
    value = sql.SQL(
        "json_strip_nulls(to_json(pgrst_call.pgrst_scalar))"
        if ctx.strip
        else "to_json(pgrst_call.pgrst_scalar)"
    )
    statement = sql.SQL(
        "SELECT NULL::bigint, pg_catalog.count(*) OVER (), coalesce({}::text, 'null') FROM {} AS pgrst_call(pgrst_scalar)"
    ).format(value, call)
    row = await engine.run(ctx, statement, params, read_only=read_only, expect_one=False)
    return _one_value(ctx, row[2])

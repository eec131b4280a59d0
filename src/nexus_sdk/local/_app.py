"""The PostgREST-compatible ASGI application: authentication, request parsing, one transaction each.

Each request runs as PostgREST runs it: ``BEGIN`` (READ ONLY for GET/HEAD and for non-volatile functions),
``set_config`` of ``search_path``, ``role``, ``request.jwt.claims``, ``request.method``, ``request.path``
and ``request.headers`` (all transaction-local), the one statement, ``COMMIT``; on a pool of connections
made as ``authenticator``, never as a superuser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.pq import TransactionStatus
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from nexus_sdk.local import _jwt
from nexus_sdk.local._catalog import Catalog, Function, Table, load_catalog
from nexus_sdk.local._errors import ApiError, pg_error_status, raised_error, unsupported, valid_header
from nexus_sdk.local._parse import (
    Condition,
    Logic,
    SelectItem,
    parse_columns,
    parse_filter,
    parse_logic,
    parse_nonnegative,
    parse_order,
    parse_range_header,
    parse_select,
)
from nexus_sdk.local._sql import (
    InsertPlan,
    Params,
    ReadPlan,
    Source,
    build_delete,
    build_insert,
    build_read,
    build_scalar_set_read,
    build_update,
    check_columns,
    rpc_source,
    table_source,
)

__all__ = ["RestApp"]

_log = logging.getLogger("nexus_sdk.local")

_RESERVED: Final = frozenset(
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
_READ_CACHE_SIZE: Final = 1024
_JSON: Final = "application/json; charset=utf-8"
_OBJECT: Final = "application/vnd.pgrst.object+json; charset=utf-8"
_SINGULAR_TYPES: Final = frozenset({"application/vnd.pgrst.object+json", "application/vnd.pgrst.object"})
_PLURAL_TYPES: Final = frozenset({"application/json", "*/*", "application/*"})

_SET_CONFIG: Final = sql.SQL(
    "SELECT set_config('search_path', %(sp)s, true), set_config('role', %(role)s, true), "
    "set_config('request.jwt.claims', %(claims)s, true), set_config('request.method', %(method)s, true), "
    "set_config('request.path', %(path)s, true), set_config('request.headers', %(headers)s, true), "
    "set_config('request.cookies', '{}', true)"
)
# What the statement (a function, a trigger) asked for with set_config('response.status'|'response.headers').
_RESPONSE_SETTINGS: Final = sql.SQL(
    "SELECT nullif(current_setting('response.status', true), ''), "
    "nullif(current_setting('response.headers', true), '')"
)
_BEGIN_RO: Final = sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY")
_BEGIN_RW: Final = sql.SQL("BEGIN ISOLATION LEVEL READ COMMITTED")


def _gateway_error(message: str, hint: str) -> ApiError:
    # Supabase's gateway (Kong) answers before PostgREST with a body of only message (and hint).
    return ApiError(401, "", message, hint=hint)


@dataclass(slots=True)
class _Prefs:
    returning: str = "minimal"
    count: bool = False
    resolution: str | None = None
    missing_default: bool = False
    applied: tuple[str, ...] = ()


def _prefs(headers: Sequence[str]) -> _Prefs:
    prefs = _Prefs()
    applied: list[str] = []
    for header in headers:
        for token in header.split(","):
            key, _, value = token.strip().partition("=")
            key, value = key.strip(), value.strip()
            if key == "return" and value in ("minimal", "representation", "headers-only"):
                prefs.returning = value
                applied.append(f"return={value}")
            elif key == "count" and value in ("exact", "planned", "estimated"):
                # Planned and estimated counts are answered exactly: a correct estimate.
                prefs.count = True
                applied.append(f"count={value}")
            elif key == "resolution" and value in ("merge-duplicates", "ignore-duplicates"):
                prefs.resolution = value
                applied.append(f"resolution={value}")
            elif key == "missing" and value == "default":
                prefs.missing_default = True
                applied.append("missing=default")
    prefs.applied = tuple(applied)
    return prefs


def _wants_singular(accept: str | None) -> bool:
    if not accept:
        return False
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media, part in zip(offered, accept.split(","), strict=True):
        if media in _SINGULAR_TYPES:
            if "nulls=stripped" in part.replace(" ", "").lower():
                raise ApiError(406, "PGRST107", f"None of these media types are available: {part.strip()}")
            return True
        if media in _PLURAL_TYPES or media == "":
            return False
    raise ApiError(406, "PGRST107", f"None of these media types are available: {', '.join(offered)}")


def _response_settings(status: str | None, headers: str | None) -> tuple[int | None, list[tuple[str, str]]]:
    """Parse ``response.status`` and ``response.headers`` as PostgREST does.

    Raises:
        ApiError: 500 PGRST112 for a status that is not an HTTP status code, 500 PGRST111 for headers that
            are not a JSON array of single-key objects with string values.
    """
    code: int | None = None
    if status is not None:
        text = status.strip()
        if not (text.isascii() and text.isdigit() and 100 <= int(text) <= 599):
            raise ApiError(500, "PGRST112", "response.status guc must be a valid status code")
        code = int(text)
    pairs: list[tuple[str, str]] = []
    if headers is not None:
        bad = ApiError(
            500,
            "PGRST111",
            "response.headers guc must be a JSON array composed of objects with a single key and a string value",
        )
        try:
            parsed = json.loads(headers)
        except ValueError as exc:
            raise bad from exc
        if not isinstance(parsed, list):
            raise bad
        for item in parsed:
            if not (isinstance(item, dict) and len(item) == 1):
                raise bad
            ((name, value),) = item.items()
            if not valid_header(name, value):
                raise bad
            pairs.append((name, value))
    return code, pairs


def _apply_response_settings(ctx: _Ctx, response: Response) -> Response:
    """Give the response the status and headers the statement set; they replace the stack's own."""
    if ctx.response_status is not None:
        response.status_code = ctx.response_status
    for name in {n.lower() for n, _ in ctx.response_headers}:
        del response.headers[name]
    for name, value in ctx.response_headers:
        response.headers.append(name, value)
    return response


def _content_range(lower: int, rows: int, total: int | None) -> str:
    total_text = "*" if total is None else str(total)
    if rows > 0 and total != 0:
        return f"{lower}-{lower + rows - 1}/{total_text}"
    return f"*/{total_text}"


class RestApp:
    """The ASGI app serving PostgREST's API under ``prefix`` (``/rest/v1``)."""

    def __init__(
        self,
        *,
        conninfo: str,
        jwt_secret: str,
        api_keys: Sequence[str],
        schema: str = "public",
        anon_role: str = "anon",
        max_rows: int | None = 1000,
        prefix: str = "/rest/v1",
        pool_min: int = 2,
        pool_max: int = 10,
    ) -> None:
        self._conninfo = conninfo
        self._secret = jwt_secret
        self._api_keys = frozenset(api_keys)
        self.schema = schema
        self._anon_role = anon_role
        self._max_rows = max_rows
        self._prefix = prefix.rstrip("/")
        self._search_path = f'"{schema}", "extensions"'
        self._pool = psycopg_pool.AsyncConnectionPool(
            conninfo,
            min_size=pool_min,
            max_size=pool_max,
            kwargs={"autocommit": True},
            open=False,
            timeout=10.0,
        )
        self.catalog = Catalog(schema)
        self._listener: asyncio.Task[None] | None = None
        self._read_cache: dict[tuple[str | None, ...], tuple[ReadPlan, bytes, dict[str, Any]]] = {}

    async def open(self) -> None:
        """Open the pool, load the schema cache and listen for ``NOTIFY pgrst``."""
        await self._pool.open(wait=True)
        await self.reload()
        self._listener = asyncio.create_task(self._listen())

    async def close(self) -> None:
        """Stop listening and close the pool."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._pool.close()

    async def _listen(self) -> None:
        # PostgREST reloads its schema cache on NOTIFY pgrst (payload 'reload schema' or empty), which is
        # what Supabase users send after a migration; keep listening across dropped connections.
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                async with conn:
                    await conn.execute("LISTEN pgrst")
                    async for note in conn.notifies():
                        if note.payload in ("", "reload schema"):
                            await self.reload()
            except psycopg.Error:
                _log.warning("schema-reload listener lost its connection; retrying")
                await asyncio.sleep(1.0)

    async def reload(self) -> None:
        """Reload the schema cache (after DDL), as PostgREST does on ``NOTIFY pgrst``."""
        async with self._pool.connection() as conn:
            self.catalog = await load_catalog(conn, self.schema)
        self._read_cache.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        try:
            response = await self._handle(request)
        except ApiError as err:
            response = self._error_response(err)
        except Exception:
            _log.exception("unexpected error handling %s %s", request.method, request.url.path)
            response = self._error_response(ApiError(500, "PGRSTX00", "Internal server error"))
        await response(scope, receive, send)

    @staticmethod
    def _error_response(err: ApiError) -> Response:
        if err.code == "":
            body = json.dumps({"message": err.message, "hint": err.hint}, separators=(",", ":")).encode()
        else:
            body = err.body()
        return Response(body, status_code=err.status, headers=err.headers, media_type=_JSON)

    # -- request handling ---------------------------------------------------------------------------

    def _authenticate(self, request: Request) -> tuple[str, dict[str, Any]]:
        apikey = request.headers.get("apikey") or request.query_params.get("apikey")
        if not apikey:
            raise _gateway_error(
                "No API key found in request", "No `apikey` request header or url param was found."
            )
        if apikey not in self._api_keys:
            raise _gateway_error(
                "Invalid API key", "Double check your Supabase `anon` or `service_role` API key."
            )
        auth = request.headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else apikey
        claims = _jwt.verify(self._secret, token)
        role = claims.get("role", self._anon_role)
        if not isinstance(role, str) or not role:
            raise ApiError(401, "PGRST301", "JWT role claim must be a non-empty string")
        return role, claims

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        if not (path == self._prefix or path.startswith(self._prefix + "/")):
            return Response(
                json.dumps({"message": "no Route matched with those values"}),
                status_code=404,
                media_type=_JSON,
            )
        role, claims = self._authenticate(request)
        for header in ("accept-profile", "content-profile"):
            profile = request.headers.get(header)
            if profile is not None and profile != self.schema:
                raise ApiError(406, "PGRST106", f"The schema must be one of the following: {self.schema}")
        resource = path[len(self._prefix) :].strip("/")
        method = request.method.upper()
        ctx = _Ctx(request, role, claims, method)
        return _apply_response_settings(ctx, await self._dispatch(ctx, resource))

    async def _dispatch(self, ctx: _Ctx, resource: str) -> Response:
        method = ctx.method
        if resource == "":
            raise unsupported("The OpenAPI root endpoint")
        if resource.startswith("rpc/"):
            return await self._rpc(ctx, urllib.parse.unquote(resource[4:]))
        if "/" in resource:
            raise ApiError(404, "PGRST125", f"Invalid path specified in request URL: /{resource}")
        name = urllib.parse.unquote(resource)
        table = self.catalog.tables.get(name)
        if table is None:
            raise ApiError(
                404,
                "PGRST205",
                f"Could not find the table '{self.schema}.{name}' in the schema cache",
            )
        if method in ("GET", "HEAD"):
            return await self._read(ctx, table)
        if method == "POST":
            return await self._insert(ctx, table)
        if method == "PATCH":
            return await self._update(ctx, table)
        if method == "DELETE":
            return await self._delete(ctx, table)
        if method == "OPTIONS":
            return Response(status_code=200, headers={"Allow": "OPTIONS,GET,HEAD,POST,PATCH,DELETE"})
        if method == "PUT":
            raise unsupported("PUT")
        raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")

    # -- query-string pieces ------------------------------------------------------------------------

    @staticmethod
    def _filters(
        items: Sequence[tuple[str, str]], skip: frozenset[str] = frozenset()
    ) -> list[Condition | Logic]:
        out: list[Condition | Logic] = []
        for key, value in items:
            if key in ("or", "and", "not.or", "not.and"):
                out.append(parse_logic(key, value))
            elif key in _RESERVED or key in skip:
                continue
            else:
                out.append(parse_filter(key, value))
        return out

    def _read_plan(
        self, ctx: _Ctx, items: Sequence[tuple[str, str]], skip: frozenset[str] = frozenset()
    ) -> ReadPlan:
        q = dict(items)
        plan = ReadPlan()
        plan.select = parse_select(q.get("select", "*"))
        plan.filters = self._filters(items, skip)
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
        if self._max_rows is not None:
            limit = self._max_rows if limit is None else min(limit, self._max_rows)
        plan.offset, plan.limit = offset, limit
        plan.count = ctx.prefs.count
        plan.singular = ctx.singular
        plan.body = ctx.method != "HEAD"
        return plan

    # -- execution ----------------------------------------------------------------------------------

    async def _run(
        self,
        ctx: _Ctx,
        statement: sql.Composed | bytes,
        params: Params | dict[str, Any],
        *,
        read_only: bool,
        expect_one: bool,
    ) -> tuple[Any, ...]:
        """Run one statement inside PostgREST's transaction; roll back a singular request off by rows."""
        request = ctx.request
        settings = {
            "sp": self._search_path,
            "role": ctx.role,
            "claims": json.dumps(ctx.claims),
            "method": ctx.method,
            "path": request.url.path,
            "headers": json.dumps({k.lower(): v for k, v in request.headers.items()}),
        }
        try:
            async with self._pool.connection() as conn:
                try:
                    # Pipeline mode sends BEGIN, the settings and the statement in one round trip.
                    async with conn.pipeline():
                        await conn.execute(_BEGIN_RO if read_only else _BEGIN_RW)
                        await conn.execute(_SET_CONFIG, settings)
                        values = params.values if isinstance(params, Params) else params
                        cur = await conn.execute(statement, values)
                        # Never prepared: when the statement above fails, the pipeline skips this one, and
                        # psycopg would then believe in a prepared statement the server never made.
                        settings_cur = await conn.execute(_RESPONSE_SETTINGS, prepare=False)
                    row = await cur.fetchone()
                    assert row is not None
                    wanted = await settings_cur.fetchone()
                    assert wanted is not None
                    # Invalid settings fail the request before COMMIT, so nothing it did is kept.
                    ctx.response_status, ctx.response_headers = _response_settings(wanted[0], wanted[1])
                    if expect_one and row[1] != 1:
                        await conn.execute("ROLLBACK")
                        raise ApiError(
                            406,
                            "PGRST116",
                            "JSON object requested, multiple (or no) rows returned",
                            details=f"The result contains {row[1]} rows",
                        )
                    await conn.execute("COMMIT")
                    return tuple(row)
                finally:
                    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                        await conn.execute("ROLLBACK")
        # PoolTimeout is a psycopg.OperationalError: it must be caught first, or it is answered as 503.
        except psycopg_pool.PoolTimeout as exc:
            raise ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.") from exc
        except psycopg.Error as exc:
            raise self._db_error(exc, ctx.role) from exc

    def _db_error(self, exc: psycopg.Error, role: str) -> ApiError:
        sqlstate = exc.sqlstate
        if sqlstate is None:
            return ApiError(503, "PGRST001", "Database client error. Retrying the connection.")
        diag = exc.diag
        message = diag.message_primary or str(exc)
        if sqlstate == "PGRST":
            # RAISE SQLSTATE 'PGRST': the function chose the status, headers and body itself.
            return raised_error(message, diag.message_detail)
        status = pg_error_status(sqlstate, authenticated=role != self._anon_role, message=message)
        return ApiError(
            status,
            sqlstate,
            message,
            details=diag.message_detail,
            hint=diag.message_hint,
            # PostgREST asks for credentials on every 401 that comes from the database.
            headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
        )

    # -- reads --------------------------------------------------------------------------------------

    def _read_response(self, ctx: _Ctx, plan: ReadPlan, row: tuple[Any, ...]) -> Response:
        total, rows, body = row[0], row[1], row[2]
        headers = {"Content-Range": _content_range(plan.offset, rows, total)}
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
        media = _OBJECT if plan.singular else _JSON
        content = b"" if ctx.method == "HEAD" else (body or "").encode()
        return Response(content, status_code=status, headers=headers, media_type=media)

    async def _read(self, ctx: _Ctx, table: Table) -> Response:
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
        cached = self._read_cache.get(key)
        if cached is None:
            plan = self._read_plan(ctx, ctx.request.query_params.multi_items())
            params = Params()
            statement = build_read(table_source(table), plan, params).as_bytes(None)
            if len(self._read_cache) >= _READ_CACHE_SIZE:
                self._read_cache.clear()
            cached = self._read_cache[key] = (plan, statement, params.values)
        plan, statement, values = cached
        row = await self._run(ctx, statement, values, read_only=True, expect_one=plan.singular)
        return self._read_response(ctx, plan, row)

    # -- writes -------------------------------------------------------------------------------------

    async def _json_body(self, ctx: _Ctx) -> tuple[Any, str]:
        ctype = ctx.request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if ctype not in ("application/json", "", "*/*"):
            raise ApiError(415, "PGRST107", f"The Content-Type sent in the request is invalid: {ctype}")
        raw = await ctx.request.body()
        try:
            # UnicodeDecodeError is a ValueError: a body that is not UTF-8 is invalid JSON, not a crash.
            text = raw.decode("utf-8", errors="strict") if raw else ""
            if not text.strip():
                raise ApiError(400, "PGRST102", "Empty or invalid json")
            return json.loads(text), text
        except ValueError as exc:
            raise ApiError(400, "PGRST102", "Empty or invalid json", details=str(exc)) from exc

    def _write_prelude(
        self, ctx: _Ctx, *, allow: frozenset[str]
    ) -> tuple[list[SelectItem], list[Condition | Logic]]:
        items = ctx.request.query_params.multi_items()
        q = dict(items)
        for key in ("limit", "offset", "order"):
            if key in q and key not in allow:
                raise unsupported(f"{key}= on {ctx.method}")
        select = parse_select(q.get("select", "*"))
        filters = self._filters(items)
        return select, filters

    def _write_response(self, ctx: _Ctx, table: Table, row: tuple[Any, ...], *, created: bool) -> Response:
        rows, body, location = row[1], row[2], row[3]
        prefs = ctx.prefs
        headers: dict[str, str] = {}
        total = rows if prefs.count else None
        headers["Content-Range"] = (
            f"*/{'*' if total is None else total}" if created else _content_range(0, rows, total)
        )
        if prefs.applied:
            headers["Preference-Applied"] = ", ".join(prefs.applied)
        if created and prefs.returning == "headers-only" and location:
            pk = json.loads(location)
            query = "&".join(f"{k}=eq.{urllib.parse.quote(str(v), safe='')}" for k, v in pk.items())
            headers["Location"] = f"/{table.name}?{query}"
        if prefs.returning == "representation":
            media = _OBJECT if ctx.singular else _JSON
            return Response(
                (body or "").encode(), status_code=201 if created else 200, headers=headers, media_type=media
            )
        return Response(status_code=201 if created else 204, headers=headers)

    async def _insert(self, ctx: _Ctx, table: Table) -> Response:
        select, filters = self._write_prelude(ctx, allow=frozenset())
        if filters:
            raise unsupported("Filters on POST")
        payload, text = await self._json_body(ctx)
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
        row = await self._run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
        return self._write_response(ctx, table, row, created=True)

    async def _update(self, ctx: _Ctx, table: Table) -> Response:
        select, filters = self._write_prelude(ctx, allow=frozenset())
        payload, text = await self._json_body(ctx)
        if not isinstance(payload, dict):
            raise ApiError(
                400, "PGRST102", "Empty or invalid json", details="PATCH expects a single JSON object"
            )
        if not filters:
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
            filters,
            representation=ctx.prefs.returning == "representation",
            select=select,
            singular=ctx.singular,
            params=params,
        )
        row = await self._run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
        return self._write_response(ctx, table, row, created=False)

    async def _delete(self, ctx: _Ctx, table: Table) -> Response:
        select, filters = self._write_prelude(ctx, allow=frozenset())
        if not filters:
            raise ApiError(400, "21000", "DELETE requires a WHERE clause")
        params = Params()
        statement = build_delete(
            table,
            filters,
            representation=ctx.prefs.returning == "representation",
            select=select,
            singular=ctx.singular,
            params=params,
        )
        row = await self._run(ctx, statement, params, read_only=False, expect_one=ctx.singular)
        return self._write_response(ctx, table, row, created=False)

    # -- functions ----------------------------------------------------------------------------------

    def _pick_function(self, name: str, args: dict[str, Any]) -> Function:
        candidates = [
            fn
            for fn in self.catalog.functions.get(name, [])
            if set(args) <= {a.name for a in fn.args} and fn.required_args <= set(args)
        ]
        if not candidates:
            listed = ", ".join(sorted(args))
            raise ApiError(
                404,
                "PGRST202",
                f"Could not find the function {self.schema}.{name}({listed}) in the schema cache",
                hint="If a new function was created in the database with this name and parameters, "
                "try reloading the schema cache.",
            )
        if len(candidates) > 1:
            raise ApiError(
                300,
                "PGRST203",
                f"Could not choose the best candidate function between: {self.schema}.{name}",
            )
        return candidates[0]

    async def _rpc(self, ctx: _Ctx, name: str) -> Response:
        items = ctx.request.query_params.multi_items()
        if ctx.method in ("GET", "HEAD"):
            arg_names = {a.name for fn in self.catalog.functions.get(name, []) for a in fn.args}
            args: dict[str, Any] = {k: v for k, v in items if k in arg_names and k not in _RESERVED}
        elif ctx.method == "POST":
            raw = await ctx.request.body()
            if raw.strip():
                payload, _ = await self._json_body(ctx)
                if not isinstance(payload, dict):
                    raise unsupported("Calling a function with a non-object body")
                args = payload
            else:
                args = {}
            arg_names = set()
        else:
            raise ApiError(405, "PGRST101", "Only GET, HEAD and POST are allowed for functions")
        fn = self._pick_function(name, args)
        read_only = ctx.method in ("GET", "HEAD") or not fn.volatile
        params = Params()
        call = rpc_source(fn, args, params, from_text=ctx.method in ("GET", "HEAD"))
        plan = self._read_plan(ctx, items, skip=frozenset(arg_names))
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
            row = await self._run(ctx, statement, params, read_only=read_only, expect_one=ctx.singular)
            if not fn.returns_set:
                return Response(
                    b"" if ctx.method == "HEAD" else (row[2] or "null").encode(),
                    status_code=200,
                    media_type=_JSON,
                )
            return self._read_response(ctx, plan, row)
        if plan.filters or plan.order or (plan.select and plan.select[0].field is not None):
            raise unsupported("Filtering, ordering or selecting on a function returning a scalar")
        if fn.returns_void:
            statement = sql.SQL(
                "SELECT NULL::bigint, pg_catalog.count(*), NULL::text FROM {} AS pgrst_call"
            ).format(call)
            await self._run(ctx, statement, params, read_only=read_only, expect_one=False)
            return Response(status_code=204)
        if fn.returns_set:
            statement = build_scalar_set_read(call, plan)
            row = await self._run(ctx, statement, params, read_only=read_only, expect_one=plan.singular)
            return self._read_response(ctx, plan, row)
        # A function that is not set-returning yields exactly one row in FROM.
        statement = sql.SQL(
            "SELECT NULL::bigint, pg_catalog.count(*) OVER (), coalesce(to_json(pgrst_call.pgrst_scalar)::text, 'null') "
            "FROM {} AS pgrst_call(pgrst_scalar)"
        ).format(call)
        row = await self._run(ctx, statement, params, read_only=read_only, expect_one=False)
        body = b"" if ctx.method == "HEAD" else (row[2] or "null").encode()
        return Response(body, status_code=200, media_type=_JSON)


class _Ctx:
    """Per-request facts computed once."""

    __slots__ = (
        "claims",
        "method",
        "prefs",
        "request",
        "response_headers",
        "response_status",
        "role",
        "singular",
    )

    def __init__(self, request: Request, role: str, claims: dict[str, Any], method: str) -> None:
        self.request = request
        self.role = role
        self.claims = claims
        self.method = method
        self.prefs = _prefs(request.headers.getlist("prefer"))
        self.singular = _wants_singular(request.headers.get("accept"))
        self.response_status: int | None = None
        """``response.status`` as set by the statement, if it was."""
        self.response_headers: list[tuple[str, str]] = []
        """``response.headers`` as set by the statement."""

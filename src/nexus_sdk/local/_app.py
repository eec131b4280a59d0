"""The stack's ASGI application: routing, authentication, the request's settings, one transaction each.

Each request to ``/rest/v1`` runs as PostgREST runs it: ``BEGIN`` (READ ONLY for GET/HEAD and for
non-volatile functions), ``set_config`` of ``search_path``, ``role``, ``request.jwt.claims``,
``request.method``, ``request.path`` and ``request.headers`` (all transaction-local), the one statement,
``COMMIT``; on a pool of connections made as ``authenticator``, never as a superuser.

What a request asks for is read by :mod:`._negotiate`; the verbs are handled by :mod:`._read`,
:mod:`._write` and :mod:`._rpc`. Other routers (e.g. ``/auth/v1``) are mounted with :meth:`StackApp.mount`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import traceback
import urllib.parse
from collections.abc import Sequence
from typing import Any, Final, Protocol

import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.pq import TransactionStatus
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from nexus_sdk.local import _cors, _fuzzy, _jwt, _pipeline, _read, _rpc, _write
from nexus_sdk.local._catalog import Catalog, load_catalog
from nexus_sdk.local._errors import ApiError, check_api_key, pg_error_status, raised_error, unsupported
from nexus_sdk.local._limits import MAX_BODY_BYTES, check_query
from nexus_sdk.local._negotiate import JSON, apply_response_settings, parse_response_settings
from nexus_sdk.local._request import HeaderCache, Identity, RequestContext, RequestHeaders, query_items
from nexus_sdk.local._roles import RoleSettings, load_role_settings
from nexus_sdk.local._sql import Params

__all__ = ["MountedApp", "RestApp"]

_log = logging.getLogger("nexus_sdk.local")

# The role's own settings first (as PostgREST orders them), then the request's; all transaction-local.
_SET_CONFIG: Final = (
    b"SELECT set_config('search_path', %(sp)s, true), "
    b"(SELECT count(set_config(k, v, true)) FROM unnest(%(keys)s::text[], %(values)s::text[]) AS s(k, v)), "
    b"set_config('role', %(role)s, true), "
    b"set_config('request.jwt.claims', %(claims)s, true), set_config('request.method', %(method)s, true), "
    b"set_config('request.path', %(path)s, true), set_config('request.headers', %(headers)s, true), "
    b"set_config('request.cookies', %(cookies)s, true)"
)
# Prefer: timezone= sets the transaction's TimeZone (only a zone of pg_timezone_names: Prefs.accept_timezone).
_SET_TIMEZONE: Final = b"SELECT set_config('timezone', %(tz)s, true)"
# What the statement (a function, a trigger) asked for with set_config('response.status'|'response.headers').
_RESPONSE_SETTINGS: Final = (
    b"SELECT nullif(current_setting('response.status', true), ''), "
    b"nullif(current_setting('response.headers', true), '')"
)
_COMMIT: Final = sql.SQL("COMMIT")
_ROLLBACK: Final = sql.SQL("ROLLBACK")
_NO_SETTINGS: Final = ("{}", "{}")
# Errors after which a prepared statement of the connection may be gone or stale (the server lost it, or a
# schema change altered its result type): the connection is discarded, and its prepared statements with it.
_SUSPECT_CLASSES: Final = frozenset({"26", "0A"})
_BEGIN_RO: Final = b"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY"
_BEGIN_RW: Final = b"BEGIN ISOLATION LEVEL READ COMMITTED"
# Statements without parameters go as they are; BEGIN and COMMIT are never prepared (nothing to plan).
_BEGIN_RO_STEP: Final = _pipeline.Step(_BEGIN_RO, prepare=False)
_BEGIN_RW_STEP: Final = _pipeline.Step(_BEGIN_RW, prepare=False)
_COMMIT_STEP: Final = _pipeline.Step(b"COMMIT", prepare=False)
_RESPONSE_SETTINGS_STEP: Final = _pipeline.Step(_RESPONSE_SETTINGS)
_SETTINGS_STEPS_MAX: Final = 256
"""Distinct ``set_config`` steps kept (see ``RestApp._settings_step``); all are forgotten when full."""
_RETURN_PARKED_EVERY: Final = 1000
"""A parked connection goes back to the pool once in this many requests (see ``RestApp._release``)."""


def _as_bytes(statement: sql.Composed | bytes, conn: psycopg.AsyncConnection[Any]) -> bytes:
    return statement if isinstance(statement, bytes) else statement.as_bytes(conn)


_PLAIN_PATH: Final = re.compile(r"/[^?#\\\t\r\n]*")


def _path(request: Request) -> str:
    """``request.url.path``, without building the URL when the path needs none of its escapes."""
    path: str = request.scope["path"]
    return path if _PLAIN_PATH.fullmatch(path) else request.url.path


def _plan_rows(plan: Any) -> int | None:
    """The top plan node's row estimate from ``EXPLAIN (FORMAT JSON)`` output."""
    if isinstance(plan, str):
        plan = json.loads(plan)
    try:
        return int(plan[0]["Plan"]["Plan Rows"])
    except (TypeError, KeyError, IndexError, ValueError):
        return None


class MountedApp(Protocol):
    """An ASGI app served under a path prefix of the stack (e.g. ``/auth/v1``).

    It is opened on the server's event loop after the stack's own pool, and closed before it.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...


def _log_unexpected(request: Request, exc: Exception) -> None:
    """Log an unexpected failure by its class, SQLSTATE, method and path: never its message, the query
    string or the body, which can quote what a client wrote (tokens, personal data).

    The traceback's frames (file, line, function; no message, no values) are logged at DEBUG.
    """
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
    _log.error(
        "unexpected error handling %s %s: %s (SQLSTATE %s)",
        request.method,
        request.url.path,
        type(exc).__name__,
        sqlstate if isinstance(sqlstate, str) else "none",
    )
    if _log.isEnabledFor(logging.DEBUG):
        frames = traceback.extract_tb(exc.__traceback__)
        _log.debug("where: %s", " <- ".join(f"{f.filename}:{f.lineno} in {f.name}" for f in reversed(frames)))


_WRITES: Final = frozenset({"POST", "PATCH", "PUT", "DELETE"})
"""Methods whose schema is named by ``Content-Profile`` (the others': ``Accept-Profile``)."""


def _error_response(err: ApiError) -> Response:
    if err.code == "":
        # The gateway's own answer (no PostgREST behind it): no Proxy-Status.
        body = json.dumps({"message": err.message, "hint": err.hint}, separators=(",", ":")).encode()
        return Response(body, status_code=err.status, headers=err.headers, media_type=JSON)
    # PostgREST 13+ names the error's code in Proxy-Status on every error it answers.
    headers = {"Proxy-Status": f"PostgREST; error={err.code}", **err.headers}
    return Response(err.body(), status_code=err.status, headers=headers, media_type=JSON)


class RestApp:
    """The ASGI app of the stack: PostgREST's API under ``prefix`` (``/rest/v1``), and mounted routers."""

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
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._conninfo = conninfo
        self.max_body_bytes = max_body_bytes
        """Bodies larger than this are refused with 413."""
        self._secret = jwt_secret
        self._api_keys = frozenset(api_keys)
        self.schema = schema
        self._anon_role = anon_role
        self.max_rows = max_rows
        self._prefix = prefix.rstrip("/")
        self._search_path = f'"{schema}", "extensions"'
        self._pool = psycopg_pool.AsyncConnectionPool(
            conninfo,
            min_size=pool_min,
            max_size=pool_max,
            # psycopg prepares nothing here: the stack prepares its own statements (_pipeline), and psycopg,
            # once it holds a prepared statement, answers a ROLLBACK with DEALLOCATE ALL, theirs included.
            kwargs={"autocommit": True, "prepare_threshold": None},
            open=False,
            timeout=10.0,
        )
        self.catalog = Catalog(schema)
        self._listener: asyncio.Task[None] | None = None
        self._plans = _read.PlanCache()
        self._headers = HeaderCache()
        self._settings_steps: dict[tuple[str, ...], _pipeline.Step] = {}
        self._role_settings: RoleSettings = {}
        self._mounts: list[tuple[str, MountedApp]] = []
        self._parked: list[psycopg.AsyncConnection[Any]] = []
        self._parked_uses = 0
        self._waiting = 0

    def mount(self, prefix: str, app: MountedApp) -> None:
        """Serve ``app`` for every path under ``prefix`` (e.g. ``/auth/v1``); call before :meth:`open`."""
        prefix = "/" + prefix.strip("/")
        if prefix == self._prefix or any(prefix == p for p, _ in self._mounts):
            raise ValueError(f"{prefix} is already served")
        self._mounts.append((prefix, app))

    async def open(self) -> None:
        """Open the pool, load the schema cache, listen for ``NOTIFY pgrst``, open the mounted apps."""
        await self._pool.open(wait=True)
        await self.reload()
        self._listener = asyncio.create_task(self._listen())
        for _, app in self._mounts:
            await app.open()

    async def close(self) -> None:
        """Close the mounted apps, stop listening and close the pool."""
        for _, app in reversed(self._mounts):
            with contextlib.suppress(Exception):
                await app.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        while self._parked:
            await self._pool.putconn(self._parked.pop())
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
                        if note.payload in ("", "reload schema", "reload config"):
                            await self.reload()
            except psycopg.Error:
                _log.warning("schema-reload listener lost its connection; retrying")
                await asyncio.sleep(1.0)

    async def reload(self) -> None:
        """Reload the schema cache (after DDL), as PostgREST does on ``NOTIFY pgrst``."""
        conn = await self._acquire()
        try:
            self.catalog = await load_catalog(conn, self.schema)
            self._role_settings = await load_role_settings(conn)
            self._settings_steps.clear()  # they hold the roles' settings
        finally:
            await self._pool.putconn(conn)  # never parked: requests park theirs
        self._plans.clear()

    async def _acquire(self) -> psycopg.AsyncConnection[Any]:
        """A connection: the one parked by the last request if there is one, else one from the pool."""
        if self._parked:
            return self._parked.pop()
        self._waiting += 1
        try:
            return await self._pool.getconn()
        finally:
            self._waiting -= 1

    async def _release(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """Park an idle healthy connection for the next request when none is parked and no request waits
        for the pool; else give it back.

        Requests one after the other (a notebook, a script, a test suite) then reuse one connection without
        the pool's bookkeeping; the pool still lends the others when requests overlap, and gets this one
        back whenever a request waits for it. The parked one counts as lent, so it also goes back to the
        pool now and then, where its lifetime is checked.
        """
        self._parked_uses += 1
        if (
            not self._parked
            and not self._waiting
            and self._parked_uses % _RETURN_PARKED_EVERY
            and not conn.closed
            and conn.pgconn.transaction_status == TransactionStatus.IDLE
            and not self._pool.closed
        ):
            self._parked.append(conn)
        else:
            await self._pool.putconn(conn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        # CORS for every route, as Supabase's gateway adds it in front of PostgREST and GoTrue.
        if await _cors.answer_preflight(scope, send):
            return
        send = _cors.with_cors_headers(scope, send)
        path: str = scope["path"]
        for prefix, app in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                await app(scope, receive, send)
                return
        request = Request(scope, receive)
        try:
            response = await self._handle(request)
        except ApiError as err:
            response = _error_response(err)
        except ClientDisconnect:
            # The client left before its body arrived: nobody to answer, nothing went wrong here (logging it
            # would let a client that connects and leaves fill the log).
            return
        except RecursionError:
            # Only input nested deeper than Python's stack allows gets here (a JSON body; the query string's
            # nesting is bounded before parsing).
            response = _error_response(
                ApiError(400, "PGRST102", "Empty or invalid json", details="nested too deeply")
            )
        except Exception as exc:
            _log_unexpected(request, exc)
            response = _error_response(ApiError(500, "PGRSTX00", "Internal server error"))
        await response(scope, receive, send)

    # -- request handling ---------------------------------------------------------------------------

    def _authenticate(self, request: Request, headers: RequestHeaders) -> tuple[Identity, dict[str, Any]]:
        """The request's identity and its token's claims, checked as Supabase's gateway and PostgREST do.

        The key and the token's signature are checked once per header list that carries the key (a key
        in the query string is checked every time); the token's time claims on every request.
        """
        identity = headers.identity
        if identity is not None:
            return identity, _jwt.verify(self._secret, identity.token)
        in_header = headers.get("apikey")
        apikey = check_api_key(in_header or request.query_params.get("apikey"), self._api_keys)
        auth = headers.get("authorization") or ""
        scheme, _, credentials = auth.partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else apikey
        claims = _jwt.verify(self._secret, token)
        role = claims.get("role", self._anon_role)
        if not isinstance(role, str) or not role:
            raise ApiError(401, "PGRST301", "JWT role claim must be a non-empty string")
        identity = Identity(role, token, _jwt.claims_text(self._secret, token))
        if in_header:
            headers.identity = identity
        return identity, claims

    async def _handle(self, request: Request) -> Response:
        path = _path(request)
        if not (path == self._prefix or path.startswith(self._prefix + "/")):
            return Response(
                json.dumps({"message": "no Route matched with those values"}),
                status_code=404,
                media_type=JSON,
            )
        headers = self._headers.get(request)
        identity, claims = self._authenticate(request, headers)
        method = request.method.upper()
        # As PostgREST: writes name their schema in Content-Profile, other methods in Accept-Profile (the
        # other header is ignored); a body answered to a request that named it says Content-Profile.
        profile = headers.get("content-profile" if method in _WRITES else "accept-profile")
        if profile is not None and profile != self.schema:
            raise ApiError(
                406,
                "PGRST106",
                f"Invalid schema: {profile}",
                hint=f"Only the following schemas are exposed: {self.schema}",
            )
        # PostgREST's path segments (WAI's pathInfo): "/" is none, a trailing "/" adds an empty one.
        rest = path[len(self._prefix) :]
        resource = "" if rest in ("", "/") else rest[1:]
        items = query_items(request)
        check_query(items, headers.get("range"))
        ctx = RequestContext(
            request, identity.role, claims, method, max_body=self.max_body_bytes, items=items, headers=headers
        )
        ctx.claims_json = identity.claims_json
        ctx.path = path
        ctx.prefs = ctx.prefs.accept_timezone(self.catalog.timezones)
        ctx.prefs.check_strict()
        response = await self._dispatch(ctx, resource)
        if profile is not None and "content-type" in response.headers:
            response.headers["Content-Profile"] = self.schema
        return apply_response_settings(response, ctx.response_status, ctx.response_headers)

    async def _dispatch(self, ctx: RequestContext, resource: str) -> Response:
        method = ctx.method
        if resource == "":
            if method == "OPTIONS":
                return Response(status_code=200, headers={"Allow": "OPTIONS,GET,HEAD"})
            raise unsupported("The OpenAPI root endpoint")
        segments = resource.split("/")
        if len(segments) == 2 and segments[0] == "rpc":
            return await _rpc.call_function(self, ctx, urllib.parse.unquote(segments[1]))
        if len(segments) != 1:
            raise ApiError(404, "PGRST125", "Invalid path specified in request URL")
        name = urllib.parse.unquote(resource)
        table = self.catalog.tables.get(name)
        if table is None:
            similar = _fuzzy.closest(name, sorted(self.catalog.tables), min_score=_fuzzy.NAME_SCORE)
            raise ApiError(
                404,
                "PGRST205",
                f"Could not find the table '{self.schema}.{name}' in the schema cache",
                hint=f"Perhaps you meant the table '{self.schema}.{similar}'" if similar else None,
            )
        if method in ("GET", "HEAD"):
            return await _read.read(self, ctx, table, self._plans)
        if method == "POST":
            return await _write.insert(self, ctx, table)
        if method == "PATCH":
            return await _write.update(self, ctx, table)
        if method == "DELETE":
            return await _write.delete(self, ctx, table)
        if method == "OPTIONS":
            # PostgREST's Allow: what the relation takes (PUT: also a primary key).
            allowed = ["OPTIONS,GET,HEAD"]
            allowed += ["POST"] if table.insertable else []
            allowed += ["PUT"] if table.insertable and table.updatable and table.primary_key else []
            allowed += ["PATCH"] if table.updatable else []
            allowed += ["DELETE"] if table.deletable else []
            return Response(status_code=200, headers={"Allow": ",".join(allowed)})
        if method == "PUT":
            return await _write.put(self, ctx, table)
        raise ApiError(405, "PGRST117", f"Unsupported HTTP method: {method}")

    # -- execution ----------------------------------------------------------------------------------

    async def run(
        self,
        ctx: RequestContext,
        statement: sql.Composed | bytes,
        params: Params | dict[str, Any],
        *,
        read_only: bool,
        expect_one: bool,
        max_affected: int | None = None,
        explain: sql.Composed | bytes | None = None,
        require_one: ApiError | None = None,
    ) -> tuple[Any, ...]:
        """Run one statement inside PostgREST's transaction; roll back a singular request off by rows.

        A read is one round trip: BEGIN, the settings, the statement, the response settings and COMMIT go
        in one pipeline (a read-only transaction has nothing to undo, so committing one whose singular
        check then fails is the same as rolling it back). A write commits only after those checks.

        ``max_affected``: fail (400 PGRST124, rolled back) when the statement affected more rows.
        ``require_one``: raised (rolled back) unless the statement affected exactly one row (``PUT``).
        ``explain``: an ``EXPLAIN (FORMAT JSON)`` run first in the same transaction; its top plan's row
        estimate is appended to the returned row (``Prefer: count=planned|estimated``).
        """
        values = params.values if isinstance(params, Params) else params
        try:
            # Not the pool's connection(): its `async with conn` would commit an autocommit connection's
            # nothing at every request; the finally below already leaves the connection idle.
            conn = await self._acquire()
            try:
                steps = [
                    _BEGIN_RO_STEP if read_only else _BEGIN_RW_STEP,
                    self._settings_step(ctx),
                ]
                if ctx.prefs.timezone is not None:
                    steps.append(_pipeline.Step(_SET_TIMEZONE, {"tz": ctx.prefs.timezone}))
                if explain is not None:
                    steps.append(_pipeline.Step(_as_bytes(explain, conn), values, prepare=False))
                at = len(steps)
                steps.append(_pipeline.Step(_as_bytes(statement, conn), values))
                steps.append(_RESPONSE_SETTINGS_STEP)
                if read_only:
                    steps.append(_COMMIT_STEP)
                try:
                    results = await _pipeline.execute(conn, steps)
                    row = _pipeline.first_row(conn, results[at])
                    assert row is not None
                    wanted = _pipeline.first_row(conn, results[at + 1])
                    assert wanted is not None
                    # Invalid settings fail a write before COMMIT, so nothing it did is kept.
                    ctx.response_status, ctx.response_headers = parse_response_settings(wanted[0], wanted[1])
                    if explain is not None:
                        plan = _pipeline.first_row(conn, results[at - 1])
                        estimate = _plan_rows(plan[0] if plan else None)
                        row = (*row, estimate)
                    if max_affected is not None and row[1] > max_affected:
                        # Not committed: the finally below rolls the transaction back.
                        raise ApiError(
                            400,
                            "PGRST124",
                            "Query result exceeds max-affected preference constraint",
                            details=f"The query affects {row[1]} rows",
                        )
                    if require_one is not None and row[1] != 1:
                        raise require_one
                    if expect_one and row[1] != 1:
                        raise ApiError(
                            406,
                            "PGRST116",
                            "Cannot coerce the result to a single JSON object",
                            details=f"The result contains {row[1]} rows",
                        )
                    if not read_only:
                        await conn.execute(_COMMIT)
                    return tuple(row)
                except psycopg.Error as exc:
                    if (exc.sqlstate or "")[:2] in _SUSPECT_CLASSES and not conn.closed:
                        await conn.close()  # the pool replaces it
                    raise
                finally:
                    if not conn.closed and conn.pgconn.transaction_status in (
                        TransactionStatus.INTRANS,
                        TransactionStatus.INERROR,
                    ):
                        await conn.execute(_ROLLBACK)
            finally:
                await self._release(conn)
        # PoolTimeout is a psycopg.OperationalError: it must be caught first, or it is answered as 503.
        except psycopg_pool.PoolTimeout as exc:
            raise ApiError(504, "PGRST003", "Timed out acquiring connection from connection pool.") from exc
        except psycopg.Error as exc:
            raise self._db_error(exc, ctx.role) from exc

    def _settings_step(self, ctx: RequestContext) -> _pipeline.Step:
        """The ``set_config`` step of the request's transaction, made once per distinct set of settings (a
        client repeats its requests), so that its parameters are dumped once, not at every request."""
        # The path PostgREST sees: Supabase's gateway strips /rest/v1.
        path = ctx.path[len(self._prefix) :] or "/"
        headers, cookies = ctx.headers.settings
        key = (ctx.role, ctx.claims_json, ctx.method, path, headers, cookies)
        step = self._settings_steps.get(key)
        if step is None:
            keys, values = self._role_settings.get(ctx.role, _NO_SETTINGS)
            settings = {
                "sp": self._search_path,
                "keys": keys,
                "values": values,
                "role": ctx.role,
                "claims": ctx.claims_json,
                "method": ctx.method,
                "path": path,
                "headers": headers,
                "cookies": cookies,
            }
            if len(self._settings_steps) >= _SETTINGS_STEPS_MAX:
                self._settings_steps.clear()
            step = self._settings_steps[key] = _pipeline.Step(_SET_CONFIG, settings)
        return step

    def _db_error(self, exc: psycopg.Error, role: str) -> ApiError:
        sqlstate = exc.sqlstate
        if sqlstate is None:
            if isinstance(exc, psycopg.DataError):
                # Refused by the driver before sending (a value PostgreSQL cannot hold): bad input, not an
                # outage. PostgreSQL's own answer for a NUL character, which PostgREST passes on.
                if "NUL" in str(exc):
                    return ApiError(400, "22021", 'invalid byte sequence for encoding "UTF8": 0x00')
                return ApiError(400, "22000", str(exc))
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

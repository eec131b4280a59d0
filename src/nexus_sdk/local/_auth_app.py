"""The GoTrue-compatible ASGI app serving Supabase Auth's ``/auth/v1`` on the local stack.

What supabase-py and supabase-js use: sign-up (auto-confirmed, or anonymous), the password and
refresh-token grants (rotation, reuse detection), ``GET``/``PUT /user``, ``/logout`` (scopes ``local``,
``global``, ``others``), ``/settings``, ``/health``, and the admin users API with the service-role key.
OAuth providers, MFA, SSO, phone/SMS and everything that sends email are refused with a clear 400.

Requests run on a pool of connections as the stack's ``postgres`` role, switched to ``supabase_auth_admin``
(GoTrue's role) where that role owns ``auth.users``, one transaction each. Errors have GoTrue's body:
``{"code": <status>, "error_code", "msg"}``, or ``{"code": <error_code>, "message"}`` when the request
carries ``X-Supabase-Api-Version: 2024-01-01`` (as supabase-py and supabase-js send it). Nothing here logs
a request body, a password or a token.
"""

from __future__ import annotations

import json
import logging
import re
import time
import urllib.parse
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final

import jwt
import psycopg
import psycopg_pool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from nexus_sdk.local import _auth_service as service
from nexus_sdk.local import _auth_store as store
from nexus_sdk.local._auth_service import AuthRefusal, refused_feature
from nexus_sdk.local._auth_store import AuthUser
from nexus_sdk.local._errors import ApiError, check_api_key
from nexus_sdk.local._limits import MAX_BODY_BYTES, read_body
from nexus_sdk.local._users import DEFAULT_JWT_EXPIRY, session_body

__all__ = ["AUTH_PREFIX", "AuthApp", "auth_app"]

AUTH_PREFIX: Final = "/auth/v1"

STORAGE_FILE: Final = "supabase_compat_auth.sql"
"""The bootstrap file that creates the auth tables."""

_log = logging.getLogger("nexus_sdk.local.auth")

_API_VERSION_HEADER: Final = "X-Supabase-Api-Version"
_API_VERSION: Final = "2024-01-01"
_VERSION_DATE: Final = re.compile(r"^2\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")
_DEFAULT_PER_PAGE: Final = 50
_MAX_PER_PAGE: Final = 1000
_MAX_OFFSET: Final = 2**63 - 1
"""PostgreSQL's largest ``OFFSET`` (a bigint): a page past it is empty."""
_MAX_PAGE_NUMBER: Final = 2**64 - 1
"""GoTrue reads ``page`` and ``per_page`` as unsigned 64-bit integers (400 beyond)."""
_REUSE_INTERVAL: Final = 10.0
"""GoTrue's ``GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL`` default, in seconds."""
TOKEN_BURST: Final = 30
"""GoTrue's burst for ``/token`` per client address: this many attempts at once, then 429."""
TOKEN_REFILL_PER_SECOND: Final = 150 / 300
"""GoTrue's ``GOTRUE_RATE_LIMIT_TOKEN_REFRESH`` default, 150 per 5 minutes, as attempts regained per second."""
_THROTTLE_MAX_CLIENTS: Final = 10_000
"""Client addresses tracked before the ones back to a full allowance are forgotten."""

# Refused features, by path (first match wins): what it is and GoTrue's error code for it when disabled.
_REFUSED: Final = (
    (re.compile(r"^/authorize$|^/callback$"), "OAuth sign-in with an external provider", "provider_disabled"),
    (
        re.compile(r"^/(otp|magiclink)$"),
        "Sign-in with a one-time password or magic link (email or SMS)",
        "otp_disabled",
    ),
    (
        re.compile(r"^/(recover|resend|invite|verify|reauthenticate)$"),
        "Sending email or SMS (recovery, confirmation, invitation, reauthentication)",
        "email_provider_disabled",
    ),
    (
        re.compile(r"^/factors(/.*)?$|^/admin/users/[^/]+/factors(/.*)?$"),
        "Multi-factor authentication",
        "mfa_verification_rejected",
    ),
    (
        re.compile(r"^/sso(/.*)?$|^/saml(/.*)?$|^/admin/sso(/.*)?$"),
        "Single sign-on (SAML)",
        "sso_provider_not_found",
    ),
    (re.compile(r"^/admin/generate_link$"), "Generating email links", "email_provider_disabled"),
    (
        re.compile(r"^/user/identities(/.*)?$|^/admin/users/[^/]+/identities(/.*)?$"),
        "Linking identities",
        "manual_linking_disabled",
    ),
    (
        re.compile(r"^/admin/oauth(/.*)?$|^/oauth(/.*)?$"),
        "The OAuth 2.1 server",
        "oauth_provider_not_supported",
    ),
)


class Throttle:
    """GoTrue's rate limit for ``/token``: a token bucket per client address (``burst`` attempts, regained at
    ``per_second``), 429 ``over_request_rate_limit`` once it is empty.

    GoTrue spends an attempt on every grant; here an attempt is taken before the grant is checked and given
    back when it succeeds, so a client that signs in and refreshes often (a test suite, a notebook) is never
    slowed down while a client guessing passwords or refresh tokens is, as on Supabase. Taking it first means
    concurrent guesses cannot all pass before the first of them fails.
    """

    def __init__(self, burst: int = TOKEN_BURST, per_second: float = TOKEN_REFILL_PER_SECOND) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[str, tuple[float, float]] = {}

    def __repr__(self) -> str:
        return f"Throttle(burst={self.burst}, per_second={self.per_second})"

    def _level(self, key: str, now: float) -> float:
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - at) * self.per_second)

    def take(self, key: str) -> bool:
        """Spend one attempt of ``key``; False (nothing spent) when none is left."""
        now = time.monotonic()
        level = self._level(key, now)
        if level < 1.0:
            return False
        if key not in self._buckets and len(self._buckets) >= _THROTTLE_MAX_CLIENTS:
            self._make_room(now)
        self._buckets[key] = (level - 1.0, now)
        return True

    def give_back(self, key: str) -> None:
        """Return the attempt of a grant that succeeded."""
        now = time.monotonic()
        self._buckets[key] = (min(float(self.burst), self._level(key, now) + 1.0), now)

    def _make_room(self, now: float) -> None:
        """Forget the addresses back to a full allowance, then, if that is not enough (guesses from as many
        addresses), the longest tracked, down to 90% of the cap: one scan per thousand new addresses."""
        for key in [k for k in self._buckets if self._level(k, now) >= self.burst]:
            del self._buckets[key]
        for key in list(self._buckets)[: max(0, len(self._buckets) - _THROTTLE_MAX_CLIENTS * 9 // 10)]:
            del self._buckets[key]


class AuthApp:
    """The ASGI app for ``/auth/v1``; :meth:`open` before serving, :meth:`close` after."""

    def __init__(
        self,
        *,
        database_url: str,
        jwt_secret: str,
        anon_key: str,
        service_role_key: str,
        storage_sql: str | None = None,
        jwt_expiry: int = DEFAULT_JWT_EXPIRY,
        refresh_token_reuse_interval: float = _REUSE_INTERVAL,
        pool_min: int = 1,
        pool_max: int = 4,
        pool_timeout: float = 10.0,
        max_body_bytes: int = MAX_BODY_BYTES,
        external_url: str | None = None,
    ) -> None:
        self._secret = jwt_secret
        self.external_url = external_url.rstrip("/") if external_url else None
        """The stack's own URL (``http://host:port``), as GoTrue's ``API_EXTERNAL_URL``: the tokens' ``iss``
        and the admin ``Link`` header are built from it, never from a request's ``Host`` header. ``None``
        until the stack is bound: then the listening socket's address is used."""
        self.max_body_bytes = max_body_bytes
        """The most bytes a request body may have (413 beyond, refused before it is read in full)."""
        self._api_keys = frozenset({anon_key, service_role_key})
        self._storage_sql = storage_sql
        self.jwt_expiry = jwt_expiry
        """Seconds an access token lives."""
        self.refresh_token_reuse_interval = refresh_token_reuse_interval
        """Seconds a swapped refresh token may still be presented (two tabs refreshing at once)."""
        self.token_throttle = Throttle()
        """The ``/token`` rate limit per client address (password and refresh-token grants)."""
        self._pool = psycopg_pool.AsyncConnectionPool(
            database_url,
            min_size=pool_min,
            max_size=pool_max,
            open=False,
            timeout=pool_timeout,
            configure=service.act_as_auth_server,
            kwargs={"application_name": "nexus-sdk-local-auth"},
        )

    def __repr__(self) -> str:
        return "AuthApp(prefix='/auth/v1')"

    async def open(self) -> None:
        """Open the pool; create the auth tables where an older bootstrap left them out."""
        await self._pool.open(wait=True)
        if self._storage_sql is not None:
            async with self._pool.connection() as conn:
                await conn.execute("RESET ROLE")
                await store.ensure_storage(conn, self._storage_sql)
                await conn.commit()
                await service.act_as_auth_server(conn)

    async def close(self) -> None:
        """Close the pool."""
        await self._pool.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        versioned = _versioned(request)
        try:
            response = await self._handle(request)
        except AuthRefusal as refusal:
            response = _error(refusal, versioned)
        except ClientDisconnect:
            return  # the client left before its body arrived: nobody to answer, nothing to log
        except (
            ApiError
        ) as err:  # the gateway's key check (401), the stack's limits (413): as the gateway answers
            response = Response(
                json.dumps({"message": err.message, "hint": err.hint}),
                status_code=err.status,
                media_type="application/json",
            )
        except psycopg_pool.PoolTimeout:
            # Every connection stayed busy for pool_timeout seconds: GoTrue's answer to a request that
            # took too long, which clients retry (a 500 they would not).
            _log.warning(
                "auth request timed out waiting for a connection: %s %s", request.method, request.url.path
            )
            response = _error(
                AuthRefusal(
                    504, "request_timeout", "Processing this request timed out, please retry after a moment."
                ),
                versioned,
            )
        except Exception as exc:
            # The class only: a message could quote a request value.
            _log.error("auth request failed: %s %s: %s", request.method, request.url.path, type(exc).__name__)
            response = _error(AuthRefusal(500, "unexpected_failure", "Unexpected failure"), versioned)
        if versioned:
            response.headers[_API_VERSION_HEADER] = _API_VERSION
        await response(scope, receive, send)

    # -- dispatch ---------------------------------------------------------------------------------------------

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        route = path[len(AUTH_PREFIX) :] if path.startswith(AUTH_PREFIX) else path
        route = "/" + route.strip("/")
        method = request.method.upper()
        if method == "OPTIONS":
            return Response(status_code=204)
        self._check_apikey(request)
        for pattern, feature, code in _REFUSED:
            if pattern.match(route):
                raise refused_feature(feature, code)
        handler = self._route(method, route, request)
        return await handler()

    def _route(self, method: str, route: str, request: Request) -> Callable[[], Awaitable[Response]]:
        simple: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
            ("GET", "/health"): self._health,
            ("GET", "/settings"): self._settings,
            ("POST", "/signup"): self._signup,
            ("POST", "/token"): self._token,
            ("GET", "/user"): self._get_user,
            ("PUT", "/user"): self._put_user,
            ("POST", "/logout"): self._logout,
            ("GET", "/admin/users"): self._admin_list,
            ("POST", "/admin/users"): self._admin_create,
        }
        found = simple.get((method, route))
        if found is not None:
            return lambda: found(request)
        match = re.fullmatch(r"/admin/users/([^/]+)", route)
        if match is not None and method in ("GET", "PUT", "DELETE"):
            user_id = urllib.parse.unquote(match.group(1))
            handlers = {"GET": self._admin_get, "PUT": self._admin_update, "DELETE": self._admin_delete}
            admin = handlers[method]
            return lambda: admin(request, user_id)
        if any(route == r for _, r in simple) or match is not None:
            raise AuthRefusal(405, "method_not_allowed", "Method Not Allowed")
        raise AuthRefusal(404, "not_found", "Not Found")

    # -- authentication -------------------------------------------------------------------------------------

    def _check_apikey(self, request: Request) -> None:
        # Supabase's gateway answers before GoTrue, with its own body (the ApiError branch of __call__).
        check_api_key(request.headers.get("apikey") or request.query_params.get("apikey"), self._api_keys)

    def _claims(self, request: Request) -> dict[str, Any]:
        """The verified claims of the bearer token (the apikey when there is none), as GoTrue checks them."""
        auth = request.headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        token = credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None
        token = token or request.headers.get("apikey") or ""
        if token.count(".") != 2:
            raise AuthRefusal(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, token is malformed: token contains an "
                "invalid number of segments",
            )
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"verify_aud": False}
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthRefusal(
                403,
                "bad_jwt",
                "invalid JWT: unable to parse or verify signature, token has invalid claims: token is expired",
            ) from exc
        except Exception as exc:
            raise AuthRefusal(
                403, "bad_jwt", "invalid JWT: unable to parse or verify signature, signature is invalid"
            ) from exc
        return claims

    async def _current_user(
        self, conn: psycopg.AsyncConnection[Any], request: Request
    ) -> tuple[AuthUser, dict[str, Any]]:
        claims = self._claims(request)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            raise AuthRefusal(403, "bad_jwt", "invalid claim: missing sub claim")
        try:
            user_id = uuid.UUID(sub)
        except ValueError as exc:
            raise AuthRefusal(400, "bad_jwt", "invalid claim: sub claim must be a UUID") from exc
        user = await store.get_user(conn, user_id)
        if user is None:
            raise AuthRefusal(403, "user_not_found", "User from sub claim in JWT does not exist")
        session_id = _session_id(claims)
        if session_id is not None and not await store.session_exists(conn, session_id):
            raise AuthRefusal(403, "session_not_found", "Session from session_id claim in JWT does not exist")
        return user, claims

    def _require_admin(self, request: Request) -> None:
        if self._claims(request).get("role") not in ("service_role", "supabase_admin"):
            raise AuthRefusal(403, "not_admin", "User not allowed")

    def _issuer(self, request: Request) -> str:
        # GoTrue builds these from its configured external URL: a Host header is the client's to choose.
        if self.external_url is not None:
            return f"{self.external_url}{AUTH_PREFIX}"
        server = request.scope.get("server")
        if not server:
            raise RuntimeError("the auth app has no external_url and no server address to build one from")
        host, port = server[0], server[1]
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}{AUTH_PREFIX}" if port is not None else f"http://{host}{AUTH_PREFIX}"

    def _session(self, request: Request, user: AuthUser, grant: store.SessionGrant) -> Response:
        return _json(
            session_body(self._secret, user, grant, issuer=self._issuer(request), expires_in=self.jwt_expiry)
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        """The JSON object of the body, read at most ``max_body_bytes`` of it.

        Raises:
            AuthRefusal: 400 ``bad_json`` (not JSON, too deep, not an object, a lone surrogate), 400
                ``validation_failed`` (a NUL character outside ``password``).
            ApiError: 413 for a body over the limit.
        """
        return _parse_body(await read_body(request, self.max_body_bytes))

    # -- endpoints --------------------------------------------------------------------------------------------

    async def _health(self, request: Request) -> Response:
        from nexus_sdk._version import __version__

        return _json(
            {
                "version": f"nexus-sdk-local-{__version__}",
                "name": "GoTrue",
                "description": "GoTrue is a user registration and authentication API",
            }
        )

    async def _settings(self, request: Request) -> Response:
        providers = [
            "anonymous_users",
            "apple",
            "azure",
            "bitbucket",
            "discord",
            "email",
            "facebook",
            "figma",
            "github",
            "gitlab",
            "google",
            "keycloak",
            "kakao",
            "linkedin",
            "linkedin_oidc",
            "notion",
            "phone",
            "slack",
            "slack_oidc",
            "spotify",
            "twitch",
            "twitter",
            "workos",
            "zoom",
            "fly",
            "snapchat",
        ]
        external = {name: name in ("anonymous_users", "email") for name in providers}
        return _json(
            {
                "external": external,
                "disable_signup": False,
                "mailer_autoconfirm": True,
                "phone_autoconfirm": False,
                "sms_provider": "",
                "saml_enabled": False,
            }
        )

    async def _signup(self, request: Request) -> Response:
        body = await self._body(request)
        async with self._pool.connection() as conn:
            user, grant = await service.sign_up(conn, body)
        return self._session(request, user, grant)

    async def _token(self, request: Request) -> Response:
        grant_type = request.query_params.get("grant_type")
        if grant_type not in ("password", "refresh_token"):
            if grant_type in ("pkce", "id_token", "web3"):
                raise refused_feature(f"The {grant_type} grant", "provider_disabled")
            raise AuthRefusal(400, "invalid_credentials", "unsupported_grant_type")
        client = _client_address(request)
        if not self.token_throttle.take(client):
            raise AuthRefusal(429, "over_request_rate_limit", "Request rate limit reached")
        response = await self._grant(request, grant_type)
        self.token_throttle.give_back(client)
        return response

    async def _grant(self, request: Request, grant_type: str) -> Response:
        body = await self._body(request)
        if grant_type == "password":
            async with self._pool.connection() as conn:
                user, grant = await service.sign_in_with_password(conn, body)
            return self._session(request, user, grant)
        async with self._pool.connection() as conn:
            try:
                user, grant = await service.refresh(
                    conn, body, reuse_interval=self.refresh_token_reuse_interval
                )
            except AuthRefusal as refusal:
                if refusal.error_code == "refresh_token_already_used":
                    await conn.commit()  # the revoked token family stays revoked
                raise
        return self._session(request, user, grant)

    async def _get_user(self, request: Request) -> Response:
        async with self._pool.connection() as conn:
            user, _ = await self._current_user(conn, request)
        return _json(user.to_json())

    async def _put_user(self, request: Request) -> Response:
        body = await self._body(request)
        async with self._pool.connection() as conn:
            user, claims = await self._current_user(conn, request)
            updated = await service.update_self(conn, user, body, session_id=_session_id(claims))
        return _json(updated.to_json())

    async def _logout(self, request: Request) -> Response:
        scope = request.query_params.get("scope", "local")
        if scope not in ("local", "global", "others"):
            raise AuthRefusal(400, "validation_failed", "Unsupported logout scope")
        async with self._pool.connection() as conn:
            user, claims = await self._current_user(conn, request)
            session_id = _session_id(claims)
            if scope == "local" and session_id is not None:
                await store.delete_sessions(conn, user.id, only=session_id, keep=None)
            elif scope == "others":
                await store.delete_sessions(conn, user.id, only=None, keep=session_id)
            else:
                await store.delete_sessions(conn, user.id, only=None, keep=None)
        return Response(status_code=204)

    async def _admin_list(self, request: Request) -> Response:
        self._require_admin(request)
        page = _positive(request.query_params.get("page"), 1, "page")
        per_page = min(
            _positive(request.query_params.get("per_page"), _DEFAULT_PER_PAGE, "per_page"), _MAX_PER_PAGE
        )
        async with self._pool.connection() as conn:
            users: list[AuthUser] = []
            if (page - 1) * per_page > _MAX_OFFSET:
                total = await store.count_users(conn)
            else:
                users, total = await store.list_users(conn, page=page, per_page=per_page)
        last = max(1, -(-total // per_page))
        base = f"{self._issuer(request)}/admin/users"
        links = []
        if page < last:
            links.append(f'<{base}?page={page + 1}&per_page={per_page}>; rel="next"')
        links.append(f'<{base}?page={last}&per_page={per_page}>; rel="last"')
        response = _json({"users": [u.to_json() for u in users], "aud": "authenticated"})
        response.headers["X-Total-Count"] = str(total)
        response.headers["Link"] = ", ".join(links)
        return response

    async def _admin_create(self, request: Request) -> Response:
        self._require_admin(request)
        body = await self._body(request)
        async with self._pool.connection() as conn:
            user = await service.admin_create(conn, body)
        return _json(user.to_json())

    async def _admin_get(self, request: Request, raw_id: str) -> Response:
        self._require_admin(request)
        async with self._pool.connection() as conn:
            user = await store.get_user(conn, service.parse_user_id(raw_id))
        if user is None:
            raise AuthRefusal(404, "user_not_found", "User not found")
        return _json(user.to_json())

    async def _admin_update(self, request: Request, raw_id: str) -> Response:
        self._require_admin(request)
        body = await self._body(request)
        async with self._pool.connection() as conn:
            user = await store.get_user(conn, service.parse_user_id(raw_id))
            if user is None:
                raise AuthRefusal(404, "user_not_found", "User not found")
            updated = await service.admin_update(conn, user, body)
        return _json(updated.to_json())

    async def _admin_delete(self, request: Request, raw_id: str) -> Response:
        self._require_admin(request)
        raw = await read_body(request, self.max_body_bytes)
        body = _parse_body(raw) if raw.strip() else {}
        if body.get("should_soft_delete"):
            raise refused_feature("Soft deletion of users")
        async with self._pool.connection() as conn:
            if not await store.delete_user(conn, service.parse_user_id(raw_id)):
                raise AuthRefusal(404, "user_not_found", "User not found")
        return _json({})


def auth_app(
    database_url: str,
    jwt_secret: str,
    *,
    anon_key: str,
    service_role_key: str,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> AuthApp:
    """The ``/auth/v1`` app of a local stack on ``database_url`` (a ``postgres`` connection URL)."""
    from nexus_sdk import schema

    bootstrap, _ = schema.bundled_files()
    storage = next((f.text for f in bootstrap if f.name.endswith(STORAGE_FILE)), None)
    return AuthApp(
        database_url=database_url,
        jwt_secret=jwt_secret,
        anon_key=anon_key,
        service_role_key=service_role_key,
        storage_sql=storage,
        max_body_bytes=max_body_bytes,
    )


def _versioned(request: Request) -> bool:
    """Whether the client asked for the 2024-01-01 API (error bodies with a string ``code``)."""
    value = request.headers.get(_API_VERSION_HEADER, "")
    return bool(_VERSION_DATE.match(value)) and value >= _API_VERSION


def _error(refusal: AuthRefusal, versioned: bool) -> Response:
    if versioned:
        body: dict[str, Any] = {"code": refusal.error_code, "message": refusal.msg}
    else:
        body = {"code": refusal.status, "error_code": refusal.error_code, "msg": refusal.msg}
    body.update(refusal.extra)
    return _json(body, status=refusal.status)


def _json(body: Any, *, status: int = 200) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")), status_code=status, media_type="application/json"
    )


def _parse_body(raw: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(raw.decode("utf-8")) if raw.strip() else None
    except (ValueError, RecursionError) as exc:
        # The parser's own message only: never the body, which holds passwords.
        raise AuthRefusal(400, "bad_json", "Could not parse request body as JSON") from exc
    if parsed is None:
        raise AuthRefusal(
            400, "bad_json", "Could not parse request body as JSON: unexpected end of JSON input"
        )
    if not isinstance(parsed, dict):
        raise AuthRefusal(400, "bad_json", "Could not parse request body as JSON: expected an object")
    for key, value in parsed.items():
        # bcrypt hashes a password's bytes after a NUL too; every other field is stored as PostgreSQL text
        # or jsonb, which cannot hold one.
        _check_text(value, nul_allowed=key == "password")
        _check_text(key, nul_allowed=False)
    return parsed


def _check_text(value: Any, *, nul_allowed: bool) -> None:
    """Refuse what no field can hold: a lone surrogate (not UTF-8), a NUL character (not PostgreSQL text).

    Raises:
        AuthRefusal: 400 ``bad_json`` or ``validation_failed``.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise AuthRefusal(
                    400,
                    "bad_json",
                    "Could not parse request body as JSON: invalid Unicode (a lone surrogate)",
                ) from exc
            if not nul_allowed and "\x00" in item:
                raise AuthRefusal(400, "validation_failed", "Text cannot contain a NUL character (\\u0000)")


def _positive(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    # ASCII digits only (str.isdigit() also takes "²", which int() refuses), at most GoTrue's uint64.
    if re.fullmatch(r"[0-9]{1,20}", value) is None or not 1 <= int(value) <= _MAX_PAGE_NUMBER:
        raise AuthRefusal(400, "validation_failed", f"{name} must be a positive integer")
    return int(value)


def _client_address(request: Request) -> str:
    """The peer's address (the stack trusts no forwarding header: nothing sits in front of it)."""
    client = request.scope.get("client")
    return str(client[0]) if client else ""


def _session_id(claims: dict[str, Any]) -> uuid.UUID | None:
    value = claims.get("session_id")
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None

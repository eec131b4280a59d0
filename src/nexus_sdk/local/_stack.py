"""Starting and stopping the local stack: PostgreSQL (embedded or existing), schema, keys, HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from nexus_sdk import _env
from nexus_sdk._redact import MASK
from nexus_sdk.errors import ConfigurationError, NexusError
from nexus_sdk.local import _jwt
from nexus_sdk.local._embedded import _pid_alive
from nexus_sdk.local._users import create_user, mint_access_token

__all__ = ["DEFAULT_PORT", "LocalStack", "StackState", "default_data_dir", "read_state", "start"]

DEFAULT_PORT: Final = 54321
"""The port Supabase's local stack uses for its API gateway."""

STATE_FILE: Final = "stack.json"
SECRET_FILE: Final = "jwt_secret"  # noqa: S105 - a file name, not a secret


def default_data_dir() -> Path:
    """Where ``nexus-sdk local`` keeps its database and state: ``$NEXUS_LOCAL_DIR``, else the user cache."""
    explicit = os.environ.get(_env.NEXUS_LOCAL_DIR)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get(_env.XDG_CACHE_HOME) or str(Path.home() / ".cache")
    return Path(cache) / "nexus-sdk" / "local"


@dataclass(frozen=True)
class StackState:
    """What a running stack publishes for other processes (``nexus-sdk local user create``)."""

    url: str
    anon_key: str
    service_role_key: str
    jwt_secret: str
    database_url: str
    pid: int

    def __repr__(self) -> str:
        return f"StackState(url={self.url!r}, pid={self.pid}, keys='{MASK}')"

    def env(self) -> dict[str, str]:
        """The variables ``nexus-sdk local start`` prints, under Supabase's names."""
        return {
            "SUPABASE_URL": self.url,
            "SUPABASE_ANON_KEY": self.anon_key,
            "SUPABASE_SERVICE_ROLE_KEY": self.service_role_key,
            "SUPABASE_JWT_SECRET": self.jwt_secret,
            "DATABASE_URL": self.database_url,
        }


def read_state(data_dir: Path | None = None) -> StackState:
    """Read the state file a running stack wrote.

    Args:
        data_dir: the stack's data directory (default: :func:`default_data_dir`).

    Returns:
        The state.

    Raises:
        ConfigurationError: when no stack is running there (no state file, or one left by a stack that
            was killed and could not remove it).
    """
    path = (data_dir or default_data_dir()) / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"No running local stack found (no {path}); start one with `nexus-sdk local start`."
        ) from exc
    state = StackState(**raw)
    if not _pid_alive(state.pid):
        raise ConfigurationError(
            f"No running local stack found: the stack that wrote {path} (process {state.pid}) is not "
            "running any more; start one with `nexus-sdk local start`."
        )
    return state


def _authenticator_conninfo(database_url: str, password: str | None) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: str(v) for k, v in conninfo_to_dict(database_url).items() if v is not None}
    params["user"] = "authenticator"
    params.pop("password", None)
    if password is not None:
        params["password"] = password
    params.setdefault("application_name", "nexus-sdk-local")
    return make_conninfo("", **params)


def _apply_schema(database_url: str) -> None:
    try:
        from nexus_sdk import schema
    except ImportError as exc:  # pragma: no cover - only while the schema module is missing
        raise ConfigurationError("nexus_sdk.schema is not available to apply the Nexus schema") from exc
    schema.apply(database_url)


def _loop_factory() -> Any:
    """uvloop's event loop when it is installed (a third less time per request), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


_ONE_WRITE_MAX: Final = 64 * 1024
"""Writes up to this size are gathered into one (see :class:`_OneWriteTransport`); larger ones go at once."""


class _OneWriteTransport:
    """The connection's transport, gathering what is written in one turn of the event loop into one write.

    uvicorn writes a response's head and its body separately, and each write is a system call and a TCP
    segment of its own, which the client reads with a wake-up of its own. Gathered, a small response leaves
    in one (as it leaves PostgREST); the bytes and their order are unchanged. What is gathered is sent when
    the response is complete (:meth:`flush`), else at the end of the loop's turn; a large write flushes it
    and goes at once, uncopied. Anything else is the wrapped transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)

    def write(self, data: bytes) -> None:
        if len(data) > _ONE_WRITE_MAX:
            self.flush()
            self._transport.write(data)
            return
        if not self._pending:
            self._loop.call_soon(self.flush)  # a response still being written (streamed) is not held back
        self._pending.append(data)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def flush(self) -> None:
        """Send what is gathered."""
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():  # the client left before it was sent
                self._transport.write(data)


def _http_protocol() -> Any:
    """The stack's HTTP protocol: uvicorn's httptools one, answering oversized heads with 431
    (:func:`~nexus_sdk.local._limits.bounded_protocol`) and writing each small response in one piece."""
    from nexus_sdk.local._limits import bounded_protocol

    class OneWriteProtocol(bounded_protocol()):  # type: ignore[misc]  # a class made at run time
        def connection_made(self, transport: asyncio.Transport) -> None:
            super().connection_made(_OneWriteTransport(transport, self.loop))

        def on_response_complete(self) -> None:
            self.transport.flush()  # the response is whole: it goes now, not a turn of the loop later
            super().on_response_complete()

    return OneWriteProtocol


class _ServerThread(threading.Thread):
    """Runs uvicorn and the database pool on an event loop of its own."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        super().__init__(name="nexus-sdk-local-stack", daemon=True)
        import uvicorn

        self.app = app
        self.sock = sock
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            # Nothing reads the client's address or scheme, so X-Forwarded-* need no rewriting per request.
            proxy_headers=False,
            lifespan="off",
            loop="asyncio",
            http=_http_protocol(),  # 431 while oversized headers arrive, not after reading them
        )
        self.server = uvicorn.Server(config)
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(self._main())
        except BaseException as exc:  # reported to the starting thread, which raises it
            self.error = exc
            self.ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.app.open()
        try:
            serve = asyncio.ensure_future(self.server.serve(sockets=[self.sock]))
            # uvicorn offers no startup callback when given sockets, so poll its flag briefly.
            while not self.server.started and not serve.done():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            self.ready.set()
            await serve
        finally:
            await self.app.close()

    def call(self, coro: Any, timeout: float = 30.0) -> Any:
        """Run a coroutine on the server's loop from another thread."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self.join(timeout=15)


class LocalStack:
    """A running local stack. Use it as a context manager, or call :meth:`stop`.

    The keys are plain strings so they can be handed to clients; ``repr`` masks them.
    """

    def __init__(
        self,
        *,
        url: str,
        database_url: str,
        jwt_secret: str,
        anon_key: str,
        service_role_key: str,
        thread: _ServerThread,
        cleanup: list[Any],
        state_path: Path | None,
    ) -> None:
        self.url = url
        """The API base URL (``SUPABASE_URL``); PostgREST's API is under ``/rest/v1``."""
        self.database_url = database_url
        """A superuser (``postgres``) connection URL to the stack's database, for SQL and migrations."""
        self.jwt_secret = jwt_secret
        """The HS256 secret that signs the keys and tokens."""
        self.anon_key = anon_key
        """The anon API key (a JWT with ``role: anon``)."""
        self.service_role_key = service_role_key
        """The service-role API key (a JWT with ``role: service_role``, bypasses RLS)."""
        self._thread = thread
        self._cleanup = cleanup
        self._state_path = state_path
        self._stopped = False

    @property
    def rest_url(self) -> str:
        """``{url}/rest/v1``."""
        return f"{self.url}/rest/v1"

    @property
    def port(self) -> int:
        """The TCP port the API listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def __repr__(self) -> str:
        return (
            f"LocalStack(url={self.url!r}, anon_key='{MASK}', service_role_key='{MASK}', jwt_secret='{MASK}', "
            f"running={not self._stopped})"
        )

    def state(self) -> StackState:
        """The stack's connection facts, as written to the state file."""
        return StackState(
            self.url, self.anon_key, self.service_role_key, self.jwt_secret, self.database_url, os.getpid()
        )

    def mint_token(
        self,
        user_id: str | uuid.UUID,
        *,
        email: str | None = None,
        role: str = "authenticated",
        expires_in: int = 3600,
        extra_claims: dict[str, Any] | None = None,
    ) -> str:
        """Sign an access token for ``user_id`` as Supabase Auth would.

        Args:
            user_id: the ``sub`` claim.
            email: the ``email`` claim.
            role: the ``role`` claim.
            expires_in: seconds until ``exp``.
            extra_claims: claims to add or override (e.g. ``{"nbf": ...}``).

        Returns:
            The JWT.
        """
        return mint_access_token(
            self.jwt_secret, user_id, email=email, role=role, expires_in=expires_in, extra_claims=extra_claims
        )

    def create_user(
        self, email: str, password: str | None = None, metadata: dict[str, Any] | None = None
    ) -> tuple[uuid.UUID, str]:
        """Create a confirmed user, as ``POST /auth/v1/admin/users`` does, and open a session for them.

        The signup trigger creates the ``public.users`` row; with a password the user can also sign in
        through ``/auth/v1`` (supabase-py's ``sign_in_with_password``).

        Args:
            email: the user's email.
            password: the user's password (at least 6 characters); none by default.
            metadata: user metadata (``raw_user_meta_data``, e.g. ``{"full_name": "Ada"}``).

        Returns:
            ``(user_id, access_token)``; the token belongs to a real session (``session_id``).

        Raises:
            AuthRefusal: the email is taken or the password too weak.
        """
        user, session = create_user(
            self.database_url,
            self.jwt_secret,
            email,
            password=password,
            metadata=metadata,
            issuer=f"{self.url}/auth/v1",
        )
        return user.id, str(session["access_token"])

    def reload_schema(self) -> None:
        """Reload the schema cache after DDL (PostgREST does this on ``NOTIFY pgrst``)."""
        self._thread.call(self._thread.app.reload())

    def stop(self) -> None:
        """Stop the HTTP server, close its connections and stop the embedded database (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self._thread.stop()
        if self._state_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self._state_path.unlink()
        for action in reversed(self._cleanup):
            action()

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start(
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    database_url: str | None = None,
    data_dir: str | Path | None = None,
    jwt_secret: str | None = None,
    authenticator_password: str | None = None,
    apply_schema: bool = True,
    seed_sql: Sequence[str] = (),
    max_rows: int | None = 1000,
    max_body_bytes: int = 32 * 1024 * 1024,
    write_state: bool = False,
) -> LocalStack:
    """Start the local stack and return once it answers requests.

    Args:
        port: the TCP port for the API (``0`` picks a free one).
        host: the address to listen on; loopback by default.
        database_url: an existing PostgreSQL database (superuser or Supabase-like ``postgres`` URL) to use
            instead of starting the embedded server.
        data_dir: where the embedded server keeps its data and the stack its secret and state file; the
            data persists across runs. Without it, a temporary directory is used and deleted on stop.
        jwt_secret: the HS256 secret; by default one stored in ``data_dir``, else a new random one.
        authenticator_password: the password of the ``authenticator`` role, when the server needs one.
        apply_schema: apply the bootstrap and the Nexus schema (idempotent) before serving.
        seed_sql: SQL scripts run (as ``database_url``'s user) after the schema and before serving,
            e.g. seed data or test fixtures.
        max_rows: the cap on rows per response (Supabase's ``max_rows``: 1000); ``None`` for no cap.
        max_body_bytes: the largest request body accepted (413 beyond; 32 MiB by default).
        write_state: write ``stack.json`` into ``data_dir`` for ``nexus-sdk local user create``.

    Returns:
        The running :class:`LocalStack`.

    Raises:
        ConfigurationError: when the ``local`` extra is missing or ``write_state`` has no ``data_dir``.
        SchemaError: when applying the schema fails.
        OSError: when the port cannot be bound (e.g. already in use).
        NexusError: when the server does not come up.
    """
    try:
        import psycopg_pool  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError("the local stack needs the extra: pip install 'nexus-sdk[local]'") from exc
    from nexus_sdk.local._app import RestApp
    from nexus_sdk.local._auth_app import AUTH_PREFIX, auth_app

    cleanup: list[Any] = []
    try:
        base = Path(data_dir).expanduser().resolve() if data_dir is not None else None
        if base is not None:
            base.mkdir(parents=True, exist_ok=True)
        if write_state and base is None:
            raise ConfigurationError("write_state needs a data_dir")
        if write_state and base is not None:
            _refuse_a_second_stack(base)
        if database_url is None:
            from nexus_sdk.local._embedded import EmbeddedPostgres

            # A given data_dir keeps the cluster across runs; without one it is temporary.
            server = EmbeddedPostgres(base / "pgdata" if base is not None else None)
            cleanup.append(server.stop)
            database_url = server.url
        if apply_schema:
            _apply_schema(database_url)
        if seed_sql:
            _run_sql(database_url, seed_sql)
        secret = jwt_secret or _stored_secret(base)
        anon_key = _jwt.api_key(secret, "anon")
        service_key = _jwt.api_key(secret, "service_role")
        app = RestApp(
            conninfo=_authenticator_conninfo(database_url, authenticator_password),
            jwt_secret=secret,
            api_keys=[anon_key, service_key],
            max_rows=max_rows,
            max_body_bytes=max_body_bytes,
        )
        auth = auth_app(
            database_url,
            secret,
            anon_key=anon_key,
            service_role_key=service_key,
            max_body_bytes=max_body_bytes,
        )
        app.mount(AUTH_PREFIX, auth)
        # proto=IPPROTO_TCP matters: asyncio only sets TCP_NODELAY on accepted sockets whose proto says
        # TCP, and without it every keep-alive response waits ~40 ms on Nagle and delayed ACKs.
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        cleanup.append(sock.close)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
        url_host = f"[{host}]" if ":" in host else host
        url = f"http://{url_host}:{sock.getsockname()[1]}"
        auth.external_url = url  # GoTrue's API_EXTERNAL_URL: tokens' iss, admin Link headers
        thread = _ServerThread(app, sock)
        thread.start()
        # Stopped first on any later failure (cleanup runs in reverse), so that neither the server nor
        # its connection pool outlives a start() that raised; stopping twice is harmless.
        cleanup.append(thread.stop)
        if not thread.ready.wait(60):
            thread.stop()
            raise NexusError("the local stack's HTTP server did not start within 60 seconds")
        if thread.error is not None:
            raise thread.error
        state_path = base / STATE_FILE if write_state and base is not None else None
        stack = LocalStack(
            url=url,
            database_url=database_url,
            jwt_secret=secret,
            anon_key=anon_key,
            service_role_key=service_key,
            thread=thread,
            cleanup=cleanup,
            state_path=state_path,
        )
        if state_path is not None:
            _write_private(state_path, json.dumps(stack.state().__dict__))
        return stack
    except BaseException:
        for action in reversed(cleanup):
            with contextlib.suppress(Exception):
                action()
        raise


def _refuse_a_second_stack(base: Path) -> None:
    """Raise if a live stack already publishes its state in ``base``.

    Two stacks on one data dir would share its database and overwrite each other's state file, and the
    first to stop would remove it while the other still runs.
    """
    other: StackState | None = None
    with contextlib.suppress(ConfigurationError, ValueError, TypeError):
        other = read_state(base)
    if other is not None and other.pid != os.getpid():
        raise ConfigurationError(
            f"a local stack (process {other.pid}, {other.url}) is already running from {base}; use it "
            "(`nexus-sdk local status`), or give this one another data dir"
        )


def _run_sql(database_url: str, scripts: Sequence[str]) -> None:
    import psycopg

    with psycopg.connect(database_url) as conn:
        for script in scripts:
            # Scripts are trusted, caller-supplied SQL (seed data, fixtures), never request input.
            conn.execute(script.encode())
        conn.commit()


def _write_private(path: Path, text: str) -> None:
    # The file holds the JWT secret: readable by its owner only, from the moment it exists.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # the mode above applies only to a new file; an existing one may be wider
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def _stored_secret(base: Path | None) -> str:
    if base is None:
        return _jwt.new_secret()
    path = base / SECRET_FILE
    if path.exists():
        return path.read_text().strip()
    secret = _jwt.new_secret()
    _write_private(path, secret)
    return secret

"""A pytest plugin with fixtures over a Nexus backend, for the SDK's own tests and for its users'.

Installed with the package (entry point ``pytest11``: ``nexus_sdk``), so the fixtures are available in any
project that has nexus-sdk and pytest; ``-p no:nexus_sdk`` turns the plugin off. Nothing heavy is imported
until a fixture runs. Usage is documented in ``docs/testing.md``.

Where the fixtures run (chosen once per session, shown in pytest's header):

- **embedded** (default): :func:`nexus_sdk.local.start` on the embedded PostgreSQL; needs the ``local``
  extra.
- **database**: ``NEXUS_TEST_DATABASE_URL`` names a PostgreSQL server; a fresh database is created there,
  the local stack serves it, and it is dropped at the end of the session.
- **supabase**: a real, *disposable* Supabase project: ``SUPABASE_URL``, ``SUPABASE_ANON_KEY``,
  ``SUPABASE_SERVICE_ROLE_KEY`` and the explicit opt-in ``NEXUS_TEST_SUPABASE=1`` (because cleaning empties
  the project's Nexus tables and ``auth.users``). ``SUPABASE_DB_URL`` (the ``postgres`` connection string)
  enables fast cleaning and raw SQL; without it, cleaning deletes the users the fixtures created through
  the Auth admin API (every Nexus row belongs to a user and goes with it). Users are created through
  ``POST /auth/v1/admin/users`` and signed in with their password.

Fixtures (all names start with ``nexus_``):

``nexus_stack`` (session)
    The :class:`NexusTestStack`: URL, keys, ``database_url``, ``create_user()``, ``mint_token()``,
    ``reset()``, and ``local`` (the :class:`~nexus_sdk.local.LocalStack`, except on Supabase).
``nexus_clean`` / ``nexus_clean_module``
    Empty every Nexus table and ``auth.users`` before each test / once per module.
``nexus_encryption_keys`` (session)
    A fresh :class:`~nexus_sdk.crypto.KeyRing`, also exported as ``NEXUS_ENCRYPTION_KEYS`` for the session.
``nexus_service`` (session), ``nexus_async_service``
    Service-role clients (RLS bypassed).
``nexus_user_factory``
    ``nexus_user_factory(email=None, metadata=None)`` signs up a new user and returns a
    :class:`NexusTestUser` with ``.id``, ``.email``, ``.access_token``, ``.client`` (a
    :class:`~nexus_sdk.NexusClient` acting as the user) and ``.aclient`` (the async twin).
``nexus_user``, ``nexus_other_user``
    Two distinct users, for "can one user see the other's rows" tests.
``nexus_seed_sql`` (session), ``nexus_database_prefix`` (session)
    Override them in a ``conftest.py``: SQL run as ``postgres`` before the local stack serves, and the
    name prefix of databases created on ``NEXUS_TEST_DATABASE_URL``'s server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn

import pytest

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio the async fixtures cannot run anyway
    _async_fixture = pytest.fixture  # type: ignore[assignment]

if TYPE_CHECKING:
    import httpx
    import psycopg

    from nexus_sdk.client import AsyncNexusClient, NexusClient
    from nexus_sdk.crypto import KeyRing
    from nexus_sdk.local import LocalStack

__all__ = [
    "NEXUS_TABLES",
    "Backend",
    "NexusTestStack",
    "NexusTestUser",
    "choose_backend",
    "nexus_async_service",
    "nexus_clean",
    "nexus_clean_module",
    "nexus_database_prefix",
    "nexus_encryption_keys",
    "nexus_other_user",
    "nexus_seed_sql",
    "nexus_service",
    "nexus_stack",
    "nexus_user",
    "nexus_user_factory",
    "skip_unless_ci",
]

NEXUS_TABLES: Final = (
    "public.scheduled_posts",
    "public.published_posts",
    "public.content_adaptations",
    "public.voice_profiles",
    "public.platform_connections",
    "public.users",
    "auth.users",
)
"""Every table :meth:`NexusTestStack.reset` empties."""

_TRUTHY: Final = frozenset({"1", "true", "yes", "on"})
_ADMIN_TIMEOUT: Final = 30.0

BackendKind = Literal["embedded", "database", "supabase"]


@dataclass(frozen=True)
class Backend:
    """Which backend the fixtures use, decided from the environment by :func:`choose_backend`."""

    kind: BackendKind
    server_url: str | None = None
    """``NEXUS_TEST_DATABASE_URL`` (database) or ``SUPABASE_DB_URL`` (supabase), when given."""
    url: str | None = None
    """The Supabase project URL (supabase only)."""
    anon_key: str | None = None
    service_role_key: str | None = None
    jwt_secret: str | None = None

    def __repr__(self) -> str:
        return f"Backend(kind={self.kind!r}, url={self.url!r}, keys='***')"

    def describe(self) -> str:
        """One line for pytest's header; never includes a key or a password."""
        if self.kind == "supabase":
            cleaning = "SQL" if self.server_url else "the Auth admin API"
            return f"the Supabase project at {self.url} (cleaned with {cleaning})"
        if self.kind == "database":
            return "the local stack on a fresh database of NEXUS_TEST_DATABASE_URL's server"
        return "the local stack on the embedded PostgreSQL"


def choose_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """Decide where the fixtures run: a Supabase project, a PostgreSQL server, or the embedded one.

    Args:
        environ: The environment to read; ``os.environ`` if omitted.

    Returns:
        The backend.
    """
    env = os.environ if environ is None else environ
    url, anon, service = (
        env.get(name) for name in ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY")
    )
    # SUPABASE_* are also what an application reads in production: only an explicit opt-in lets the
    # fixtures (which empty auth.users) loose on the project they name.
    if url and anon and service and env.get("NEXUS_TEST_SUPABASE", "").lower() in _TRUTHY:
        return Backend(
            "supabase",
            server_url=env.get("SUPABASE_DB_URL") or None,
            url=url.rstrip("/"),
            anon_key=anon,
            service_role_key=service,
            jwt_secret=env.get("SUPABASE_JWT_SECRET") or None,
        )
    server = env.get("NEXUS_TEST_DATABASE_URL")
    if server:
        return Backend("database", server_url=server)
    return Backend("embedded")


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip a test that needs what the backend lacks; under ``CI=true`` fail instead, never skip silently.

    Args:
        reason: What is missing, shown in the skip or failure message.

    Raises:
        pytest.skip.Exception: Outside CI.
        pytest.fail.Exception: Under ``CI=true``.
    """
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: tests must run, not skip)")
    pytest.skip(reason)


class NexusTestStack:
    """The backend under test: where the API is, its keys, and the helpers the fixtures need."""

    def __init__(
        self,
        *,
        kind: BackendKind,
        url: str,
        anon_key: str,
        service_role_key: str,
        database_url: str | None = None,
        jwt_secret: str | None = None,
        local: LocalStack | None = None,
    ) -> None:
        self.kind: BackendKind = kind
        """``"embedded"``, ``"database"`` or ``"supabase"``."""
        self.url = url
        """The API base URL (``SUPABASE_URL``)."""
        self.anon_key = anon_key
        """The anon API key."""
        self.service_role_key = service_role_key
        """The service-role API key."""
        self.database_url = database_url
        """A ``postgres`` connection URL to the database, when known (always on the local stack)."""
        self.jwt_secret = jwt_secret
        """The JWT secret, when known (always on the local stack)."""
        self.local = local
        """The local stack, unless the backend is a Supabase project."""
        self._sql: psycopg.Connection[Any] | None = None
        self._http: httpx.Client | None = None
        self._created_users: list[str] = []

    def __repr__(self) -> str:
        return f"NexusTestStack(kind={self.kind!r}, url={self.url!r}, keys='***')"

    @property
    def rest_url(self) -> str:
        """``{url}/rest/v1``, where PostgREST answers."""
        return f"{self.url}/rest/v1"

    # --- SQL -----------------------------------------------------------------------------------------

    def sql(self) -> psycopg.Connection[Any]:
        """A shared autocommit connection as ``postgres``, for arranging and checking data.

        Returns:
            The connection (owned by the stack; do not close it).

        Raises:
            pytest.skip.Exception: The backend is a Supabase project and ``SUPABASE_DB_URL`` is not set.
        """
        if self.database_url is None:
            skip_unless_ci("raw SQL needs SUPABASE_DB_URL on a Supabase project")
        if self._sql is None or self._sql.closed:
            import psycopg

            self._sql = psycopg.connect(self.database_url, autocommit=True)
        return self._sql

    # --- users ---------------------------------------------------------------------------------------

    def create_user(
        self, email: str | None = None, *, metadata: Mapping[str, Any] | None = None
    ) -> tuple[str, str]:
        """Sign up a user and sign them in.

        Args:
            email: The address; a unique ``@example.com`` one if omitted.
            metadata: ``raw_user_meta_data`` (e.g. ``{"full_name": "Ada"}``).

        Returns:
            ``(user_id, access_token)``.

        Raises:
            APIStatusError: The Auth server refused (Supabase projects only).
        """
        address = email or f"nexus-test-{secrets.token_hex(6)}@example.com"
        if self.local is not None:
            user_id, token = self.local.create_user(address, metadata=dict(metadata or {}))
        else:
            user_id, token = self._admin_create_user(address, metadata)
        self._created_users.append(user_id)
        return user_id, token

    def _admin(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=f"{self.url}/auth/v1", timeout=_ADMIN_TIMEOUT)
        return self._http

    def _admin_create_user(self, email: str, metadata: Mapping[str, Any] | None) -> tuple[str, str]:
        password = secrets.token_urlsafe(24)
        service = {"apikey": self.service_role_key, "Authorization": f"Bearer {self.service_role_key}"}
        body = {
            "email": email,
            "password": password,
            "email_confirm": True,
            "user_metadata": dict(metadata or {}),
        }
        created = _auth_json(self._admin().post("/admin/users", json=body, headers=service), "create a user")
        user_id = str(created["id"])
        try:
            # A real session token, signed by the project's Auth server, rather than one minted here.
            session = _auth_json(
                self._admin().post(
                    "/token",
                    params={"grant_type": "password"},
                    json={"email": email, "password": password},
                    headers={"apikey": self.anon_key},
                ),
                "sign in",
            )
        except Exception:
            with contextlib.suppress(Exception):
                self.delete_user(user_id)
            raise
        return user_id, str(session["access_token"])

    def delete_user(self, user_id: str) -> None:
        """Delete a user; every Nexus row they own goes with them (``ON DELETE CASCADE``).

        Args:
            user_id: The ``auth.users`` id.
        """
        if self.database_url is not None:
            self.sql().execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
        else:
            service = {"apikey": self.service_role_key, "Authorization": f"Bearer {self.service_role_key}"}
            response = self._admin().delete(f"/admin/users/{user_id}", headers=service)
            if response.status_code != 404:
                _auth_json(response, "delete a user")
        with contextlib.suppress(ValueError):
            self._created_users.remove(user_id)

    def mint_token(
        self,
        user_id: str,
        *,
        email: str | None = None,
        expires_in: int = 3600,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """Sign an access token for ``user_id`` with the project's JWT secret (e.g. an expired one).

        Args:
            user_id: The ``sub`` claim.
            email: The ``email`` claim.
            expires_in: Seconds until ``exp``; negative for an expired token.
            extra_claims: Claims to add or override.

        Returns:
            The JWT.

        Raises:
            pytest.skip.Exception: The JWT secret is unknown (a Supabase project without
                ``SUPABASE_JWT_SECRET``).
        """
        if self.jwt_secret is None:
            skip_unless_ci("minting tokens needs SUPABASE_JWT_SECRET on a Supabase project")
        from nexus_sdk.local import mint_access_token

        return mint_access_token(
            self.jwt_secret,
            user_id,
            email=email,
            expires_in=expires_in,
            extra_claims=dict(extra_claims or {}),
        )

    # --- cleaning ------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Empty every Nexus table and ``auth.users`` (see :data:`NEXUS_TABLES`).

        With SQL access this is one ``TRUNCATE``, skipped when there is no user (every Nexus row belongs
        to a user, so then there is nothing to remove). Without it (a Supabase project and no
        ``SUPABASE_DB_URL``), the users created through this object are deleted through the Auth API.
        """
        if self.database_url is None:
            for user_id in list(self._created_users):
                self.delete_user(user_id)
            return
        conn = self.sql()
        row = conn.execute(
            "SELECT EXISTS (SELECT 1 FROM auth.users) OR EXISTS (SELECT 1 FROM public.users)"
        ).fetchone()
        if row is not None and row[0]:
            conn.execute("TRUNCATE " + ", ".join(NEXUS_TABLES) + " CASCADE")
        self._created_users.clear()

    def close(self) -> None:
        """Close the helper connections (the stack itself is stopped by the fixture that started it)."""
        if self.kind == "supabase" and self.database_url is None:
            # No SQL to empty the project with later: remove what this session created now.
            for user_id in list(self._created_users):
                with contextlib.suppress(Exception):
                    self.delete_user(user_id)
        if self._sql is not None:
            self._sql.close()
        if self._http is not None:
            self._http.close()


def _auth_json(response: httpx.Response, action: str) -> dict[str, Any]:
    """The JSON body of a successful Auth API answer; a typed error (without secrets) otherwise."""
    if response.is_success:
        body = response.json()
        if isinstance(body, dict):
            return body
        raise _auth_error(f"Supabase Auth: could not {action}: unexpected answer", response)
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    detail = ""
    if isinstance(payload, dict):
        # GoTrue names its message differently across versions.
        text = payload.get("msg") or payload.get("message") or payload.get("error_description")
        detail = f": {text}" if isinstance(text, str) else ""
    raise _auth_error(f"Supabase Auth: could not {action}{detail}", response)


def _auth_error(message: str, response: httpx.Response) -> Exception:
    from nexus_sdk.errors import status_error_class

    error_class = status_error_class(response.status_code)
    return error_class(message, status_code=response.status_code)


class NexusTestUser:
    """A signed-up user and clients acting as them (RLS applies)."""

    def __init__(
        self,
        *,
        id: str,
        email: str,
        access_token: str,
        client: NexusClient,
        stack: NexusTestStack,
        keys: KeyRing,
    ) -> None:
        self.id = id
        """The user's id (``auth.users.id`` = ``public.users.id``)."""
        self.email = email
        """The user's email."""
        self.access_token = access_token
        """The user's JWT (kept out of ``repr``)."""
        self.client = client
        """A :class:`~nexus_sdk.NexusClient` acting as this user."""
        self._stack = stack
        self._keys = keys
        self._aclient: AsyncNexusClient | None = None

    def __repr__(self) -> str:
        return f"NexusTestUser(id={self.id!r}, email={self.email!r}, access_token='***')"

    @property
    def aclient(self) -> AsyncNexusClient:
        """An :class:`~nexus_sdk.AsyncNexusClient` acting as this user, made on first use.

        Its connection pool keeps no idle connection, so it needs no ``await close()``: a test may use it
        from any event loop, and nothing is left open when the loop ends.
        """
        if self._aclient is None:
            import httpx

            from nexus_sdk.client import AsyncNexusClient

            http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
            self._aclient = AsyncNexusClient(
                self._stack.url,
                self._stack.anon_key,
                access_token=self.access_token,
                http_client=http,
                encryption_keys=self._keys,
            )
        return self._aclient


# --- backends ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database on ``server_url``'s server, dropped (with its connections) afterwards."""
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{prefix}{secrets.token_hex(6)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    params = {key: str(value) for key, value in conninfo_to_dict(server_url).items() if value is not None}
    params["dbname"] = name
    try:
        yield make_conninfo("", **params)
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def open_stack(
    backend: Backend, *, seed_sql: Sequence[str] = (), database_prefix: str = "nexus_test_"
) -> Iterator[NexusTestStack]:
    """Start (or connect to) the backend for a test session, and tear it down afterwards.

    Args:
        backend: From :func:`choose_backend`.
        seed_sql: SQL run as ``postgres`` before the local stack serves (not used on Supabase).
        database_prefix: Name prefix of the database created on ``NEXUS_TEST_DATABASE_URL``'s server.

    Yields:
        The stack.
    """
    if backend.kind == "supabase":
        if not (backend.url and backend.anon_key and backend.service_role_key):
            from nexus_sdk.errors import ConfigurationError

            raise ConfigurationError("a Supabase backend needs SUPABASE_URL and both API keys")
        remote = NexusTestStack(
            kind="supabase",
            url=backend.url,
            anon_key=backend.anon_key,
            service_role_key=backend.service_role_key,
            database_url=backend.server_url,
            jwt_secret=backend.jwt_secret,
        )
        try:
            yield remote
        finally:
            remote.close()
        return

    from nexus_sdk import local

    with contextlib.ExitStack() as resources:
        database_url = None
        if backend.kind == "database":
            database_url = resources.enter_context(
                _scratch_database(str(backend.server_url), database_prefix)
            )
        running = resources.enter_context(local.start(port=0, database_url=database_url, seed_sql=seed_sql))
        stack = NexusTestStack(
            kind=backend.kind,
            url=running.url,
            anon_key=running.anon_key,
            service_role_key=running.service_role_key,
            database_url=running.database_url,
            jwt_secret=running.jwt_secret,
            local=running,
        )
        resources.callback(stack.close)
        yield stack


# --- hooks and fixtures ---------------------------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> str:
    """Say which backend the ``nexus_`` fixtures use."""
    return f"nexus-sdk fixtures: {choose_backend().describe()}"


@pytest.fixture(scope="session")
def nexus_seed_sql() -> Sequence[str]:
    """SQL scripts run as ``postgres`` before the local stack serves; override it to add fixtures."""
    return ()


@pytest.fixture(scope="session")
def nexus_database_prefix() -> str:
    """Name prefix of the database created on ``NEXUS_TEST_DATABASE_URL``'s server; override to change."""
    return "nexus_test_"


@pytest.fixture(scope="session")
def nexus_stack(nexus_seed_sql: Sequence[str], nexus_database_prefix: str) -> Iterator[NexusTestStack]:
    """The backend for this session (see the module docstring for how it is chosen)."""
    with open_stack(
        choose_backend(), seed_sql=nexus_seed_sql, database_prefix=nexus_database_prefix
    ) as stack:
        yield stack


@pytest.fixture
def nexus_clean(nexus_stack: NexusTestStack) -> NexusTestStack:
    """Empty every Nexus table and ``auth.users`` before the test; returns the stack."""
    nexus_stack.reset()
    return nexus_stack


@pytest.fixture(scope="module")
def nexus_clean_module(nexus_stack: NexusTestStack) -> NexusTestStack:
    """Empty every Nexus table and ``auth.users`` once, before the module's first test; returns the stack."""
    nexus_stack.reset()
    return nexus_stack


@pytest.fixture(scope="session")
def nexus_encryption_keys() -> Iterator[KeyRing]:
    """A fresh key ring for the session, also set as ``NEXUS_ENCRYPTION_KEYS`` (restored afterwards)."""
    from nexus_sdk.crypto import ENV_VAR, EncryptionKey, KeyRing

    key = EncryptionKey.generate()
    with pytest.MonkeyPatch.context() as patch:
        # Test data is never encrypted with a real key, even when the environment has one.
        patch.setenv(ENV_VAR, key.export())
        yield KeyRing([key])


@pytest.fixture(scope="session")
def nexus_service(nexus_stack: NexusTestStack, nexus_encryption_keys: KeyRing) -> Iterator[NexusClient]:
    """A service-role :class:`~nexus_sdk.NexusClient` (RLS bypassed), shared by the session."""
    from nexus_sdk.client import NexusClient

    with NexusClient(
        nexus_stack.url,
        nexus_stack.service_role_key,
        anon_key=nexus_stack.anon_key,
        encryption_keys=nexus_encryption_keys,
    ) as client:
        yield client


@_async_fixture
async def nexus_async_service(
    nexus_stack: NexusTestStack, nexus_encryption_keys: KeyRing
) -> AsyncIterator[AsyncNexusClient]:
    """A service-role :class:`~nexus_sdk.AsyncNexusClient`, closed after the test."""
    from nexus_sdk.client import AsyncNexusClient

    async with AsyncNexusClient(
        nexus_stack.url,
        nexus_stack.service_role_key,
        anon_key=nexus_stack.anon_key,
        encryption_keys=nexus_encryption_keys,
    ) as client:
        yield client


@pytest.fixture
def nexus_user_factory(
    nexus_stack: NexusTestStack, nexus_service: NexusClient, nexus_encryption_keys: KeyRing
) -> Callable[..., NexusTestUser]:
    """``factory(email=None, metadata=None)``: sign up a new user; returns a :class:`NexusTestUser`."""

    def make(email: str | None = None, metadata: Mapping[str, Any] | None = None) -> NexusTestUser:
        address = email or f"nexus-test-{secrets.token_hex(6)}@example.com"
        user_id, token = nexus_stack.create_user(address, metadata=metadata)
        return NexusTestUser(
            id=user_id,
            email=address,
            access_token=token,
            client=nexus_service.as_user(token),
            stack=nexus_stack,
            keys=nexus_encryption_keys,
        )

    return make


@pytest.fixture
def nexus_user(nexus_user_factory: Callable[..., NexusTestUser]) -> NexusTestUser:
    """A new user (see :func:`nexus_user_factory`)."""
    return nexus_user_factory()


@pytest.fixture
def nexus_other_user(nexus_user_factory: Callable[..., NexusTestUser]) -> NexusTestUser:
    """Another new user, distinct from ``nexus_user``."""
    return nexus_user_factory()

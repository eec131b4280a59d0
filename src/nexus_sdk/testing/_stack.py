"""The backend under test for one session (:class:`NexusTestStack`) and the users made on it."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk._redact import MASK
from nexus_sdk.testing._admin import AuthAdmin
from nexus_sdk.testing._backend import Backend, BackendKind, skip_unless_ci

if TYPE_CHECKING:
    import psycopg

    from nexus_sdk.client import AsyncNexusClient, NexusClient
    from nexus_sdk.crypto import KeyRing
    from nexus_sdk.local import LocalStack

__all__ = ["NEXUS_TABLES", "NexusSupabaseUser", "NexusTestStack", "NexusTestUser", "open_stack"]

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
        self.admin = AuthAdmin(url, anon_key=anon_key, service_role_key=service_role_key)
        """The Auth admin API client (service-role key) that creates and removes users."""
        self._created_users: list[uuid.UUID] = []

    def __repr__(self) -> str:
        return f"NexusTestStack(kind={self.kind!r}, url={self.url!r}, keys='{MASK}')"

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
        self,
        email: str | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        password: str | None = None,
    ) -> tuple[uuid.UUID, str]:
        """Create a confirmed user (as Supabase Auth's admin API does) and open a session for them.

        Args:
            email: The address; a unique ``@example.com`` one if omitted.
            metadata: ``raw_user_meta_data`` (e.g. ``{"full_name": "Ada"}``).
            password: The user's password, to sign in with through ``/auth/v1``; none if omitted (a random
                one on a Supabase project, where the session comes from signing in).

        Returns:
            ``(user_id, access_token)``.

        Raises:
            APIStatusError: The Auth server refused (Supabase projects only).
            AuthRefusal: The local stack refused (the email is taken, the password too weak).
        """
        address = email or f"nexus-test-{secrets.token_hex(6)}@example.com"
        if self.local is not None:
            # No password unless asked for: hashing one (bcrypt) would slow every test that makes a user.
            user_id, token = self.local.create_user(address, password=password, metadata=dict(metadata or {}))
        else:
            # A Supabase project: the session comes from a real sign-in, which needs a password.
            secret = password or secrets.token_urlsafe(24)
            raw_id, token = self.admin.create_and_sign_in(address, secret, dict(metadata or {}))
            user_id = uuid.UUID(raw_id)
        self._created_users.append(user_id)
        return user_id, token

    def delete_user(self, user_id: uuid.UUID | str) -> None:
        """Delete a user; every Nexus row they own goes with them (``ON DELETE CASCADE``).

        Args:
            user_id: The ``auth.users`` id.
        """
        if self.database_url is not None:
            self.sql().execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
        else:
            self.admin.delete_user(str(user_id))
        with contextlib.suppress(ValueError):
            self._created_users.remove(uuid.UUID(str(user_id)))

    def mint_token(
        self,
        user_id: uuid.UUID | str,
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
        self.admin.close()


class NexusTestUser:
    """A signed-up user and clients acting as them (RLS applies)."""

    def __init__(
        self,
        *,
        id: uuid.UUID,
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
        return f"NexusTestUser(id={self.id!r}, email={self.email!r}, access_token='{MASK}')"

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


class NexusSupabaseUser:
    """A user signed in through Supabase Auth with supabase-py, and the SDK following that session."""

    def __init__(
        self, *, id: uuid.UUID, email: str, password: str, supabase: Any, client: NexusClient
    ) -> None:
        self.id = id
        """The user's id (``auth.users.id`` = ``public.users.id``)."""
        self.email = email
        """The user's email."""
        self.password = password
        """The user's password (kept out of ``repr``), e.g. to sign in again."""
        self.supabase = supabase
        """The signed-in ``supabase.Client``: ``.auth``, ``.table(...)``, as in an app."""
        self.client = client
        """A :class:`~nexus_sdk.NexusClient` made with ``from_supabase``: it follows ``supabase``'s session
        (a refresh, a sign-out, ``supabase.postgrest.auth(token)``)."""

    def __repr__(self) -> str:
        return f"NexusSupabaseUser(id={self.id!r}, email={self.email!r}, password='{MASK}')"


# --- backends ----------------------------------------------------------------------------------------------


def _server(backend: Backend) -> psycopg.Connection[Any]:
    """An autocommit connection to ``NEXUS_TEST_DATABASE_URL``'s server; a failure is one typed line.

    Raises:
        ConfigurationError: The server cannot be reached or refuses the login; the message masks the URL's
            password, and libpq's error is neither its cause nor its context (pytest would print the
            connection string, password included, from psycopg's frames).
    """
    __tracebackhide__ = True  # pytest prints a failing frame's values: here, the URL
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from nexus_sdk._redact import redact, redact_url
    from nexus_sdk.errors import ConfigurationError

    url = str(backend.server_url)
    try:
        password = conninfo_to_dict(url).get("password")
    except psycopg.Error:
        password = None
        parsed = False
    else:
        parsed = True
    if not parsed:
        # libpq quotes the piece it cannot parse, which may be the password: name no part of the URL.
        raise ConfigurationError(
            "NEXUS_TEST_DATABASE_URL is not a valid libpq URL or key=value string (percent-encode special "
            "characters in the password, e.g. '@' as %40 and '/' as %2F)"
        )
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        detail = str(exc.diag.message_primary or exc)
    known = [str(password)] if password else []
    where = redact(redact_url(url), known)
    detail = " ".join(redact(detail, known).split())
    raise ConfigurationError(f"cannot connect to NEXUS_TEST_DATABASE_URL ({where}): {detail}")


@contextlib.contextmanager
def _scratch_database(backend: Backend, prefix: str) -> Iterator[str]:
    """A new database on ``backend.server_url``'s server, dropped (with its connections) afterwards.

    Takes the backend, whose ``repr`` masks its secrets, not the URL: pytest prints a failing frame's
    arguments.
    """
    __tracebackhide__ = True
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"{prefix}{secrets.token_hex(6)}"
    with _server(backend) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    server = conninfo_to_dict(str(backend.server_url))
    params = {key: str(value) for key, value in server.items() if value is not None}
    params["dbname"] = name
    try:
        yield make_conninfo("", **params)
    finally:
        with _server(backend) as conn:
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
            database_url = resources.enter_context(_scratch_database(backend, database_prefix))
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

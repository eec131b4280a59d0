"""``NexusClient`` and ``AsyncNexusClient``: the auth mode, the connection pool and the repositories.

``AsyncNexusClient`` is the source; ``NexusClient`` is generated from it below the marker by
``tools/async_to_sync.py``. What does not depend on I/O lives once, in ``_ClientCore``; the two senders
(``nexus_sdk._http``) are the only hand-written twins.

Auth modes:

- **service role**: ``key`` is the service-role key; RLS is bypassed (server-side jobs).
- **anon**: ``key`` is the anon key and there is no user; RLS applies to the ``anon`` role.
- **user**: the anon key plus a user's ``access_token``; requests run as that user under RLS.
  :meth:`~NexusClient.as_user` derives such a client. On a service-role client it needs the anon key
  (``anon_key=`` or ``SUPABASE_ANON_KEY``), because a user-scoped client must not carry a key that
  bypasses RLS.

Derived clients (:meth:`~NexusClient.as_user`, :meth:`~NexusClient.with_options`) share the
original's connection pool and never change it; closing them does not close the pool, closing the
original does. A caller-supplied ``http_client`` is never closed by the SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from nexus_sdk._supabase_session import SessionToken, current_bearer
from nexus_sdk.errors import ConfigurationError
from nexus_sdk.settings import NOT_GIVEN, ClientSettings, NotGiven, TimeoutTypes, key_role, resolve_settings

# `import nexus_sdk` must stay fast: httpx, pydantic, the models and the repositories load when a client
# is created or a table is first used, not at import.
if TYPE_CHECKING:
    import httpx

    from nexus_sdk._http import AsyncSender, SyncSender
    from nexus_sdk.crypto import KeyRing
    from nexus_sdk.repositories import (
        AsyncContentAdaptations,
        AsyncPlatformConnections,
        AsyncPublishedPosts,
        AsyncScheduledPosts,
        AsyncUsers,
        AsyncVoiceProfiles,
        ContentAdaptations,
        PlatformConnections,
        PublishedPosts,
        ScheduledPosts,
        Users,
        VoiceProfiles,
    )

__all__ = ["AsyncNexusClient", "NexusClient"]


class _KeyRingSource:
    """The client's key ring, read from ``NEXUS_ENCRYPTION_KEYS`` the first time a token needs it.

    Shared by a client and the clients derived from it, so the environment is read once.
    """

    def __init__(self, ring: KeyRing | None) -> None:
        self._ring = ring

    def __call__(self) -> KeyRing:
        if self._ring is None:
            from nexus_sdk.crypto import KeyRing

            self._ring = KeyRing.from_env()
        return self._ring


def _supabase_credentials(client: Any) -> dict[str, Any]:
    """URL, key (also the anon key unless it is the service role's) and session token of a supabase client."""
    url = getattr(client, "supabase_url", None)
    key = getattr(client, "supabase_key", None)
    if url is None or not isinstance(key, str):
        raise ConfigurationError(
            "from_supabase() expects a supabase Client (with supabase_url and supabase_key)."
        )
    token = current_bearer(client)
    anon_key = key if key_role(key) != "service_role" else None
    if token is None or token == key:
        return {"url": str(url), "key": key, "anon_key": anon_key, "access_token": None}
    # A user's session: follow it (sign-in, refresh, sign-out, postgrest.auth()) request by request. A
    # service-role client keeps the token it has now, as as_user() would.
    live = SessionToken(client, key) if anon_key is not None else token
    return {"url": str(url), "key": key, "anon_key": anon_key, "access_token": live}


class _ClientCore:
    """What the two clients share: settings, derivation, and the surface that does no I/O."""

    _settings: ClientSettings
    _keys: _KeyRingSource
    _owns_http: bool

    def _init_settings(
        self,
        url: str | None,
        key: str | None,
        *,
        anon_key: str | None,
        access_token: str | None,
        timeout: TimeoutTypes | NotGiven,
        max_retries: int | NotGiven,
        encryption_keys: KeyRing | None,
        http_client: httpx.Client | httpx.AsyncClient | None,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> None:
        self._settings = resolve_settings(
            url,
            key,
            anon_key=anon_key,
            access_token=access_token,
            timeout=timeout,
            max_retries=max_retries,
            total_timeout=total_timeout,
        )
        self._keys = _KeyRingSource(encryption_keys)
        self._owns_http = http_client is None

    @property
    def settings(self) -> ClientSettings:
        """The resolved configuration (secrets are hidden from its ``repr``)."""
        return self._settings

    @property
    def auth_mode(self) -> str:
        """``"user"``, ``"service_role"``, ``"anon"`` or ``"unknown"`` (an opaque key of unknown kind)."""
        # The token's user, not the token's presence: a client from from_supabase() keeps following a
        # supabase client that has signed out, and then sends the key as anon.
        if self._settings.user_id is not None:
            return "user"
        role = self._settings.key_role
        return "anon" if role == "anon" else role

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self._settings.url!r}, auth_mode={self.auth_mode!r})"

    def _derive(self, settings: ClientSettings) -> Self:
        clone = object.__new__(type(self))
        clone._settings = settings
        clone._keys = self._keys
        # The pool belongs to the original client (or to the caller): a derived client never closes it.
        clone._owns_http = False
        clone._bind(self._http_client())
        return clone

    def _http_client(self) -> Any:
        raise NotImplementedError

    def _bind(self, http: Any) -> None:
        raise NotImplementedError

    def as_user(self, access_token: str) -> Self:
        """A client acting as the user who owns ``access_token`` (RLS applies), sharing the pool.

        Args:
            access_token: The user's JWT from Supabase Auth.

        Returns:
            A new client; this one is unchanged.

        Raises:
            ConfigurationError: This client has the service-role key and no anon key is known.
        """
        return self._derive(self._settings.for_user(access_token))

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        access_token: str | NotGiven | None = NOT_GIVEN,
        total_timeout: float | NotGiven | None = NOT_GIVEN,
    ) -> Self:
        """A copy with some options changed, sharing the connection pool.

        Args:
            timeout: Per-attempt timeout (``None`` for none).
            total_timeout: Seconds a whole call may take, retries and waits included (``None``: no bound).
            max_retries: Retries for retry-safe requests.
            access_token: Act as another user (``None``: stop acting as a user).

        Returns:
            A new client; this one is unchanged.
        """
        settings = self._settings
        if isinstance(access_token, str):
            # Same rule as as_user(): a user's token travels with the anon key, never the service role's.
            settings = settings.for_user(access_token)
        elif access_token is None:
            settings = settings.with_changes(access_token=None)
        return self._derive(
            settings.with_changes(timeout=timeout, max_retries=max_retries, total_timeout=total_timeout)
        )


class AsyncNexusClient(_ClientCore):
    """The Nexus client: the auth mode, the connection pool and a repository per table.

    Example::

        async with AsyncNexusClient.from_env() as nx:
            me = nx.as_user(access_token)
            async for post in me.published_posts.iter(where=F("platform") == "x", order_by="-created_at"):
                ...
    """

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        anon_key: str | None = None,
        access_token: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
        total_timeout: float | None = None,
    ) -> None:
        """Create a client.

        Args:
            url: The Supabase project URL; else ``SUPABASE_URL``.
            key: The API key; else the first variable set of ``settings.KEY_VARS`` (``docs/client.md``).
            anon_key: The anon key :meth:`as_user` uses on a service-role client; else the first public key
                of ``settings.ANON_KEY_VARS``.
            access_token: A user's JWT, to act as that user (sent with the anon key, never the service role's).
            http_client: Your own ``httpx.AsyncClient`` (never closed by the SDK).
            timeout: Seconds (or an ``httpx.Timeout``) each attempt may take, body included; default 30 s.
            max_retries: Retries for retry-safe requests; default 2.
            encryption_keys: The token key ring; else read from ``NEXUS_ENCRYPTION_KEYS`` when first needed.
            total_timeout: Seconds a whole call may take, every attempt and backoff wait included; default:
                no bound beyond ``timeout`` per attempt.

        Raises:
            ConfigurationError: The URL or key is missing or malformed, a variable holds the wrong kind of key,
                or the access token is malformed or names no user.
        """
        self._init_settings(
            url,
            key,
            anon_key=anon_key,
            access_token=access_token,
            timeout=timeout,
            max_retries=max_retries,
            encryption_keys=encryption_keys,
            http_client=http_client,
            total_timeout=total_timeout,
        )
        if http_client is None:
            from nexus_sdk._http import default_async_client

            http_client = default_async_client(self._settings.base_url)
        self._bind(http_client)

    def _bind(self, http: httpx.AsyncClient) -> None:
        from nexus_sdk._http import AsyncSender

        self._http = http
        self._sender: AsyncSender = AsyncSender(http, self._settings)

    @cached_property
    def users(self) -> AsyncUsers:
        """The ``users`` table."""
        from nexus_sdk.repositories import AsyncUsers

        return AsyncUsers(self._sender, self._settings, self._keys)

    @cached_property
    def platform_connections(self) -> AsyncPlatformConnections:
        """The ``platform_connections`` table (tokens encrypted transparently)."""
        from nexus_sdk.repositories import AsyncPlatformConnections

        return AsyncPlatformConnections(self._sender, self._settings, self._keys)

    @cached_property
    def content_adaptations(self) -> AsyncContentAdaptations:
        """The ``content_adaptations`` table."""
        from nexus_sdk.repositories import AsyncContentAdaptations

        return AsyncContentAdaptations(self._sender, self._settings, self._keys)

    @cached_property
    def voice_profiles(self) -> AsyncVoiceProfiles:
        """The ``voice_profiles`` table."""
        from nexus_sdk.repositories import AsyncVoiceProfiles

        return AsyncVoiceProfiles(self._sender, self._settings, self._keys)

    @cached_property
    def published_posts(self) -> AsyncPublishedPosts:
        """The ``published_posts`` table."""
        from nexus_sdk.repositories import AsyncPublishedPosts

        return AsyncPublishedPosts(self._sender, self._settings, self._keys)

    @cached_property
    def scheduled_posts(self) -> AsyncScheduledPosts:
        """The ``scheduled_posts`` table."""
        from nexus_sdk.repositories import AsyncScheduledPosts

        return AsyncScheduledPosts(self._sender, self._settings, self._keys)

    def _http_client(self) -> httpx.AsyncClient:
        return self._http

    @classmethod
    def from_env(
        cls,
        *,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
    ) -> Self:
        """A client configured from ``SUPABASE_URL`` and the service-role key, else the anon key.

        Args:
            http_client: Your own ``httpx.AsyncClient`` (never closed by the SDK).
            timeout: Per-attempt timeout.
            max_retries: Retries for retry-safe requests.
            encryption_keys: The token key ring.

        Returns:
            The client.

        Raises:
            ConfigurationError: A required variable is missing (its name is in the message).
        """
        return cls(
            http_client=http_client, timeout=timeout, max_retries=max_retries, encryption_keys=encryption_keys
        )

    @classmethod
    def from_supabase(
        cls,
        client: Any,
        *,
        http_client: httpx.AsyncClient | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
    ) -> Self:
        """A client using an existing ``supabase`` client's URL, key and signed-in user, if any.

        Args:
            client: A supabase-py client, sync or async (duck-typed).
            http_client: Your own ``httpx.AsyncClient`` (never closed by the SDK).
            timeout: Per-attempt timeout.
            max_retries: Retries for retry-safe requests.
            encryption_keys: The token key ring.

        Returns:
            The client, acting as the signed-in user when there is a session.

        Raises:
            ConfigurationError: ``client`` does not look like a supabase client.
        """
        return cls(
            **_supabase_credentials(client),
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
            encryption_keys=encryption_keys,
        )

    async def rpc(
        self,
        function: str,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        idempotent: bool = False,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> Any:
        """Call a SQL function (``POST /rest/v1/rpc/<function>``) with named arguments.

        Args:
            function: The function's name.
            args: Arguments as a mapping (for names that clash with this method's options).
            idempotent: The function is safe to run twice, so it may be retried after a lost response.
            timeout: Overrides the client's timeout for this call.
            **kwargs: Arguments by name.

        Returns:
            The function's JSON result.

        Raises:
            ValidationError: ``function`` is not a function name; nothing was sent.
            APIStatusError: The function raised or the call was refused.
        """
        from nexus_sdk.repositories._rpc import call_json

        arguments = {**(args or {}), **kwargs}
        operation = call_json(self._settings, function, arguments, idempotent=idempotent, timeout=timeout)
        return await self._sender.run(operation)

    async def close(self) -> None:
        """Close the connection pool, unless it was passed in or this client was derived."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class NexusClient(_ClientCore):
    """The Nexus client: the auth mode, the connection pool and a repository per table.

    Example::

        with NexusClient.from_env() as nx:
            me = nx.as_user(access_token)
            for post in me.published_posts.iter(where=F("platform") == "x", order_by="-created_at"):
                ...
    """

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        anon_key: str | None = None,
        access_token: str | None = None,
        http_client: httpx.Client | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
        total_timeout: float | None = None,
    ) -> None:
        """Create a client.

        Args:
            url: The Supabase project URL; else ``SUPABASE_URL``.
            key: The API key; else the first variable set of ``settings.KEY_VARS`` (``docs/client.md``).
            anon_key: The anon key :meth:`as_user` uses on a service-role client; else the first public key
                of ``settings.ANON_KEY_VARS``.
            access_token: A user's JWT, to act as that user (sent with the anon key, never the service role's).
            http_client: Your own ``httpx.Client`` (never closed by the SDK).
            timeout: Seconds (or an ``httpx.Timeout``) each attempt may take, body included; default 30 s.
            max_retries: Retries for retry-safe requests; default 2.
            encryption_keys: The token key ring; else read from ``NEXUS_ENCRYPTION_KEYS`` when first needed.
            total_timeout: Seconds a whole call may take, every attempt and backoff wait included; default:
                no bound beyond ``timeout`` per attempt.

        Raises:
            ConfigurationError: The URL or key is missing or malformed, a variable holds the wrong kind of key,
                or the access token is malformed or names no user.
        """
        self._init_settings(
            url,
            key,
            anon_key=anon_key,
            access_token=access_token,
            timeout=timeout,
            max_retries=max_retries,
            encryption_keys=encryption_keys,
            http_client=http_client,
            total_timeout=total_timeout,
        )
        if http_client is None:
            from nexus_sdk._http import default_client

            http_client = default_client(self._settings.base_url)
        self._bind(http_client)

    def _bind(self, http: httpx.Client) -> None:
        from nexus_sdk._http import SyncSender

        self._http = http
        self._sender: SyncSender = SyncSender(http, self._settings)

    @cached_property
    def users(self) -> Users:
        """The ``users`` table."""
        from nexus_sdk.repositories import Users

        return Users(self._sender, self._settings, self._keys)

    @cached_property
    def platform_connections(self) -> PlatformConnections:
        """The ``platform_connections`` table (tokens encrypted transparently)."""
        from nexus_sdk.repositories import PlatformConnections

        return PlatformConnections(self._sender, self._settings, self._keys)

    @cached_property
    def content_adaptations(self) -> ContentAdaptations:
        """The ``content_adaptations`` table."""
        from nexus_sdk.repositories import ContentAdaptations

        return ContentAdaptations(self._sender, self._settings, self._keys)

    @cached_property
    def voice_profiles(self) -> VoiceProfiles:
        """The ``voice_profiles`` table."""
        from nexus_sdk.repositories import VoiceProfiles

        return VoiceProfiles(self._sender, self._settings, self._keys)

    @cached_property
    def published_posts(self) -> PublishedPosts:
        """The ``published_posts`` table."""
        from nexus_sdk.repositories import PublishedPosts

        return PublishedPosts(self._sender, self._settings, self._keys)

    @cached_property
    def scheduled_posts(self) -> ScheduledPosts:
        """The ``scheduled_posts`` table."""
        from nexus_sdk.repositories import ScheduledPosts

        return ScheduledPosts(self._sender, self._settings, self._keys)

    def _http_client(self) -> httpx.Client:
        return self._http

    @classmethod
    def from_env(
        cls,
        *,
        http_client: httpx.Client | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
    ) -> Self:
        """A client configured from ``SUPABASE_URL`` and the service-role key, else the anon key.

        Args:
            http_client: Your own ``httpx.Client`` (never closed by the SDK).
            timeout: Per-attempt timeout.
            max_retries: Retries for retry-safe requests.
            encryption_keys: The token key ring.

        Returns:
            The client.

        Raises:
            ConfigurationError: A required variable is missing (its name is in the message).
        """
        return cls(
            http_client=http_client, timeout=timeout, max_retries=max_retries, encryption_keys=encryption_keys
        )

    @classmethod
    def from_supabase(
        cls,
        client: Any,
        *,
        http_client: httpx.Client | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        max_retries: int | NotGiven = NOT_GIVEN,
        encryption_keys: KeyRing | None = None,
    ) -> Self:
        """A client using an existing ``supabase`` client's URL, key and signed-in user, if any.

        Args:
            client: A supabase-py client, sync or async (duck-typed).
            http_client: Your own ``httpx.Client`` (never closed by the SDK).
            timeout: Per-attempt timeout.
            max_retries: Retries for retry-safe requests.
            encryption_keys: The token key ring.

        Returns:
            The client, acting as the signed-in user when there is a session.

        Raises:
            ConfigurationError: ``client`` does not look like a supabase client.
        """
        return cls(
            **_supabase_credentials(client),
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
            encryption_keys=encryption_keys,
        )

    def rpc(
        self,
        function: str,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        idempotent: bool = False,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
        **kwargs: Any,
    ) -> Any:
        """Call a SQL function (``POST /rest/v1/rpc/<function>``) with named arguments.

        Args:
            function: The function's name.
            args: Arguments as a mapping (for names that clash with this method's options).
            idempotent: The function is safe to run twice, so it may be retried after a lost response.
            timeout: Overrides the client's timeout for this call.
            **kwargs: Arguments by name.

        Returns:
            The function's JSON result.

        Raises:
            ValidationError: ``function`` is not a function name; nothing was sent.
            APIStatusError: The function raised or the call was refused.
        """
        from nexus_sdk.repositories._rpc import call_json

        arguments = {**(args or {}), **kwargs}
        operation = call_json(self._settings, function, arguments, idempotent=idempotent, timeout=timeout)
        return self._sender.run(operation)

    def close(self) -> None:
        """Close the connection pool, unless it was passed in or this client was derived."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

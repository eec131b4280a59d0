"""The bearer token a supabase-py client sends right now, for :meth:`NexusClient.from_supabase`.

supabase-py keeps the session's access token in ``client.options.headers`` and updates it on every auth
event (sign-in, refresh, user update, sign-out), dropping its PostgREST client so that the next one is made
with the new header; ``client.postgrest.auth(token)`` sets a token on the PostgREST client it has now.
What PostgREST requests carry is therefore the current PostgREST client's ``Authorization`` header when
there is one, else ``options.headers``'. :class:`SessionToken` reads it on every request, so an SDK client
made from a supabase client follows its session instead of keeping the token it saw first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nexus_sdk.settings import Secret

__all__ = ["SessionToken", "current_bearer"]


def current_bearer(client: Any) -> str | None:
    """The bearer token ``client``'s PostgREST requests carry now, if any (``None`` if there is no header).

    Reads the PostgREST client only if it exists: creating one here would open a connection pool.
    """
    postgrest = getattr(client, "_postgrest", None)
    headers: Mapping[str, str] | None = getattr(postgrest, "headers", None) if postgrest is not None else None
    if headers is None:
        headers = getattr(getattr(client, "options", None), "headers", None) or {}
    bearer = headers.get("Authorization") or headers.get("authorization") or ""
    return bearer.removeprefix("Bearer ").strip() or None


class SessionToken(Secret):
    """An access token that is whatever the supabase client sends now; the API key once signed out.

    Its ``repr`` and ``str`` are masked like every :class:`~nexus_sdk.settings.Secret`.
    """

    __slots__ = ("_client", "_key")

    def __init__(self, client: Any, key: str) -> None:
        super().__init__("")
        self._client = client
        self._key = key

    def get_secret_value(self) -> str:
        """The supabase client's current bearer token, or its API key when it has no session."""
        return current_bearer(self._client) or self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SessionToken) and other._client is self._client

    def __hash__(self) -> int:
        return id(self._client)

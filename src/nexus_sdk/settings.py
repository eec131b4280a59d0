"""Client configuration, resolved in one place: explicit arguments, then the environment, then defaults.

Environment variables are Supabase's own names:

- ``SUPABASE_URL``: the project URL (the SDK appends ``/rest/v1``).
- ``SUPABASE_SERVICE_ROLE_KEY``: used as the API key when present (server-side, bypasses RLS).
- ``SUPABASE_ANON_KEY``: used as the API key otherwise; also the key :meth:`NexusClient.as_user` sends
  when the client itself holds the service-role key.

Keys and tokens are kept as :class:`Secret`, so they never show up in a ``repr``.

This module is imported by ``import nexus_sdk``: it imports neither httpx nor pydantic, to keep that fast.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, TypeAlias

from nexus_sdk import _env
from nexus_sdk._redact import MASK
from nexus_sdk._types import NOT_GIVEN, NotGiven
from nexus_sdk.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_ANON_KEY",
    "ENV_SERVICE_ROLE_KEY",
    "ENV_URL",
    "NOT_GIVEN",
    "ClientSettings",
    "KeyRole",
    "NotGiven",
    "Secret",
    "TimeoutTypes",
    "jwt_claims",
    "key_role",
    "resolve_settings",
]

ENV_URL: Final = _env.SUPABASE_URL
ENV_ANON_KEY: Final = _env.SUPABASE_ANON_KEY
ENV_SERVICE_ROLE_KEY: Final = _env.SUPABASE_SERVICE_ROLE_KEY

DEFAULT_TIMEOUT: Final = 30.0
"""Per-attempt timeout in seconds when neither the client nor the call sets one."""
DEFAULT_MAX_RETRIES: Final = 2
"""Retries after the first attempt, for requests that are safe to repeat."""

REST_PATH: Final = "/rest/v1"

TimeoutTypes: TypeAlias = "float | httpx.Timeout | None"
"""A timeout in seconds, an :class:`httpx.Timeout`, or ``None`` for no timeout at all."""

KeyRole = Literal["service_role", "anon", "authenticated", "unknown"]


class _HasSecret(Protocol):
    def get_secret_value(self) -> str: ...


class Secret:
    """A key or token: ``repr`` and ``str`` show ``**********``; :meth:`get_secret_value` reveals it.

    Like :class:`pydantic.SecretStr` (which is accepted wherever a Secret is), without importing pydantic.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The secret itself."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def jwt_claims(token: str) -> dict[str, Any]:
    """Read a JWT's claims without verifying it (the server verifies; we only pick defaults).

    Args:
        token: A compact JWT.

    Returns:
        The payload as a dict, or an empty dict when ``token`` is not a readable JWT.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def key_role(key: str) -> KeyRole:
    """Tell which role a Supabase API key stands for.

    Legacy keys are JWTs with a ``role`` claim; the newer opaque keys carry their kind in a prefix
    (``sb_secret_`` acts as the service role, ``sb_publishable_`` as anon).

    Args:
        key: The API key.

    Returns:
        ``"service_role"``, ``"anon"``, ``"authenticated"`` or ``"unknown"``.
    """
    if key.startswith("sb_secret_"):
        return "service_role"
    if key.startswith("sb_publishable_"):
        return "anon"
    role = jwt_claims(key).get("role")
    if role in ("service_role", "anon", "authenticated"):
        return role  # type: ignore[no-any-return]
    return "unknown"


@dataclass(frozen=True, slots=True)
class ClientSettings:
    """Everything a client needs to talk to one Supabase project, after resolution."""

    url: str
    """The project URL without a trailing slash, e.g. ``https://abc.supabase.co``."""
    key: Secret = field(repr=False)
    """The API key sent as ``apikey`` (and as the bearer token when there is no access token)."""
    anon_key: Secret | None = field(default=None, repr=False)
    """The anon key used by :meth:`as_user` when ``key`` is the service-role key."""
    access_token: Secret | None = field(default=None, repr=False)
    """A user's JWT: requests run as that user and row-level security applies."""
    timeout: TimeoutTypes = field(default_factory=lambda: DEFAULT_TIMEOUT)
    """Per-attempt timeout."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries after the first attempt for requests that are safe to repeat."""

    @property
    def base_url(self) -> str:
        """The PostgREST root, ``<url>/rest/v1``."""
        return self.url + REST_PATH

    @property
    def key_role(self) -> KeyRole:
        """The role the API key stands for."""
        return key_role(self.key.get_secret_value())

    @property
    def user_id(self) -> str | None:
        """The ``sub`` claim of the access token, when acting as a user."""
        if self.access_token is None:
            return None
        sub = jwt_claims(self.access_token.get_secret_value()).get("sub")
        return sub if isinstance(sub, str) else None

    def headers(self) -> dict[str, str]:
        """The authentication headers for every request."""
        key = self.key.get_secret_value()
        bearer = self.access_token.get_secret_value() if self.access_token is not None else key
        return {"apikey": key, "Authorization": f"Bearer {bearer}"}

    def for_user(self, access_token: str) -> ClientSettings:
        """Settings acting as the user who owns ``access_token``.

        The API key becomes the anon key: sending a user's JWT alongside the service-role key would
        hand a user-scoped client a key that bypasses RLS wherever the JWT is dropped.

        Raises:
            ConfigurationError: The client holds the service-role key and no anon key is known.
        """
        if self.anon_key is not None:
            key = self.anon_key
        elif self.key_role != "service_role":
            key = self.key
        else:
            raise ConfigurationError(
                "Acting as a user (as_user() or access_token=) with the service-role key needs the anon key: "
                f"pass anon_key= or set {ENV_ANON_KEY}."
            )
        token = _secret(access_token, "access token")
        if token is None:
            raise ConfigurationError("The access token is empty.")
        return replace(self, key=key, access_token=token)

    def with_changes(self, **changes: Any) -> ClientSettings:
        """A copy with some fields replaced; ``NOT_GIVEN`` values are ignored."""
        given = {name: value for name, value in changes.items() if value is not NOT_GIVEN}
        if given.get("access_token") is not None:
            given["access_token"] = _secret(given["access_token"], "access token")
        settings = replace(self, **given)
        _check_retries(settings.max_retries)
        return settings


def _clean_secret(text: str, what: str) -> str:
    """``text`` without surrounding whitespace, refused if anything else could not go in a header.

    Keys read from ``.env`` files, secret stores or ``$(cat key)`` often end in a newline. Sent as is,
    every request fails inside httpx with an error that quotes the header, i.e. the secret itself.
    """
    text = text.strip()
    if not all("!" <= char <= "~" for char in text):
        # The value is left out of the message: it is a secret.
        raise ConfigurationError(
            f"The {what} contains a space, a control or a non-ASCII character; check how it was copied."
        )
    return text


def _secret(value: str | _HasSecret | None, what: str) -> Secret | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else value.get_secret_value()
    cleaned = _clean_secret(text, what)
    if isinstance(value, Secret) and cleaned == text:
        return value
    # An empty (or all-whitespace) value counts as not given, as an empty environment variable does.
    return Secret(cleaned) if cleaned else None


def _check_retries(max_retries: int) -> None:
    if max_retries < 0:
        raise ConfigurationError("max_retries must be zero or more.")


def resolve_settings(
    url: str | None = None,
    key: str | _HasSecret | None = None,
    *,
    anon_key: str | _HasSecret | None = None,
    access_token: str | _HasSecret | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
    env: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Resolve client settings: explicit arguments first, then the environment, then defaults.

    Args:
        url: The Supabase project URL; else ``SUPABASE_URL``.
        key: The API key; else ``SUPABASE_SERVICE_ROLE_KEY``, else ``SUPABASE_ANON_KEY``.
        anon_key: The anon key for :meth:`as_user`; else ``SUPABASE_ANON_KEY``.
        access_token: A user's JWT to act as that user.
        timeout: Per-attempt timeout; else :data:`DEFAULT_TIMEOUT`.
        max_retries: Retries for retry-safe requests; else :data:`DEFAULT_MAX_RETRIES`.
        env: The environment to read (defaults to ``os.environ``).

    Returns:
        The resolved settings.

    Raises:
        ConfigurationError: The URL or the key is missing, the URL is not an http(s) URL, or
            ``access_token`` comes with the service-role key and no anon key is known.
    """
    environ = os.environ if env is None else env
    # Surrounding whitespace (a trailing newline from a .env file) is dropped, as for the keys.
    url = (url or "").strip() or (environ.get(ENV_URL) or "").strip() or None
    if not url:
        raise ConfigurationError(f"No Supabase URL: pass url= or set {ENV_URL}.")
    if any(char.isspace() or not char.isprintable() for char in url):
        raise ConfigurationError(
            f"The Supabase URL contains a space or a control character (from {ENV_URL})."
        )
    url = url.rstrip("/")
    if url.endswith(REST_PATH):
        # Accept the PostgREST root too, since that is what other tools print.
        url = url[: -len(REST_PATH)]
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"The Supabase URL must start with http:// or https:// (from {ENV_URL}).")

    def from_env(name: str) -> Secret | None:
        # Read only when no explicit argument wins, so a variable that is overridden is never checked.
        return _secret(environ.get(name), name)

    resolved_key = _secret(key, "API key (key=)") or from_env(ENV_SERVICE_ROLE_KEY) or from_env(ENV_ANON_KEY)
    if resolved_key is None:
        raise ConfigurationError(
            f"No Supabase API key: pass key= or set {ENV_SERVICE_ROLE_KEY} or {ENV_ANON_KEY}."
        )
    settings = ClientSettings(
        url=url,
        key=resolved_key,
        anon_key=_secret(anon_key, "anon key (anon_key=)") or from_env(ENV_ANON_KEY),
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout,
        max_retries=DEFAULT_MAX_RETRIES if isinstance(max_retries, NotGiven) else max_retries,
    )
    _check_retries(settings.max_retries)
    token = _secret(access_token, "access token")
    if token is not None:
        # The same rule as as_user(): a user's JWT travels with the anon key, never the service role's.
        settings = settings.for_user(token.get_secret_value())
    return settings

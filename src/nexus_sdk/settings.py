"""Client configuration, resolved in one place: explicit arguments, then the environment, then defaults.

Environment variables are Supabase's own names (``docs/configuration.md`` has the table):

- ``SUPABASE_URL``: the project URL (the SDK appends ``/rest/v1``).
- The API key, first set wins (:data:`KEY_VARS`): the secret keys ``SUPABASE_SECRET_KEYS`` (JSON, as
  Supabase provisions them), ``SUPABASE_SECRET_KEY`` (``sb_secret_...``), ``SUPABASE_SERVICE_ROLE_KEY``
  (legacy JWT); supabase-py's ``SUPABASE_KEY``; then the public keys ``SUPABASE_PUBLISHABLE_KEYS``,
  ``SUPABASE_PUBLISHABLE_KEY`` (``sb_publishable_...``), ``SUPABASE_ANON_KEY`` (legacy JWT).
- The anon key :meth:`NexusClient.as_user` sends when the client itself holds a secret key: the first
  public key of :data:`ANON_KEY_VARS` (``SUPABASE_KEY`` too when it holds a public key).

A variable holding the wrong kind of key (a secret key in ``SUPABASE_ANON_KEY``, say) is an error that names
the variable, never a silent change of role.

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
from nexus_sdk._types import NOT_GIVEN, NotGiven, strip_not_given
from nexus_sdk.errors import ConfigurationError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ANON_KEY_VARS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "ENV_ANON_KEY",
    "ENV_LOG",
    "ENV_SERVICE_ROLE_KEY",
    "ENV_URL",
    "KEY_VARS",
    "NOT_GIVEN",
    "REST_PATH",
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
ENV_LOG: Final = _env.NEXUS_LOG

DEFAULT_TIMEOUT: Final = 30.0
"""Seconds an attempt may take, body included, when neither the client nor the call sets a timeout."""
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
    """Per-attempt timeout: each attempt is over within it, body included (for an ``httpx.Timeout``,
    within its largest part, each part also bounding one network operation as in httpx)."""
    max_retries: int = DEFAULT_MAX_RETRIES
    """Retries after the first attempt for requests that are safe to repeat."""
    total_timeout: float | None = None
    """Seconds a whole call may take, every attempt and backoff wait included; ``None``: bounded only by
    ``timeout`` per attempt and ``max_retries``."""

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

    def for_user(self, access_token: str | _HasSecret) -> ClientSettings:
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
        _check_access_token(token.get_secret_value())
        return replace(self, key=key, access_token=token)

    def with_changes(self, **changes: Any) -> ClientSettings:
        """A copy with some fields replaced; ``NOT_GIVEN`` values are ignored."""
        given = strip_not_given(changes)
        if given.get("access_token") is not None:
            given["access_token"] = _secret(given["access_token"], "access token")
        settings = replace(self, **given)
        _check_retries(settings.max_retries)
        _check_total(settings.total_timeout)
        return settings


def _check_access_token(token: str) -> None:
    """Refuse, before anything is sent, a token that cannot be a signed-in user's (the message never quotes it).

    Otherwise it passes for "no user" and the first write says ``user_id is required unless the client
    acts as a user``, which sends the caller looking in the wrong place.
    """
    claims = jwt_claims(token)
    if not claims:
        raise ConfigurationError(
            "The access token is malformed: a Supabase access token is a JWT (three base64url parts separated "
            "by dots, the middle one a JSON object); check how it was copied."
        )
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise ConfigurationError(
            "The access token names no user (it has no 'sub' claim): pass the access_token of a signed-in "
            "user's session, not an API key."
        )


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


KEY_VARS: Final = (
    _env.SUPABASE_SECRET_KEYS,
    _env.SUPABASE_SECRET_KEY,
    _env.SUPABASE_SERVICE_ROLE_KEY,
    _env.SUPABASE_KEY,
    _env.SUPABASE_PUBLISHABLE_KEYS,
    _env.SUPABASE_PUBLISHABLE_KEY,
    _env.SUPABASE_ANON_KEY,
)
"""Where the API key is read from when ``key=`` is not given, first set wins: the secret (service-role)
keys, Supabase's newer names before the legacy one; supabase-py's ``SUPABASE_KEY``; then the public
(publishable, anon) keys. The ``..._KEYS`` variables hold a JSON object of named keys, as Supabase provisions
them (``{"default": "sb_secret_..."}``), and are read before the single-key form, as Supabase's own server
SDK does."""
ANON_KEY_VARS: Final = (
    _env.SUPABASE_PUBLISHABLE_KEYS,
    _env.SUPABASE_PUBLISHABLE_KEY,
    _env.SUPABASE_ANON_KEY,
    _env.SUPABASE_KEY,
)
"""Where the anon key (the one :meth:`ClientSettings.for_user` sends with a user's JWT) is read from when
``anon_key=`` is not given. ``SUPABASE_KEY`` counts only when it holds a public key."""

_SECRET_VARS: Final = frozenset(
    {_env.SUPABASE_SECRET_KEYS, _env.SUPABASE_SECRET_KEY, _env.SUPABASE_SERVICE_ROLE_KEY}
)
_PUBLIC_VARS: Final = frozenset(
    {_env.SUPABASE_PUBLISHABLE_KEYS, _env.SUPABASE_PUBLISHABLE_KEY, _env.SUPABASE_ANON_KEY}
)


def _named_key(name: str, text: str) -> str:
    """The key in a ``SUPABASE_..._KEYS`` variable: the one named ``default``, or the only one."""
    try:
        keys = json.loads(text)
    except ValueError:
        keys = None
    if not isinstance(keys, dict) or not all(isinstance(value, str) for value in keys.values()):
        # The text is not quoted: it holds keys.
        raise ConfigurationError(f'{name} must be a JSON object of named keys, e.g. {{"default": "sb_..."}}.')
    if "default" in keys:
        return str(keys["default"])
    if len(keys) == 1:
        return str(next(iter(keys.values())))
    names = ", ".join(sorted(repr(key) for key in keys)) or "none"
    raise ConfigurationError(
        f"{name} holds no key named 'default' (it has {names}): pass key= to choose one."
    )


def _key_from_env(environ: Mapping[str, str], names: tuple[str, ...]) -> Secret | None:
    """The first key set among ``names``, checked against the kind of key the variable is for."""
    for name in names:
        text = environ.get(name)
        if text is None or not text.strip():
            continue
        if name.endswith("_KEYS"):
            text = _named_key(name, text)
        secret = _secret(text, name)
        if secret is None:
            continue
        role = key_role(secret.get_secret_value())
        if name == _env.SUPABASE_KEY and names is ANON_KEY_VARS and role == "service_role":
            continue  # SUPABASE_KEY holds the secret key: it is the API key, not an anon key
        if name in _SECRET_VARS and role in ("anon", "authenticated"):
            raise ConfigurationError(
                f"{name} holds a public ({role}) key, not a secret one; check which key was copied."
            )
        if name in _PUBLIC_VARS and role == "service_role":
            raise ConfigurationError(
                f"{name} holds a secret (service-role) key, not a public one; it would bypass row-level security."
            )
        return secret
    return None


def _check_retries(max_retries: int) -> None:
    if max_retries < 0:
        raise ConfigurationError("max_retries must be zero or more.")


def _check_total(total_timeout: float | None) -> None:
    if total_timeout is not None and (
        isinstance(total_timeout, bool) or not isinstance(total_timeout, int | float) or not total_timeout > 0
    ):
        raise ConfigurationError("total_timeout must be a positive number of seconds, or None.")


def resolve_settings(
    url: str | None = None,
    key: str | _HasSecret | None = None,
    *,
    anon_key: str | _HasSecret | None = None,
    access_token: str | _HasSecret | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    max_retries: int | NotGiven = NOT_GIVEN,
    total_timeout: float | NotGiven | None = NOT_GIVEN,
    env: Mapping[str, str] | None = None,
) -> ClientSettings:
    """Resolve client settings: explicit arguments first, then the environment, then defaults.

    Args:
        url: The Supabase project URL; else ``SUPABASE_URL``.
        key: The API key; else the first variable of :data:`KEY_VARS` that is set.
        anon_key: The anon key for :meth:`as_user`; else the first of :data:`ANON_KEY_VARS` holding one.
        access_token: A user's JWT to act as that user.
        timeout: Per-attempt timeout; else :data:`DEFAULT_TIMEOUT`.
        max_retries: Retries for retry-safe requests; else :data:`DEFAULT_MAX_RETRIES`.
        total_timeout: Seconds a whole call may take, retries included; else none.
        env: The environment to read (defaults to ``os.environ``).

    Returns:
        The resolved settings.

    Raises:
        ConfigurationError: The URL or the key is missing, the URL is not an http(s) URL, a variable holds
            a key of the wrong kind (a secret key as the anon key, or the reverse), the access token is
            malformed or names no user, or ``access_token`` comes with the service-role key and no anon
            key is known.
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

    # Variables are read only when no explicit argument wins, so one that is overridden is never checked.
    resolved_key = _secret(key, "API key (key=)") or _key_from_env(environ, KEY_VARS)
    if resolved_key is None:
        raise ConfigurationError(
            f"No Supabase API key: pass key= or set one of {', '.join(KEY_VARS)} (read in this order)."
        )
    resolved_anon = _secret(anon_key, "anon key (anon_key=)") or _key_from_env(environ, ANON_KEY_VARS)
    if resolved_anon is not None and key_role(resolved_anon.get_secret_value()) == "service_role":
        raise ConfigurationError(
            "The anon key (anon_key= or the environment) is a secret (service-role) key: a client acting as a "
            "user would bypass row-level security. Use the anon or publishable key."
        )
    settings = ClientSettings(
        url=url,
        key=resolved_key,
        anon_key=resolved_anon,
        timeout=DEFAULT_TIMEOUT if isinstance(timeout, NotGiven) else timeout,
        max_retries=DEFAULT_MAX_RETRIES if isinstance(max_retries, NotGiven) else max_retries,
        total_timeout=None if isinstance(total_timeout, NotGiven) else total_timeout,
    )
    _check_retries(settings.max_retries)
    _check_total(settings.total_timeout)
    token = _secret(access_token, "access token")
    if token is not None:
        # The same rule as as_user(): a user's JWT travels with the anon key, never the service role's.
        # The Secret itself, not its value: a token that follows a session (from_supabase) stays live.
        settings = settings.for_user(token)
    return settings

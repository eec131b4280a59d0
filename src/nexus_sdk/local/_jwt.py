"""HS256 JWTs as Supabase issues them: the API keys, user access tokens, and their verification."""

from __future__ import annotations

import functools
import json
import secrets
import time
from typing import Any, Final

from nexus_sdk.errors import ConfigurationError
from nexus_sdk.local._errors import ApiError

try:
    import jwt
except ImportError as _exc:  # pragma: no cover - depends on the installed extras
    raise ConfigurationError("the local stack needs the extra: pip install 'nexus-sdk[local]'") from _exc

__all__ = ["LEEWAY_SECONDS", "claims_text", "mint", "new_secret", "verify"]

LEEWAY_SECONDS: Final = 30
"""PostgREST accepts ``exp``/``nbf``/``iat`` up to 30 seconds off, for clock skew."""

ISSUER: Final = "supabase-demo"
"""The ``iss`` of the API keys, as Supabase's local stack writes it."""

_TEN_YEARS: Final = 10 * 365 * 24 * 3600


def new_secret() -> str:
    """A fresh random signing secret (well over the 32 characters PostgREST requires)."""
    return secrets.token_urlsafe(48)


def mint(secret: str, claims: dict[str, Any]) -> str:
    """Sign ``claims`` with HS256."""
    return jwt.encode(claims, secret, algorithm="HS256")


def api_key(secret: str, role: str, *, now: int | None = None) -> str:
    """An API key: a long-lived JWT whose ``role`` claim is ``anon`` or ``service_role``."""
    iat = int(time.time()) if now is None else now
    return mint(secret, {"iss": ISSUER, "role": role, "iat": iat, "exp": iat + _TEN_YEARS})


def _decode_error(message: str, *, details: str | None = None) -> ApiError:
    # PostgREST 14's PGRST301, its WWW-Authenticate naming the message.
    return ApiError(
        401,
        "PGRST301",
        message,
        details=details,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{message}"'},
    )


def _claims_error(message: str) -> ApiError:
    return ApiError(
        401,
        "PGRST303",
        message,
        headers={"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{message}"'},
    )


@functools.lru_cache(maxsize=4096)
def _decode(secret: str, token: str) -> tuple[tuple[str, Any], ...]:
    # Signature checks dominate per-request cost and depend only on (secret, token); the time claims are
    # checked on every request by the caller. Failures raise and so are never cached.
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
    )
    return tuple(claims.items())


@functools.lru_cache(maxsize=4096)
def claims_text(secret: str, token: str) -> str:
    """The claims of a token :func:`verify` accepted, as the JSON of ``request.jwt.claims``.

    A token's claims never change, so their JSON is made once per token.
    """
    return json.dumps(dict(_decode(secret, token)))


def verify(secret: str, token: str) -> dict[str, Any]:
    """Check a JWT's signature and time claims the way PostgREST does.

    Args:
        secret: the HS256 secret.
        token: the compact JWT.

    Returns:
        The claims.

    Raises:
        ApiError: 401 PGRST301 when the token cannot be decoded or its signature is wrong, 401 PGRST303
            when ``exp``, ``nbf`` or ``iat`` fail (each with PostgREST's 30 second leeway).
    """
    parts = token.count(".") + 1
    if parts != 3:
        raise _decode_error(f"Expected 3 parts in JWT; got {parts}")
    try:
        # The time claims are checked below, so that each failure gets PostgREST's own wording.
        claims = dict(_decode(secret, token))
    except jwt.InvalidSignatureError as exc:
        # PostgREST 14 (jose-jwt): a token no key verifies.
        raise _decode_error(
            "No suitable key or wrong key type", details="None of the keys was able to decode the JWT"
        ) from exc
    except jwt.InvalidAlgorithmError as exc:
        raise _decode_error(
            "No suitable key or wrong key type", details="No suitable key was found to decode the JWT"
        ) from exc
    except jwt.InvalidTokenError as exc:
        raise _decode_error("JWT couldn't be decoded") from exc
    now = time.time()
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and not isinstance(value, int | float):
            raise _claims_error(f"The JWT '{name}' claim must be a number")
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if exp is not None and now - LEEWAY_SECONDS >= exp:
        raise _claims_error("JWT expired")
    if nbf is not None and now + LEEWAY_SECONDS < nbf:
        raise _claims_error("JWT not yet valid")
    if iat is not None and now + LEEWAY_SECONDS < iat:
        raise _claims_error("JWT issued at future")
    return claims

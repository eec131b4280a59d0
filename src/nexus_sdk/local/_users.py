"""Auth users and their tokens, as Supabase Auth (GoTrue) creates and signs them.

:func:`session_body` is the one place an access token for a session is made (the ``/auth/v1`` app and
:func:`create_user` both use it); :func:`mint_access_token` signs ad hoc tokens (expired ones, for tests).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from nexus_sdk.local import _jwt
from nexus_sdk.local._auth_store import AuthUser, SessionGrant

__all__ = ["DEFAULT_JWT_EXPIRY", "create_auth_user", "create_user", "mint_access_token", "session_body"]

DEFAULT_JWT_EXPIRY: Final = 3600
"""Seconds an access token lives (GoTrue's ``GOTRUE_JWT_EXP`` default)."""

_LOCAL_ISSUER: Final = "http://127.0.0.1/auth/v1"

_T = TypeVar("_T")


def mint_access_token(
    secret: str,
    user_id: str | uuid.UUID,
    *,
    email: str | None = None,
    role: str = "authenticated",
    expires_in: int = DEFAULT_JWT_EXPIRY,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A user access token with the claims Supabase Auth puts in one, for no session in particular.

    Args:
        secret: the stack's JWT secret.
        user_id: the ``sub`` claim (the ``auth.users`` id).
        email: the ``email`` claim.
        role: the ``role`` claim; PostgREST switches to this database role.
        expires_in: seconds until ``exp`` (negative values make an already expired token, for tests).
        extra_claims: more claims, overriding the defaults.

    Returns:
        The signed JWT.
    """
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": _LOCAL_ISSUER,
        "sub": str(user_id),
        "aud": "authenticated",
        "role": role,
        "email": email or "",
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {},
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
        "iat": now,
        "exp": now + expires_in,
    }
    claims.update(extra_claims or {})
    return _jwt.mint(secret, claims)


def session_body(
    secret: str, user: AuthUser, grant: SessionGrant, *, issuer: str, expires_in: int = DEFAULT_JWT_EXPIRY
) -> dict[str, Any]:
    """The session GoTrue answers a sign-up, sign-in or refresh with, its access token signed here.

    Args:
        secret: the stack's JWT secret.
        user: the signed-in user.
        grant: the session and its new refresh token.
        issuer: the ``iss`` claim, ``<API URL>/auth/v1``.
        expires_in: the access token's lifetime in seconds.

    Returns:
        ``{access_token, token_type, expires_in, expires_at, refresh_token, user}``.
    """
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": str(user.id),
        "aud": user.aud,
        "exp": now + expires_in,
        "iat": now,
        "email": user.email or "",
        "phone": user.phone or "",
        "app_metadata": user.app_metadata,
        "user_metadata": user.user_metadata,
        "role": user.role,
        "aal": "aal1",
        "amr": [{"method": grant.method, "timestamp": grant.authenticated_at or now}],
        "session_id": str(grant.session_id),
        "is_anonymous": user.is_anonymous,
    }
    return {
        "access_token": _jwt.mint(secret, claims),
        "token_type": "bearer",
        "expires_in": expires_in,
        "expires_at": now + expires_in,
        "refresh_token": grant.refresh_token,
        "user": user.to_json(),
    }


def _run(factory: Callable[[], Awaitable[_T]]) -> _T:
    """Run a coroutine to completion from sync code, also where an event loop already runs (Jupyter)."""

    async def main() -> _T:
        return await factory()

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="nexus-sdk-auth") as pool:
        return pool.submit(asyncio.run, main()).result()


def create_user(
    database_url: str,
    jwt_secret: str,
    email: str,
    *,
    password: str | None = None,
    metadata: dict[str, Any] | None = None,
    issuer: str = _LOCAL_ISSUER,
    expires_in: int = DEFAULT_JWT_EXPIRY,
    user_id: uuid.UUID | str | None = None,
) -> tuple[AuthUser, dict[str, Any]]:
    """Create a confirmed email user, as the admin API does, and open a session for them.

    The same code as ``POST /auth/v1/admin/users`` followed by a sign-in, without the HTTP: the signup
    trigger creates the ``public.users`` row, the password (if any) is stored bcrypt-hashed and works for
    ``POST /auth/v1/token?grant_type=password``.

    Args:
        database_url: a connection URL with the privileges of ``postgres`` (the stack's ``DATABASE_URL``).
        jwt_secret: the stack's JWT secret.
        email: the user's email.
        password: the user's password (at least 6 characters); none by default.
        metadata: user metadata (e.g. ``{"full_name": ...}``), which the trigger copies.
        issuer: the ``iss`` claim of the access token.
        expires_in: the access token's lifetime in seconds.
        user_id: a fixed id (e.g. the same user in a second database); a new one by default.

    Returns:
        The user and the session (``access_token``, ``refresh_token``, ...).

    Raises:
        AuthRefusal: the email is taken, or the password is too weak.
    """
    from nexus_sdk.local import _auth_service

    async def work() -> tuple[AuthUser, dict[str, Any]]:
        import psycopg

        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            await _auth_service.act_as_auth_server(conn)
            user = await _auth_service.admin_create(
                conn,
                {
                    "email": email,
                    "password": password,
                    "email_confirm": True,
                    "user_metadata": metadata or {},
                    "id": None if user_id is None else str(user_id),
                },
            )
            grant = await _auth_service.open_session(conn, user, method="password")
            await conn.commit()
        return user, session_body(jwt_secret, user, grant, issuer=issuer, expires_in=expires_in)

    return _run(work)


def create_auth_user(
    database_url: str,
    email: str,
    *,
    password: str | None = None,
    metadata: dict[str, Any] | None = None,
    user_id: uuid.UUID | str | None = None,
) -> uuid.UUID:
    """Create a confirmed email user (see :func:`create_user`) and return only its id.

    Args:
        database_url: a connection URL with the privileges of ``postgres``.
        email: the user's email.
        password: the user's password; none by default.
        metadata: user metadata.
        user_id: a fixed id; a new one by default.

    Returns:
        The new user's id.
    """
    # The session's token is signed with a throwaway secret and dropped: only the user is wanted.
    user, _ = create_user(
        database_url, _jwt.new_secret(), email, password=password, metadata=metadata, user_id=user_id
    )
    return user.id

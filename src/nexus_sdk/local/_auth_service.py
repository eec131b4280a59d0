"""GoTrue's rules without the HTTP: what a sign-up, sign-in, refresh, update or admin call checks and does.

Each function runs on a connection inside the caller's transaction and raises :class:`AuthRefusal` (an
HTTP status, GoTrue's ``error_code`` and its message) for anything GoTrue refuses. Messages never contain a
password or a token.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import psycopg

from nexus_sdk.local import _auth_store as store
from nexus_sdk.local._auth_store import AuthUser, SessionGrant

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AuthRefusal",
    "act_as_auth_server",
    "admin_create",
    "admin_update",
    "open_session",
    "refresh",
    "sign_in_with_password",
    "sign_up",
    "update_self",
]

MIN_PASSWORD_LENGTH: Final = 6
"""GoTrue's default ``GOTRUE_PASSWORD_MIN_LENGTH``."""

_MAX_PASSWORD_BYTES: Final = 72  # bcrypt's limit, which GoTrue enforces
_EMAIL: Final = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_DURATION: Final = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms)$")


_dummy: list[str] = []


async def _dummy_hash() -> str:
    if not _dummy:
        _dummy.append(await store.hash_password("nexus-sdk: no such user"))
    return _dummy[0]


class AuthRefusal(Exception):
    """A request GoTrue refuses: ``status``, ``error_code`` and ``msg`` as it answers them."""

    def __init__(self, status: int, error_code: str, msg: str, **extra: Any) -> None:
        super().__init__(msg)
        self.status = status
        self.error_code = error_code
        self.msg = msg
        self.extra = extra
        """More top-level keys of the answer (``weak_password``)."""


def refused_feature(feature: str, error_code: str = "feature_not_supported") -> AuthRefusal:
    """A GoTrue feature the local stack does not implement: a clear 400, never a wrong success."""
    return AuthRefusal(
        400,
        error_code,
        f"{feature} is not supported by the nexus-sdk local stack (see docs/local-stack.md)",
    )


async def act_as_auth_server(conn: psycopg.AsyncConnection[Any]) -> None:
    """Run as ``supabase_auth_admin`` (GoTrue's role) where it owns ``auth.users`` and may be assumed.

    So the Nexus signup trigger runs here as it runs behind Supabase Auth; a database bootstrapped by a
    role that could not hand the tables over keeps the connecting role.
    """
    cur = await conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = 'auth' AND tablename = 'users' "
        "AND tableowner = 'supabase_auth_admin') AND pg_catalog.pg_has_role('supabase_auth_admin', 'MEMBER')"
    )
    row = await cur.fetchone()
    if row is not None and row[0]:
        await conn.execute("SET ROLE supabase_auth_admin")
    await conn.commit()


# --- input checks -----------------------------------------------------------------------------------------


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AuthRefusal(400, "validation_failed", f"{key} must be a string")
    return value


def _email(body: dict[str, Any]) -> str | None:
    email = _text(body, "email")
    if email is None:
        return None
    email = email.strip().lower()
    if len(email) > 255 or not _EMAIL.match(email):
        raise AuthRefusal(400, "validation_failed", "Unable to validate email address: invalid format")
    return email


def _metadata(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise AuthRefusal(400, "validation_failed", f"{key} must be a JSON object")
    return value


def check_password_strength(password: str) -> None:
    """GoTrue's default password rules: at least 6 characters, at most 72 bytes.

    Raises:
        AuthRefusal: 422 ``weak_password`` (with ``weak_password.reasons``), or 400 for a password bcrypt
            cannot hash.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthRefusal(
            422,
            "weak_password",
            f"Password should be at least {MIN_PASSWORD_LENGTH} characters.",
            weak_password={"reasons": ["length"]},
        )
    if len(password.encode()) > _MAX_PASSWORD_BYTES:
        raise AuthRefusal(
            400, "validation_failed", f"Password cannot be longer than {_MAX_PASSWORD_BYTES} characters"
        )


def _ban_until(value: Any) -> datetime | None:
    """``ban_duration``: ``"none"`` lifts a ban; ``"24h"``, ``"30m"``, ``"90s"`` set one."""
    if value == "none":
        return None
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise AuthRefusal(400, "validation_failed", "invalid format for ban duration")
    amount, unit = float(match.group(1)), match.group(2)
    seconds = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[unit] * amount
    try:
        return datetime.now(UTC) + timedelta(seconds=seconds)
    except OverflowError as exc:  # past year 9999 (or an infinite float): no calendar holds it
        raise AuthRefusal(400, "validation_failed", "invalid format for ban duration") from exc


def _refuse_phone(body: dict[str, Any]) -> None:
    if _text(body, "phone") is not None:
        raise refused_feature("Phone sign-up and sign-in (SMS)", "phone_provider_disabled")


# --- sessions ---------------------------------------------------------------------------------------------


async def open_session(conn: psycopg.AsyncConnection[Any], user: AuthUser, *, method: str) -> SessionGrant:
    """Open a session for ``user`` (after the caller checked how they signed in)."""
    return await store.create_session(conn, user, method=method)


async def sign_up(conn: psycopg.AsyncConnection[Any], body: dict[str, Any]) -> tuple[AuthUser, SessionGrant]:
    """``POST /signup``: an email user (auto-confirmed) or, without email and phone, an anonymous one.

    Raises:
        AuthRefusal: bad email, weak password, email registered, phone sign-up.
    """
    _refuse_phone(body)
    email = _email(body)
    password = _text(body, "password")
    data = _metadata(body, "data") or {}
    if email is None:
        if password is not None:
            raise AuthRefusal(400, "validation_failed", "Signup requires a valid email or phone")
        user = await store.create_user(
            conn, email=None, password_hash=None, user_metadata=data, email_confirmed=False, anonymous=True
        )
        return user, await open_session(conn, user, method="anonymous")
    if password is None:
        raise AuthRefusal(400, "validation_failed", "Signup requires a valid password")
    check_password_strength(password)
    if await store.user_by_email(conn, email) is not None:
        raise AuthRefusal(422, "user_already_exists", "User already registered")
    user = await _insert(
        conn,
        email=email,
        password_hash=await store.hash_password(password),
        user_metadata=data,
        email_confirmed=True,
        duplicate=AuthRefusal(422, "user_already_exists", "User already registered"),
    )
    return user, await open_session(conn, user, method="password")


async def _insert(conn: psycopg.AsyncConnection[Any], *, duplicate: AuthRefusal, **fields: Any) -> AuthUser:
    try:
        async with conn.transaction():
            return await store.create_user(conn, **fields)
    except psycopg.errors.UniqueViolation as exc:  # a concurrent sign-up with the same email
        raise duplicate from exc


async def sign_in_with_password(
    conn: psycopg.AsyncConnection[Any], body: dict[str, Any]
) -> tuple[AuthUser, SessionGrant]:
    """``POST /token?grant_type=password``.

    Raises:
        AuthRefusal: 400 ``invalid_credentials`` (unknown email or wrong password, indistinguishably),
            ``email_not_confirmed``, ``user_banned``.
    """
    _refuse_phone(body)
    email = _text(body, "email")
    password = _text(body, "password")
    invalid = AuthRefusal(400, "invalid_credentials", "Invalid login credentials")
    if email is None or password is None:
        raise invalid
    user = await store.user_by_email(conn, email.strip())
    # Always run bcrypt once, so an unknown email answers no faster than a wrong password.
    stored = user.encrypted_password if user is not None and user.encrypted_password else await _dummy_hash()
    matches = await store.check_password(password, stored) and user is not None
    if user is None or not matches:
        raise invalid
    if user.banned:
        raise AuthRefusal(400, "user_banned", "User is banned")
    if user.email_confirmed_at is None:
        raise AuthRefusal(400, "email_not_confirmed", "Email not confirmed")
    return user, await open_session(conn, user, method="password")


async def refresh(
    conn: psycopg.AsyncConnection[Any], body: dict[str, Any], *, reuse_interval: float
) -> tuple[AuthUser, SessionGrant]:
    """``POST /token?grant_type=refresh_token``, with rotation and GoTrue's reuse detection.

    Raises:
        AuthRefusal: 400 ``refresh_token_not_found`` (unknown, or its session signed out),
            ``refresh_token_already_used`` (reuse outside the allowed window: the session's tokens are
            revoked, and the caller must commit before answering).
    """
    token = _text(body, "refresh_token")
    if token is None:
        raise AuthRefusal(400, "validation_failed", "refresh_token required")
    found = await store.find_refresh_token(conn, token)
    if found is None:
        raise AuthRefusal(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
    user = await store.get_user(conn, found.user_id)
    if user is None:
        raise AuthRefusal(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
    if user.banned:
        raise AuthRefusal(400, "user_banned", "User is banned")
    grant = await store.rotate_refresh_token(conn, found, reuse_interval=reuse_interval)
    if grant is None:
        raise AuthRefusal(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
    return user, grant


async def update_self(
    conn: psycopg.AsyncConnection[Any],
    user: AuthUser,
    body: dict[str, Any],
    *,
    session_id: uuid.UUID | None = None,
) -> AuthUser:
    """``PUT /user``: ``data`` (merged into user metadata), ``email`` (applied at once: email
    confirmations are off), ``password``.

    A new password ends every other session of the user, as GoTrue does (whoever held one of their refresh
    tokens must sign in again); ``session_id`` is the session making the change, which stays.

    Raises:
        AuthRefusal: weak or unchanged password, email taken, bad email, phone change.
    """
    if _text(body, "phone") is not None:
        raise refused_feature("Changing the phone number (SMS)", "phone_provider_disabled")
    email = _email(body)
    password = _text(body, "password")
    data = _metadata(body, "data")
    password_hash = None
    if password is not None and user.is_anonymous and email is None:
        # As GoTrue: a password without an email is an account nobody could ever sign in to.
        raise AuthRefusal(
            422,
            "validation_failed",
            "Updating password of an anonymous user without an email or phone is not allowed",
        )
    if password is not None:
        check_password_strength(password)
        if await store.check_password(password, user.encrypted_password):
            raise AuthRefusal(422, "same_password", "New password should be different from the old password.")
        password_hash = await store.hash_password(password)
    email = await _new_email(conn, user, email)
    try:
        async with conn.transaction():
            updated = await store.update_user(
                conn, user, email=email, password_hash=password_hash, user_metadata=data
            )
    except psycopg.errors.UniqueViolation as exc:
        raise AuthRefusal(
            422, "email_exists", "A user with this email address has already been registered"
        ) from exc
    if password_hash is not None:
        await store.delete_sessions(conn, user.id, only=None, keep=session_id)
    return updated


# --- admin ------------------------------------------------------------------------------------------------


def parse_user_id(text: str, *, status: int = 404) -> uuid.UUID:
    """A user id from a path (404 ``user_not_found`` when it is not a UUID) or a body (400).

    Raises:
        AuthRefusal: the text is not a UUID.
    """
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        if status == 404:
            raise AuthRefusal(404, "user_not_found", "User not found") from exc
        raise AuthRefusal(400, "validation_failed", "id must be a UUID") from exc


async def admin_create(conn: psycopg.AsyncConnection[Any], body: dict[str, Any]) -> AuthUser:
    """``POST /admin/users``: ``email``, ``password``, ``email_confirm``, ``user_metadata``,
    ``app_metadata``, ``phone``, ``phone_confirm``, ``role``, ``ban_duration``, ``id``.

    Raises:
        AuthRefusal: 422 ``email_exists``, weak password, bad input.
    """
    email = _email(body)
    phone = _text(body, "phone")
    password = _text(body, "password")
    if email is None and phone is None:
        raise AuthRefusal(400, "validation_failed", "Unable to validate email address: invalid format")
    if password is not None:
        check_password_strength(password)
    if email is not None and await store.user_by_email(conn, email) is not None:
        raise AuthRefusal(422, "email_exists", "A user with this email address has already been registered")
    role = _text(body, "role") or "authenticated"
    raw_id = _text(body, "id")
    user = await _insert(
        conn,
        email=email,
        password_hash=await store.hash_password(password) if password is not None else None,
        user_metadata=_metadata(body, "user_metadata") or _metadata(body, "data") or {},
        app_metadata=_metadata(body, "app_metadata"),
        email_confirmed=bool(body.get("email_confirm")),
        phone=phone,
        phone_confirmed=bool(body.get("phone_confirm")),
        role=role,
        user_id=parse_user_id(raw_id, status=400) if raw_id else None,
        duplicate=AuthRefusal(
            422, "email_exists", "A user with this email address has already been registered"
        ),
    )
    if "ban_duration" in body:
        user = await store.update_user(conn, user, banned_until=_ban_until(body["ban_duration"]))
    return user


async def _new_email(conn: psycopg.AsyncConnection[Any], user: AuthUser, email: str | None) -> str | None:
    """The email to change ``user``'s to: None when none was given or it is the current one.

    Raises:
        AuthRefusal: 422 ``email_exists`` when another user has it.
    """
    if email is None or email == (user.email or "").lower():
        return None
    other = await store.user_by_email(conn, email)
    if other is not None and other.id != user.id:
        raise AuthRefusal(422, "email_exists", "A user with this email address has already been registered")
    return email


async def admin_update(conn: psycopg.AsyncConnection[Any], user: AuthUser, body: dict[str, Any]) -> AuthUser:
    """``PUT /admin/users/{id}``: like :func:`admin_create`'s fields; metadata is merged.

    A new password ends every session of the user, as GoTrue does.

    Raises:
        AuthRefusal: 422 ``email_exists``, weak password, bad input.
    """
    email = _email(body)
    password = _text(body, "password")
    password_hash = None
    if password is not None:
        check_password_strength(password)
        password_hash = await store.hash_password(password)
    email = await _new_email(conn, user, email)
    confirm = body.get("email_confirm")
    ban: datetime | bool | None = _ban_until(body["ban_duration"]) if "ban_duration" in body else False
    try:
        async with conn.transaction():
            updated = await store.update_user(
                conn,
                user,
                email=email,
                password_hash=password_hash,
                user_metadata=_metadata(body, "user_metadata"),
                app_metadata=_metadata(body, "app_metadata"),
                email_confirmed=bool(confirm) if confirm is not None else None,
                role=_text(body, "role"),
                banned_until=ban,
            )
    except psycopg.errors.UniqueViolation as exc:
        raise AuthRefusal(
            422, "email_exists", "A user with this email address has already been registered"
        ) from exc
    if password_hash is not None:
        await store.delete_sessions(conn, user.id, only=None, keep=None)
    return updated

"""Supabase Auth's storage for the local stack: users, identities, sessions and refresh tokens in ``auth``.

Every function takes an open connection inside a transaction and does no HTTP: the ``/auth/v1`` app, the
``nexus-sdk local user create`` command and :meth:`LocalStack.create_user` all go through them. Refresh
tokens are stored as their SHA-256, never as themselves. Passwords are hashed with bcrypt (cost 10, as
GoTrue), off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import psycopg
from psycopg import sql

from nexus_sdk._redact import MASK

__all__ = [
    "AuthUser",
    "SessionGrant",
    "check_password",
    "count_users",
    "create_session",
    "create_user",
    "delete_sessions",
    "delete_user",
    "ensure_storage",
    "find_refresh_token",
    "get_user",
    "hash_password",
    "list_users",
    "rotate_refresh_token",
    "session_exists",
    "update_user",
    "user_by_email",
]

BCRYPT_COST: Final = 10
"""GoTrue hashes with Go's ``bcrypt.DefaultCost``."""
_BCRYPT_MAX_BYTES: Final = 72

_USER_COLUMNS: Final = (
    "id, aud, role, email, encrypted_password, email_confirmed_at, phone, phone_confirmed_at, "
    "last_sign_in_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at, banned_until, "
    "is_anonymous, invited_at"
)


@dataclass(frozen=True)
class AuthUser:
    """A row of ``auth.users`` (the columns the local Auth reads) and its identities."""

    id: uuid.UUID
    aud: str
    role: str
    email: str | None
    encrypted_password: str | None
    email_confirmed_at: datetime | None
    phone: str | None
    phone_confirmed_at: datetime | None
    last_sign_in_at: datetime | None
    app_metadata: dict[str, Any]
    user_metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    banned_until: datetime | None
    is_anonymous: bool
    invited_at: datetime | None
    identities: tuple[dict[str, Any], ...] = ()

    def __repr__(self) -> str:
        return f"AuthUser(id={self.id!r}, email={self.email!r})"

    @property
    def banned(self) -> bool:
        """Whether ``banned_until`` lies in the future."""
        return self.banned_until is not None and self.banned_until > datetime.now(UTC)

    def to_json(self) -> dict[str, Any]:
        """The user as GoTrue answers it (timestamps left out when unset, as GoTrue's ``omitempty``)."""
        confirmed = [t for t in (self.email_confirmed_at, self.phone_confirmed_at) if t is not None]
        body: dict[str, Any] = {
            "id": str(self.id),
            "aud": self.aud,
            "role": self.role,
            "email": self.email or "",
            "email_confirmed_at": _iso(self.email_confirmed_at),
            "phone": self.phone or "",
            "phone_confirmed_at": _iso(self.phone_confirmed_at),
            "confirmed_at": _iso(min(confirmed)) if confirmed else None,
            "last_sign_in_at": _iso(self.last_sign_in_at),
            "invited_at": _iso(self.invited_at),
            "banned_until": _iso(self.banned_until),
            "app_metadata": self.app_metadata,
            "user_metadata": self.user_metadata,
            "identities": list(self.identities),
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "is_anonymous": self.is_anonymous,
        }
        return {key: value for key, value in body.items() if value is not None}


@dataclass(frozen=True)
class SessionGrant:
    """A session just opened or refreshed: its id and the refresh token to hand out (once)."""

    session_id: uuid.UUID
    refresh_token: str
    method: str
    """The ``amr`` method that opened the session (``password``, ``anonymous``)."""
    authenticated_at: int
    """When that happened (seconds since the epoch), the ``amr`` timestamp."""

    def __repr__(self) -> str:
        return f"SessionGrant(session_id={self.session_id!r}, refresh_token='{MASK}')"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(16)


async def hash_password(password: str) -> str:
    """A bcrypt hash of ``password``, computed in a worker thread (it takes tens of milliseconds)."""
    import bcrypt

    return (await asyncio.to_thread(bcrypt.hashpw, password.encode(), bcrypt.gensalt(BCRYPT_COST))).decode()


async def check_password(password: str, hashed: str | None) -> bool:
    """Whether ``password`` matches a bcrypt ``hashed`` (False for a user without a password).

    A password longer than bcrypt's 72 bytes never matches: bcrypt 4.x would compare only its first 72
    bytes (5.x raises), and no stored password is longer (:func:`hash_password`'s callers refuse them).
    """
    import bcrypt

    secret = password.encode()
    if not hashed or len(secret) > _BCRYPT_MAX_BYTES:
        return False
    try:
        return await asyncio.to_thread(bcrypt.checkpw, secret, hashed.encode())
    except ValueError:  # not a bcrypt hash (e.g. set by hand)
        return False


# --- storage ------------------------------------------------------------------------------------------------


async def ensure_storage(conn: psycopg.AsyncConnection[Any], storage_sql: str) -> None:
    """Create the auth tables where an older bootstrap made ``auth`` without them.

    Never on a database whose ``auth`` schema GoTrue manages (it keeps ``auth.schema_migrations``).
    """
    cur = await conn.execute(
        "SELECT to_regclass('auth.users') IS NOT NULL, to_regclass('auth.refresh_tokens') IS NOT NULL "
        "AND to_regclass('auth.mfa_amr_claims') IS NOT NULL, to_regclass('auth.schema_migrations') IS NOT NULL"
    )
    row = await cur.fetchone()
    if row is None or not row[0] or row[1] or row[2]:
        return
    await conn.execute(storage_sql.encode())


# --- users --------------------------------------------------------------------------------------------------


async def _identities(
    conn: psycopg.AsyncConnection[Any], user_ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[dict[str, Any], ...]]:
    """The identities of these users (one query for a whole page of users)."""
    cur = await conn.execute(
        "SELECT id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, "
        "email FROM auth.identities WHERE user_id = ANY(%s) ORDER BY created_at, id",
        (user_ids,),
    )
    found: dict[uuid.UUID, list[dict[str, Any]]] = {uid: [] for uid in user_ids}
    for r in await cur.fetchall():
        identity = {
            "identity_id": str(r[0]),
            "id": r[1],
            "user_id": str(r[2]),
            "identity_data": r[3],
            "provider": r[4],
            "last_sign_in_at": _iso(r[5]),
            "created_at": _iso(r[6]),
            "updated_at": _iso(r[7]),
            "email": r[8],
        }
        found[r[2]].append({k: v for k, v in identity.items() if v is not None})
    return {uid: tuple(items) for uid, items in found.items()}


async def _users_from(conn: psycopg.AsyncConnection[Any], rows: list[tuple[Any, ...]]) -> list[AuthUser]:
    identities = await _identities(conn, [row[0] for row in rows]) if rows else {}
    return [
        AuthUser(
            id=row[0],
            aud=row[1] or "authenticated",
            role=row[2] or "authenticated",
            email=row[3],
            encrypted_password=row[4],
            email_confirmed_at=row[5],
            phone=row[6],
            phone_confirmed_at=row[7],
            last_sign_in_at=row[8],
            app_metadata=row[9] or {},
            user_metadata=row[10] or {},
            created_at=row[11],
            updated_at=row[12],
            banned_until=row[13],
            is_anonymous=bool(row[14]),
            invited_at=row[15],
            identities=identities[row[0]],
        )
        for row in rows
    ]


async def _user_from(conn: psycopg.AsyncConnection[Any], row: tuple[Any, ...] | None) -> AuthUser | None:
    if row is None:
        return None
    (user,) = await _users_from(conn, [row])
    return user


async def get_user(conn: psycopg.AsyncConnection[Any], user_id: uuid.UUID) -> AuthUser | None:
    """The user with this id, if any."""
    cur = await conn.execute(f"SELECT {_USER_COLUMNS} FROM auth.users WHERE id = %s", (user_id,))  # noqa: S608
    return await _user_from(conn, await cur.fetchone())


async def user_by_email(conn: psycopg.AsyncConnection[Any], email: str) -> AuthUser | None:
    """The (non-SSO) user with this email, compared without case, if any."""
    cur = await conn.execute(
        f"SELECT {_USER_COLUMNS} FROM auth.users WHERE lower(email) = lower(%s) AND NOT is_sso_user",  # noqa: S608
        (email,),
    )
    return await _user_from(conn, await cur.fetchone())


async def create_user(
    conn: psycopg.AsyncConnection[Any],
    *,
    email: str | None,
    password_hash: str | None,
    user_metadata: dict[str, Any],
    app_metadata: dict[str, Any] | None = None,
    email_confirmed: bool,
    phone: str | None = None,
    phone_confirmed: bool = False,
    anonymous: bool = False,
    role: str = "authenticated",
    user_id: uuid.UUID | None = None,
) -> AuthUser:
    """Insert a user (the schema's signup trigger then creates ``public.users``) and its identity.

    As GoTrue does, an email user gets an ``email`` identity whose data (``sub``, ``email``,
    ``email_verified``, ``phone_verified``) is also merged under the given user metadata.

    Raises:
        psycopg.errors.UniqueViolation: The email (or phone) is taken.
    """
    uid = user_id or uuid.uuid4()
    provider = "anonymous" if anonymous else ("email" if email else ("phone" if phone else None))
    app = {} if anonymous else {"provider": provider, "providers": [provider]} if provider else {}
    app.update(app_metadata or {})
    identity_data: dict[str, Any] | None = None
    meta = dict(user_metadata)
    if email:
        identity_data = {
            "sub": str(uid),
            "email": email,
            "email_verified": email_confirmed,
            "phone_verified": False,
        }
        meta = {**identity_data, **meta}
    await conn.execute(
        "INSERT INTO auth.users (instance_id, id, aud, role, email, encrypted_password, email_confirmed_at, "
        "phone, phone_confirmed_at, raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, "
        "updated_at) VALUES ('00000000-0000-0000-0000-000000000000', %(id)s, 'authenticated', %(role)s, "
        "%(email)s, %(pw)s, CASE WHEN %(ec)s THEN now() END, %(phone)s, CASE WHEN %(pc)s THEN now() END, "
        "%(app)s::jsonb, %(meta)s::jsonb, %(anon)s, now(), now())",
        {
            "id": uid,
            "role": role,
            "email": email,
            "pw": password_hash or "",
            "ec": email_confirmed and email is not None,
            "phone": phone,
            "pc": phone_confirmed and phone is not None,
            "app": json.dumps(app),
            "meta": json.dumps(meta),
            "anon": anonymous,
        },
    )
    if identity_data is not None:
        await conn.execute(
            "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, "
            "updated_at) VALUES (%s, %s, %s::jsonb, 'email', now(), now())",
            (str(uid), uid, json.dumps(identity_data)),
        )
    user = await get_user(conn, uid)
    assert user is not None
    return user


async def update_user(
    conn: psycopg.AsyncConnection[Any],
    user: AuthUser,
    *,
    email: str | None = None,
    password_hash: str | None = None,
    user_metadata: dict[str, Any] | None = None,
    app_metadata: dict[str, Any] | None = None,
    email_confirmed: bool | None = None,
    role: str | None = None,
    banned_until: datetime | bool | None = False,
) -> AuthUser:
    """Change a user; metadata is merged key by key (a ``null`` value removes the key), as in GoTrue.

    ``banned_until=False`` leaves the ban alone; ``None`` lifts it.

    Raises:
        psycopg.errors.UniqueViolation: The new email is taken.
    """
    sets: list[sql.Composable] = [sql.SQL("updated_at = now()")]
    params: dict[str, Any] = {"id": user.id}
    if user_metadata is not None:
        merged = {**user.user_metadata, **user_metadata}
        params["meta"] = json.dumps({k: v for k, v in merged.items() if v is not None})
        sets.append(sql.SQL("raw_user_meta_data = %(meta)s::jsonb"))
    app = dict(user.app_metadata)
    if app_metadata is not None:
        app.update(app_metadata)
    if email is not None and user.is_anonymous:
        # An anonymous user who gets an email becomes a permanent email user.
        app.update({"provider": "email", "providers": ["email"]})
        sets.append(sql.SQL("is_anonymous = false"))
    if app != user.app_metadata:
        params["app"] = json.dumps({k: v for k, v in app.items() if v is not None})
        sets.append(sql.SQL("raw_app_meta_data = %(app)s::jsonb"))
    if email is not None:
        params["email"] = email
        sets.append(sql.SQL("email = %(email)s"))
        if email_confirmed is None:
            email_confirmed = True
    if email_confirmed is not None:
        sets.append(
            sql.SQL("email_confirmed_at = now()") if email_confirmed else sql.SQL("email_confirmed_at = NULL")
        )
    if password_hash is not None:
        params["pw"] = password_hash
        sets.append(sql.SQL("encrypted_password = %(pw)s"))
    if role is not None:
        params["role"] = role
        sets.append(sql.SQL("role = %(role)s"))
    if banned_until is not False:
        params["ban"] = banned_until
        sets.append(sql.SQL("banned_until = %(ban)s"))
    await conn.execute(
        sql.SQL("UPDATE auth.users SET {} WHERE id = %(id)s").format(sql.SQL(", ").join(sets)), params
    )
    if email is not None:
        data = {"sub": str(user.id), "email": email, "email_verified": True, "phone_verified": False}
        await conn.execute(
            "INSERT INTO auth.identities (provider_id, user_id, identity_data, provider, created_at, "
            "updated_at) VALUES (%s, %s, %s::jsonb, 'email', now(), now()) ON CONFLICT (provider_id, provider) "
            "DO UPDATE SET identity_data = excluded.identity_data, updated_at = now()",
            (str(user.id), user.id, json.dumps(data)),
        )
    updated = await get_user(conn, user.id)
    assert updated is not None
    return updated


async def delete_user(conn: psycopg.AsyncConnection[Any], user_id: uuid.UUID) -> bool:
    """Delete a user; its identities, sessions and every Nexus row go with it (foreign keys cascade)."""
    cur = await conn.execute("DELETE FROM auth.users WHERE id = %s", (user_id,))
    return cur.rowcount > 0


async def count_users(conn: psycopg.AsyncConnection[Any]) -> int:
    """How many users there are."""
    cur = await conn.execute("SELECT count(*) FROM auth.users")
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def list_users(
    conn: psycopg.AsyncConnection[Any], *, page: int, per_page: int
) -> tuple[list[AuthUser], int]:
    """One page of users, newest first, and the total count."""
    total = await count_users(conn)
    cur = await conn.execute(
        f"SELECT {_USER_COLUMNS} FROM auth.users ORDER BY created_at DESC, id LIMIT %s OFFSET %s",  # noqa: S608
        (per_page, (page - 1) * per_page),
    )
    return await _users_from(conn, list(await cur.fetchall())), total


# --- sessions and refresh tokens ----------------------------------------------------------------------------


async def create_session(conn: psycopg.AsyncConnection[Any], user: AuthUser, *, method: str) -> SessionGrant:
    """Open a session for ``user`` (signed in by ``method``) with its first refresh token."""
    session_id = uuid.uuid4()
    token = _new_refresh_token()
    cur = await conn.execute(
        "WITH s AS (INSERT INTO auth.sessions (id, user_id, created_at, updated_at, aal) "
        "VALUES (%(sid)s, %(uid)s, now(), now(), 'aal1') RETURNING created_at), "
        "a AS (INSERT INTO auth.mfa_amr_claims (session_id, created_at, updated_at, authentication_method, id) "
        "VALUES (%(sid)s, now(), now(), %(method)s, gen_random_uuid())), "
        "r AS (INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, "
        "session_id) VALUES ('00000000-0000-0000-0000-000000000000', %(token)s, %(uid)s::text, false, now(), "
        "now(), %(sid)s)), "
        "u AS (UPDATE auth.users SET last_sign_in_at = now() WHERE id = %(uid)s) "
        "SELECT extract(epoch FROM created_at)::bigint FROM s",
        {"sid": session_id, "uid": user.id, "method": method, "token": _digest(token)},
    )
    row = await cur.fetchone()
    return SessionGrant(session_id, token, method, int(row[0]) if row else 0)


async def session_exists(conn: psycopg.AsyncConnection[Any], session_id: uuid.UUID) -> bool:
    """Whether the session is still open (not signed out)."""
    cur = await conn.execute("SELECT 1 FROM auth.sessions WHERE id = %s", (session_id,))
    return await cur.fetchone() is not None


@dataclass(frozen=True)
class RefreshTokenRow:
    """What a refresh grant needs to know about a presented token."""

    id: int
    digest: str
    user_id: uuid.UUID
    session_id: uuid.UUID
    revoked: bool
    seconds_since_update: float
    has_live_child: bool
    """Its successor is the session's active token (it is exactly one step behind)."""


async def find_refresh_token(conn: psycopg.AsyncConnection[Any], token: str) -> RefreshTokenRow | None:
    """The stored token (locked for this transaction), if any and if its session still exists."""
    cur = await conn.execute(
        "SELECT r.id, r.token, r.user_id, r.session_id, coalesce(r.revoked, false), "
        "extract(epoch FROM now() - r.updated_at)::float8, "
        "EXISTS (SELECT 1 FROM auth.refresh_tokens c WHERE c.parent = r.token AND NOT c.revoked) "
        "FROM auth.refresh_tokens r JOIN auth.sessions s ON s.id = r.session_id "
        "WHERE r.token = %s FOR UPDATE OF r, s",
        (_digest(token),),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return RefreshTokenRow(row[0], row[1], uuid.UUID(row[2]), row[3], row[4], row[5], row[6])


async def rotate_refresh_token(
    conn: psycopg.AsyncConnection[Any], found: RefreshTokenRow, *, reuse_interval: float
) -> SessionGrant | None:
    """Swap a refresh token for a new one in the same session, with GoTrue's reuse rules.

    A token already swapped may be presented again within ``reuse_interval`` seconds of its revocation
    (two tabs refreshing at once), or later when it is exactly one step behind the session's active token
    (a client that lost the answer to its last refresh). Then the active token is swapped in its turn, so
    every such caller gets a working token. Any other reuse revokes the session's whole token family.

    Returns:
        The grant, or None when the reuse was refused (the family is then revoked: commit it).
    """
    allowed = not found.revoked or found.seconds_since_update <= reuse_interval or found.has_live_child
    cur = await conn.execute(
        "UPDATE auth.refresh_tokens SET revoked = true, updated_at = now() "
        "WHERE session_id = %s AND NOT revoked RETURNING token",
        (found.session_id,),
    )
    if not allowed:
        return None
    active = await cur.fetchone()
    parent = active[0] if active else found.digest
    token = _new_refresh_token()
    await conn.execute(
        "INSERT INTO auth.refresh_tokens (instance_id, token, user_id, revoked, created_at, updated_at, "
        "parent, session_id) VALUES ('00000000-0000-0000-0000-000000000000', %s, %s, false, now(), now(), "
        "%s, %s)",
        (_digest(token), str(found.user_id), parent, found.session_id),
    )
    await conn.execute(
        "UPDATE auth.sessions SET refreshed_at = timezone('UTC', now()), updated_at = now() WHERE id = %s",
        (found.session_id,),
    )
    method, at = await session_method(conn, found.session_id)
    return SessionGrant(found.session_id, token, method, at)


async def session_method(conn: psycopg.AsyncConnection[Any], session_id: uuid.UUID) -> tuple[str, int]:
    """How and when the session was opened (its first ``amr`` entry)."""
    cur = await conn.execute(
        "SELECT authentication_method, extract(epoch FROM created_at)::bigint FROM auth.mfa_amr_claims "
        "WHERE session_id = %s ORDER BY created_at LIMIT 1",
        (session_id,),
    )
    row = await cur.fetchone()
    return (row[0], int(row[1])) if row else ("password", 0)


async def delete_sessions(
    conn: psycopg.AsyncConnection[Any], user_id: uuid.UUID, *, only: uuid.UUID | None, keep: uuid.UUID | None
) -> None:
    """Sign out: delete one session (``only``), or every session of the user but ``keep`` (if given).

    Their refresh tokens go with them, so they can no longer be used.
    """
    if only is not None:
        await conn.execute("DELETE FROM auth.sessions WHERE id = %s AND user_id = %s", (only, user_id))
    else:
        await conn.execute(
            "DELETE FROM auth.sessions WHERE user_id = %s AND id IS DISTINCT FROM %s", (user_id, keep)
        )

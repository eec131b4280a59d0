"""Auth users and their access tokens, as Supabase Auth (GoTrue) would create and sign them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from nexus_sdk.local import _jwt

__all__ = ["create_auth_user", "mint_access_token"]


def mint_access_token(
    secret: str,
    user_id: str,
    *,
    email: str | None = None,
    role: str = "authenticated",
    expires_in: int = 3600,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A user access token with the claims Supabase Auth puts in one.

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
        "iss": "http://127.0.0.1/auth/v1",
        "sub": user_id,
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


def create_auth_user(
    database_url: str,
    email: str,
    *,
    password: str | None = None,
    metadata: dict[str, Any] | None = None,
    user_id: str | None = None,
) -> str:
    """Insert a user into ``auth.users``; the schema's signup trigger then creates ``public.users``.

    Args:
        database_url: a connection URL with the privileges of ``postgres`` (the stack's ``DATABASE_URL``).
        email: the user's email.
        password: stored bcrypt-hashed (with pgcrypto) when ``auth.users`` has ``encrypted_password``
            and pgcrypto is installed; the local stack has no sign-in endpoint, so it is never checked.
        metadata: ``raw_user_meta_data`` (e.g. ``{"full_name": ...}``), which the trigger may copy.
        user_id: a fixed id; a new UUID by default.

    Returns:
        The new user's id.
    """
    import psycopg
    from psycopg import sql

    uid = user_id or str(uuid.uuid4())
    with psycopg.connect(database_url, autocommit=False) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'auth' AND table_name = 'users'"
            ).fetchall()
        }
        values: dict[str, sql.Composable] = {
            "id": sql.Placeholder("id"),
            "email": sql.Placeholder("email"),
        }
        params: dict[str, Any] = {"id": uid, "email": email, "meta": json.dumps(metadata or {})}
        if "raw_user_meta_data" in columns:
            values["raw_user_meta_data"] = sql.SQL("%(meta)s::jsonb")
        for name, value in (("aud", "authenticated"), ("role", "authenticated")):
            if name in columns:
                values[name] = sql.Placeholder(name)
                params[name] = value
        if password is not None and "encrypted_password" in columns:
            has_crypt = conn.execute("SELECT to_regproc('crypt') IS NOT NULL").fetchone()
            if has_crypt and has_crypt[0]:
                values["encrypted_password"] = sql.SQL("crypt(%(password)s, gen_salt('bf'))")
                params["password"] = password
        statement = sql.SQL("INSERT INTO auth.users ({}) VALUES ({})").format(
            sql.SQL(", ").join(sql.Identifier(k) for k in values), sql.SQL(", ").join(values.values())
        )
        conn.execute(statement, params)
        conn.commit()
    return uid

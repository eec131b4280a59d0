"""The database refuses a token that is not ciphertext, for every writer; rows written before the rule stay usable.

``platform_connections.access_token`` / ``refresh_token`` accept only the stored format of
docs/encryption.md (``nx<digits>:<key id>:<base64>``). A raw PostgREST POST as a user, the service role, and
the migration role are all refused plaintext, and the error never quotes the value. A row stored before the
rule (legacy plaintext, written here with triggers off, as a database applied by 0.1 holds it) stays
readable, can be updated or sent back whole with its token unchanged, and is re-encrypted in place.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors

from nexus_sdk.crypto import EncryptionKey, KeyRing, token_aad

Conn = psycopg.Connection[Any]
SECRET = "ya29.plain-SECRET-token"


def real_ciphertext(user_id: uuid.UUID, platform: str = "x", column: str = "access_token") -> str:
    ring = KeyRing([EncryptionKey.generate("k1")])
    aad = token_aad(table="platform_connections", column=column, user_id=user_id, platform=platform)
    return ring.encrypt(SECRET, aad=aad)


def insert(cur: psycopg.Cursor[Any], user_id: uuid.UUID, access: str, refresh: str | None = None) -> None:
    cur.execute(
        "insert into public.platform_connections (user_id, platform, platform_user_id, access_token, refresh_token)"
        " values (%s, 'x', 'me', %s, %s)",
        (user_id, access, refresh),
    )


WRITERS = [("authenticated", True), ("service_role", False), ("postgres", False)]


@pytest.mark.parametrize(("role", "signed_in"), WRITERS, ids=[w[0] for w in WRITERS])
@pytest.mark.parametrize("column", ["access_token", "refresh_token"])
def test_every_writer_is_refused_a_plaintext_token(
    conn: Conn, as_role: Any, make_user: Any, role: str, signed_in: bool, column: str
) -> None:
    user = make_user(conn)
    good = real_ciphertext(user, column="access_token")
    access, refresh = (SECRET, None) if column == "access_token" else (good, SECRET)
    if role == "postgres":
        with (
            pytest.raises(errors.CheckViolation) as info,
            conn.transaction(force_rollback=True),
            conn.cursor() as cur,
        ):
            insert(cur, user, access, refresh)
    else:
        with (
            pytest.raises(errors.CheckViolation) as info,
            as_role(conn, role, user if signed_in else None) as cur,
        ):
            insert(cur, user, access, refresh)
    assert info.value.diag.constraint_name == "platform_connections_tokens_encrypted"
    assert info.value.diag.message_detail == "token_not_ciphertext"
    assert column in str(info.value)
    assert SECRET not in str(info.value)
    assert SECRET not in (info.value.diag.message_hint or "")


def test_a_raw_postgrest_post_of_a_plaintext_token_is_refused(
    conn: Conn, as_role: Any, make_user: Any
) -> None:
    """What ``POST /rest/v1/platform_connections`` runs as a signed-in user, with a plaintext body."""
    user = make_user(conn)
    body = json.dumps([{"platform": "x", "platform_user_id": "me", "access_token": SECRET}])
    with pytest.raises(errors.CheckViolation), as_role(conn, "authenticated", user) as cur:
        cur.execute(
            "insert into public.platform_connections (platform, platform_user_id, access_token)"
            " select platform, platform_user_id, access_token"
            " from json_populate_recordset(null::public.platform_connections, %s)",
            (body,),
        )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "nx1:",
        "nx1:k1:",
        "nx1:k1:" + "A" * 36,  # 27 bytes: shorter than nonce and tag
        "nx1::" + "A" * 48,
        "nx1:k:1:" + "A" * 48,
        "nx1:k1:" + "A" * 47,  # not a whole base64 quantum
        "nx1:k1:" + "A" * 44 + "A===",
        "nx1:k1:" + "A" * 44 + "-_AA",  # base64url, not the standard alphabet
        "nx1:k1:" + "A" * 48 + "\n",
        "nxa:k1:" + "A" * 48,
        " nx1:k1:" + "A" * 48,
        "Bearer nx1:k1:" + "A" * 48,
    ],
)
def test_only_the_stored_format_is_accepted(conn: Conn, make_user: Any, value: str) -> None:
    user = make_user(conn)
    with pytest.raises(errors.CheckViolation), conn.transaction(force_rollback=True), conn.cursor() as cur:
        insert(cur, user, value)


@pytest.mark.parametrize(
    "value",
    ["nx1:k1:" + "A" * 48, "nx1:k20260509-3fa9c2:" + "A" * 46 + "==", "nx12:key.v2_x:" + "A" * 39 + "="],
)
def test_values_of_the_stored_format_are_accepted(conn: Conn, make_user: Any, value: str) -> None:
    user = make_user(conn)
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        insert(cur, user, value, value)
        assert cur.rowcount == 1


def test_real_ciphertext_is_accepted_from_a_user_and_an_update_to_plaintext_is_not(
    conn: Conn, as_role: Any, make_user: Any
) -> None:
    user = make_user(conn)
    with as_role(conn, "authenticated", user) as cur:
        insert(cur, user, real_ciphertext(user), real_ciphertext(user, column="refresh_token"))
        cur.execute(
            "update public.platform_connections set access_token = %s where user_id = %s",
            (real_ciphertext(user), user),
        )
        assert cur.rowcount == 1
        with pytest.raises(errors.CheckViolation):
            cur.execute(
                "update public.platform_connections set refresh_token = %s where user_id = %s", (SECRET, user)
            )


# --- rows written before the rule --------------------------------------------------------------------------


@pytest.fixture
def legacy(conn: Conn, make_user: Any) -> tuple[uuid.UUID, uuid.UUID]:
    """A connection stored with plaintext tokens before the rule existed (triggers off, as 0.1 allowed)."""
    user = make_user(conn)
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        row = conn.execute(
            "insert into public.platform_connections (user_id, platform, platform_user_id, access_token, refresh_token)"
            " values (%s, 'x', 'me', 'legacy-access', 'legacy-refresh') returning id",
            (user,),
        ).fetchone()
    assert row is not None
    return user, row[0]


def test_a_legacy_row_stays_readable_and_editable(
    conn: Conn, as_role: Any, legacy: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user, row_id = legacy
    with as_role(conn, "authenticated", user) as cur:
        cur.execute("select access_token from public.platform_connections where id = %s", (row_id,))
        assert cur.fetchone() == ("legacy-access",)
        cur.execute(
            "update public.platform_connections set scope = 'r', is_active = false where id = %s", (row_id,)
        )
        assert cur.rowcount == 1


def test_a_legacy_row_sent_back_whole_is_accepted(
    conn: Conn, as_role: Any, legacy: tuple[uuid.UUID, uuid.UUID]
) -> None:
    """The official clients' round trip (upsert of the row as read) carries the stored plaintext unchanged."""
    user, row_id = legacy
    with as_role(conn, "authenticated", user) as cur:
        cur.execute("select to_jsonb(c) from public.platform_connections c where id = %s", (row_id,))
        payload = {**cur.fetchone()[0], "scope": "w"}
        cols = ", ".join(payload)
        sets = ", ".join(f"{c} = excluded.{c}" for c in payload)
        cur.execute(
            f"insert into public.platform_connections ({cols}) select {cols}"
            f" from json_populate_recordset(null::public.platform_connections, %s) on conflict (id) do update set {sets}"
            " returning scope, access_token",
            (json.dumps([payload]),),
        )
        assert cur.fetchone() == ("w", "legacy-access")


def test_a_legacy_row_is_rotated_to_ciphertext_but_not_to_other_plaintext(
    conn: Conn, as_role: Any, legacy: tuple[uuid.UUID, uuid.UUID]
) -> None:
    user, row_id = legacy
    with as_role(conn, "service_role") as cur, pytest.raises(errors.CheckViolation):
        cur.execute(
            "update public.platform_connections set access_token = 'legacy-other' where id = %s",
            (row_id,),
        )
    with as_role(conn, "service_role") as cur:
        # What key rotation sends: the new ciphertext, conditional on the old value.
        cur.execute(
            "update public.platform_connections set access_token = %s, refresh_token = %s"
            " where id = %s and access_token = 'legacy-access' and refresh_token = 'legacy-refresh'",
            (real_ciphertext(user), real_ciphertext(user, column="refresh_token"), row_id),
        )
        assert cur.rowcount == 1
    with as_role(conn, "service_role") as cur:
        # One column at a time works too: the other, still plaintext, is unchanged.
        cur.execute(
            "update public.platform_connections set access_token = %s where id = %s",
            (real_ciphertext(user), row_id),
        )
        assert cur.rowcount == 1

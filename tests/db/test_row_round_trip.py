"""The round trip official clients do, and the columns it must not change, run the PostgREST way.

supabase-py and postgrest-js users read a row, change a field and send the whole row back, with ``upsert``
(PostgREST: ``INSERT ... ON CONFLICT (id) DO UPDATE SET`` every column of the payload) or ``update``
(``PATCH``: ``UPDATE ... SET`` every column of the payload). As the row's owner that must succeed, and still
nothing protected may change: ``id`` and ``user_id`` never change (refused, 42501), ``created_at`` keeps the
stored value and ``updated_at`` is the database's, whatever the payload says; ``users.email`` and
``users.is_active`` and the publisher's columns of ``scheduled_posts`` stay out of a user's reach.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from tests.db._seed import Seed, seed

Conn = psycopg.Connection[Any]

TABLES = [
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
]
# One ordinary field per table, and a new value for it.
CHANGES: dict[str, tuple[str, Any]] = {
    "users": ("full_name", "Renamed"),
    "platform_connections": ("scope", "w_member_social"),
    "content_adaptations": ("tone", "casual"),
    "voice_profiles": ("name", "Renamed"),
    "published_posts": ("content", "edited"),
    "scheduled_posts": ("content", "edited"),
}
LONG_AGO = "2001-02-03T04:05:06+00:00"


@dataclass
class World:
    owner: Seed
    other: Seed


@pytest.fixture
def world(conn: Conn, make_user: Any) -> World:
    return World(owner=seed(conn, make_user(conn)), other=seed(conn, make_user(conn)))


def read_row(cur: psycopg.Cursor[Any], table: str, row_id: uuid.UUID) -> dict[str, Any]:
    """The row as PostgREST's GET returns it: every column, as JSON."""
    cur.execute(
        sql.SQL("select to_jsonb(t) from public.{} t where id = %s").format(sql.Identifier(table)), (row_id,)
    )
    row = cur.fetchone()
    assert row is not None
    payload: dict[str, Any] = row[0]
    return payload


def upsert(cur: psycopg.Cursor[Any], table: str, payload: dict[str, Any]) -> dict[str, Any]:
    """``POST /table?on_conflict=id`` with ``Prefer: resolution=merge-duplicates``, as PostgREST runs it."""
    cols = [sql.Identifier(c) for c in payload]
    query = sql.SQL(
        "insert into public.{t} ({cols}) select {cols} from json_populate_recordset(null::public.{t}, %s) _"
        " on conflict (id) do update set {sets} returning to_jsonb(public.{t}.*)"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(cols),
        sets=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=c) for c in cols),
    )
    cur.execute(query, (json.dumps([payload]),))
    row = cur.fetchone()
    assert row is not None
    result: dict[str, Any] = row[0]
    return result


def patch(cur: psycopg.Cursor[Any], table: str, row_id: uuid.UUID, payload: dict[str, Any]) -> dict[str, Any]:
    """``PATCH /table?id=eq.<id>`` with the whole row as the body, as PostgREST runs it."""
    query = sql.SQL(
        "update public.{t} set {sets} from (select * from json_populate_record(null::public.{t}, %s)) body"
        " where public.{t}.id = %s returning to_jsonb(public.{t}.*)"
    ).format(
        t=sql.Identifier(table),
        sets=sql.SQL(", ").join(sql.SQL("{c} = body.{c}").format(c=sql.Identifier(c)) for c in payload),
    )
    cur.execute(query, (json.dumps(payload), row_id))
    row = cur.fetchone()
    assert row is not None, "no row updated"
    result: dict[str, Any] = row[0]
    return result


def the_row(world: World, table: str) -> uuid.UUID:
    return world.owner.user_id if table == "users" else world.owner.leaf[table]


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("send", [upsert, patch], ids=["upsert", "update"])
def test_the_owner_sends_a_whole_row_back_with_one_field_changed(
    conn: Conn, as_role: Any, world: World, table: str, send: Any
) -> None:
    row_id = the_row(world, table)
    column, value = CHANGES[table]
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        before = read_row(cur, table, row_id)
        payload = {**before, column: value}
        after = send(cur, table, payload) if send is upsert else send(cur, table, row_id, payload)
        cur.execute("select to_jsonb(now())")
        now = cur.fetchone()[0]
    assert after[column] == value
    assert {k: after[k] for k in after if k not in (column, "updated_at")} == {
        k: before[k] for k in before if k not in (column, "updated_at")
    }
    assert dt.datetime.fromisoformat(after["updated_at"]) == dt.datetime.fromisoformat(now)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("send", [upsert, patch], ids=["upsert", "update"])
def test_timestamps_in_a_payload_are_the_databases(
    conn: Conn, as_role: Any, world: World, table: str, send: Any
) -> None:
    row_id = the_row(world, table)
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        before = read_row(cur, table, row_id)
        payload = {**before, "created_at": LONG_AGO, "updated_at": LONG_AGO}
        after = send(cur, table, payload) if send is upsert else send(cur, table, row_id, payload)
    assert after["created_at"] == before["created_at"]
    assert dt.datetime.fromisoformat(after["updated_at"]) > dt.datetime.fromisoformat(LONG_AGO)


# users has no user_id column: its id is the user
IMMUTABLE_KEYS = [(t, c) for t in TABLES for c in ("id", "user_id") if (t, c) != ("users", "user_id")]


@pytest.mark.parametrize(("table", "column"), IMMUTABLE_KEYS)
@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_id_and_user_id_never_change(
    conn: Conn, as_role: Any, world: World, table: str, column: str, role: str
) -> None:
    row_id = the_row(world, table)
    new_value = uuid.uuid4() if column == "id" else world.other.user_id
    sub = world.owner.user_id if role == "authenticated" else None
    with pytest.raises(errors.InsufficientPrivilege), as_role(conn, role, sub) as cur:
        cur.execute(
            sql.SQL("update public.{} set {} = %s where id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (new_value, row_id),
        )


# Columns a user may send back unchanged but not change: (table, column, a different value).
USER_READ_ONLY = [
    ("users", "email", "someone-else@example.test"),
    ("users", "is_active", False),
    ("scheduled_posts", "retry_count", 3),
    ("scheduled_posts", "last_error", "boom"),
    ("scheduled_posts", "claimed_by", "worker-1"),
    ("scheduled_posts", "claimed_at", LONG_AGO),
    ("scheduled_posts", "lease_expires_at", "2031-01-01T00:00:00+00:00"),
]


@pytest.mark.parametrize(("table", "column", "value"), USER_READ_ONLY)
@pytest.mark.parametrize("send", [upsert, patch], ids=["upsert", "update"])
def test_a_user_cannot_change_what_the_auth_server_or_the_publisher_owns(
    conn: Conn, as_role: Any, world: World, table: str, column: str, value: Any, send: Any
) -> None:
    row_id = the_row(world, table)
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        payload = {**read_row(cur, table, row_id), column: value}
        args = (cur, table, payload) if send is upsert else (cur, table, row_id, payload)
        with pytest.raises(errors.InsufficientPrivilege):
            send(*args)
    # The service role (the backend, the publisher) may.
    with as_role(conn, "service_role") as cur:
        cur.execute(
            sql.SQL("update public.{} set {} = %s where id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (value, row_id),
        )
        assert cur.rowcount == 1


def test_a_user_sends_back_a_post_the_publisher_already_tried(conn: Conn, as_role: Any, world: World) -> None:
    """A scheduled post with an attempt behind it round-trips: its publisher columns are sent back unchanged."""
    row_id = world.owner.leaf["scheduled_posts"]
    conn.execute(
        "update public.scheduled_posts set retry_count = 1, last_error = 'timeout', claimed_by = 'w1',"
        " claimed_at = now() where id = %s",
        (row_id,),
    )
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        payload = {**read_row(cur, "scheduled_posts", row_id), "content": "edited"}
        after = upsert(cur, "scheduled_posts", payload)
    assert (after["content"], after["retry_count"], after["last_error"]) == ("edited", 1, "timeout")


@pytest.mark.parametrize(
    ("column", "value"),
    [("retry_count", 2), ("last_error", "x"), ("claimed_by", "w"), ("lease_expires_at", LONG_AGO)],
)
def test_a_user_cannot_create_a_scheduled_post_with_publisher_columns_set(
    conn: Conn, as_role: Any, world: World, column: str, value: Any
) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            sql.SQL(
                "insert into public.scheduled_posts (content, platform_connection_id, platform, scheduled_for, {})"
                " values ('c', %s, 'linkedin', now() + interval '1 day', %s)"
            ).format(sql.Identifier(column)),
            (world.owner.connection_ref, value),
        )


def test_a_user_cannot_create_a_users_row(conn: Conn, as_role: Any, world: World) -> None:
    """users rows come from the sign-up trigger: an INSERT by a user is only ever an upsert of their own row."""
    conn.execute("delete from public.users where id = %s", (world.owner.user_id,))
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            "insert into public.users (id, email) values (%s, 'squatter@example.test')",
            (world.owner.user_id,),
        )


def test_timestamps_a_user_inserts_are_the_databases(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            "insert into public.content_adaptations (original_idea, adaptations, created_at, updated_at)"
            " values ('x', '{}', %s, %s) returning created_at = now() and updated_at = now()",
            (LONG_AGO, LONG_AGO),
        )
        assert cur.fetchone() == (True,)


def test_the_service_role_may_insert_history(conn: Conn, as_role: Any, world: World) -> None:
    """An import keeps a row's timestamps: the service role's INSERT is taken as given."""
    with as_role(conn, "service_role") as cur:
        cur.execute(
            "insert into public.content_adaptations (user_id, original_idea, adaptations, created_at, updated_at)"
            " values (%s, 'x', '{}', %s, %s) returning created_at, updated_at",
            (world.owner.user_id, LONG_AGO, LONG_AGO),
        )
        row = cur.fetchone()
    assert row is not None
    assert {v.isoformat() for v in row} == {dt.datetime.fromisoformat(LONG_AGO).isoformat()}

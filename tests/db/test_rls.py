"""The RLS matrix, executed the PostgREST way (role and JWT claims set per transaction).

Every table x SELECT / INSERT / UPDATE / DELETE / UPSERT x {anon, owner, another user, service_role}, where
UPSERT sends the owner's whole row back with one field changed, as PostgREST runs supabase-py's ``upsert``
(``INSERT ... ON CONFLICT (id) DO UPDATE SET`` every column of the payload). A denied
cell is either error 42501 (no privilege, or a row refused by a policy's WITH CHECK) or, for rows RLS
filters out, zero rows seen or affected. Then: references to another user's rows, moving a row to
another user, column privileges, and the status rules of posts.
"""

from __future__ import annotations

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
ACTORS = ["anon", "owner", "other", "service_role"]
DENIED = "42501"


@dataclass
class World:
    owner: Seed
    other: Seed


@pytest.fixture
def world(conn: Conn, make_user: Any) -> World:
    return World(owner=seed(conn, make_user(conn)), other=seed(conn, make_user(conn)))


def role_of(actor: str, world: World) -> tuple[str, uuid.UUID | None]:
    if actor == "owner":
        return "authenticated", world.owner.user_id
    if actor == "other":
        return "authenticated", world.other.user_id
    return actor, None


def insert_statement(table: str, world: World, conn: Conn) -> tuple[sql.Composable, tuple[Any, ...]]:
    """An INSERT of a new row belonging to the owner."""
    owner = world.owner
    if table == "users":
        # An auth user without email has no public.users row yet: the one row an insert could add.
        new_id = uuid.uuid4()
        conn.execute("insert into auth.users (id) values (%s)", (new_id,))
        return sql.SQL("insert into public.users (id, email) values (%s, %s)"), (new_id, f"{new_id}@x.test")
    all_values: dict[str, dict[str, Any]] = {
        "platform_connections": {
            "platform": "substack",
            "platform_user_id": "me",
            "access_token": "nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        },
        "content_adaptations": {"original_idea": "new idea", "adaptations": "{}"},
        "voice_profiles": {"name": "New", "characteristics": "{}"},
        "published_posts": {"platform": "x", "content": "new post"},
        "scheduled_posts": {
            "content": "new",
            "platform_connection_id": owner.connection_ref,
            "platform": "linkedin",
            "scheduled_for": "2031-01-01T00:00:00Z",
        },
    }
    values = all_values[table]
    cols = ["user_id", *values]
    query = sql.SQL("insert into public.{} ({}) values ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, cols)),
        sql.SQL(", ").join(sql.Placeholder() * len(cols)),
    )
    return query, (owner.user_id, *values.values())


def upsert_statement(conn: Conn, table: str, row_id: uuid.UUID) -> tuple[sql.Composable, tuple[Any, ...]]:
    """The owner's row as stored, one field changed, sent back the way PostgREST runs an upsert."""
    row = conn.execute(
        sql.SQL("select to_jsonb(t) from public.{} t where id = %s").format(sql.Identifier(table)), (row_id,)
    ).fetchone()
    assert row is not None
    column, value = UPDATES[table]
    payload = {**row[0], column: value}
    cols = [sql.Identifier(c) for c in payload]
    query = sql.SQL(
        "insert into public.{t} ({cols}) select {cols} from json_populate_recordset(null::public.{t}, %s) _"
        " on conflict (id) do update set {sets}"
    ).format(
        t=sql.Identifier(table),
        cols=sql.SQL(", ").join(cols),
        sets=sql.SQL(", ").join(sql.SQL("{c} = excluded.{c}").format(c=c) for c in cols),
    )
    return query, (json.dumps([payload]),)


UPDATES = {
    "users": ("full_name", "Renamed"),
    "platform_connections": ("scope", "w_member_social"),
    "content_adaptations": ("tone", "casual"),
    "voice_profiles": ("name", "Renamed"),
    "published_posts": ("content", "edited"),
    "scheduled_posts": ("content", "edited"),
}

# expected outcome per (actor, command): a row count, or DENIED
EXPECTED: dict[tuple[str, str], int | str] = {
    ("anon", "select"): DENIED,
    ("anon", "insert"): DENIED,
    ("anon", "update"): DENIED,
    ("anon", "delete"): DENIED,
    ("owner", "select"): 1,
    ("owner", "insert"): 1,
    ("owner", "update"): 1,
    ("owner", "delete"): 1,
    ("other", "select"): 0,
    ("other", "insert"): DENIED,
    ("other", "update"): 0,
    ("other", "delete"): 0,
    ("service_role", "select"): 1,
    ("service_role", "insert"): 1,
    ("service_role", "update"): 1,
    ("service_role", "delete"): 1,
    ("anon", "upsert"): DENIED,
    ("owner", "upsert"): 1,
    ("other", "upsert"): DENIED,
    ("service_role", "upsert"): 1,
}
# users rows are made by the sign-up trigger and removed with the auth user: no INSERT or DELETE grant.
EXCEPTIONS: dict[tuple[str, str, str], int | str] = {
    ("users", "owner", "insert"): DENIED,
    ("users", "owner", "delete"): DENIED,
    ("users", "other", "delete"): DENIED,
}


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("command", ["select", "insert", "update", "delete", "upsert"])
def test_rls_matrix(conn: Conn, as_role: Any, world: World, table: str, actor: str, command: str) -> None:
    expected = EXCEPTIONS.get((table, actor, command), EXPECTED[(actor, command)])
    role, sub = role_of(actor, world)
    target = world.owner.leaf[table]
    ident = sql.Identifier(table)
    params: tuple[Any, ...]
    if command == "select":
        query: sql.Composable = sql.SQL("select id from public.{} where id = %s").format(ident)
        params = (target,)
    elif command == "insert":
        query, params = insert_statement(table, world, conn)
    elif command == "upsert":
        query, params = upsert_statement(conn, table, target)
    elif command == "update":
        column, value = UPDATES[table]
        query = sql.SQL("update public.{} set {} = %s where id = %s").format(ident, sql.Identifier(column))
        params = (value, target)
    else:
        query = sql.SQL("delete from public.{} where id = %s").format(ident)
        params = (target,)

    if expected == DENIED:
        with pytest.raises(errors.InsufficientPrivilege), as_role(conn, role, sub) as cur:
            cur.execute(query, params)
        return
    with as_role(conn, role, sub) as cur:
        cur.execute(query, params)
        assert cur.rowcount == expected


@pytest.mark.parametrize("table", TABLES)
def test_a_user_sees_only_their_own_rows(conn: Conn, as_role: Any, world: World, table: str) -> None:
    column = "id" if table == "users" else "user_id"
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            sql.SQL("select distinct {} from public.{}").format(sql.Identifier(column), sql.Identifier(table))
        )
        assert cur.fetchall() == [(world.owner.user_id,)]
    with as_role(conn, "service_role") as cur:
        cur.execute(
            sql.SQL("select count(distinct {}) from public.{}").format(
                sql.Identifier(column), sql.Identifier(table)
            )
        )
        assert cur.fetchone() == (2,)


def test_anon_has_no_table_privileges_but_may_use_the_schema(conn: Conn) -> None:
    rows = conn.execute(
        "select table_name, privilege_type from information_schema.role_table_grants"
        " where grantee = 'anon' and table_schema in ('public', 'auth')"
    ).fetchall()
    assert rows == []
    assert conn.execute("select has_schema_privilege('anon', 'public', 'usage')").fetchone() == (True,)
    assert conn.execute("select has_table_privilege('anon', 'auth.users', 'select')").fetchone() == (False,)


def test_insert_without_user_id_belongs_to_the_caller(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            "insert into public.content_adaptations (original_idea, adaptations) values ('x', '{}') returning user_id"
        )
        assert cur.fetchone() == (world.owner.user_id,)


# --- no row may reference another user's row --------------------------------------------------------

CROSS_REFERENCES = [
    ("published_posts", "adaptation_id", "adaptation_ref"),
    ("published_posts", "platform_connection_id", "connection_ref"),
    ("scheduled_posts", "adaptation_id", "adaptation_ref"),
    ("scheduled_posts", "platform_connection_id", "connection_ref"),
    ("scheduled_posts", "published_post_id", "published_ref"),
]


def _post_values(table: str, world: World) -> dict[str, Any]:
    base: dict[str, Any] = {"user_id": world.owner.user_id, "platform": "linkedin", "content": "c"}
    if table == "scheduled_posts":
        base.update(platform_connection_id=world.owner.connection_ref, scheduled_for="2031-01-01T00:00:00Z")
    return base


@pytest.mark.parametrize(("table", "column", "theirs"), CROSS_REFERENCES)
@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_cannot_insert_a_reference_to_another_users_row(
    conn: Conn, as_role: Any, world: World, table: str, column: str, theirs: str, role: str
) -> None:
    values = _post_values(table, world) | {column: getattr(world.other, theirs)}
    query = sql.SQL("insert into public.{} ({}) values ({})").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(sql.Placeholder() * len(values)),
    )
    sub = world.owner.user_id if role == "authenticated" else None
    if role == "authenticated" and column == "published_post_id":
        # Linking the result record is the publisher's job: users hold no privilege on that column.
        with pytest.raises(errors.InsufficientPrivilege), as_role(conn, role, sub) as cur:
            cur.execute(query, tuple(values.values()))
        return
    # The service role is held to it too: the composite foreign key does not depend on RLS.
    with pytest.raises(errors.ForeignKeyViolation), as_role(conn, role, sub) as cur:
        cur.execute(query, tuple(values.values()))
    # ...while a reference to the owner's own row of that kind is accepted.
    mine = _post_values(table, world) | {column: getattr(world.owner, theirs)}
    with as_role(conn, role, sub) as cur:
        cur.execute(
            sql.SQL("insert into public.{} ({}) values ({})").format(
                sql.Identifier(table),
                sql.SQL(", ").join(map(sql.Identifier, mine)),
                sql.SQL(", ").join(sql.Placeholder() * len(mine)),
            ),
            tuple(mine.values()),
        )
        assert cur.rowcount == 1


@pytest.mark.parametrize(("table", "column", "theirs"), CROSS_REFERENCES)
@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_cannot_point_an_existing_row_at_another_users_row(
    conn: Conn, as_role: Any, world: World, table: str, column: str, theirs: str, role: str
) -> None:
    target = world.owner.leaf[table]
    sub = world.owner.user_id if role == "authenticated" else None
    expected: type[Exception] = errors.ForeignKeyViolation
    if role == "authenticated" and column == "published_post_id":
        expected = errors.InsufficientPrivilege  # the publisher's column
    with pytest.raises(expected), as_role(conn, role, sub) as cur:
        cur.execute(
            sql.SQL("update public.{} set {} = %s where id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (getattr(world.other, theirs), target),
        )


@pytest.mark.parametrize("table", TABLES)
def test_cannot_move_a_row_to_another_user(conn: Conn, as_role: Any, world: World, table: str) -> None:
    column = "id" if table == "users" else "user_id"
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            sql.SQL("update public.{} set {} = %s where id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (world.other.user_id, world.owner.leaf[table]),
        )


@pytest.mark.parametrize("table", TABLES[1:])
def test_cannot_create_a_row_for_another_user(conn: Conn, as_role: Any, world: World, table: str) -> None:
    query, params = insert_statement(table, world, conn)
    with (
        pytest.raises(errors.InsufficientPrivilege) as info,
        as_role(conn, "authenticated", world.other.user_id) as cur,
    ):
        cur.execute(query, params)
    assert "row-level security" in str(info.value)


# --- what users may not change (guarded by triggers; test_row_round_trip.py has the round trips) -------------

SERVER_OWNED = [
    ("users", "email", "x@y.test"),
    ("users", "is_active", False),
    ("platform_connections", "id", uuid.UUID(int=1)),
    ("published_posts", "id", uuid.UUID(int=2)),
    ("scheduled_posts", "retry_count", 3),
    ("scheduled_posts", "last_error", "boom"),
]


@pytest.mark.parametrize(("table", "column", "value"), SERVER_OWNED)
def test_a_user_cannot_update_server_owned_columns(
    conn: Conn, as_role: Any, world: World, table: str, column: str, value: Any
) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            sql.SQL("update public.{} set {} = %s where id = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (value, world.owner.leaf[table]),
        )


def test_a_user_cannot_link_a_result_record(conn: Conn, as_role: Any, world: World) -> None:
    """published_post_id is the publisher's, even pointing at the user's own published post."""
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            "update public.scheduled_posts set published_post_id = %s where id = %s",
            (world.owner.published_ref, world.owner.leaf["scheduled_posts"]),
        )


@pytest.mark.parametrize("table", TABLES)
def test_a_user_cannot_backdate_a_row(conn: Conn, as_role: Any, world: World, table: str) -> None:
    row_id = world.owner.user_id if table == "users" else world.owner.leaf[table]
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            sql.SQL("select created_at from public.{} where id = %s").format(sql.Identifier(table)), (row_id,)
        )
        created = cur.fetchone()
        cur.execute(
            sql.SQL(
                "update public.{} set created_at = '2001-01-01', updated_at = '2001-01-01' where id = %s"
                " returning created_at, updated_at = now()"
            ).format(sql.Identifier(table)),
            (row_id,),
        )
        row = cur.fetchone()
    assert row == (created[0], True)


def test_timestamps_a_user_inserts_are_the_databases(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            "insert into public.content_adaptations (original_idea, adaptations, created_at)"
            " values ('x', '{}', '2001-01-01') returning created_at = now()"
        )
        assert cur.fetchone() == (True,)


def test_users_may_choose_their_own_ids(conn: Conn, as_role: Any, world: World) -> None:
    """Client-generated ids make a retried insert detectable (the retry conflicts instead of duplicating)."""
    new_id = uuid.uuid4()
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            "insert into public.content_adaptations (id, original_idea, adaptations) values (%s, 'x', '{}')"
            " on conflict (id) do nothing",
            (new_id,),
        )
        cur.execute(
            "insert into public.content_adaptations (id, original_idea, adaptations) values (%s, 'x', '{}')"
            " on conflict (id) do nothing",
            (new_id,),
        )
        assert cur.rowcount == 0
        cur.execute("select count(*) from public.content_adaptations where id = %s", (new_id,))
        assert cur.fetchone() == (1,)


# --- status rules ---------------------------------------------------------------------------------------


def test_scheduled_post_lifecycle_for_a_user(conn: Conn, as_role: Any, world: World) -> None:
    post = world.owner.leaf["scheduled_posts"]
    uid = world.owner.user_id
    # May not claim the publisher's statuses.
    with pytest.raises(errors.InsufficientPrivilege), as_role(conn, "authenticated", uid) as cur:
        cur.execute("update public.scheduled_posts set status = 'completed' where id = %s", (post,))
    # May cancel a post that is still scheduled.
    with as_role(conn, "authenticated", uid) as cur:
        cur.execute("update public.scheduled_posts set status = 'cancelled' where id = %s", (post,))
        assert cur.rowcount == 1
    # Once the publisher holds it, the user can neither edit nor delete it.
    conn.execute("update public.scheduled_posts set status = 'processing' where id = %s", (post,))
    with as_role(conn, "authenticated", uid) as cur:
        cur.execute("update public.scheduled_posts set content = 'late edit' where id = %s", (post,))
        assert cur.rowcount == 0
        cur.execute("delete from public.scheduled_posts where id = %s", (post,))
        assert cur.rowcount == 0
        cur.execute("select status from public.scheduled_posts where id = %s", (post,))
        assert cur.fetchone() == ("processing",)


def test_a_user_cannot_schedule_a_post_as_already_completed(conn: Conn, as_role: Any, world: World) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute(
            "insert into public.scheduled_posts (content, platform_connection_id, platform, scheduled_for, status)"
            " values ('c', %s, 'linkedin', now(), 'completed')",
            (world.owner.connection_ref,),
        )


def test_published_posts_stay_on_record(conn: Conn, as_role: Any, world: World) -> None:
    live = world.owner.leaf["published_posts"]
    conn.execute("update public.published_posts set status = 'published' where id = %s", (live,))
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute("delete from public.published_posts where id = %s", (live,))
        assert cur.rowcount == 0
    with as_role(conn, "service_role") as cur:
        cur.execute("delete from public.published_posts where id = %s", (live,))
        assert cur.rowcount == 1


STATUSES = ["pending", "published", "failed", "deleted"]
# (from, to) a user may make on their own published_posts row; every other change is refused (42501).
USER_TRANSITIONS = {
    ("pending", "published"),
    ("pending", "failed"),
    ("pending", "deleted"),
    ("failed", "pending"),
    ("failed", "published"),
    ("failed", "deleted"),
    ("published", "deleted"),
}


@pytest.mark.parametrize("old", STATUSES)
@pytest.mark.parametrize("new", STATUSES)
def test_the_status_transitions_a_user_may_make(
    conn: Conn, as_role: Any, world: World, old: str, new: str
) -> None:
    post = world.owner.leaf["published_posts"]
    conn.execute("update public.published_posts set status = %s where id = %s", (old, post))
    statement = "update public.published_posts set status = %s where id = %s"
    if old == new or (old, new) in USER_TRANSITIONS:
        with as_role(conn, "authenticated", world.owner.user_id) as cur:
            cur.execute(statement, (new, post))
            assert cur.rowcount == 1
    else:
        with (
            pytest.raises(errors.InsufficientPrivilege),
            as_role(conn, "authenticated", world.owner.user_id) as cur,
        ):
            cur.execute(statement, (new, post))
    # The backend (the service role) may set any status.
    with as_role(conn, "service_role") as cur:
        cur.execute(statement, (new, post))
        assert cur.rowcount == 1


@pytest.mark.parametrize("status", STATUSES)
def test_a_user_deletes_only_posts_that_never_went_live(
    conn: Conn, as_role: Any, world: World, status: str
) -> None:
    post = world.owner.leaf["published_posts"]
    conn.execute("update public.published_posts set status = %s where id = %s", (status, post))
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute("delete from public.published_posts where id = %s", (post,))
        assert cur.rowcount == (1 if status in ("pending", "failed") else 0)


def test_a_published_post_cannot_be_walked_back_and_deleted(conn: Conn, as_role: Any, world: World) -> None:
    """The reported path: set 'published' back to 'pending', then delete. Neither step works now."""
    post = world.owner.leaf["published_posts"]
    conn.execute("update public.published_posts set status = 'published' where id = %s", (post,))
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute("update public.published_posts set status = 'pending' where id = %s", (post,))
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute("update public.published_posts set status = 'deleted' where id = %s", (post,))
        cur.execute("delete from public.published_posts where id = %s", (post,))
        assert cur.rowcount == 0
        cur.execute("select status from public.published_posts where id = %s", (post,))
        assert cur.fetchone() == ("deleted",)

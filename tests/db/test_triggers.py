"""Triggers on real PostgreSQL: updated_at, the sign-up row, and exactly one default voice profile."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from tests.db._seed import seed

TABLES = [
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
]
# A column each table lets its owner change, with a new value.
TOUCH = {
    "users": ("full_name", "New Name"),
    "platform_connections": ("scope", "w_member_social"),
    "content_adaptations": ("tone", "casual"),
    "voice_profiles": ("name", "Renamed"),
    "published_posts": ("content", "edited"),
    "scheduled_posts": ("content", "edited"),
}

Conn = psycopg.Connection[Any]


def profiles(conn: Conn, user_id: uuid.UUID) -> dict[str, bool]:
    rows = conn.execute(
        "select name, is_default from public.voice_profiles where user_id = %s", (user_id,)
    ).fetchall()
    return dict(rows)


def add_profile(conn: Conn, user_id: uuid.UUID, name: str, **extra: Any) -> uuid.UUID:
    cols = ["user_id", "name", "characteristics", *extra]
    query = sql.SQL("insert into public.voice_profiles ({}) values ({}) returning id").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(sql.Placeholder() * len(cols))
    )
    row = conn.execute(query, (user_id, name, "{}", *extra.values())).fetchone()
    assert row is not None
    profile_id: uuid.UUID = row[0]
    return profile_id


# --- updated_at ---------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_updated_at_moves_on_update(conn: Conn, make_user: Any, as_role: Any, table: str) -> None:
    user = make_user(conn)
    rows = seed(conn, user)
    row_id = rows.leaf[table]
    ident = sql.Identifier(table)
    # Backdate without firing triggers, so the trigger's effect below is unmistakable.
    conn.execute("set session_replication_role = replica")
    conn.execute(
        sql.SQL(
            "update public.{} set updated_at = '2001-01-01', created_at = '2001-01-01' where id = %s"
        ).format(ident),
        (row_id,),
    )
    conn.execute("reset session_replication_role")
    column, value = TOUCH[table]

    with as_role(conn, "authenticated", user) as cur:
        cur.execute(
            sql.SQL(
                "update public.{} set {} = %s where id = %s returning updated_at, created_at, now()"
            ).format(ident, sql.Identifier(column)),
            (value, row_id),
        )
        updated_at, created_at, now = cur.fetchone()

    assert updated_at == now
    assert created_at.year == 2001


def test_updated_at_cannot_be_set_by_hand(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    conn.execute("update public.users set updated_at = '1999-01-01' where id = %s", (user,))
    row = conn.execute("select updated_at > '2020-01-01' from public.users where id = %s", (user,)).fetchone()
    assert row == (True,)


# --- the sign-up trigger --------------------------------------------------------------------------


def test_signup_creates_the_user_row_with_metadata(conn: Conn, make_user: Any) -> None:
    user = make_user(
        conn, email="ada@example.test", meta={"full_name": "Ada Lovelace", "avatar_url": "https://a/x.png"}
    )
    row = conn.execute(
        "select email, full_name, avatar_url, timezone, is_active from public.users where id = %s", (user,)
    ).fetchone()
    assert row == ("ada@example.test", "Ada Lovelace", "https://a/x.png", "UTC", True)


def test_signup_falls_back_to_name_and_picture(conn: Conn, make_user: Any) -> None:
    user = make_user(conn, meta={"name": "Grace", "picture": "https://p/g.png"})
    row = conn.execute("select full_name, avatar_url from public.users where id = %s", (user,)).fetchone()
    assert row == ("Grace", "https://p/g.png")


def test_signup_without_metadata_and_with_a_long_name(conn: Conn, make_user: Any) -> None:
    bare = make_user(conn)
    long = make_user(conn, meta={"full_name": "x" * 400})
    assert conn.execute(
        "select full_name, avatar_url from public.users where id = %s", (bare,)
    ).fetchone() == (
        None,
        None,
    )
    row = conn.execute("select length(full_name) from public.users where id = %s", (long,)).fetchone()
    assert row == (255,)


def test_signup_without_email_creates_the_row_when_the_email_arrives(conn: Conn) -> None:
    user = uuid.uuid4()
    conn.execute("insert into auth.users (id, phone) values (%s, '+15550100')", (user,))
    assert conn.execute("select count(*) from public.users where id = %s", (user,)).fetchone() == (0,)

    conn.execute("update auth.users set email = 'late@example.test' where id = %s", (user,))
    row = conn.execute("select email from public.users where id = %s", (user,)).fetchone()
    assert row == ("late@example.test",)


def test_email_change_in_auth_is_mirrored(conn: Conn, make_user: Any) -> None:
    user = make_user(conn, email="old@example.test")
    conn.execute("update auth.users set email = 'new@example.test' where id = %s", (user,))
    assert conn.execute("select email from public.users where id = %s", (user,)).fetchone() == (
        "new@example.test",
    )


def test_signup_functions_are_not_callable_by_api_roles(conn: Conn) -> None:
    for role in ("anon", "authenticated", "service_role"):
        row = conn.execute(
            "select has_function_privilege(%s, 'public.handle_new_user()', 'execute')", (role,)
        ).fetchone()
        assert row == (False,), role


# --- exactly one default voice profile -----------------------------------------------------------


def test_first_profile_becomes_the_default(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    add_profile(conn, user, "First")
    add_profile(conn, user, "Second")
    assert profiles(conn, user) == {"First": True, "Second": False}


def test_first_profiles_in_one_multi_row_insert(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    conn.execute(
        "insert into public.voice_profiles (user_id, name, characteristics) values (%s, 'A', '{}'), (%s, 'B', '{}')",
        (user, user),
    )
    assert sorted(profiles(conn, user).values()) == [False, True]


def test_inserting_a_new_default_takes_over(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    add_profile(conn, user, "Old")
    add_profile(conn, user, "New", is_default=True)
    assert profiles(conn, user) == {"Old": False, "New": True}


def test_switching_the_default_with_an_update(conn: Conn, make_user: Any, as_role: Any) -> None:
    user = make_user(conn)
    add_profile(conn, user, "A")
    b = add_profile(conn, user, "B")
    with as_role(conn, "authenticated", user) as cur:
        cur.execute("update public.voice_profiles set is_default = true where id = %s", (b,))
        assert cur.rowcount == 1
        cur.execute("select name, is_default from public.voice_profiles order by name")
        assert cur.fetchall() == [("A", False), ("B", True)]


def test_set_default_voice_profile_rpc(conn: Conn, make_user: Any, as_role: Any) -> None:
    user, other = make_user(conn), make_user(conn)
    add_profile(conn, user, "A")
    b = add_profile(conn, user, "B")
    theirs = add_profile(conn, other, "Theirs")

    with as_role(conn, "authenticated", user) as cur:
        cur.execute("select name, is_default from public.set_default_voice_profile(%s)", (b,))
        assert cur.fetchall() == [("B", True)]
        cur.execute("select name from public.voice_profiles where is_default")
        assert cur.fetchall() == [("B",)]
        # Someone else's profile is simply not found (RLS), and nothing changes.
        cur.execute("select * from public.set_default_voice_profile(%s)", (theirs,))
        assert cur.fetchall() == []
    assert profiles(conn, other) == {"Theirs": True}


def test_rpc_is_not_executable_by_anon(conn: Conn, as_role: Any) -> None:
    with pytest.raises(errors.InsufficientPrivilege), as_role(conn, "anon") as cur:
        cur.execute("select * from public.set_default_voice_profile(%s)", (uuid.uuid4(),))


def test_unsetting_the_default_is_refused(conn: Conn, make_user: Any, as_role: Any) -> None:
    user = make_user(conn)
    a = add_profile(conn, user, "A")
    add_profile(conn, user, "B")
    with pytest.raises(errors.CheckViolation) as info, as_role(conn, "authenticated", user) as cur:
        cur.execute("update public.voice_profiles set is_default = false where id = %s", (a,))
    assert info.value.diag.constraint_name == "voice_profiles_one_default"
    assert profiles(conn, user) == {"A": True, "B": False}


def test_deleting_the_default_promotes_the_most_recently_used(
    conn: Conn, make_user: Any, as_role: Any
) -> None:
    user = make_user(conn)
    a = add_profile(conn, user, "A")
    add_profile(conn, user, "Unused")
    add_profile(conn, user, "Used", last_used_at="2024-05-01T00:00:00Z")
    add_profile(conn, user, "UsedEarlier", last_used_at="2024-01-01T00:00:00Z")

    with as_role(conn, "authenticated", user) as cur:
        cur.execute("delete from public.voice_profiles where id = %s", (a,))
        assert cur.rowcount == 1
        cur.execute("select name from public.voice_profiles where is_default")
        assert cur.fetchall() == [("Used",)]


def test_deleting_the_default_promotes_the_oldest_when_none_was_used(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    a = add_profile(conn, user, "A")
    add_profile(conn, user, "Older", created_at="2020-01-01T00:00:00Z")
    add_profile(conn, user, "Newer", created_at="2023-01-01T00:00:00Z")
    conn.execute("delete from public.voice_profiles where id = %s", (a,))
    assert profiles(conn, user) == {"Older": True, "Newer": False}


def test_cannot_delete_the_only_profile(conn: Conn, make_user: Any, as_role: Any) -> None:
    user = make_user(conn)
    only = add_profile(conn, user, "Only")
    with pytest.raises(errors.CheckViolation) as info, as_role(conn, "authenticated", user) as cur:
        cur.execute("delete from public.voice_profiles where id = %s", (only,))
    assert info.value.diag.constraint_name == "voice_profiles_keep_one"
    assert profiles(conn, user) == {"Only": True}


@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_cannot_delete_all_profiles_in_one_statement(
    conn: Conn, make_user: Any, as_role: Any, role: str
) -> None:
    user = make_user(conn)
    for name in ("A", "B", "C"):
        add_profile(conn, user, name)
    with pytest.raises(errors.CheckViolation), as_role(conn, role, user) as cur:
        cur.execute("delete from public.voice_profiles where user_id = %s", (user,))
    assert len(profiles(conn, user)) == 3


def test_deleting_several_but_not_all_keeps_a_default(conn: Conn, make_user: Any) -> None:
    user = make_user(conn)
    for name in ("A", "B", "C"):
        add_profile(conn, user, name)
    conn.execute("delete from public.voice_profiles where user_id = %s and name in ('A', 'B')", (user,))
    assert profiles(conn, user) == {"C": True}


def test_a_multi_user_delete_is_judged_per_user(conn: Conn, make_user: Any) -> None:
    keeps, loses_all = make_user(conn), make_user(conn)
    add_profile(conn, keeps, "K1")
    add_profile(conn, keeps, "K2")
    add_profile(conn, loses_all, "L1")
    with pytest.raises(errors.CheckViolation):
        conn.execute("delete from public.voice_profiles where name in ('K1', 'L1')")
    assert profiles(conn, keeps) == {"K1": True, "K2": False}


@pytest.mark.parametrize("via", ["auth.users", "public.users"])
def test_deleting_the_user_removes_everything(conn: Conn, make_user: Any, via: str) -> None:
    user = make_user(conn)
    seed(conn, user)
    conn.execute(sql.SQL("delete from {} where id = %s").format(sql.SQL(via)), (user,))
    for table in TABLES:
        column = "id" if table == "users" else "user_id"
        count = conn.execute(
            sql.SQL("select count(*) from public.{} where {} = %s").format(
                sql.Identifier(table), sql.Identifier(column)
            ),
            (user,),
        ).fetchone()
        assert count == (0,), table


def test_concurrent_first_profiles_get_one_default(database_url: str, make_user: Any, conn: Conn) -> None:
    """Two transactions add a first profile for the same user at once: the per-user lock orders them,
    so the second sees the first's default instead of failing on the unique index."""
    user = make_user(conn)
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            with psycopg.connect(database_url) as second:
                second.execute("set lock_timeout = '20s'")
                add_profile(second, user, "Two")
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    with psycopg.connect(database_url) as first:
        add_profile(first, user, "One")  # uncommitted: holds the user's lock
        thread = threading.Thread(target=second_writer)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second writer should wait for the first"
    thread.join(timeout=30)

    assert failures == []
    assert profiles(conn, user) == {"One": True, "Two": False}

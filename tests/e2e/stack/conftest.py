"""Fixtures of the wire-level suite: the conformance schema (conformance_schema.sql) and its rows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from nexus_sdk import local

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

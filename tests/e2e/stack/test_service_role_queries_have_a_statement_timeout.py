"""A service-role request's statement ends after 8 s, as on Supabase, instead of running unbounded.

``service_role`` has no ``statement_timeout`` of its own on Supabase: its requests keep the 8 s that
``authenticator`` (the role PostgREST logs in as) gets at login. Without it, one slow query sent with the
service key would hold a pooled connection for as long as it runs (this one, for minutes).
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

# PostgreSQL's regex engine checks for cancellation; with back-references this one runs for over 30 s.
_SLOW_TEXT = "a" * 4000 + "x"
_SLOW_REGEX = r"^(a*)(a*)\1\2\1x$"


def test_the_bootstrap_gives_authenticator_supabases_8s(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        "SELECT c FROM pg_roles, unnest(rolconfig) AS c "
        "WHERE rolname = 'authenticator' AND c LIKE 'statement\\_timeout=%'"
    ).fetchall()
    assert rows == [("statement_timeout=8s",)]


def test_a_slow_service_role_query_ends_at_8s(
    stack: local.LocalStack, service: httpx.Client, db: psycopg.Connection[Any], items: list[dict[str, Any]]
) -> None:
    db.execute("UPDATE public.stack_items SET note = %s WHERE name = 'apple'", (_SLOW_TEXT,))
    started = time.monotonic()
    r = service.get("/stack_items", params={"note": f"match.{_SLOW_REGEX}", "select": "id"}, timeout=20)
    elapsed = time.monotonic() - started
    assert r.status_code == 500, r.text
    assert r.json()["code"] == "57014"
    assert 7 <= elapsed < 15

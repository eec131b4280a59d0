"""A role's own settings apply to its requests, as PostgREST applies them; one user's slow queries end at
their role's ``statement_timeout`` instead of holding the pool until everyone else gets 504."""

from __future__ import annotations

import concurrent.futures
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

pytestmark = [pytest.mark.db, pytest.mark.e2e]

# PostgreSQL's regex engine checks for cancellation; with back-references this one runs for minutes.
SLOW_TEXT = "a" * 2000 + "x"
SLOW_REGEX = r"^(a*)(a*)\1\2\1x$"


@pytest.fixture
def slow_role(stack: Any, db: psycopg.Connection[Any]) -> Iterator[str]:
    """A role of this test only (roles are cluster-wide), like ``authenticated`` but with a 1 s timeout."""
    name = f"stack_t_{uuid.uuid4().hex[:10]}"
    role = sql.Identifier(name)
    db.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(role))
    try:
        db.execute(sql.SQL("GRANT {} TO authenticator").format(role))
        db.execute(sql.SQL("GRANT SELECT ON public.stack_items TO {}").format(role))
        db.execute(sql.SQL("ALTER ROLE {} SET statement_timeout = '1s'").format(role))
        stack.reload_schema()
        yield name
    finally:
        db.execute(sql.SQL("DROP OWNED BY {}").format(role))
        db.execute(sql.SQL("DROP ROLE {}").format(role))
        stack.reload_schema()


@pytest.fixture
def slow_row(db: psycopg.Connection[Any], items: list[dict[str, Any]]) -> None:
    db.execute("UPDATE public.stack_items SET note = %s WHERE name = 'apple'", (SLOW_TEXT,))


def _slow_read(stack: Any, token: str) -> httpx.Response:
    with httpx.Client(base_url=stack.rest_url, timeout=15) as client:
        return client.get(
            "/stack_items",
            params={"note": f"match.{SLOW_REGEX}", "select": "id"},
            headers={"apikey": stack.anon_key, "Authorization": f"Bearer {token}"},
        )


@pytest.mark.usefixtures("slow_row")
def test_the_roles_statement_timeout_ends_its_slow_query(stack: Any, slow_role: str) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-000000000009", role=slow_role)
    r = _slow_read(stack, token)
    assert r.status_code == 500, r.text
    assert r.json()["code"] == "57014"
    assert "statement timeout" in r.json()["message"]


@pytest.mark.usefixtures("slow_row")
def test_one_users_slow_queries_leave_connections_for_everyone_else(
    stack: Any, slow_role: str, anon: httpx.Client
) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-000000000009", role=slow_role)
    # More slow requests than the pool has connections, all at once.
    with concurrent.futures.ThreadPoolExecutor(max_workers=14) as pool:
        slow = [pool.submit(_slow_read, stack, token) for _ in range(14)]
        others = [anon.get("/stack_items?name=eq.banana&select=name") for _ in range(3)]
        slow_statuses = [f.result().status_code for f in slow]
    for r in others:
        assert r.status_code == 200, r.text
        assert r.json() == [{"name": "banana"}]
    assert set(slow_statuses) == {500}


def test_settings_are_read_again_on_reload(stack: Any, slow_role: str, db: psycopg.Connection[Any]) -> None:
    db.execute(
        sql.SQL(
            "CREATE FUNCTION public.{}() RETURNS text LANGUAGE sql STABLE "
            "AS $$ SELECT current_setting('statement_timeout') $$"
        ).format(sql.Identifier(f"timeout_of_{slow_role}"))
    )
    db.execute(
        sql.SQL("GRANT EXECUTE ON FUNCTION public.{}() TO {}").format(
            sql.Identifier(f"timeout_of_{slow_role}"), sql.Identifier(slow_role)
        )
    )
    token = stack.mint_token("00000000-0000-0000-0000-000000000009", role=slow_role)
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    try:
        stack.reload_schema()
        with httpx.Client(base_url=stack.rest_url, headers=headers, timeout=15) as client:
            assert client.get(f"/rpc/timeout_of_{slow_role}").json() == "1s"
            db.execute(
                sql.SQL("ALTER ROLE {} SET statement_timeout = '2min'").format(sql.Identifier(slow_role))
            )
            stack.reload_schema()
            assert client.get(f"/rpc/timeout_of_{slow_role}").json() == "2min"
    finally:
        db.execute(sql.SQL("DROP FUNCTION public.{}()").format(sql.Identifier(f"timeout_of_{slow_role}")))


def test_the_api_roles_have_supabases_timeouts(db: psycopg.Connection[Any]) -> None:
    rows = db.execute(
        "SELECT rolname, c FROM pg_roles, unnest(rolconfig) AS c "
        "WHERE rolname IN ('anon', 'authenticated') AND c LIKE 'statement\\_timeout=%' ORDER BY 1"
    ).fetchall()
    assert rows == [("anon", "statement_timeout=3s"), ("authenticated", "statement_timeout=8s")]

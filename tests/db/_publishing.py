"""Helpers for the publishing tests: calling a SQL function the way PostgREST's /rpc/ does, and due posts."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

Conn = psycopg.Connection[Any]


def call(cur: psycopg.Cursor[Any], fn: str, **args: Any) -> list[dict[str, Any]]:
    """``select * from public.fn(name => value, ...)``: named arguments, as PostgREST sends them.

    Switches the cursor to dict rows (what PostgREST would serialise) and returns every row.
    """
    cur.row_factory = dict_row
    query = sql.SQL("select * from public.{}({})").format(
        sql.Identifier(fn),
        sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in args),
    )
    cur.execute(query, tuple(args.values()))
    rows: list[dict[str, Any]] = cur.fetchall()
    return rows


class Session:
    """A connection of its own acting as PostgREST's service role, one committed transaction per call."""

    def __init__(self, url: str) -> None:
        self.conn: Conn = psycopg.connect(url, autocommit=True)

    def call(self, fn: str, **args: Any) -> list[dict[str, Any]]:
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "select set_config('role', 'service_role', true), set_config('request.jwt.claims', %s, true)",
                (json.dumps({"role": "service_role"}),),
            )
            return call(cur, fn, **args)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def service_call(url: str, fn: str, **args: Any) -> list[dict[str, Any]]:
    """One committed service-role call on a fresh connection."""
    with Session(url) as session:
        return session.call(fn, **args)


def make_due_posts(
    conn: Conn,
    user_id: uuid.UUID,
    connection_id: uuid.UUID,
    n: int,
    *,
    adaptation_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Insert ``n`` scheduled posts that are already due (one millisecond apart); their ids, oldest first."""
    rows = conn.execute(
        "insert into public.scheduled_posts (user_id, adaptation_id, content, platform_connection_id, platform,"
        " scheduled_for)"
        " select %s, %s, 'post ' || i, %s, 'linkedin', now() - interval '1 hour' + i * interval '1 millisecond'"
        " from generate_series(1, %s) i"
        " returning id, scheduled_for",
        (user_id, adaptation_id, connection_id, n),
    ).fetchall()
    return [r[0] for r in sorted(rows, key=lambda r: r[1])]

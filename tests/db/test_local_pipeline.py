"""The local stack's one-round-trip transactions (``nexus_sdk.local._pipeline``): results, errors, and the
prepared statements it keeps per connection, which must always match what the server holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest

from nexus_sdk.local import _pipeline
from nexus_sdk.local._pipeline import Step, execute, first_row


@pytest.fixture(autouse=True)
def _fresh_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    # How often statements were seen is process-wide; each test starts from none.
    monkeypatch.setattr(_pipeline, "_seen", {})


@pytest.fixture
async def aconn(database_url: str) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        yield conn
    finally:
        await conn.close()


async def _prepared(conn: psycopg.AsyncConnection[Any]) -> dict[str, str]:
    cur = await conn.execute("SELECT name, statement FROM pg_prepared_statements WHERE name LIKE '\\_nx\\_%'")
    return dict(await cur.fetchall())


async def test_each_step_gets_its_result_and_the_rows_load_as_psycopg_loads_them(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    results = await execute(
        aconn,
        [
            Step(b"BEGIN READ ONLY", prepare=False),
            Step(b"SELECT %(n)s::int + 1, %(t)s::text, %(a)s::text[]", {"n": 41, "t": "x", "a": ["a", "b"]}),
            Step(b"SELECT 1 WHERE false"),
            Step(b"COMMIT", prepare=False),
        ],
    )
    assert first_row(aconn, results[1]) == (42, "x", ["a", "b"])
    assert first_row(aconn, results[2]) is None
    assert aconn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


async def test_the_first_failing_step_is_raised_and_the_connection_stays_usable(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    with pytest.raises(psycopg.errors.DivisionByZero):
        await execute(
            aconn,
            [
                Step(b"BEGIN", prepare=False),
                Step(b"SELECT 1 / %(zero)s::int", {"zero": 0}),
                Step(b"SELECT no_such_column"),
                Step(b"COMMIT", prepare=False),
            ],
        )
    assert aconn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR
    await aconn.execute("ROLLBACK")
    results = await execute(aconn, [Step(b"SELECT %(v)s::int", {"v": 7})])
    assert first_row(aconn, results[0]) == (7,)


async def test_a_statement_is_prepared_when_it_recurs_and_only_once_the_server_confirmed_it(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    query = b"SELECT %(v)s::int * 3 AS recurring_in_this_test"
    await execute(aconn, [Step(query, {"v": 1})])
    # Its second use would prepare it, but an earlier step fails: the pipeline skips the Parse.
    with pytest.raises(psycopg.errors.DivisionByZero):
        await execute(aconn, [Step(b"SELECT 1 / 0", prepare=False), Step(query, {"v": 2})])
    assert not [s for s in (await _prepared(aconn)).values() if "recurring_in_this_test" in s]
    for value in (3, 4, 5):
        results = await execute(aconn, [Step(query, {"v": value})])
        assert first_row(aconn, results[0]) == (value * 3,)
    assert len([s for s in (await _prepared(aconn)).values() if "recurring_in_this_test" in s]) == 1


async def test_a_statement_longer_than_the_cap_is_never_prepared_nor_kept(
    aconn: psycopg.AsyncConnection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pipeline, "PREPARE_MAX_BYTES", 200)
    short = b"SELECT %(v)s::int AS short_enough"
    long = b"SELECT %(v)s::int AS too_long_to_keep" + b" " * 200
    for value in range(4):
        results = await execute(aconn, [Step(short, {"v": value}), Step(long, {"v": value})])
        assert (first_row(aconn, results[0]), first_row(aconn, results[1])) == ((value,), (value,))
    held = list((await _prepared(aconn)).values())
    assert [s for s in held if "short_enough" in s]
    assert not [s for s in held if "too_long_to_keep" in s]
    # What the stack remembers of statements it saw is their hashes, never their text.
    assert all(isinstance(key, int) for key in _pipeline._seen)


async def test_the_least_recently_used_statement_is_deallocated_beyond_the_cap(
    aconn: psycopg.AsyncConnection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pipeline, "PREPARED_MAX", 3)
    queries = [b"SELECT %(v)s::int + " + str(i).encode() + b" AS capped" for i in range(6)]
    for _ in range(3):
        for i, query in enumerate(queries):
            results = await execute(aconn, [Step(query, {"v": 10})])
            assert first_row(aconn, results[0]) == (10 + i,)
    held = [s for s in (await _prepared(aconn)).values() if "capped" in s]
    assert len(held) == 3


async def test_a_deallocation_the_server_refuses_fails_nothing_else(
    aconn: psycopg.AsyncConnection[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_pipeline, "PREPARED_MAX", 1)
    first, second = b"SELECT %(v)s::int AS lost_first", b"SELECT %(v)s::int AS lost_second"
    for _ in range(2):
        await execute(aconn, [Step(first, {"v": 1})])
    await aconn.execute("DEALLOCATE ALL")  # the server forgets what the stack believes it holds
    for _ in range(2):
        results = await execute(aconn, [Step(second, {"v": 2})])
        assert first_row(aconn, results[0]) == (2,)


async def test_parameters_larger_than_the_socket_buffer_are_sent_in_full(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    big = "x" * (8 * 1024 * 1024)
    results = await execute(aconn, [Step(b"SELECT length(%(big)s::text)", {"big": big}, prepare=False)])
    assert first_row(aconn, results[0]) == (len(big),)


async def test_a_cancelled_pipeline_closes_its_connection(aconn: psycopg.AsyncConnection[Any]) -> None:
    task = asyncio.ensure_future(execute(aconn, [Step(b"SELECT pg_sleep(5)", prepare=False)]))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert aconn.closed


async def test_a_step_sent_again_is_dumped_for_the_connections_current_encoding(
    aconn: psycopg.AsyncConnection[Any],
) -> None:
    # The stack sends one settings step again and again; a function may change the client encoding.
    step = Step(b"SELECT %(word)s::text, octet_length(%(word)s::text)", {"word": "\u00e9t\u00e9"})
    results = await execute(aconn, [step])
    assert first_row(aconn, results[0]) == ("\u00e9t\u00e9", 5)
    await aconn.execute("SET client_encoding TO 'LATIN1'")
    results = await execute(aconn, [step])
    assert first_row(aconn, results[0]) == ("\u00e9t\u00e9", 5)
    await aconn.execute("SET client_encoding TO 'UTF8'")
    results = await execute(aconn, [step, step])
    assert [first_row(aconn, r) for r in results] == [("\u00e9t\u00e9", 5)] * 2

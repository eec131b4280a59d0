"""A request's transaction in one round trip, sent through libpq's pipeline mode by hand.

psycopg's ``AsyncConnection.execute`` inside ``pipeline()`` is general: each statement gets a cursor, a
generator, a flush of its own and a poll of the socket, and the results are matched back in Python. A
request's transaction is five or six small statements, and that machinery cost about 0.15 ms of CPU per
request, more than everything else the stack does. Here the statements are queued on the connection's
libpq handle (``psycopg.pq``, psycopg's own wrapper), their parameters dumped and their rows loaded by
psycopg's adapters, exactly as ``execute`` would; then one Sync, one flush, and the socket is waited on
only until the results are in.

Statements that come back are prepared on the connection, under names kept here, per connection. A name
counts only once the server confirmed its Parse, so a pipeline cut short by an error (which skips every
later Parse) never leaves a name believed in that the server lacks. At most :data:`PREPARED_MAX` per
connection; the least recently used is deallocated to make room. A statement longer than
:data:`PREPARE_MAX_BYTES` is never prepared, and recurrences are counted by hash: what the stack keeps in
memory, and what each server connection holds, stays small whatever clients send.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

import psycopg
from psycopg import abc, errors, pq
from psycopg._queries import PostgresQuery
from psycopg.adapt import Transformer

__all__ = ["PREPARED_MAX", "PREPARE_AFTER", "PREPARE_MAX_BYTES", "Step", "execute", "first_row"]

PREPARE_AFTER: Final = 2
"""A statement is prepared on a connection from its second use by the stack (psycopg waits for five)."""
PREPARED_MAX: Final = 100
"""Prepared statements kept per connection (psycopg's default ``prepared_max``)."""
PREPARE_MAX_BYTES: Final = 16 * 1024
"""Longer statements are sent as they are: a request's shape that long (a filter tree of hundreds of
conditions, a body's rows as ``VALUES``) rarely recurs, and each one kept would hold its text here and its
plan in the server's connection."""

_FATAL: Final = pq.ExecStatus.FATAL_ERROR
_SYNC: Final = pq.ExecStatus.PIPELINE_SYNC
_DONE: Final = pq.ExecStatus.COMMAND_OK
_SEEN_MAX: Final = 4096
_seen: dict[int, int] = {}
"""How often each statement (the hash of its text and parameter types) was sent, to prepare only those that
recur. (A collision only prepares a statement at its first use.)"""
_prepared: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[bytes, tuple[int, ...]], bytes]] = (
    weakref.WeakKeyDictionary()
)
_names = iter(range(1, 1 << 62))


_Converted: TypeAlias = tuple[
    bytes, Sequence[abc.Buffer | None] | None, tuple[int, ...], Sequence[pq.Format] | None
]
"""A statement as libpq takes it: its text with ``$n`` placeholders, the dumped parameters, their types and
formats."""


class Step:
    """One statement of a pipeline: its text, its parameters, and whether it may be prepared.

    A step and its parameters must not change once made: their conversion for libpq is made once per
    client encoding and reused, so a step sent again and again (the same request settings) is dumped once.
    """

    __slots__ = ("_converted", "params", "prepare", "query")

    def __init__(
        self, query: bytes, params: Mapping[str, Any] | None = None, *, prepare: bool = True
    ) -> None:
        self.query = query
        self.params = params
        self.prepare = prepare
        self._converted: tuple[bytes | None, _Converted] | None = None

    def converted(self, tx: abc.Transformer, encoding: bytes | None) -> _Converted:
        """The statement as libpq takes it, its parameters dumped by ``tx`` (psycopg's adapters) for a
        connection whose ``client_encoding`` is ``encoding`` (as the server reports it)."""
        if self.params is None:
            return self.query, None, (), None
        if self._converted is None or self._converted[0] != encoding:
            pgq = PostgresQuery(tx)
            pgq.convert(self.query, self.params)
            self._converted = (encoding, (pgq.query, pgq.params, pgq.types, pgq.formats))
        return self._converted[1]


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


async def _wait(loop: asyncio.AbstractEventLoop, fd: int, *, write: bool) -> None:
    """Until ``fd`` is readable (or, with ``write``, writable or readable)."""
    fut = loop.create_future()
    loop.add_reader(fd, _wake, fut)
    if write:
        loop.add_writer(fd, _wake, fut)
    try:
        await fut
    finally:
        loop.remove_reader(fd)
        if write:
            loop.remove_writer(fd)


async def execute(conn: psycopg.AsyncConnection[Any], steps: Sequence[Step]) -> list[pq.abc.PGresult | None]:
    """Run ``steps`` in one pipeline, one round trip; return each step's result.

    The connection must be idle, in autocommit mode and not in a pipeline. On return the pipeline is
    closed and the connection usable (in a transaction if the steps opened one: failed, if one failed).

    Raises:
        psycopg.Error: the first failing step's error, once every result is in.
    """
    pgconn = conn.pgconn
    loop = asyncio.get_running_loop()
    tx = Transformer.from_context(conn)
    encoding = pgconn.parameter_status(b"client_encoding")
    cache = _prepared.get(conn)
    if cache is None:
        cache = _prepared[conn] = OrderedDict()
    # What each result answers, in order: a step (its index), a Parse (the key and name), a deallocation.
    expected: list[tuple[int, tuple[bytes, tuple[int, ...]] | None, bytes | None]] = []
    syncs = 1
    pgconn.enter_pipeline_mode()
    try:
        for index, step in enumerate(steps):
            query, params, types, formats = step.converted(tx, encoding)
            statement = (query, types)
            prepare = step.prepare and len(query) <= PREPARE_MAX_BYTES
            name = cache.get(statement) if prepare else None
            if name is not None:
                cache.move_to_end(statement)
            elif prepare:
                digest = hash(statement)
                seen = _seen.get(digest, 0) + 1
                if len(_seen) >= _SEEN_MAX:
                    _seen.clear()
                _seen[digest] = seen
                if seen >= PREPARE_AFTER:
                    if len(cache) >= PREPARED_MAX:
                        # Its own Sync: should the server have lost the name, only this fails.
                        _, old = cache.popitem(last=False)
                        pgconn.send_query_params(b"DEALLOCATE " + old, None)
                        expected.append((-1, None, None))
                        pgconn.pipeline_sync()
                        expected.append((-2, None, None))
                        syncs += 1
                    name = b"_nx_%d" % next(_names)
                    pgconn.send_prepare(name, query, param_types=types)
                    expected.append((-1, statement, name))
            if name is not None:
                pgconn.send_query_prepared(name, params, param_formats=formats)
            else:
                pgconn.send_query_params(query, params, param_types=types, param_formats=formats)
            expected.append((index, None, None))
        pgconn.pipeline_sync()
        expected.append((-2, None, None))
        fd = pgconn.socket
        while pgconn.flush():  # the rest did not fit the socket's buffer: wait, reading what comes back
            await _wait(loop, fd, write=True)
            pgconn.consume_input()
        results: list[pq.abc.PGresult | None] = [None] * len(steps)
        error: pq.abc.PGresult | None = None
        position = 0
        last: pq.abc.PGresult | None = None
        while syncs:
            while not pgconn.is_busy():
                result = pgconn.get_result()
                index, key, name = expected[position]
                if result is None:  # the end of one statement's results
                    position += 1
                    if index >= 0:
                        results[index] = last
                    elif key is not None and name is not None and last is not None and last.status == _DONE:
                        cache[key] = name
                    last = None
                    continue
                if result.status == _SYNC:
                    position += 1
                    syncs -= 1
                    if not syncs:
                        break
                    continue
                if result.status == _FATAL and error is None and (index >= 0 or key is not None):
                    error = result  # a failed deallocation is no one's error
                last = result
            if syncs:
                await _wait(loop, fd, write=False)
                pgconn.consume_input()
    except BaseException:
        # Cut short (cancelled, the socket lost): the pipeline's state is unknown, the connection unusable.
        await conn.close()
        raise
    pgconn.exit_pipeline_mode()
    if error is not None:
        raise errors.error_from_result(error, encoding=conn.info.encoding)
    return results


def first_row(conn: psycopg.AsyncConnection[Any], result: pq.abc.PGresult | None) -> tuple[Any, ...] | None:
    """The first row of ``result`` as psycopg loads it (a tuple), or ``None`` when there is none."""
    if result is None or result.ntuples == 0:
        return None
    tx = Transformer.from_context(conn)
    tx.set_pgresult(result)
    row: tuple[Any, ...] = tx.load_row(0, tuple)
    return row

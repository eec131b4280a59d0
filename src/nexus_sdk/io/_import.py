"""Import: validate, batch, send a few batches at once, record each finished batch, report every row.

:func:`import_rows` and :func:`aimport_rows` are written by hand, twice, on purpose: the planning, the
sending and the checkpoint are shared, but how batches are kept in flight differs for real (a thread pool
whose futures are waited on, against tasks under semaphores in a task group, with the checkpoint saved off
the event loop), and so does how an interruption unwinds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Iterable, Mapping, Sized
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk._types import NOT_GIVEN, NotGiven, uuid_text
from nexus_sdk.errors import AuthenticationError, ValidationError
from nexus_sdk.io._checkpoint import Checkpoint, Progress
from nexus_sdk.io._formats import DateOrder, FileReader, ReadFormat, detect_format
from nexus_sdk.io._plan import Batch, Planner, fewer_collections
from nexus_sdk.io._report import ImportReport, write_rejects
from nexus_sdk.io._send import BatchResult, send
from nexus_sdk.io._tables import IMPORT_TABLES, resolve_table
from nexus_sdk.repositories._core import TableCore
from nexus_sdk.repositories._handle import async_table, sync_table

if TYPE_CHECKING:
    from nexus_sdk.client import AsyncNexusClient, NexusClient
    from nexus_sdk.settings import TimeoutTypes

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONCURRENCY",
    "aimport_rows",
    "default_checkpoint_path",
    "default_rejects_path",
    "import_file",
    "import_rows",
]

DEFAULT_BATCH_SIZE: Final = 1000
"""Rows per request: the most allowed; measured faster than 500 (see docs/import-export.md)."""
DEFAULT_CONCURRENCY: Final = 4


def _total(rows: Iterable[Any]) -> int | None:
    """The number of rows when known without reading them (a list), for the progress bar."""
    return len(rows) if isinstance(rows, Sized) else None


def _report(
    planner: Planner, saved: Checkpoint, started: float, rejects_path: str | os.PathLike[str] | None
) -> ImportReport:
    total = saved.total()
    rejects = sorted([*planner.rejects, *total.rejects], key=lambda r: r.line)
    report = ImportReport(
        table=planner.table,
        read=planner.read,
        inserted=total.inserted,
        duplicates=total.duplicates,
        rejects=rejects,
        batches=planner.batch_count,
        resumed_batches=saved.resumed,
        seconds=time.perf_counter() - started,
    )
    if rejects_path is not None and write_rejects(Path(rejects_path), rejects):
        report.rejects_path = Path(rejects_path)
    return report


def _begin(
    core: TableCore[Any, Any, Any],
    table: str,
    rows: Iterable[Any],
    user_id: str | uuid.UUID | None,
    batch_size: int,
    checkpoint: str | os.PathLike[str] | None,
    progress: bool | Progress,
) -> tuple[Planner, Checkpoint, Progress]:
    """What both import drivers start with: the planner, the checkpoint and the progress bar.

    A ``user_id`` that is not a UUID is refused here, before a row is read: it would reject every row.
    """
    owner = uuid_text("user_id", user_id) if user_id else None
    planner = Planner(core, table, user_id=owner, batch_size=batch_size)
    saved = Checkpoint(Path(checkpoint) if checkpoint is not None else None)
    if isinstance(progress, Progress):
        return planner, saved, progress
    return planner, saved, Progress(progress, f"import {table}", total=_total(rows))


def _token_advice(exc: BaseException) -> str | None:
    """What to do when the server refused the access token: a new one if it expired, else a valid one."""
    if not isinstance(exc, AuthenticationError):
        return None
    if "expired" in exc.message.lower():
        return "the access token expired: get a new one"
    if exc.code in (
        "PGRST301",
        "PGRST303",
    ):  # a bad signature (another project's or stack's token), a bad claim
        return "the access token was refused (issued by another project or stack?): get a valid one"
    return None


def _note_interrupted(exc: BaseException, planner: Planner, saved: Checkpoint) -> None:
    """Say how far the import got and how to finish it, on the exception that stopped it."""
    if isinstance(exc, ValidationError):
        return  # the file or an option is wrong: the message says what, and a re-run would fail alike
    resume = saved.path is not None and saved.path.exists()
    again = f"re-run to resume from {saved.path}" if resume else "re-run to finish"
    advice = _token_advice(exc)
    if advice:
        again = f"{advice}, then {again}"
    exc.add_note(
        f"import stopped after {len(saved.done)} of {planner.batch_count} batches read so far; "
        f"{again} (no row is sent twice)"
    )


def import_rows(
    client: NexusClient,
    table: str,
    rows: Iterable[Mapping[str, Any] | tuple[int, Any]],
    *,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
) -> ImportReport:
    """Import rows into a table: validate each, insert the valid ones in batches, idempotently.

    Rows are validated as they are read and every full batch of valid rows is sent at once, while the
    next rows are validated; an invalid row is rejected with its reason and never sent.

    Args:
        client: A client acting as a user (rows are theirs) or with the service-role key (each row needs a
            ``user_id``, or pass ``user_id=``).
        table: ``content_adaptations``, ``voice_profiles``, ``published_posts`` or ``platform_connections``
            (or an alias such as ``adaptations``).
        rows: Dicts of column values (a row's position, from 1, is its line number), or ``(line, dict)``
            pairs as :func:`read_rows` yields them. Read once, lazily.
        user_id: Owner of rows that carry no ``user_id`` (service role only).
        batch_size: Rows per request (at most 1000).
        concurrency: Batches in flight at once.
        progress: Show a progress bar (``tqdm.auto``: a widget in Jupyter).
        checkpoint: A file recording finished batches; a re-run with the same rows skips them.
            Deleted when the import completes.
        rejects_path: Write the rejected rows here as JSONL (tokens masked).
        timeout: Per-request timeout.

    Returns:
        The report; ``report.rejects`` lists rows not imported, by line.

    Raises:
        ValidationError: Unknown table, bad batch size, or a ``user_id`` that is not a UUID (nothing
            was read).
        ConfigurationError: ``user_id`` contradicts the client's user, or tokens need
            ``NEXUS_ENCRYPTION_KEYS``.
        APIStatusError: The server failed for the import as a whole (auth, 5xx after retries); batches
            sent so far are in the checkpoint.
        APIConnectionError: The network failed after retries; likewise resumable.
    """
    return _import(
        client,
        table,
        rows,
        user_id=user_id,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=progress,
        checkpoint=checkpoint,
        rejects_path=rejects_path,
        timeout=timeout,
    )


def _import(
    client: NexusClient,
    table: str,
    rows: Iterable[Any],
    *,
    user_id: str | uuid.UUID | None,
    batch_size: int,
    concurrency: int,
    progress: bool | Progress,
    checkpoint: str | os.PathLike[str] | None,
    rejects_path: str | os.PathLike[str] | None,
    timeout: TimeoutTypes | NotGiven,
) -> ImportReport:
    """The sync driver: a thread pool keeps ``concurrency`` batches in flight (see :func:`import_rows`)."""
    table = resolve_table(table, IMPORT_TABLES)
    started = time.perf_counter()
    handle = sync_table(getattr(client, table))
    core = handle.core
    planner, saved, bar = _begin(core, table, rows, user_id, batch_size, checkpoint, progress)
    workers = max(1, concurrency)
    pending: dict[Future[BatchResult], Batch] = {}

    def collect(finished: Iterable[Future[BatchResult]]) -> None:
        for future in finished:
            batch = pending.pop(future)
            saved.record(batch, future.result())
            bar.update(len(batch.rows))

    try:
        with (
            fewer_collections(),
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nexus-import") as pool,
        ):
            try:
                for batch in planner.batches(rows):
                    if saved.resume(batch) is not None:
                        bar.update(len(batch.rows))
                        continue
                    pending[pool.submit(handle.sender.run, send(core, batch.rows, timeout))] = batch
                    # One batch may wait behind those in flight, ready the moment a worker frees up;
                    # beyond that, validating more would only hold rows in memory.
                    while len(pending) > workers:
                        finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                        collect(finished)
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    collect(finished)
            except BaseException as exc:
                # Stop starting batches; those in flight finish (their result is recorded when it succeeds).
                for future in pending:
                    future.cancel()
                for future, batch in pending.items():
                    if not future.cancelled():
                        with contextlib.suppress(BaseException):
                            saved.record(batch, future.result())
                with contextlib.suppress(OSError):
                    saved.flush()
                _note_interrupted(exc, planner, saved)
                raise
        bar.update(len(planner.rejects))
    finally:
        bar.close()
    report = _report(planner, saved, started, rejects_path)
    saved.finish()
    return report


async def aimport_rows(
    client: AsyncNexusClient,
    table: str,
    rows: Iterable[Mapping[str, Any] | tuple[int, Any]],
    *,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | None = None,
    rejects_path: str | os.PathLike[str] | None = None,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,  # the HTTP timeout, as on every call
) -> ImportReport:
    """Import rows with an :class:`~nexus_sdk.AsyncNexusClient`; the twin of :func:`import_rows`.

    Batches in flight are tasks (at most ``concurrency``) and the checkpoint is saved in a worker thread,
    so the event loop never waits on the disk.

    Args:
        client: A client acting as a user (rows are theirs) or with the service-role key (each row needs a
            ``user_id``, or pass ``user_id=``).
        table: ``content_adaptations``, ``voice_profiles``, ``published_posts`` or ``platform_connections``
            (or an alias such as ``adaptations``).
        rows: Dicts of column values (a row's position, from 1, is its line number), or ``(line, dict)``
            pairs as :func:`read_rows` yields them. Read once, lazily.
        user_id: Owner of rows that carry no ``user_id`` (service role only).
        batch_size: Rows per request (at most 1000).
        concurrency: Batches in flight at once.
        progress: Show a progress bar (``tqdm.auto``: a widget in Jupyter).
        checkpoint: A file recording finished batches; a re-run with the same rows skips them.
            Deleted when the import completes.
        rejects_path: Write the rejected rows here as JSONL (tokens masked).
        timeout: Per-request timeout.

    Returns:
        The report; ``report.rejects`` lists rows not imported, by line.

    Raises:
        ValidationError: Unknown table, bad batch size, or a ``user_id`` that is not a UUID (nothing
            was read).
        ConfigurationError: ``user_id`` contradicts the client's user, or tokens need
            ``NEXUS_ENCRYPTION_KEYS``.
        APIStatusError: The server failed for the import as a whole (auth, 5xx after retries); batches
            sent so far are in the checkpoint.
        APIConnectionError: The network failed after retries; likewise resumable.
    """
    table = resolve_table(table, IMPORT_TABLES)
    started = time.perf_counter()
    handle = async_table(getattr(client, table))
    core = handle.core
    planner, saved, bar = _begin(core, table, rows, user_id, batch_size, checkpoint, progress)
    workers = max(1, concurrency)
    slots = asyncio.Semaphore(workers + 1)  # as in import_rows: one batch waits ready behind those in flight
    limit = asyncio.Semaphore(workers)

    async def one(batch: Batch) -> None:
        try:
            async with limit:
                result = await handle.sender.run(send(core, batch.rows, timeout))
            await saved.arecord(batch, result)
            bar.update(len(batch.rows))
        finally:
            slots.release()

    try:
        with fewer_collections():
            async with asyncio.TaskGroup() as group:
                for batch in planner.batches(rows):
                    if saved.resume(batch) is not None:
                        bar.update(len(batch.rows))
                        continue
                    await slots.acquire()
                    group.create_task(one(batch))
                    # Validation is CPU work on the event loop: let the sends progress between batches.
                    await asyncio.sleep(0)
        bar.update(len(planner.rejects))
    except BaseExceptionGroup as group_error:
        # Surface the first real failure (the others are the same fault or cancellations).
        first = group_error.exceptions[0]
        _note_interrupted(first, planner, saved)
        raise first from None
    except BaseException as exc:
        _note_interrupted(exc, planner, saved)
        raise
    finally:
        bar.close()
    report = _report(planner, saved, started, rejects_path)
    saved.finish()
    return report


def default_rejects_path(path: str | os.PathLike[str]) -> Path:
    """``FILE.rejects.jsonl`` next to ``FILE``."""
    return Path(f"{os.fspath(path)}.rejects.jsonl")


def default_checkpoint_path(path: str | os.PathLike[str]) -> Path:
    """``FILE.checkpoint.json`` next to ``FILE``."""
    return Path(f"{os.fspath(path)}.checkpoint.json")


def import_file(
    client: NexusClient,
    table: str,
    path: str | os.PathLike[str],
    *,
    format: ReadFormat | None = None,
    user_id: str | uuid.UUID | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: bool = False,
    checkpoint: str | os.PathLike[str] | NotGiven | None = NOT_GIVEN,
    rejects_path: str | os.PathLike[str] | NotGiven | None = NOT_GIVEN,
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    delimiter: str | None = None,
    encoding: str | None = None,
    timezone: str | None = None,
    date_order: DateOrder | None = None,
    sheet: str | None = None,
) -> ImportReport:
    """Import a JSONL, CSV or Excel (``.xlsx``) file; what ``nexus-sdk import`` runs.

    Args:
        client: See :func:`import_rows`.
        table: See :func:`import_rows`.
        path: The file.
        format: ``jsonl``, ``csv`` or ``xlsx``; detected if omitted (see :func:`read_rows`).
        user_id: See :func:`import_rows`.
        batch_size: See :func:`import_rows`.
        concurrency: See :func:`import_rows`.
        progress: A progress bar of the bytes read: percentage and time left, with the rows so far.
        checkpoint: Default ``FILE.checkpoint.json``; ``None`` for no checkpoint.
        rejects_path: Default ``FILE.rejects.jsonl``; ``None`` to write none. Written only when a row
            was rejected, readable by its owner only (0600).
        timeout: See :func:`import_rows`.
        delimiter: See :func:`read_rows`.
        encoding: See :func:`read_rows`.
        timezone: See :func:`read_rows`.
        date_order: See :func:`read_rows`.
        sheet: See :func:`read_rows`.

    Returns:
        The report.

    Raises:
        OSError: The file cannot be read.
        ValidationError: The file is not in ``encoding``, a header names an unknown column, it is a
            spreadsheet format that is not read, or see :func:`import_rows`; raised before any row is sent.
        ConfigurationError: An ``.xlsx`` file without openpyxl (``pip install 'nexus-sdk[xlsx]'``).
    """
    table = resolve_table(table, IMPORT_TABLES)
    if isinstance(checkpoint, NotGiven):
        checkpoint = default_checkpoint_path(path)
    if isinstance(rejects_path, NotGiven):
        rejects_path = default_rejects_path(path)
    reader = FileReader(
        Path(path),
        table,
        format or detect_format(path),
        delimiter=delimiter,
        encoding=encoding,
        timezone=timezone,
        date_order=date_order,
        sheet=sheet,
    )
    bar = Progress(progress, f"import {table}", total=reader.size, position=reader.position)
    return _import(
        client,
        table,
        reader,
        user_id=user_id,
        batch_size=batch_size,
        concurrency=concurrency,
        progress=bar,
        checkpoint=checkpoint,
        rejects_path=rejects_path,
        timeout=timeout,
    )

"""Checkpoints and progress: which batches are finished (so a re-run skips them), and a progress bar."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from nexus_sdk.io._files import write_atomically
from nexus_sdk.io._plan import Batch
from nexus_sdk.io._send import BatchResult

__all__ = ["SAVE_INTERVAL", "Checkpoint", "Progress"]

_CHECKPOINT_VERSION: Final = 2
SAVE_INTERVAL: Final = 0.5
"""Seconds between two saves of the sync import's checkpoint (the first finished batch is saved at once)."""


class Checkpoint:
    """The finished batches of an import, saved after each batch (atomically) so a re-run can skip them.

    Each batch is saved with the digest of its rows, and skipped on a re-run only if the batch at that
    position has the same digest: an edited file, another batch size or another owner sends it again
    (and the database's conflict handling keeps that free of duplicates).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.saved: dict[int, tuple[str, BatchResult]] = {}
        self.done: dict[int, BatchResult] = {}
        """The batches of this run that are finished, sent now or by an earlier run."""
        self.resumed = 0
        self._saving = asyncio.Lock()
        self._saved_at = -SAVE_INTERVAL
        self._dirty = False
        if path is not None and path.exists():
            try:
                saved = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                saved = None
            if isinstance(saved, dict) and saved.get("version") == _CHECKPOINT_VERSION:
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    self.saved = {
                        int(k): (str(v["digest"]), BatchResult.from_json(v))
                        for k, v in saved.get("batches", {}).items()
                    }

    def resume(self, batch: Batch) -> BatchResult | None:
        """The saved result of ``batch`` if an earlier run finished exactly these rows, else None."""
        entry = self.saved.get(batch.index)
        if entry is None or entry[0] != batch.digest:
            return None
        self.done[batch.index] = entry[1]
        self.resumed += 1
        return entry[1]

    def record(self, batch: Batch, result: BatchResult) -> None:
        """Note a finished batch and save the file, at most every :data:`SAVE_INTERVAL` seconds.

        Saving after every batch cost the sync import a tenth of its time on some file systems (the
        rename). A save skipped here is made by :meth:`flush` when the import stops; only a process
        killed outright loses the batches of its last moment, which a re-run sends again and the
        database reports as duplicates.
        """
        self._remember(batch, result)
        if self.path is None:
            return
        now = time.monotonic()
        if now - self._saved_at >= SAVE_INTERVAL:
            self._write(self.path, self._text())
            self._saved_at, self._dirty = now, False
        else:
            self._dirty = True

    def flush(self) -> None:
        """Save what :meth:`record` has not saved yet."""
        if self.path is not None and self._dirty:
            self._write(self.path, self._text())
            self._saved_at, self._dirty = time.monotonic(), False

    async def arecord(self, batch: Batch, result: BatchResult) -> None:
        """Like :meth:`record`, writing the file in a worker thread so the event loop never waits on disk."""
        self._remember(batch, result)
        if self.path is None:
            return
        # One save at a time, each taken when its turn comes, so a late write never replaces a newer one.
        async with self._saving:
            await asyncio.to_thread(self._write, self.path, self._text())

    def _remember(self, batch: Batch, result: BatchResult) -> None:
        self.done[batch.index] = result
        self.saved[batch.index] = (batch.digest, result)

    def _text(self) -> str:
        payload = {
            "version": _CHECKPOINT_VERSION,
            "batches": {str(k): {"digest": d, **r.to_json()} for k, (d, r) in sorted(self.saved.items())},
        }
        return json.dumps(payload)

    @staticmethod
    def _write(path: Path, text: str) -> None:
        # Atomically: a crash mid-write leaves the previous checkpoint, never half of a new one. Private:
        # the rejects it records hold rows as read.
        with write_atomically(path, private=True) as handle:
            handle.write(text)

    def total(self) -> BatchResult:
        """The results of every finished batch, in batch order."""
        total = BatchResult()
        for index in sorted(self.done):
            total = total + self.done[index]
        return total

    def finish(self) -> None:
        """The import completed: remove the file."""
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


class Progress:
    """A progress bar (``tqdm.auto``: a widget in Jupyter, text in a terminal), or nothing.

    Counting rows (integers, and a total when known), or, for a file, the bytes read: then the bar shows
    the percentage and the time left, with the rows so far beside it.
    """

    def __init__(
        self,
        enabled: bool,
        desc: str,
        *,
        total: int | None = None,
        position: Callable[[], int] | None = None,
    ) -> None:
        self._bar: Any = None
        self._position = position
        self.rows = 0
        if not enabled:
            return
        from tqdm.auto import tqdm

        if position is None:
            self._bar = tqdm(total=total, unit=" rows", desc=desc, leave=True)
        else:
            self._bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=True)

    def update(self, rows: int) -> None:
        """Count ``rows`` more."""
        self.rows += rows
        bar = self._bar
        if bar is None:
            return
        if self._position is None:
            bar.update(rows)
        else:
            bar.set_postfix_str(f"{self.rows} rows", refresh=False)
            bar.update(max(0, self._position() - bar.n))

    def close(self) -> None:
        """Remove the bar (its last state stays on screen)."""
        if self._bar is not None:
            self._bar.close()

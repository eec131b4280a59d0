"""The sync import saves its checkpoint at most twice a second, and everything finished when it stops."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from nexus_sdk.io._checkpoint import Checkpoint
from nexus_sdk.io._plan import Batch, Rows
from nexus_sdk.io._send import BatchResult


def batch(index: int) -> Batch:
    return Batch(index, Rows([index], [{}], [b"{}"], "id"), f"digest-{index}")


def saved(path: Path) -> list[str]:
    return sorted(json.loads(path.read_text(encoding="utf-8"))["batches"])


def test_saves_are_spaced_and_flush_saves_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    checkpoint = Checkpoint(path)

    checkpoint.record(batch(0), BatchResult(inserted=1))
    checkpoint.record(batch(1), BatchResult(inserted=1))  # within the interval: not saved yet

    assert saved(path) == ["0"]
    checkpoint.flush()
    assert saved(path) == ["0", "1"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    resumed = Checkpoint(path)
    assert resumed.resume(batch(1)) == BatchResult(inserted=1)


def test_flush_without_pending_saves_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "cp.json"
    Checkpoint(path).flush()
    assert not path.exists()

"""What an import reports: every row read is inserted, a duplicate, or a rejected row with its reason."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexus_sdk.io._files import open_for_writing

__all__ = ["ImportReport", "RejectedRow", "write_rejects"]


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, and why."""

    line: int
    """The row's line in the file (1-based; the header is line 1 of a CSV), or its position in ``rows``."""
    reason: str
    """Why it was rejected (never contains a token)."""
    errors: list[dict[str, Any]] = field(default_factory=list)
    """Validation errors (``loc``, ``msg``, ``type``), when the reason is a validation failure."""
    row: Any = None
    """The row as read, with tokens masked."""

    def to_json(self) -> dict[str, Any]:
        """The JSON object written to the rejects file."""
        errors = [{**e, "loc": list(e.get("loc", ()))} for e in self.errors]
        return {"line": self.line, "reason": self.reason, "errors": errors, "row": self.row}


@dataclass
class ImportReport:
    """What an import did. Every row read is counted exactly once: inserted, duplicate or rejected."""

    table: str
    read: int = 0
    """Rows read from the source (blank lines are not rows)."""
    inserted: int = 0
    """Rows the database did not have and now has."""
    duplicates: int = 0
    """Rows that were already there (same id or natural key), so were skipped."""
    rejects: list[RejectedRow] = field(default_factory=list)
    """The rows not imported, by line, with reasons."""
    batches: int = 0
    """Batches of valid rows."""
    resumed_batches: int = 0
    """Batches a checkpoint showed as already sent by an earlier, interrupted run."""
    seconds: float = 0.0
    """Wall time of this run."""
    rejects_path: Path | None = None
    """Where the rejects were written; None when no file was written (no row was rejected)."""

    @property
    def rejected(self) -> int:
        """Rows not imported (invalid, or refused by the database)."""
        return len(self.rejects)

    @property
    def ok(self) -> bool:
        """True when no row was rejected."""
        return not self.rejects

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of this run."""
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-compatible values (the CLI's ``--json`` output)."""
        return {
            "table": self.table,
            "read": self.read,
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "batches": self.batches,
            "resumed_batches": self.resumed_batches,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
            **({"rejects_path": str(self.rejects_path)} if self.rejects_path is not None else {}),
            "rejects": [r.to_json() for r in self.rejects[:100]],
        }

    def summary(self) -> str:
        """A few lines for people."""
        lines = [
            f"{self.table}: {self.read} read, {self.inserted} inserted, "
            f"{self.duplicates} skipped as duplicates, {self.rejected} rejected "
            f"({self.rows_per_second:,.0f} rows/s)"
        ]
        if self.resumed_batches:
            lines.append(
                f"resumed: {self.resumed_batches} of {self.batches} batches were sent by an earlier run"
            )
        for reject in self.rejects[:10]:
            lines.append(f"  line {reject.line}: {reject.reason}")
        if len(self.rejects) > 10:
            lines.append(f"  ... and {len(self.rejects) - 10} more")
        if self.rejects_path is not None:
            lines.append(f"rejected rows written to {self.rejects_path}")
        return "\n".join(lines)


def write_rejects(path: Path, rejects: list[RejectedRow]) -> bool:
    """Write ``rejects`` as JSONL, in a private file (0600: rows as read may hold anything, a token in a
    form masking did not recognise included); with none, remove a stale file from an earlier run.

    Returns:
        Whether a file was written.
    """
    if not rejects:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a stale file from an earlier run would contradict this report
        return False
    with open_for_writing(path, private=True) as handle:
        for reject in rejects:
            handle.write(json.dumps(reject.to_json(), ensure_ascii=False, default=str) + "\n")
    return True

"""Sending: one POST per batch; a batch refused because of one row is halved until that row is alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from nexus_sdk._http import APIRequest, Operation, call
from nexus_sdk.errors import BadRequestError, ConflictError, PermissionDeniedError, UnprocessableEntityError
from nexus_sdk.io._plan import Rows
from nexus_sdk.io._report import RejectedRow
from nexus_sdk.io._tables import conflict_target, mask
from nexus_sdk.repositories._core import TableCore
from nexus_sdk.settings import NotGiven, TimeoutTypes

__all__ = ["BatchResult", "send"]

# Errors that a single row can cause (a constraint, a foreign key, RLS on that row's user_id): the batch is
# split to find the row. Anything else (auth, 5xx after retries, network) stops the import.
_ROW_ERRORS: Final = (BadRequestError, ConflictError, PermissionDeniedError, UnprocessableEntityError)


@dataclass
class BatchResult:
    """What the database did with one batch."""

    inserted: int = 0
    duplicates: int = 0
    rejects: list[RejectedRow] = field(default_factory=list)

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.inserted + other.inserted, self.duplicates + other.duplicates, self.rejects + other.rejects
        )

    def to_json(self) -> dict[str, Any]:
        """As saved in a checkpoint."""
        return {
            "inserted": self.inserted,
            "duplicates": self.duplicates,
            "rejects": [r.to_json() for r in self.rejects],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BatchResult:
        """As read back from a checkpoint."""
        rejects = [
            RejectedRow(
                int(r["line"]),
                str(r["reason"]),
                [{**e, "loc": tuple(e.get("loc", ()))} for e in r.get("errors", [])],
                r.get("row"),
            )
            for r in data.get("rejects", [])
        ]
        return cls(int(data["inserted"]), int(data["duplicates"]), rejects)


def _insert(core: TableCore[Any, Any, Any], rows: Rows, timeout: TimeoutTypes | NotGiven) -> Operation[int]:
    """One POST of ``rows``; returns how many were inserted (the others were already there)."""
    table = core.spec.table
    request = APIRequest(
        "POST",
        core.path,
        # Rows may set different optional columns: name them all and let the rest take their defaults.
        (("columns", rows.columns), ("on_conflict", ",".join(conflict_target(table))), ("select", "id")),
        {"Prefer": "return=representation,resolution=ignore-duplicates,missing=default"},
        # Safe: a repeat conflicts with what the first attempt inserted and inserts nothing.
        retry_safe=True,
        timeout=timeout,
        content=rows.content(),
    )
    response = yield from call(request, core.settings)
    return len(response.rows())


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", str(exc))
    # PostgREST's ``details`` may quote the whole failing row (ciphertext included): left out on purpose.
    return f"refused by the database ({code}): {message}" if code else f"refused by the database: {message}"


def send(
    core: TableCore[Any, Any, Any], rows: Rows, timeout: TimeoutTypes | NotGiven
) -> Operation[BatchResult]:
    """Insert ``rows``; when one row makes the batch fail, split it until that row is alone and reject it."""
    try:
        inserted = yield from _insert(core, rows, timeout)
    except _ROW_ERRORS as exc:
        if len(rows) == 1:
            return BatchResult(rejects=[RejectedRow(rows.lines[0], _reason(exc), row=mask(rows.sources[0]))])
        first_half, second_half = rows.split()
        first = yield from send(core, first_half, timeout)
        second = yield from send(core, second_half, timeout)
        return first + second
    return BatchResult(inserted, len(rows) - inserted)

"""Files the import and export write, with modes that keep secrets private.

A file that may hold secrets (decrypted tokens, rows of a table with token columns) is created ``0600``;
an existing one is narrowed to at most ``0600``. No file is ever given a wider mode than it had: a file
written again, or replaced by a finished ``FILE.part``, keeps (at most) the mode it had.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Final, TextIO

__all__ = ["PRIVATE_MODE", "open_for_writing", "replace_keeping_mode", "write_atomically"]

PRIVATE_MODE: Final = 0o600
"""Read and write for the owner only."""


def open_for_writing(path: Path, *, private: bool, newline: str | None = None) -> TextIO:
    """Open ``path`` to write UTF-8 text (truncated).

    Args:
        path: The file.
        private: Created ``0600``, or narrowed to at most ``0600`` if it exists. Otherwise a new file
            gets the usual mode (umask) and an existing one keeps its own.
        newline: As for :func:`open` (``""`` for CSV).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE if private else 0o666)
    try:
        if private:
            info = os.fstat(fd)
            # The mode given to os.open applies to a new file only; an existing one may be wider.
            if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) & ~PRIVATE_MODE:
                os.fchmod(fd, stat.S_IMODE(info.st_mode) & PRIVATE_MODE)
        return open(fd, "w", encoding="utf-8", newline=newline)  # the caller closes it
    except BaseException:
        os.close(fd)
        raise


def replace_keeping_mode(source: Path, target: Path, *, private: bool) -> None:
    """Rename ``source`` over ``target``, which keeps (at most) the mode it had; 0600 at most if private."""
    try:
        existing: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        os.chmod(source, existing & PRIVATE_MODE if private else existing)
    os.replace(source, target)


@contextlib.contextmanager
def write_atomically(
    path: Path, *, private: bool, newline: str | None = None, suffix: str = ".tmp"
) -> Iterator[TextIO]:
    """Write ``PATH<suffix>`` and rename it over ``path`` when the block ends without an error.

    So a failure part-way never leaves a file that looks complete, nor clobbers a good one; the
    temporary file is removed.
    """
    temporary = path.with_name(path.name + suffix)
    try:
        with open_for_writing(temporary, private=private, newline=newline) as handle:
            yield handle
        replace_keeping_mode(temporary, path, private=private)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

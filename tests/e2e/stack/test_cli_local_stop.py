"""`nexus-sdk local stop` stops the stack `nexus-sdk local start` serves in the background, as Ctrl-C does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

CLI = [sys.executable, "-c", "from nexus_sdk.cli._local import local; local()"]


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_stop_ends_a_background_stack_and_frees_its_data_dir(tmp_path: Path, admin_url: str | None) -> None:
    data_dir = tmp_path / "nexus-local"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    start = ["start", "--port", "0", "--data-dir", str(data_dir)]
    if admin_url is not None:
        start += ["--database-url", admin_url]
    proc = subprocess.Popen(
        [*CLI, *start], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while _run("status", "--data-dir", str(data_dir), env=env).returncode != 0:
            assert proc.poll() is None, "local start exited"
            assert time.monotonic() < deadline, "local start did not come up"
            time.sleep(0.5)

        stopped = _run("stop", "--data-dir", str(data_dir), env=env)
        assert stopped.returncode == 0, stopped.stderr
        assert f"process {proc.pid}" in stopped.stderr
        # The serving process has ended cleanly (as after Ctrl-C), not been killed.
        assert proc.wait(timeout=5) == 0
        assert not (data_dir / "stack.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    again = _run("stop", "--data-dir", str(data_dir), env=env)
    assert again.returncode == 1
    assert "No running local stack" in again.stderr

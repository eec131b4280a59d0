"""`nexus-sdk local start` and `nexus-sdk local user create`, run as a newcomer would, in subprocesses."""

from __future__ import annotations

import os
import queue
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

# The group is attached to the main `nexus-sdk` command by the CLI package; calling it directly keeps this
# test independent of that wiring.
CLI = [sys.executable, "-c", "from nexus_sdk.cli._local import local; local()"]


def _parse_exports(lines: list[str]) -> dict[str, str]:
    env = {}
    for line in lines:
        assert line.startswith("export "), line
        key, _, value = line[len("export ") :].partition("=")
        env[key] = value.strip("'")
    return env


def _read_lines(proc: subprocess.Popen[str], n: int, timeout: float) -> list[str]:
    out: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while len(lines) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (proc.poll() is not None and out.empty()):
            break
        try:
            lines.append(out.get(timeout=min(remaining, 1.0)))
        except queue.Empty:
            continue
    return lines


def test_start_user_create_and_sigterm(tmp_path: Path, admin_url: str | None) -> None:
    data_dir = tmp_path / "nexus-local"
    args = [*CLI, "start", "--port", "0", "--data-dir", str(data_dir)]
    if admin_url is not None:
        args += ["--database-url", admin_url]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = _read_lines(proc, 5, timeout=120)
        assert len(lines) == 5, (lines, proc.poll())
        exported = _parse_exports(lines)
        assert list(exported) == [
            "SUPABASE_URL",
            "SUPABASE_ANON_KEY",
            "SUPABASE_SERVICE_ROLE_KEY",
            "SUPABASE_JWT_SECRET",
            "DATABASE_URL",
        ]
        url = exported["SUPABASE_URL"]
        state = data_dir / "stack.json"
        assert stat.S_IMODE(state.stat().st_mode) == 0o600
        anon = {"apikey": exported["SUPABASE_ANON_KEY"]}
        assert httpx.get(f"{url}/rest/v1/users", headers=anon).status_code == 401

        created = subprocess.run(
            [*CLI, "user", "create", "newcomer@example.com", "--data-dir", str(data_dir)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
        user = _parse_exports(created.stdout.splitlines())
        me = httpx.get(
            f"{url}/rest/v1/users",
            headers={**anon, "Authorization": f"Bearer {user['NEXUS_ACCESS_TOKEN']}"},
        )
        assert me.status_code == 200
        assert [(u["id"], u["email"]) for u in me.json()] == [(user["NEXUS_USER_ID"], "newcomer@example.com")]

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert not state.exists()
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/rest/v1/users", headers=anon, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()

    status = subprocess.run(
        [*CLI, "status", "--data-dir", str(data_dir)], capture_output=True, text=True, env=env, timeout=60
    )
    assert status.returncode != 0
    assert "No running local stack" in status.stderr

"""`nexus-sdk local start --data-dir DIR` in one shell; in another, `status`, `user create`, `user token` and
`stop` without it.

Run in subprocesses, as a user runs them, with a user cache of their own (XDG_CACHE_HOME) where the default
data dir has no stack.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]

CLI = [sys.executable, "-c", "from nexus_sdk.cli import main; main(prog_name='nexus-sdk')"]


def _exports(stdout: str) -> dict[str, str]:
    return {
        name: shlex.split(value)[0]
        for name, _, value in (line.removeprefix("export ").partition("=") for line in stdout.splitlines())
    }


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def test_a_stack_started_elsewhere_is_found_by_the_other_commands(
    tmp_path: Path, admin_url: str | None
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NEXUS_LOCAL_DIR"}
    env.update(PYTHONWARNINGS="ignore", XDG_CACHE_HOME=str(tmp_path / "cache"))
    data_dir = tmp_path / "project" / ".nexus"
    start = ["local", "start", "--port", "0", "--data-dir", str(data_dir)]
    if admin_url is not None:
        start += ["--database-url", admin_url]
    proc = subprocess.Popen(
        [*CLI, *start], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    try:
        assert proc.stderr is not None
        # Said at once, before the seconds it takes to start.
        assert proc.stderr.readline().startswith(f"# starting the local stack in {data_dir}")
        # Asked at once, as a quick second shell does: running, or starting, never "no stack".
        early = _run("local", "status", env=env)
        assert early.returncode == 0 or "is still starting; run this again" in early.stderr, early.stderr
        deadline = time.monotonic() + 120
        while not (data_dir / "stack.json").exists():
            assert proc.poll() is None, "local start exited"
            assert time.monotonic() < deadline, "local start did not come up"
            time.sleep(0.3)

        status = _run("local", "status", env=env)
        assert status.returncode == 0, status.stderr
        assert status.stdout.startswith("export SUPABASE_URL=http://127.0.0.1:")
        assert str(data_dir) in status.stderr

        created = _run("local", "user", "create", "ada@example.com", env=env)
        assert created.returncode == 0, created.stderr
        assert "export NEXUS_ACCESS_TOKEN=" in created.stdout

        # An hour later, a new session for the same user, without a password.
        renewed = _run("local", "user", "token", "Ada@Example.com", env=env)
        assert renewed.returncode == 0, renewed.stderr
        first, again = _exports(created.stdout), _exports(renewed.stdout)
        assert again["NEXUS_USER_ID"] == first["NEXUS_USER_ID"]
        assert again["NEXUS_ACCESS_TOKEN"] != first["NEXUS_ACCESS_TOKEN"]
        settings = _exports(status.stdout)
        me = httpx.get(
            f"{settings['SUPABASE_URL']}/auth/v1/user",
            headers={
                "apikey": settings["SUPABASE_ANON_KEY"],
                "Authorization": f"Bearer {again['NEXUS_ACCESS_TOKEN']}",
            },
        )
        assert me.status_code == 200
        assert me.json()["email"] == "ada@example.com"
        # The README's lines a second time (the stack keeps its database): the refusal says what to do.
        again_create = _run("local", "user", "create", "ada@example.com", env=env)
        assert again_create.returncode == 1
        assert again_create.stderr.strip().endswith(
            'a new token for them: eval "$(nexus-sdk local user token ada@example.com)"'
        )
        unknown = _run("local", "user", "token", "nobody@example.com", env=env)
        assert unknown.returncode == 1
        assert "`nexus-sdk local user create nobody@example.com` makes one" in unknown.stderr

        stopped = _run("local", "stop", env=env)
        assert stopped.returncode == 0, stopped.stderr
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()

    assert not list((tmp_path / "cache").rglob("*.json"))  # nothing noted once it has stopped
    after = _run("local", "status", env=env)
    assert after.returncode == 1
    assert "No running local stack" in after.stderr

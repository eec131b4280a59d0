"""The README's local stack lines run as written: `nexus-sdk local start` in one shell, the rest in a second.

The only liberty: the first shell's stack gets `--port 0` (and the test server's database in CI), so the
test never meets a stack a developer runs on 54321. The second shell's lines are the README's, run by bash
with `set -e` in an empty directory, with a user cache of their own: they must find that stack by
themselves.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nexus_sdk.testing import skip_unless_ci

pytestmark = [pytest.mark.db, pytest.mark.e2e]

README = Path(__file__).resolve().parents[3] / "README.md"


def _shell_lines() -> tuple[str, list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## The local stack, notebooks and tests\n") :]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the README's local stack section has no bash block"
    lines = [line for line in match.group(1).splitlines() if line.strip()]
    first, marker, *second = lines
    assert first.startswith("nexus-sdk local start"), first
    assert marker.startswith("# then, in a second shell"), marker
    return first, second


def test_the_readme_s_local_stack_lines_run_as_written(tmp_path: Path, admin_url: str | None) -> None:
    if shutil.which("bash") is None:
        skip_unless_ci("the README's lines are bash")
    first, second = _shell_lines()
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "NEXUS_")) and k not in ("DATABASE_URL", "PYTHONPATH")
    }
    # The `nexus-sdk` of the Python running the tests, with the same sources (a checkout's src first).
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PYTHONWARNINGS="ignore",
    )
    if sources := os.pathsep.join(p for p in sys.path if p.endswith("src")):
        env["PYTHONPATH"] = sources
    start = [*first.split("#")[0].split(), "--port", "0"]
    if admin_url is not None:
        start += ["--database-url", admin_url]
    server = subprocess.Popen(
        start, cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        # The second shell, once `local status` answers (as a user waits for the first shell's settings).
        deadline = time.monotonic() + 120
        while subprocess.run(["nexus-sdk", "local", "status"], env=env, capture_output=True).returncode:
            assert server.poll() is None, "local start exited"
            assert time.monotonic() < deadline, "local start did not come up"
            time.sleep(0.3)
        script = "\n".join(["set -e", *second])
        shell = subprocess.run(
            ["bash", "-c", script], cwd=workdir, env=env, capture_output=True, text=True, timeout=300
        )
        assert shell.returncode == 0, shell.stderr[-3000:]
        assert server.wait(timeout=30) == 0  # `nexus-sdk local stop`, the last line, stopped it cleanly
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()

    with (workdir / "ideas.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["original_idea"] for row in rows) == ["Ship small, ship often", "Write the test first"]
    assert len({row["user_id"] for row in rows}) == 1  # Ada's rows, imported under her token
    assert "eyJ" not in shell.stdout + shell.stderr  # no key or token shown: they went into the shell

"""The example at the top of docs/testing.md, copied verbatim into a project of its own (no conftest; only the
pytest settings the guide gives; pytest-asyncio in its default strict mode), passes as a user runs it, with
warnings as errors. One subprocess: it starts a stack of its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from nexus_sdk.testing import NexusTestStack

pytestmark = [pytest.mark.e2e]

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "testing.md"


def _first_python_block(markdown: str) -> str:
    match = re.search(r"```python\n(.*?)```", markdown, re.DOTALL)
    assert match is not None, "docs/testing.md has no python example"
    return match.group(1)


def test_with_the_guides_pytest_settings_it_passes_with_warnings_as_errors(
    tmp_path: Path, nexus_stack: NexusTestStack
) -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    (tmp_path / "test_from_the_guide.py").write_text(_first_python_block(guide))
    settings = re.search(r"```toml\n(.*?)```", guide, re.DOTALL)
    assert settings is not None, "docs/testing.md gives no pytest settings"
    (tmp_path / "pyproject.toml").write_text(settings.group(1))
    result = _pytest(tmp_path, "-W", "error")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "NEXUS_TEST_SUPABASE", "PYTEST_"))
    }
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            *args,
            "--rootdir",
            str(project),
            str(project),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

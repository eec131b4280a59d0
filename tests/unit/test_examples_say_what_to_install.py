"""The examples, copied out of the checkout into a venv that lacks a package they need, say what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "quickstart.py"


def test_quickstart_without_supabase_py_names_the_extra_that_has_it() -> None:
    # `nexus-sdk[local]` alone, as the README's install line for the local stack gives it: no supabase-py.
    code = f"import runpy, sys; sys.modules['supabase'] = None; runpy.run_path({str(SCRIPT)!r}, run_name='__main__')"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "The quickstart signs up with supabase-py: pip install supabase (or 'nexus-sdk[notebook]')"
    )

"""A newcomer's first errors say what to do next: set the local stack's variables, or start the stack.

The README has `nexus-sdk local start` in one shell and `eval "$(nexus-sdk local status)"` in another; a
command run before the second, or after the stack stopped, says which of the two is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nexus_sdk.cli import main
from nexus_sdk.crypto import EncryptionKey
from nexus_sdk.settings import KEY_VARS

NOTHING_SET = dict.fromkeys((*KEY_VARS, "SUPABASE_URL", "NEXUS_ACCESS_TOKEN"), "")


def _invoke(args: list[str], **env: str) -> Result:
    ring = EncryptionKey.generate().export()
    return CliRunner().invoke(main, args, env={**NOTHING_SET, "NEXUS_ENCRYPTION_KEYS": ring, **env})


@pytest.mark.parametrize("args", [["export", "adaptations"], ["keys", "rotate"]])
def test_no_url_or_no_key_points_at_local_status(args: list[str]) -> None:
    no_url = _invoke(args)
    assert no_url.exit_code == 2
    assert 'eval "$(nexus-sdk local status)"' in no_url.stderr

    no_key = _invoke(args, SUPABASE_URL="http://127.0.0.1:9")
    assert no_key.exit_code == 2
    assert 'eval "$(nexus-sdk local status)"' in no_key.stderr


@pytest.mark.parametrize(
    "args", [["export", "adaptations"], ["export", "adaptations", "--json"], ["keys", "rotate"]]
)
def test_nothing_listening_on_this_machine_asks_whether_the_local_stack_runs(args: list[str]) -> None:
    result = _invoke(args, SUPABASE_URL="http://127.0.0.1:9", SUPABASE_SERVICE_ROLE_KEY="not-a-jwt-key")

    assert result.exit_code == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "could not connect to 127.0.0.1:9" in line
    assert "Is the local stack running? `nexus-sdk local status` says" in line
    assert "not-a-jwt-key" not in result.output


def test_another_host_gets_no_local_stack_hint() -> None:
    result = _invoke(
        ["export", "adaptations"],
        SUPABASE_URL="http://nexus-sdk-test.invalid",
        SUPABASE_SERVICE_ROLE_KEY="not-a-jwt-key",
    )

    assert result.exit_code == 1
    assert "could not connect to nexus-sdk-test.invalid" in result.stderr
    assert "local stack" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["local", "start", "--port", "0"],
        ["local", "status"],
        ["local", "stop"],
        ["local", "user", "create", "ada@example.com"],
        ["local", "user", "token", "ada@example.com"],
    ],
)
def test_local_commands_without_the_local_extra_say_which_to_install(args: list[str], tmp_path: Path) -> None:
    """A plain `pip install nexus-sdk` has no psycopg (hidden here): the line names the extra, no class name."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from nexus_sdk.cli import main\n"
        f"main({args!r}, prog_name='nexus-sdk')\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "NEXUS_LOCAL_DIR": str(tmp_path / "local")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False, env=env
    )

    assert result.returncode == 1
    assert result.stderr == "Error: the local stack needs the extra: pip install 'nexus-sdk[local]'\n"


def test_importing_the_local_stack_without_the_extra_says_which_to_install() -> None:
    """`from nexus_sdk import local` (the README's `nexus_sdk.local.start()`) after a plain install."""
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from nexus_sdk.errors import ConfigurationError\n"
        "try:\n"
        "    from nexus_sdk import local\n"
        "except ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the local stack needs the extra: pip install 'nexus-sdk[local]'\n"

"""The command line as a user meets it: help with examples, one-line errors, exit codes, no secret printed.

No server is needed: the failures are provoked with an unreachable URL, a bad file, a port in use.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nexus_sdk._redact import MASK
from nexus_sdk.cli import main
from nexus_sdk.cli._common import redact
from nexus_sdk.io import read_rows

NO_SERVER = {
    "SUPABASE_URL": "http://127.0.0.1:9",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key-do-not-print",
    "SUPABASE_ANON_KEY": "",
    "NEXUS_ACCESS_TOKEN": "",
}


def invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env)


def assert_clean_failure(result: Result, code: int) -> None:
    """Exit ``code``; no traceback (the exception is a plain exit), no multi-line error."""
    assert result.exit_code == code, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1, result.stderr


def test_every_command_and_group_has_help_with_an_example() -> None:
    import click

    def paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        found = [prefix]
        for name, command in group.commands.items():
            found += (
                paths(command, (*prefix, name)) if isinstance(command, click.Group) else [(*prefix, name)]
            )
        return found

    for path in paths(main):
        result = invoke([*path, "--help"])
        assert result.exit_code == 0, path
        assert "Example" in result.stdout, path
        example = result.stdout.partition("Example")[2].partition("Options:")[0]
        assert f"nexus-sdk {' '.join(path)}".strip() in example, path


def test_db_apply_json_failure_is_json_on_stdout_one_line_on_stderr_and_no_password() -> None:
    url = "postgresql://postgres:s3cr3t-db-pass@127.0.0.1:1/postgres"

    result = invoke(["db", "apply", "--database-url", url, "--json"])

    assert_clean_failure(result, 1)
    assert json.loads(result.stdout)["message"].startswith("cannot connect")
    assert "s3cr3t-db-pass" not in result.output


def test_keys_check_json_failure_is_json_on_stdout() -> None:
    result = invoke(["keys", "check", "--json"], env={"NEXUS_ENCRYPTION_KEYS": "k1:tooshort"})

    assert_clean_failure(result, 1)
    assert json.loads(result.stdout)["error"] == "ConfigurationError"


def test_import_of_a_file_that_is_not_utf8_fails_in_one_line_naming_the_line(tmp_path: Path) -> None:
    source = tmp_path / "latin1.csv"
    source.write_bytes("original_idea\nok\ncaf\xe9\n".encode("latin-1"))

    result = invoke(["import", "adaptations", str(source), "--json"], env=NO_SERVER)

    assert_clean_failure(result, 1)
    failure = json.loads(result.stdout)
    assert failure["error"] == "ValidationError"
    assert "latin1.csv is not UTF-8 text: line 3, column 4: byte 0xe9" in failure["message"]
    assert "--encoding" in failure["message"]
    # Nothing was read, so no checkpoint exists and none is advised.
    assert failure["notes"] == []
    assert "checkpoint" not in result.output
    assert not Path(f"{source}.checkpoint.json").exists()
    assert NO_SERVER["SUPABASE_SERVICE_ROLE_KEY"] not in result.output


def test_export_to_a_missing_directory_is_a_usage_error_before_any_request(tmp_path: Path) -> None:
    result = invoke(["export", "adaptations", "-o", str(tmp_path / "no" / "x.jsonl")], env=NO_SERVER)

    assert_clean_failure(result, 2)
    assert "no such directory" in result.stderr


def test_a_failed_export_leaves_no_file_behind(tmp_path: Path) -> None:
    out = tmp_path / "ideas.jsonl"

    result = invoke(["export", "adaptations", "-o", str(out), "--json"], env=NO_SERVER)

    assert_clean_failure(result, 1)
    assert json.loads(result.stdout)["error"] == "APIConnectionError"
    assert list(tmp_path.iterdir()) == []  # neither ideas.jsonl nor ideas.jsonl.part


def test_local_start_on_a_port_in_use_fails_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = invoke(["local", "start", "--port", str(port), "--data-dir", str(tmp_path)])

    assert_clean_failure(result, 1)
    assert f"127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["local", "user", "create", "a@example.com", "--expires-in", "0"],
        ["local", "start", "--port", "70000"],
        ["local", "start", "--max-rows", "0"],
    ],
)
def test_out_of_range_values_are_usage_errors(args: list[str]) -> None:
    assert_clean_failure(invoke(args), 2)


def test_redact_hides_keys_tokens_and_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "plain-service-key")
    monkeypatch.setenv("NEXUS_ENCRYPTION_KEYS", "k1:AAAAkeymaterialAAAA,k0:BBBBoldmaterialBBBB")
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl"
    text = (
        f"key plain-service-key, jwt {jwt}, ring AAAAkeymaterialAAAA BBBBoldmaterialBBBB, "
        "url postgresql://postgres:pa55word@db:5432/x, dsn host=db password=pa55word, flag my-flag-secret"
    )

    cleaned = redact(text, ["export", "users", "--access-token", "my-flag-secret"])

    for secret in ("plain-service-key", jwt, "keymaterial", "oldmaterial", "pa55word", "my-flag-secret"):
        assert secret not in cleaned
    assert f"postgresql://postgres:{MASK}@db:5432/x" in cleaned


def test_csv_reading_handles_a_byte_order_mark_and_quoted_empty_cells(tmp_path: Path) -> None:
    source = tmp_path / "ideas.csv"
    # Excel's "CSV UTF-8" starts with a BOM; some tools quote every cell, empty ones too.
    source.write_text(
        '\ufefforiginal_idea,id,tone,target_audience,last_used_at\n"an idea","","",,""\n', encoding="utf-8"
    )

    rows = list(read_rows(source, "content_adaptations"))

    # A quoted "" is an empty string in a text column, "not given" elsewhere; an empty cell is not given.
    assert rows == [(2, {"original_idea": "an idea", "tone": ""})]


def test_a_missing_extra_is_one_plain_line_naming_the_install() -> None:
    """`nexus-sdk local status` without the `local` extra (PyJWT hidden here): no class name, no traceback."""
    code = (
        "import sys; sys.modules['jwt'] = None\n"
        "from nexus_sdk.cli import main\n"
        "main(['local', 'status'], prog_name='nexus-sdk')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 1
    assert result.stderr == "Error: the local stack needs the extra: pip install 'nexus-sdk[local]'\n"


def test_the_process_command_leaves_its_objects_to_the_exit_and_a_caller_s_collector_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import gc

    assert invoke(["--version"]).exit_code == 0
    assert gc.get_freeze_count() == 0  # called with arguments (CliRunner, code): the caller's process goes on
    monkeypatch.setattr(sys, "argv", ["nexus-sdk", "--version"])
    try:
        with pytest.raises(SystemExit) as done:
            main()  # arguments from sys.argv: the process's own command, about to end
        assert done.value.code == 0
        assert gc.get_freeze_count() > 0  # nothing left for the collector to scan at exit
    finally:
        gc.unfreeze()

"""The CLI as a whole: ``--help`` on every command, usage errors exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.cli._transfer import export_command, import_command


def full_cli() -> click.Group:
    group = click.Group("nexus-sdk", commands=dict(main.commands))
    group.add_command(import_command)
    group.add_command(export_command)
    return group


def every_command(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += every_command(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_help_on_every_command() -> None:
    cli = full_cli()
    paths = every_command(cli)
    assert ("import",) in paths
    assert ("local", "user", "create") in paths
    for path in paths:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "nope", "{file}"], "Unknown table"),
        (["import", "adaptations", "{missing}"], "does not exist"),
        (["import", "adaptations", "{file}", "--batch-size", "0"], "batch-size"),
        (["export", "users", "--format", "xml"], "xml"),
        (["export", "adaptations"], "no API URL"),
        (["import", "adaptations", "{file}", "--url", "http://x"], "no API key"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({"original_idea": "x"}) + "\n")
    argv = [a.format(file=source, missing=tmp_path / "missing.jsonl") for a in args]
    env = {
        "SUPABASE_URL": "",
        "SUPABASE_SERVICE_ROLE_KEY": "",
        "SUPABASE_ANON_KEY": "",
        "NEXUS_ACCESS_TOKEN": "",
    }

    result = CliRunner().invoke(full_cli(), argv, env=env)

    assert result.exit_code == 2, result.output
    assert message in result.output


def test_user_token_with_only_the_service_role_key_is_a_usage_error(tmp_path: Path) -> None:
    # make_client must not send a user's JWT alongside the service-role key (no anon key known).
    import base64

    def jwt(claims: dict[str, str]) -> str:
        body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"e30.{body}.c2ln"

    service_key = jwt({"role": "service_role"})
    user_token = jwt({"role": "authenticated", "sub": "11111111-2222-4333-8444-555555555555"})
    env = {
        "SUPABASE_URL": "http://127.0.0.1:9",
        "SUPABASE_SERVICE_ROLE_KEY": service_key,
        "SUPABASE_ANON_KEY": "",
        "NEXUS_ACCESS_TOKEN": user_token,
    }

    result = CliRunner().invoke(full_cli(), ["export", "adaptations", "--no-progress"], env=env)

    assert result.exit_code == 2, result.output
    assert "anon key" in result.output
    assert service_key not in result.output
    assert user_token not in result.output


def test_export_json_error_never_mixes_into_data_on_stdout() -> None:
    args = ["export", "voice_profiles", "--json", "--url", "http://127.0.0.1:9", "--key", "k"]
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 1
    assert result.stdout == ""
    error = json.loads(result.stderr.splitlines()[0])
    assert error["error"] == "APIConnectionError"


def test_import_command_defaults_are_the_library_defaults() -> None:
    # Users run the CLI: its batch size and concurrency must be the measured defaults of import_rows.
    from nexus_sdk.io import DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY

    defaults = {param.name: param.default for param in import_command.params}
    assert defaults["batch_size"] == DEFAULT_BATCH_SIZE == 1000
    assert defaults["concurrency"] == DEFAULT_CONCURRENCY


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["import", "adaptations", "{file}", "--user-id", "not-a-uuid"], "'--user-id'"),
        (["export", "adaptations", "--user-id", "not-a-uuid"], "'--user-id'"),
        (["import", "adaptations", "{file}", "--timezone", "Mars/Olympus"], "'--timezone'"),
        (["import", "adaptations", "{file}", "--encoding", "klingon"], "'--encoding'"),
        (["import", "adaptations", "{file}", "--delimiter", ";;"], "'--delimiter'"),
    ],
)
def test_bad_option_values_are_usage_errors_before_any_row_is_read(
    args: list[str], option: str, tmp_path: Path
) -> None:
    # docs/cli.md: a bad value is exit 2; a bad --user-id once rejected every row (exit 3, a rejects file).
    source = tmp_path / "rows.jsonl"
    source.write_text(json.dumps({"original_idea": "x"}) + "\n")
    env = {
        "SUPABASE_URL": "http://127.0.0.1:9",
        "SUPABASE_SERVICE_ROLE_KEY": "service-role-key-do-not-print",
        "SUPABASE_ANON_KEY": "",
        "NEXUS_ACCESS_TOKEN": "",
    }

    result = CliRunner().invoke(full_cli(), [a.format(file=source) for a in args], env=env)

    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}" in result.output
    assert "service-role-key-do-not-print" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.jsonl"]  # no rejects, no checkpoint

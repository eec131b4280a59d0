"""``nexus-sdk import`` / ``export`` against the local stack: exit codes, ``--json``, files written."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nexus_sdk.cli._transfer import export_command, import_command
from nexus_sdk.testing import NexusTestUser


@pytest.fixture
def cli() -> click.Group:
    # The lead registers the commands on `nexus-sdk`; a group of our own keeps this test independent of that.
    group = click.Group("nexus-sdk")
    group.add_command(import_command)
    group.add_command(export_command)
    return group


@pytest.fixture
def user_env(user_cli_env: dict[str, str]) -> dict[str, str]:
    return user_cli_env


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_import_ok_then_duplicates_json(cli: click.Group, user_env: dict[str, str], tmp_path: Path) -> None:
    source = write(tmp_path / "ideas.jsonl", [{"original_idea": f"cli {i}"} for i in range(30)])
    runner = CliRunner()

    first = runner.invoke(
        cli, ["import", "adaptations", str(source), "--json", "--batch-size", "7"], env=user_env
    )
    second = runner.invoke(cli, ["import", "adaptations", str(source), "--json"], env=user_env)

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout) | {"seconds": 0, "rows_per_second": 0} == {
        "table": "content_adaptations", "read": 30, "inserted": 30, "duplicates": 0, "rejected": 0,
        "batches": 5, "resumed_batches": 0, "seconds": 0, "rows_per_second": 0, "rejects": [],
    }  # fmt: skip  # no rejects_path: no file was written
    assert second.exit_code == 0
    assert (json.loads(second.stdout)["inserted"], json.loads(second.stdout)["duplicates"]) == (0, 30)


def test_import_with_rejects_exits_3_and_writes_them(
    cli: click.Group, user_env: dict[str, str], tmp_path: Path
) -> None:
    source = write(
        tmp_path / "ideas.jsonl", [{"original_idea": "fine"}, {"original_idea": ""}, {"tone": "x"}]
    )

    result = CliRunner().invoke(cli, ["import", "adaptations", str(source)], env=user_env)

    assert result.exit_code == 3
    assert "3 read, 1 inserted, 0 skipped as duplicates, 2 rejected" in result.stdout
    assert "line 2:" in result.stdout
    assert "line 3:" in result.stdout
    rejects = [json.loads(line) for line in (tmp_path / "ideas.jsonl.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 3]


def test_server_unreachable_exits_1(cli: click.Group, user_env: dict[str, str], tmp_path: Path) -> None:
    source = write(tmp_path / "ideas.jsonl", [{"original_idea": "lost"}])
    env = {**user_env, "SUPABASE_URL": "http://127.0.0.1:9"}

    result = CliRunner().invoke(cli, ["import", "adaptations", str(source), "--json"], env=env)

    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "APIConnectionError"
    assert user_env["NEXUS_ACCESS_TOKEN"] not in result.output


def test_export_to_stdout_and_file(
    cli: click.Group, user_env: dict[str, str], tmp_path: Path, nexus_user: NexusTestUser
) -> None:
    nexus_user.client.content_adaptations.create_many([{"original_idea": f"e {i}"} for i in range(3)])
    runner = CliRunner()

    to_stdout = runner.invoke(cli, ["export", "adaptations", "--json"], env=user_env)
    to_file = runner.invoke(
        cli, ["export", "adaptations", "-o", str(tmp_path / "out.csv"), "--json"], env=user_env
    )

    assert to_stdout.exit_code == 0
    assert len(to_stdout.stdout.splitlines()) == 3  # only data on stdout
    assert json.loads(to_stdout.stderr)["rows"] == 3
    assert to_file.exit_code == 0
    assert json.loads(to_file.stdout) == {
        "table": "content_adaptations", "rows": 3, "format": "csv", "output": str(tmp_path / "out.csv")
    }  # fmt: skip
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 4


def test_a_tsv_export_is_tab_separated_and_imports_back(
    cli: click.Group, user_env: dict[str, str], tmp_path: Path, nexus_user: NexusTestUser
) -> None:
    nexus_user.client.content_adaptations.create_many([{"original_idea": "tabs, and commas"}])
    output = tmp_path / "ideas.tsv"
    runner = CliRunner()

    exported = runner.invoke(cli, ["export", "adaptations", "-o", str(output)], env=user_env)
    again = runner.invoke(cli, ["import", "adaptations", str(output), "--json"], env=user_env)

    assert exported.exit_code == 0, exported.output
    header, row = output.read_text(encoding="utf-8").splitlines()
    assert header.startswith("id\tuser_id\toriginal_idea\t")
    assert "\ttabs, and commas\t" in row
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["duplicates"] == 1

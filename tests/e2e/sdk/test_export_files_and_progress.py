"""Files the CLI writes keep secrets private, bars say what they count, and an expired token says so.

Against the local stack: ``export --include-tokens -o FILE`` creates FILE (and FILE.part) 0600 and never
widens an existing file's mode; the export progress bar says "export"; an import stopped by an expired
access token says to get a new token.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.io import _files, export_rows
from nexus_sdk.testing import NexusTestStack, NexusTestUser

SECRET = "oauth-token-that-must-stay-private"


@pytest.fixture
def user_env(user_cli_env: dict[str, str], nexus_user: NexusTestUser) -> dict[str, str]:
    nexus_user.client.platform_connections.create(
        platform="x", platform_user_id="me", access_token=SECRET, refresh_token=SECRET + "-r"
    )
    return user_cli_env


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def export(env: dict[str, str], output: Path, *extra: str) -> None:
    result = CliRunner().invoke(main, ["export", "connections", "-o", str(output), *extra], env=env)
    assert result.exit_code == 0, result.output


def test_an_export_with_tokens_is_created_private(user_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "connections.jsonl"
    parts: list[int] = []
    opened = _files.open_for_writing

    def spy(path: Path, **options: object) -> object:
        handle = opened(path, **options)  # type: ignore[arg-type]
        parts.append(mode(path))
        return handle

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_files, "open_for_writing", spy)
        export(user_env, output, "--include-tokens")

    assert parts == [0o600]  # FILE.part, from the moment it exists
    assert mode(output) == 0o600
    assert SECRET in output.read_text(encoding="utf-8")


def test_an_existing_wider_file_is_narrowed_and_a_narrower_one_kept(
    user_env: dict[str, str], tmp_path: Path
) -> None:
    output = tmp_path / "connections.csv"
    output.write_text("old", encoding="utf-8")
    os.chmod(output, 0o644)
    export(user_env, output, "--include-tokens")
    assert mode(output) == 0o600

    os.chmod(output, 0o400 | 0o200)
    export(user_env, output, "--include-tokens")
    assert mode(output) == 0o600


def test_an_export_without_tokens_never_widens_the_file(user_env: dict[str, str], tmp_path: Path) -> None:
    output = tmp_path / "connections.jsonl"
    output.write_text("old", encoding="utf-8")
    os.chmod(output, 0o600)

    export(user_env, output)

    assert mode(output) == 0o600
    assert SECRET not in output.read_text(encoding="utf-8")


def test_the_export_bar_says_export_and_counts_rows_as_integers(
    nexus_user: NexusTestUser, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nexus_user.client.content_adaptations.create_many([{"original_idea": f"bar {i}"} for i in range(3)])
    with (tmp_path / "out.jsonl").open("w", encoding="utf-8") as out:
        export_rows(nexus_user.client, "adaptations", out, progress=True)

    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert bar.startswith("export content_adaptations: 3 rows ")


def test_an_expired_token_says_to_get_a_new_one(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "ideas.jsonl"
    source.write_text("".join(json.dumps({"original_idea": f"late {i}"}) + "\n" for i in range(5)), "utf-8")
    env = {**user_cli_env, "NEXUS_ACCESS_TOKEN": nexus_stack.mint_token(str(nexus_user.id), expires_in=-120)}

    result = CliRunner().invoke(main, ["import", "adaptations", str(source)], env=env)

    assert result.exit_code == 1, result.output
    assert "the access token expired: get a new one, then re-run" in result.stderr


def test_a_token_signed_by_another_stack_is_not_called_expired(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    import time

    import jwt

    source = tmp_path / "ideas.jsonl"
    source.write_text(json.dumps({"original_idea": "elsewhere"}) + "\n", "utf-8")
    claims = {"sub": str(nexus_user.id), "role": "authenticated", "exp": int(time.time()) + 600}
    foreign = jwt.encode(claims, "another-stack-s-secret-of-32-bytes-at-least", algorithm="HS256")
    env = {**user_cli_env, "NEXUS_ACCESS_TOKEN": foreign}

    result = CliRunner().invoke(main, ["import", "adaptations", str(source)], env=env)

    assert result.exit_code == 1, result.output
    assert "expired" not in result.stderr
    assert (
        "the access token was refused (issued by another project or stack?): get a valid one" in result.stderr
    )
    assert foreign not in result.output


def test_the_export_summary_counts_one_row_in_the_singular(user_env: dict[str, str], tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["export", "connections", "-o", str(tmp_path / "one.jsonl")], env=user_env
    )
    assert result.exit_code == 0, result.output
    assert "platform_connections: 1 row written to " in result.output

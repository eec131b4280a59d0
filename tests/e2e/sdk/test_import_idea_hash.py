"""``nexus-sdk import content_adaptations`` of an exported file edited in a spreadsheet: the edited idea whose
old ``idea_hash`` was kept is refused (it would be dropped as a duplicate of the stored idea); with the
hash cell emptied it imports as a new idea with its own hash; unedited rows stay duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.models._fields import sha256_hex
from nexus_sdk.testing import NexusTestUser


def _import(env: dict[str, str], path: Path) -> Any:
    result = CliRunner().invoke(
        main, ["import", "content_adaptations", str(path), "--json", "--no-checkpoint"], env=env
    )
    return result.exit_code, json.loads(result.stdout)


def test_an_edited_idea_needs_its_hash_cell_emptied(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("original_idea\nShip small\nTest first\n", encoding="utf-8")
    assert _import(user_cli_env, path)[0] == 0
    old = sha256_hex("Ship small")

    path.write_text(f"original_idea,idea_hash\nShip smaller,{old}\nTest first,{sha256_hex('Test first')}\n")
    code, report = _import(user_cli_env, path)
    assert code == 3
    assert (report["inserted"], report["duplicates"], report["rejected"]) == (0, 1, 1)
    assert "leave idea_hash empty" in report["rejects"][0]["reason"]

    path.write_text("original_idea,idea_hash\nShip smaller,\n")
    code, report = _import(user_cli_env, path)
    assert (code, report["inserted"]) == (0, 1)
    stored = {row.original_idea: row.idea_hash for row in nexus_user.client.content_adaptations.list()}
    assert stored == {
        "Ship small": old,
        "Ship smaller": sha256_hex("Ship smaller"),
        "Test first": sha256_hex("Test first"),
    }

"""Files the CLI writes that hold a secret are readable by their owner only, and never made more readable."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.crypto import KeyRing


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keys_new_output_file_is_created_0600(tmp_path: Path) -> None:
    key_file = tmp_path / "key"

    result = CliRunner().invoke(main, ["keys", "new", "--id", "k1", "-o", str(key_file)])

    assert result.exit_code == 0, result.output
    assert mode(key_file) == 0o600
    entry = key_file.read_text(encoding="utf-8").strip()
    assert entry.startswith("k1:")
    assert entry not in result.output  # the key went to the file only
    assert len(KeyRing.parse(entry)) == 1


def test_keys_new_narrows_an_existing_world_readable_file(tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text("old", encoding="utf-8")
    os.chmod(key_file, 0o644)

    result = CliRunner().invoke(main, ["keys", "new", "--json", "-o", str(key_file)])

    assert result.exit_code == 0, result.output
    assert mode(key_file) == 0o600
    assert json.loads(key_file.read_text(encoding="utf-8"))["env_var"] == "NEXUS_ENCRYPTION_KEYS"

"""``nexus-sdk import`` of CSV files saved by a spreadsheet (LibreOffice Calc), into the local stack.

The files in ``tests/data/libreoffice`` were written by LibreOffice itself (see the README there): ``;``
between cells, every text cell quoted, Windows-1252 or UTF-8, timestamps without an offset.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.testing import NexusTestUser

DATA = Path(__file__).parents[2] / "data" / "libreoffice"


def test_a_calc_csv_in_windows_1252_imports_with_its_encoding(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "ideas.csv"
    shutil.copy(DATA / "ideas-semicolon-windows-1252.csv", source)

    without = CliRunner().invoke(main, ["import", "adaptations", str(source)], env=user_cli_env)
    result = CliRunner().invoke(
        main,
        ["import", "adaptations", str(source), "--encoding", "cp1252", "--json"],
        env=user_cli_env,
    )

    assert without.exit_code == 1
    assert "ideas.csv is not UTF-8 text: line 2" in without.stderr
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["inserted"] == 2
    stored = {row.original_idea: row for row in nexus_user.client.content_adaptations.list()}
    assert set(stored) == {"Café au lait: 3,5 € pro Tasse", 'Zwei\nZeilen; mit "Zitat"'}
    assert stored['Zwei\nZeilen; mit "Zitat"'].target_audience == "Entwickler"
    assert stored["Café au lait: 3,5 € pro Tasse"].target_audience is None  # an empty cell is NULL


def test_a_calc_csv_with_naive_timestamps_imports_with_a_time_zone(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "posts.csv"
    shutil.copy(DATA / "posts-semicolon-utf-8.csv", source)

    without = CliRunner().invoke(main, ["import", "posts", str(source)], env=user_cli_env)
    result = CliRunner().invoke(
        main,
        ["import", "posts", str(source), "--timezone", "Europe/Paris"],
        env=user_cli_env,
    )

    assert without.exit_code == 3  # both rows rejected: a timestamp without an offset is ambiguous
    assert result.exit_code == 0, result.output
    stored = {row.content: row.scheduled_for for row in nexus_user.client.published_posts.list()}
    assert stored == {
        "Grüße": datetime(2026, 1, 15, 8, 30, tzinfo=UTC),
        "Résumé, 2,5 %": datetime(2026, 7, 15, 16, 5, 30, tzinfo=UTC),
    }

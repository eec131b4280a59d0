"""``nexus-sdk import`` of what Excel and LibreOffice make, into the local stack, as a user runs it.

A workbook's date cells, ambiguous dates, Excel's "Unicode Text" ``.txt``, an id a spreadsheet mangled, a
spreadsheet format that is not read: each row either lands as meant or is refused with the way out, the
rows already written are never touched, and a re-run with the option finishes the file.
"""

from __future__ import annotations

import codecs
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.testing import NexusTestUser

DATA = Path(__file__).parents[2] / "data" / "libreoffice"


def run(env: dict[str, str], *args: str) -> Any:
    return CliRunner().invoke(main, ["import", *args, "--json", "--no-checkpoint"], env=env)


def stored_posts(user: NexusTestUser) -> dict[str, Any]:
    return {row.content: row for row in user.client.published_posts.list()}


def test_a_workbook_imports_with_its_date_cells_and_ambiguous_dates_wait_for_the_order(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "posts.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Platform", "Content", "scheduled_for", "status"])
    sheet.append(["x", "date cell", datetime(2026, 12, 6, 14, 30), "published"])
    sheet.append(["x", "typed as text", "06/12/2026 14:30", "pending"])
    book.save(path)

    no_zone = run(user_cli_env, "posts", str(path))
    first = run(user_cli_env, "posts", str(path), "--timezone", "Europe/Paris")
    stored_after_first = set(stored_posts(nexus_user))
    second = run(user_cli_env, "posts", str(path), "--timezone", "Europe/Paris", "--date-order", "dmy")

    assert no_zone.exit_code == 3
    assert json.loads(no_zone.stdout)["inserted"] == 0
    assert first.exit_code == 3
    report = json.loads(first.stdout)
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert "--date-order" in report["rejects"][0]["reason"]
    assert stored_after_first == {"date cell"}
    assert second.exit_code == 0, second.output
    report = json.loads(second.stdout)
    assert (report["inserted"], report["duplicates"], report["rejected"]) == (1, 1, 0)
    stored = stored_posts(nexus_user)
    assert stored["date cell"].scheduled_for == datetime(2026, 12, 6, 13, 30, tzinfo=UTC)
    assert stored["typed as text"].scheduled_for == datetime(2026, 12, 6, 13, 30, tzinfo=UTC)  # 6 December


def test_a_calc_workbook_imports_and_its_mangled_id_row_is_refused(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "posts.xlsx"
    shutil.copy(DATA / "posts-date-cells.xlsx", path)

    result = run(user_cli_env, "posts", str(path), "--timezone", "UTC")

    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert report["rejects"][0]["line"] == 2
    assert "number too long" in report["rejects"][0]["reason"]
    assert set(stored_posts(nexus_user)) == {"Zwei\nZeilen"}


def test_a_calc_resaved_csv_with_a_scientific_notation_id_refuses_that_row_only(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "posts.csv"
    shutil.copy(DATA / "posts-long-id-resaved.csv", path)

    result = run(user_cli_env, "posts", str(path))

    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert (report["inserted"], report["rejected"]) == (1, 1)
    assert {k: v.platform_post_id for k, v in stored_posts(nexus_user).items()} == {"short id": "7012345"}


def test_excel_unicode_text_txt_imports_without_options(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "ideas.txt"
    text = "Original_Idea\tTone\r\nGrüße aus Köln\tcasual\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    result = run(user_cli_env, "adaptations", str(path))

    assert result.exit_code == 0, result.output
    assert [(r.original_idea, r.tone) for r in nexus_user.client.content_adaptations.list()] == [
        ("Grüße aus Köln", "casual")
    ]


def test_an_ods_file_is_refused_before_anything_is_sent(
    nexus_user: NexusTestUser, user_cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "ideas.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")

    result = run(user_cli_env, "adaptations", str(path))

    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == "ValidationError"
    assert "ideas.ods is an OpenDocument spreadsheet" in result.stderr
    assert 'save it as "Excel Workbook (.xlsx)"' in result.stderr
    assert nexus_user.client.content_adaptations.list() == []

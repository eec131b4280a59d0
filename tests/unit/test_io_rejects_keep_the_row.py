"""Rows that cannot be read are rejected with the row as read, never imported half-read; rejects files are
private and reported only when written.

No server: every row here is rejected while it is read, so nothing is sent (an unreachable URL proves it).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from nexus_sdk import NexusClient
from nexus_sdk.crypto import EncryptionKey, KeyRing
from nexus_sdk.io import MASK, import_file, read_rows

NO_SERVER = "http://127.0.0.1:9"
USER = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"


def test_a_truncated_last_csv_record_is_a_rejected_row(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text('original_idea,tone\nwhole,casual\n"cut in the middle of the ide', encoding="utf-8")

    rows = list(read_rows(path, "content_adaptations"))

    assert rows[0] == (2, {"original_idea": "whole", "tone": "casual"})
    line, error = rows[1]
    assert line == 3
    assert isinstance(error, ValueError)
    assert "cut off" in str(error)
    assert error.row == {"original_idea": "cut in the middle of the ide"}  # type: ignore[attr-defined]


def test_a_truncated_multiline_record_is_rejected_too(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text('original_idea,tone\n"first line\nsecond, and then', encoding="utf-8")

    [(line, error)] = list(read_rows(path, "content_adaptations"))

    assert (line, isinstance(error, ValueError)) == (2, True)


def test_a_last_record_without_a_newline_is_a_row(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text('original_idea,tone\n"quoted, closed",casual', encoding="utf-8")

    assert list(read_rows(path, "content_adaptations")) == [
        (2, {"original_idea": "quoted, closed", "tone": "casual"})
    ]


def test_a_record_with_fewer_cells_than_the_header_is_rejected_as_copy_does(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("original_idea,tone,target_audience\nshort,casual\n", encoding="utf-8")

    [(line, error)] = list(read_rows(path, "content_adaptations"))

    assert line == 2
    assert str(error) == "missing data for column 'target_audience' (3 columns expected)"
    assert error.row == {"original_idea": "short", "tone": "casual"}  # type: ignore[union-attr]


def test_every_reject_of_a_file_carries_the_row_as_read(tmp_path: Path) -> None:
    path = tmp_path / "connections.jsonl"
    path.write_text(
        '{"platform": "x", "access_token": "tok-SECRET-1", oops\n'
        '["not", "an", "object"]\n'
        '{"platform": "x", "platform_user_id": "u", "access_token": "' + MASK + '"}\n',
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.jsonl"
    ring = KeyRing([EncryptionKey.generate()])
    with NexusClient(NO_SERVER, "service-role-key", encryption_keys=ring) as client:
        report = import_file(client, "connections", path, user_id=USER, rejects_path=rejects, checkpoint=None)

    assert [r.line for r in report.rejects] == [1, 2, 3]
    assert all(r.row is not None for r in report.rejects)
    assert report.rejects[0].row == '{"platform": "x", "access_token": "' + MASK + '", oops'
    assert report.rejects[1].row == '["not", "an", "object"]'
    text = rejects.read_text(encoding="utf-8")
    assert "SECRET" not in text
    assert [json.loads(line)["row"] is not None for line in text.splitlines()] == [True, True, True]


def test_csv_rejects_carry_their_cells(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        'platform,content,metrics\nx,bad json,"{oops"\nx,too,many,cells\nx,"cut',
        encoding="utf-8",
    )
    with NexusClient(NO_SERVER, "service-role-key") as client:
        report = import_file(client, "posts", path, user_id=USER, rejects_path=None, checkpoint=None)

    assert [(r.line, r.row) for r in report.rejects] == [
        (2, {"platform": "x", "content": "bad json", "metrics": "{oops"}),
        (3, {"platform": "x", "content": "too", "metrics": "many"}),
        (4, {"platform": "x", "content": "cut"}),
    ]


def test_the_rejects_file_is_private_and_never_widened(tmp_path: Path) -> None:
    path = tmp_path / "ideas.jsonl"
    path.write_text("{oops\n", encoding="utf-8")
    rejects = tmp_path / "ideas.rejects.jsonl"
    rejects.write_text("old\n", encoding="utf-8")
    os.chmod(rejects, 0o644)

    with NexusClient(NO_SERVER, "service-role-key") as client:
        report = import_file(client, "adaptations", path, user_id=USER, rejects_path=rejects, checkpoint=None)

    assert report.rejects_path == rejects
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600
    rejects.unlink()
    with NexusClient(NO_SERVER, "service-role-key") as client:
        import_file(client, "adaptations", path, user_id=USER, rejects_path=rejects, checkpoint=None)
    assert stat.S_IMODE(rejects.stat().st_mode) == 0o600


def test_no_rejects_path_is_reported_when_no_file_was_written(tmp_path: Path) -> None:
    path = tmp_path / "ideas.jsonl"
    path.write_text("\n", encoding="utf-8")
    with NexusClient(NO_SERVER, "service-role-key") as client:
        report = import_file(client, "adaptations", path, user_id=USER)

    assert report.rejects_path is None
    assert "rejects_path" not in report.to_dict()
    assert not Path(f"{path}.rejects.jsonl").exists()


def test_a_file_import_progress_bar_shows_percent_of_bytes_and_integer_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ideas.jsonl"
    path.write_text("{oops\n" * 1500, encoding="utf-8")
    with NexusClient(NO_SERVER, "service-role-key") as client:
        import_file(
            client, "adaptations", path, user_id=USER, progress=True, rejects_path=None, checkpoint=None
        )

    bar = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert bar.startswith("import content_adaptations: 100%")
    assert "8.79k/8.79k" in bar  # bytes of the file
    assert "1500 rows" in bar

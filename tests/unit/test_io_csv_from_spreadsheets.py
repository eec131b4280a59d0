"""CSV files as spreadsheets save them read as they are meant: separator, encoding, BOM, CRLF, empty rows,
time zones, and a misspelt header reported once for the file.

The files are written byte for byte as Excel and LibreOffice Calc save them (a German-locale "CSV (;)"
file in Windows-1252, Excel's "CSV UTF-8" with a byte-order mark), not through the csv module.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from nexus_sdk.errors import ValidationError
from nexus_sdk.io import read_rows
from nexus_sdk.io._formats import RowWriter

# Excel (de-DE), "CSV (Trennzeichen-getrennt)": ';' between cells, Windows-1252, CRLF, no BOM; a decimal
# comma inside a cell needs no quoting there; rows of empty cells left at the end where cells were cleared.
EXCEL_DE_CP1252 = (
    b"original_idea;tone;target_audience\r\n"
    b"Caf\xe9 au lait: 3,5 \x80 pro Tasse;casual;\r\n"
    b'"Zwei\r\nZeilen; mit ""Zitat""";formal;Entwickler\r\n'
    b";;\r\n"
    b";;\r\n"
)
# Excel's "CSV UTF-8 (Comma delimited)" in a comma-decimal locale: BOM, ';', CRLF.
EXCEL_UTF8_BOM = "\ufefforiginal_idea;tone\r\nGrüße aus Köln;casual\r\n".encode()


def rows_of(path: Path, table: str = "content_adaptations", **options: str) -> list[tuple[int, object]]:
    return list(read_rows(path, table, **options))  # type: ignore[arg-type]


def test_excel_german_csv_in_windows_1252_reads_with_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ideen.csv"
    path.write_bytes(EXCEL_DE_CP1252)

    rows = rows_of(path, encoding="cp1252")

    assert rows == [
        (2, {"original_idea": "Café au lait: 3,5 € pro Tasse", "tone": "casual"}),
        (
            3,
            {
                "original_idea": 'Zwei\r\nZeilen; mit "Zitat"',
                "tone": "formal",
                "target_audience": "Entwickler",
            },
        ),
    ]  # the trailing rows of empty cells are not rows


def test_the_same_file_without_encoding_is_one_error_naming_the_line_and_the_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ideen.csv"
    path.write_bytes(EXCEL_DE_CP1252)

    with pytest.raises(ValidationError) as caught:
        rows_of(path)

    message = caught.value.message
    assert message.startswith("ideen.csv is not UTF-8 text: line 2, column 4: byte 0xe9 ('é' in cp1252). ")
    assert "pass --encoding cp1252" in message  # the exact option, not a hint to look one up
    assert "cp1251 Cyrillic" in message  # not guessed: other Windows code pages read other letters


def test_a_byte_that_cp1252_lacks_does_not_suggest_cp1252(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_bytes(b"original_idea\n\x81\x90 bytes\n")

    with pytest.raises(ValidationError) as caught:
        rows_of(path)

    assert "byte 0x81 (no character in cp1252)" in caught.value.message
    assert "--encoding cp1252" not in caught.value.message


def test_a_utf16_file_with_a_byte_order_mark_reads_without_an_option(tmp_path: Path) -> None:
    # Excel's "Unicode Text": UTF-16 with a byte-order mark, tabs, CRLF. The mark says what it is.
    path = tmp_path / "ideas.csv"
    path.write_bytes("original_idea\ttone\r\nGrüße aus Köln\tcasual\r\n".encode("utf-16"))

    assert rows_of(path) == [(2, {"original_idea": "Grüße aus Köln", "tone": "casual"})]
    assert rows_of(path, encoding="utf-16") == [(2, {"original_idea": "Grüße aus Köln", "tone": "casual"})]


def test_a_utf16_file_read_as_utf8_on_purpose_is_told_to_read_as_utf16(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_bytes("original_idea\ttone\r\nGrüße\tcasual\r\n".encode("utf-16"))

    with pytest.raises(ValidationError) as caught:
        rows_of(path, encoding="utf-8")

    assert "pass --encoding utf-16" in caught.value.message
    assert "cp1252" not in caught.value.message


def test_excel_csv_utf8_with_bom_and_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_bytes(EXCEL_UTF8_BOM)

    assert rows_of(path) == [(2, {"original_idea": "Grüße aus Köln", "tone": "casual"})]


def test_an_explicit_delimiter_wins_over_detection(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("original_idea|tone\nsemi;colons, and commas|casual\n", encoding="utf-8")

    assert rows_of(path, delimiter="|") == [
        (2, {"original_idea": "semi;colons, and commas", "tone": "casual"})
    ]


def test_quoted_empty_string_is_kept_apart_from_null_with_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text('original_idea;tone;target_audience\r\nidea;"";\r\n', encoding="utf-8")

    assert rows_of(path) == [(2, {"original_idea": "idea", "tone": ""})]


def test_an_unknown_header_is_one_error_for_the_file_with_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("orginal_idea,tone,colour\n" + "idea,casual,red\n" * 50, encoding="utf-8")

    with pytest.raises(ValidationError) as caught:
        read_rows(path, "content_adaptations")

    message = caught.value.message
    assert message.startswith(
        "ideas.csv: unknown columns in the header: 'orginal_idea' (did you mean 'original_idea'?), 'colour';"
    )
    assert message.count("orginal_idea") == 1


def test_naive_timestamps_take_the_given_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        "platform;content;scheduled_for;published_at\r\n"
        "x;winter;2026-01-15 09:30;2026-01-15T09:30:00+00:00\r\n"
        "x;summer;2026-07-15 09:30:00;\r\n",
        encoding="utf-8",
    )

    rows = rows_of(path, "published_posts", timezone="Europe/Paris")

    assert rows[0][1] == {
        "platform": "x",
        "content": "winter",
        "scheduled_for": "2026-01-15T09:30:00+01:00",
        "published_at": "2026-01-15T09:30:00+00:00",  # an offset given is kept
    }
    assert rows[1][1] == {"platform": "x", "content": "summer", "scheduled_for": "2026-07-15T09:30:00+02:00"}


@pytest.mark.parametrize(
    ("options", "wanted"),
    [
        ({"timezone": "Mars/Olympus"}, "Unknown time zone 'Mars/Olympus'"),
        ({"encoding": "klingon"}, "Unknown encoding 'klingon'"),
        ({"delimiter": ";;"}, "one character"),
    ],
)
def test_bad_options_fail_before_a_row_is_read(tmp_path: Path, options: dict[str, str], wanted: str) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("original_idea\nidea\n", encoding="utf-8")

    with pytest.raises(ValidationError, match=wanted):
        read_rows(path, "content_adaptations", **options)  # type: ignore[arg-type]


def test_excel_export_has_a_bom_crlf_and_reads_back(tmp_path: Path) -> None:
    out = io.StringIO(newline="")
    writer = RowWriter(out, "csv", "content_adaptations", delimiter=";", excel=True)
    writer.write({"original_idea": '3,5 € ; "quoted"\nline', "tone": "", "target_audience": None})
    text = out.getvalue()

    assert text.startswith("\ufeffid;user_id;original_idea;")
    assert text.endswith("\r\n")
    assert text.count("\r\n") == 2  # the header and the row; the newline inside the cell stays as it is
    path = tmp_path / "back.csv"
    path.write_bytes(text.encode("utf-8"))
    [(_, row)] = rows_of(path)
    assert row == {"original_idea": '3,5 € ; "quoted"\nline', "tone": ""}


def test_jsonl_export_is_not_changed_by_the_excel_option() -> None:
    out = io.StringIO()
    RowWriter(out, "jsonl", "content_adaptations", excel=True).write({"a": 1})
    assert out.getvalue() == '{"a":1}\n'


def test_a_naive_timestamp_without_a_time_zone_is_rejected_with_the_option_to_use(tmp_path: Path) -> None:
    from nexus_sdk import NexusClient
    from nexus_sdk.io import import_file

    path = tmp_path / "posts.csv"
    path.write_text("platform;content;scheduled_for\r\nx;post;2026-01-15 09:30\r\n", encoding="utf-8")
    with NexusClient("http://127.0.0.1:9", "service-role-key") as client:
        report = import_file(
            client,
            "posts",
            path,
            user_id="8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572",
            rejects_path=None,
            checkpoint=None,
        )

    [reject] = report.rejects
    assert "scheduled_for" in reject.reason
    assert "--timezone" in reject.reason


def test_a_tab_separated_file_reads_as_csv_with_tabs(tmp_path: Path) -> None:
    path = tmp_path / "ideas.tsv"
    path.write_text("original_idea\ttone\ncommas, kept\tcasual\n", encoding="utf-8")

    assert rows_of(path) == [(2, {"original_idea": "commas, kept", "tone": "casual"})]

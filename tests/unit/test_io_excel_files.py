"""Files that Excel, Google Sheets and Numbers make read as meant, or are refused with the way out.

CSV files are written byte for byte as those programs save them; ``.xlsx`` workbooks are made with openpyxl
(typed cells: dates as datetimes, numbers as numbers), as Excel stores them. What must never happen: a
value imported as something else without a word (a date read in the wrong order, a date serial read as
seconds since 1970, a file read in the wrong format).
"""

from __future__ import annotations

import codecs
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from nexus_sdk.errors import ConfigurationError, ValidationError
from nexus_sdk.io import RowReadError, detect_format, read_rows

USER = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"


def rows_of(path: Path, table: str = "content_adaptations", **options: Any) -> list[tuple[int, Any]]:
    return list(read_rows(path, table, **options))


def reasons(rows: list[tuple[int, Any]]) -> dict[int, str]:
    return {line: str(row) for line, row in rows if isinstance(row, RowReadError)}


# --- CSV from Excel, Google Sheets, Numbers -------------------------------------------------------------


def test_excel_csv_utf8_with_its_habits_reads_as_meant(tmp_path: Path) -> None:
    # "CSV UTF-8 (Comma delimited)": BOM, CRLF; a header retyped with capitals and a trailing space, columns
    # past the data left empty, a cell with a line break, JSON with doubled quotes, TRUE/FALSE, rows of
    # empty cells at the end, a UUID as Excel users paste it (capitals, braces).
    path = tmp_path / "profiles.csv"
    path.write_bytes(
        "\ufeffID,Name ,IS_DEFAULT,characteristics,sample_posts,,\r\n"
        '{8D3490D0-0393-4C4C-B6F3-B5C7DD1E4572},"Formal\r\nvoice",TRUE,"{""tone"": [""formal""]}",'
        '"[""Grüße"", ""a \\""quote\\""""]",,\r\n'
        ",Casual,FALSE,,,,\r\n"
        ",,,,,,\r\n"
        ",,,,,,\r\n".encode()
    )

    rows = rows_of(path, "voice_profiles")

    assert rows == [
        (
            2,
            {
                "id": "{8D3490D0-0393-4C4C-B6F3-B5C7DD1E4572}",
                "name": "Formal\r\nvoice",
                "is_default": "TRUE",
                "characteristics": {"tone": ["formal"]},
                "sample_posts": ["Grüße", 'a "quote"'],
            },
        ),
        (4, {"name": "Casual", "is_default": "FALSE"}),
    ]


def test_excel_values_pass_the_tables_validation() -> None:
    from nexus_sdk.models import VoiceProfileCreate

    made = VoiceProfileCreate.model_validate(
        {"id": "{8D3490D0-0393-4C4C-B6F3-B5C7DD1E4572}", "name": "n", "is_default": "TRUE", "user_id": USER}
    )
    assert str(made.id) == "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"
    assert made.is_default is True
    assert VoiceProfileCreate.model_validate({"name": "n", "is_default": "FALSE"}).is_default is False


def test_a_header_cased_differently_is_the_column_but_a_misspelt_one_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "ideas.csv"
    path.write_text("Original_Idea , TONE\nidea,casual\n", encoding="utf-8")
    assert rows_of(path) == [(2, {"original_idea": "idea", "tone": "casual"})]

    path.write_text("Orginal_Idea,tone\nidea,casual\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="did you mean 'original_idea'"):
        rows_of(path)


def test_excel_unicode_text_txt_reads_with_no_option(tmp_path: Path) -> None:
    # "Unicode Text (*.txt)": UTF-16 LE with a byte-order mark, TAB between cells, CRLF, and a .txt name.
    path = tmp_path / "ideas.txt"
    text = 'original_idea\ttone\r\nGrüße, "aus" Köln\tcasual\r\n"two\r\nlines"\tformal\r\n'
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    assert detect_format(path) == "csv"
    assert rows_of(path) == [
        (2, {"original_idea": 'Grüße, "aus" Köln', "tone": "casual"}),
        (3, {"original_idea": "two\r\nlines", "tone": "formal"}),
    ]


def test_excel_tab_delimited_txt_in_cp1252_reads_with_its_encoding(tmp_path: Path) -> None:
    # "Text (Tab delimited) (*.txt)": the machine's code page, tabs.
    path = tmp_path / "ideas.txt"
    path.write_bytes("original_idea\ttone\r\nCafé 3,5 €\tcasual\r\n".encode("cp1252"))

    with pytest.raises(ValidationError, match="pass --encoding cp1252"):
        rows_of(path)
    assert rows_of(path, encoding="cp1252") == [(2, {"original_idea": "Café 3,5 €", "tone": "casual"})]


def test_a_txt_file_of_json_lines_is_still_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "ideas.txt"
    path.write_text('{"original_idea": "idea"}\n', encoding="utf-8")

    assert detect_format(path) == "jsonl"
    assert rows_of(path) == [(1, {"original_idea": "idea"})]


def test_google_sheets_csv_reads_as_meant(tmp_path: Path) -> None:
    # "Download > Comma-separated values": UTF-8 without BOM, CRLF, TRUE/FALSE, dates as the sheet shows them.
    path = tmp_path / "Sheet1.csv"
    path.write_bytes(
        b"name,is_default,last_used_at\r\nG\xc3\xa9,TRUE,2026-12-06 14:30:00\r\nTwo,FALSE,12/6/2026 14:30:00"
    )

    rows = rows_of(path, "voice_profiles", timezone="America/New_York", date_order="mdy")

    assert rows == [
        (2, {"name": "Gé", "is_default": "TRUE", "last_used_at": "2026-12-06T14:30:00-05:00"}),
        (3, {"name": "Two", "is_default": "FALSE", "last_used_at": "2026-12-06T14:30:00-05:00"}),
    ]


def test_numbers_csv_with_semicolons_reads_as_meant(tmp_path: Path) -> None:
    # Apple Numbers, a comma-decimal locale: UTF-8, ';' between cells, LF, dates as the table shows them.
    path = tmp_path / "Tabelle 1.csv"
    path.write_text(
        "name;is_default;last_used_at\nStimme;TRUE;06.12.2026 14:30\n", encoding="utf-8", newline=""
    )

    rows = rows_of(path, "voice_profiles", timezone="Europe/Berlin", date_order="dmy")

    assert rows == [
        (2, {"name": "Stimme", "is_default": "TRUE", "last_used_at": "2026-12-06T14:30:00+01:00"})
    ]


# --- dates as spreadsheets write them -------------------------------------------------------------------


def post_rows(tmp_path: Path, when: str, **options: Any) -> list[tuple[int, Any]]:
    path = tmp_path / "posts.csv"
    path.write_text(f"platform,content,scheduled_for\r\nx,post,{when}\r\n", encoding="utf-8")
    return rows_of(path, "published_posts", **options)


@pytest.mark.parametrize(
    "when", ["12/6/2026 14:30", "06/12/2026 14:30", "6.12.2026", "06-12-2026 2:30 PM", "12/06/26 02:30 PM"]
)
def test_a_date_that_may_be_day_or_month_first_is_refused_naming_the_column_and_the_option(
    tmp_path: Path, when: str
) -> None:
    [(line, error)] = post_rows(tmp_path, when, timezone="UTC")

    assert line == 2
    assert isinstance(error, RowReadError)
    message = str(error)
    assert message.startswith(f"column 'scheduled_for': {when!r}")
    assert "--date-order dmy" in message
    assert "--date-order mdy" in message
    assert "YYYY-MM-DD HH:MM" in message
    assert error.errors == [
        {"loc": ("scheduled_for",), "msg": message.split(": ", 1)[1], "type": "timestamp_format"}
    ]
    assert error.row == {"platform": "x", "content": "post", "scheduled_for": when}


def test_a_date_that_can_only_be_day_first_is_still_refused_without_the_order(tmp_path: Path) -> None:
    # One row can only be day first; its neighbours may not say: the order is stated once, for the file.
    [(_, error)] = post_rows(tmp_path, "13/06/2026 14:30", timezone="UTC")

    assert "it can only be day first: pass --date-order dmy" in str(error)


@pytest.mark.parametrize(
    ("when", "order", "read"),
    [
        ("12/6/2026 14:30", "dmy", "2026-06-12T14:30:00+02:00"),
        ("12/6/2026 14:30", "mdy", "2026-12-06T14:30:00+01:00"),
        ("06.12.2026 14:30:15", "dmy", "2026-12-06T14:30:15+01:00"),
        ("12/6/2026 2:30 PM", "mdy", "2026-12-06T14:30:00+01:00"),
        ("12/6/2026 12:05 AM", "mdy", "2026-12-06T00:05:00+01:00"),
        ("6/12/2026", "dmy", "2026-12-06T00:00:00+01:00"),
        ("12/06/26 02:30 PM", "mdy", "2026-12-06T14:30:00+01:00"),  # LibreOffice's default
        ("6.12.26", "dmy", "2026-12-06T00:00:00+01:00"),
        ("2026/12/06 14:30", None, "2026-12-06T14:30:00+01:00"),  # year first: always year, month, day
        ("2026-12-06 14:30", None, "2026-12-06T14:30:00+01:00"),
    ],
)
def test_dates_read_in_the_stated_order_and_time_zone(
    tmp_path: Path, when: str, order: str | None, read: str
) -> None:
    [(_, row)] = post_rows(tmp_path, when, timezone="Europe/Paris", date_order=order)

    assert row["scheduled_for"] == read


@pytest.mark.parametrize(
    ("when", "order", "wanted"),
    [
        ("13/06/2026 14:30", "mdy", "is not a date read as month/day/year"),
        ("31/02/2026", "dmy", "is not a date read as day/month/year"),
        ("46362", None, "is a number, not a date"),  # a date cell formatted as a number: days since 1899
        ("46362.604", "dmy", "is a number, not a date"),
        ("1700000000", None, "is a number, not a date"),
        ("12/6/2026 13:30 PM", "mdy", "hour of an AM/PM time"),
    ],
)
def test_dates_that_cannot_be_read_without_a_guess_are_refused(
    tmp_path: Path, when: str, order: str | None, wanted: str
) -> None:
    [(_, error)] = post_rows(tmp_path, when, timezone="UTC", date_order=order)

    assert isinstance(error, RowReadError)
    assert wanted in str(error)


def test_a_date_without_a_time_zone_is_left_for_validation_to_refuse(tmp_path: Path) -> None:
    # Read in the stated order, but still without an offset: the import rejects it naming --timezone.
    [(_, row)] = post_rows(tmp_path, "12/6/2026 14:30", date_order="mdy")

    assert row["scheduled_for"] == "2026-12-06T14:30:00"


def test_a_bad_date_order_is_an_option_error() -> None:
    with pytest.raises(ValidationError, match="'dmy' or 'mdy'"):
        read_rows(Path(__file__), "published_posts", format="csv", date_order="ymd")  # type: ignore[arg-type]


def test_json_with_a_thousands_separator_says_what_json_numbers_look_like(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('platform,content,metrics\nx,post,"{""views"": 1,234}"\n', encoding="utf-8")

    [(_, error)] = rows_of(path, "published_posts")

    assert str(error).startswith("column 'metrics' is not valid JSON: Expecting property name")
    assert "no thousands separators" in str(error)


# --- .xlsx workbooks ------------------------------------------------------------------------------------


def workbook(path: Path, *sheets: tuple[str, list[list[Any]]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_an_xlsx_workbook_reads_its_typed_cells(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "posts.xlsx",
        (
            "Posts",
            [
                ["Platform", "content ", "scheduled_for", "metrics", "platform_post_id", "status", None],
                ["x", "a date cell", datetime(2026, 12, 6, 14, 30), '{"views": 1234}', 123456, "published"],
                [],  # an empty row in the middle is not a row
                [None, None, None],
                ["x", "a text cell", "06/12/2026 14:30", None, "abc", None],
                ["x", "Zwei\nZeilen", None, None, 12.5, None],
            ],
        ),
    )

    assert detect_format(path) == "xlsx"
    rows = rows_of(path, "published_posts", timezone="Europe/Paris", date_order="dmy")

    assert rows == [
        (
            2,
            {
                "platform": "x",
                "content": "a date cell",
                "scheduled_for": "2026-12-06T14:30:00+01:00",
                "metrics": {"views": 1234},
                "platform_post_id": "123456",  # a number in a text column is its text, not 123456.0
                "status": "published",
            },
        ),
        (
            5,
            {
                "platform": "x",
                "content": "a text cell",
                "scheduled_for": "2026-12-06T14:30:00+01:00",
                "platform_post_id": "abc",
            },
        ),
        (6, {"platform": "x", "content": "Zwei\nZeilen", "platform_post_id": "12.5"}),
    ]


def test_an_xlsx_date_needs_the_time_zone_like_a_csv_one(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "posts.xlsx",
        ("Sheet1", [["platform", "content", "scheduled_for"], ["x", "p", datetime(2026, 12, 6, 14, 30)]]),
    )

    [(_, row)] = rows_of(path, "published_posts")

    assert row["scheduled_for"] == "2026-12-06T14:30:00"  # naive: the import rejects it naming --timezone


def test_xlsx_cells_that_would_be_imported_wrongly_reject_their_row(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "posts.xlsx",
        (
            "Sheet1",
            [
                ["platform", "content", "scheduled_for", "platform_post_id", "metrics"],
                ["x", "serial", 46362, None, None],
                ["x", "long id", None, 1234567890123456789, None],
                ["x", "long id as float", None, 1.2345678901234568e18, None],
                ["x", "json as number", None, None, 12],
                ["x", "fine", datetime(2026, 1, 1, 9, 0), "1234567890123456789", None],
            ],
        ),
    )

    rows = rows_of(path, "published_posts", timezone="UTC")

    found = reasons(rows)
    assert "46362 is a number, not a date" in found[2]
    # a spreadsheet keeps 15 digits of a number: an id typed into a number cell has lost the rest
    assert "too long for a spreadsheet to keep exactly" in found[3]
    assert "too long for a spreadsheet to keep exactly" in found[4]
    assert "not JSON text" in found[5]
    assert rows[-1] == (
        6,
        {
            "platform": "x",
            "content": "fine",
            "scheduled_for": "2026-01-01T09:00:00+00:00",
            "platform_post_id": "1234567890123456789",  # typed as text: kept
        },
    )


def test_an_xlsx_error_cell_rejects_its_row(tmp_path: Path) -> None:
    path = tmp_path / "ideas.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["original_idea", "tone"])
    sheet.append(["idea", None])
    sheet["B2"].value = "#N/A"
    sheet["B2"].data_type = "e"
    book.save(path)

    [(line, error)] = rows_of(path)

    assert line == 2
    assert str(error) == "column 'tone' holds the spreadsheet error #N/A"


def test_a_workbook_with_several_sheets_needs_the_sheet_named(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "book.xlsx",
        ("Notes", [["just notes"]]),
        ("Ideas", [["original_idea"], ["from the second sheet"]]),
    )

    with pytest.raises(ValidationError, match=r"has 2 sheets \('Notes', 'Ideas'\): pass --sheet NAME"):
        rows_of(path)
    with pytest.raises(ValidationError, match="has no sheet 'Idea'; its sheets: 'Notes', 'Ideas'"):
        rows_of(path, sheet="Idea")
    assert rows_of(path, sheet="Ideas") == [(2, {"original_idea": "from the second sheet"})]


def test_an_xlsx_header_is_checked_like_a_csv_one(tmp_path: Path) -> None:
    path = workbook(tmp_path / "ideas.xlsx", ("Sheet1", [["orginal_idea"], ["idea"]]))

    with pytest.raises(ValidationError, match="unknown column in the header: 'orginal_idea'"):
        rows_of(path)


def test_a_workbook_saved_under_a_csv_name_is_read_as_a_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path / "book.xlsx", ("Sheet1", [["original_idea"], ["idea"]]))
    renamed = path.rename(tmp_path / "ideas.csv")

    assert detect_format(renamed) == "xlsx"
    assert rows_of(renamed) == [(2, {"original_idea": "idea"})]


def test_xlsx_without_openpyxl_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = workbook(tmp_path / "ideas.xlsx", ("Sheet1", [["original_idea"], ["idea"]]))
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed

    with pytest.raises(ConfigurationError, match=r"pip install 'nexus-sdk\[xlsx\]'"):
        rows_of(path)


# --- spreadsheet files import does not read -------------------------------------------------------------


def zipped(path: Path, files: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


@pytest.mark.parametrize(
    ("name", "make", "wanted"),
    [
        (
            "old.xls",
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
            "an Excel 97-2003 workbook (.xls)",
        ),
        (
            "sheet.ods",
            lambda p: zipped(
                p, {"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<x/>"}
            ),
            "an OpenDocument spreadsheet (.ods, LibreOffice Calc)",
        ),
        (
            "table.numbers",
            lambda p: zipped(p, {"Index/Document.iwa": "", "Metadata/Properties.plist": ""}),
            "an Apple Numbers document",
        ),
        (
            "binary.xlsb",
            lambda p: zipped(p, {"xl/workbook.bin": "", "[Content_Types].xml": ""}),
            "an Excel binary workbook (.xlsb)",
        ),
        # the same files under a CSV name: the content decides, not the name
        (
            "saved-as.csv",
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
            "an Excel 97-2003 workbook (.xls)",
        ),
    ],
)
def test_spreadsheet_formats_that_are_not_read_say_how_to_save_them(
    tmp_path: Path, name: str, make: Any, wanted: str
) -> None:
    path = tmp_path / name
    make(path)

    with pytest.raises(ValidationError) as caught:
        rows_of(path)

    message = caught.value.message
    assert message.startswith(f"{name} is {wanted}, which import does not read: save it as")
    assert '"Excel Workbook (.xlsx)"' in message
    assert '"CSV UTF-8 (Comma delimited) (.csv)"' in message
    assert caught.value.errors[0]["type"] == "file_format"


def test_empty_cells_past_the_headers_last_column_are_not_a_row_error(tmp_path: Path) -> None:
    # A spreadsheet's used range can be wider than the header (a cell typed and cleared): empty cells only.
    path = tmp_path / "ideas.csv"
    path.write_text("original_idea,tone\r\nidea,casual,,\r\nother,formal,x\r\n", encoding="utf-8")

    [first, (line, error)] = rows_of(path)

    assert first == (2, {"original_idea": "idea", "tone": "casual"})
    assert line == 3
    assert str(error) == "more fields than the header has columns"


def test_excel_booleans_in_other_languages_read_as_booleans(tmp_path: Path) -> None:
    # German Excel writes WAHR/FALSCH into its CSV files, French VRAI/FAUX: one word, one meaning.
    path = tmp_path / "profiles.csv"
    path.write_bytes("name;is_default\r\nA;WAHR\r\nB;faux\r\nC;TRUE\r\nD;vielleicht\r\n".encode("cp1252"))

    rows = rows_of(path, "voice_profiles", encoding="cp1252")

    assert [row["is_default"] for _, row in rows] == [
        True,
        False,
        "TRUE",
        "vielleicht",
    ]  # the rest: validation


def test_excel_for_mac_csv_is_told_mac_roman_and_reads_with_it(tmp_path: Path) -> None:
    # "CSV (Macintosh)": Mac OS Roman, lines ending in CR alone; 0x8e is 'é' there and 'Ž' in cp1252.
    path = tmp_path / "ideas.csv"
    path.write_bytes(b'original_idea,tone\rCaf\x8e,casual\r"two\rlines",formal\r')

    with pytest.raises(ValidationError) as caught:
        rows_of(path)

    message = caught.value.message
    assert message.startswith("ideas.csv is not UTF-8 text: line 2, column 4: byte 0x8e ('é' in mac_roman).")
    assert "pass --encoding mac_roman" in message
    assert "cp1252" not in message
    assert rows_of(path, encoding="mac_roman") == [
        (2, {"original_idea": "Café", "tone": "casual"}),
        (3, {"original_idea": "two\rlines", "tone": "formal"}),
    ]


def test_a_workbook_read_with_format_csv_says_it_is_a_workbook(tmp_path: Path) -> None:
    path = workbook(tmp_path / "ideas.xlsx", ("Sheet1", [["original_idea"], ["idea"]]))

    with pytest.raises(ValidationError) as caught:
        rows_of(path, format="csv")

    assert (
        caught.value.message
        == "ideas.xlsx is an Excel workbook, not csv: pass --format xlsx or leave --format out."
    )


@pytest.mark.parametrize("sized", [True, False])
def test_the_progress_of_a_workbook_reaches_its_size(tmp_path: Path, sized: bool) -> None:
    # Excel and Calc write how many rows a sheet has; a program's write-only workbook does not.
    from nexus_sdk.io._formats import FileReader

    path = tmp_path / "ideas.xlsx"
    book = openpyxl.Workbook(write_only=not sized)
    sheet = book.active if sized else book.create_sheet("Sheet1")
    sheet.append(["original_idea"])
    for i in range(3000):
        sheet.append([f"idea {i}"])
    book.save(path)
    reader = FileReader(path, "content_adaptations", "xlsx")

    seen = [reader.position() for _ in reader]

    assert len(seen) == 3000
    assert 0 < seen[len(seen) // 2] < reader.size
    assert reader.position() == reader.size


@pytest.mark.parametrize("given", [None, ";"])
def test_a_sep_line_for_excel_names_the_separator_and_is_not_the_header(
    tmp_path: Path, given: str | None
) -> None:
    # Files written for Excel may start with "sep=;" (Excel reads the separator from it).
    path = tmp_path / "ideas.csv"
    path.write_bytes(b'sep=;\r\noriginal_idea;tone\r\none, with a comma;casual\r\n"two\r\nlines";formal\r\n')

    assert rows_of(path, delimiter=given) == [
        (3, {"original_idea": "one, with a comma", "tone": "casual"}),
        (4, {"original_idea": "two\r\nlines", "tone": "formal"}),
    ]


def test_a_workbook_reader_reads_its_rows_once_and_leaves_no_file_open_unread(tmp_path: Path) -> None:
    import gc
    import warnings

    from nexus_sdk.io._formats import FileReader

    path = workbook(tmp_path / "ideas.xlsx", ("Sheet1", [["original_idea"], ["first"], ["second"]]))
    reader = FileReader(path, "content_adaptations", "xlsx")
    assert [row for _, row in reader] == [{"original_idea": "first"}, {"original_idea": "second"}]
    assert [row for _, row in reader] == [{"original_idea": "first"}, {"original_idea": "second"}]  # again
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        unread = FileReader(path, "content_adaptations", "xlsx")  # its header read, its rows never
        del unread
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []

"""Files LibreOffice Calc itself saved (tests/data/libreoffice) read as meant, or their damaged rows refused.

Calc turns a long digit string into a number (a 19-digit post id keeps 14 digits), stores dates without a
time zone and writes them back as ``12/06/26 02:30 PM``: nothing of that may be imported as something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nexus_sdk.io import RowReadError, detect_format, read_rows

DATA = Path(__file__).parents[1] / "data" / "libreoffice"


def test_calc_xlsx_date_cells_take_the_time_zone_and_a_number_cell_id_is_refused() -> None:
    path = DATA / "posts-date-cells.xlsx"

    rows = list(read_rows(path, "published_posts", timezone="Europe/Paris"))

    assert detect_format(path) == "xlsx"
    [(line, error), second] = rows
    assert line == 2
    assert isinstance(error, RowReadError)
    assert "'platform_post_id': 1.7890123456789e+18 is a number too long" in str(error)
    assert second == (
        3,
        {
            "platform": "linkedin",
            "content": "Zwei\nZeilen",
            "scheduled_for": "2026-07-01T09:00:00+02:00",
            "status": "pending",
            "platform_post_id": "abc",
        },
    )


def test_calc_csv_dates_are_refused_without_the_order_and_read_with_it() -> None:
    path = DATA / "posts-us-dates.csv"

    without: list[tuple[int, Any]] = list(read_rows(path, "published_posts", timezone="America/New_York"))
    stated = list(read_rows(path, "published_posts", timezone="America/New_York", date_order="mdy"))

    assert all(isinstance(row, RowReadError) for _, row in without)
    assert "--date-order mdy" in str(without[0][1])
    assert [row["scheduled_for"] for _, row in stated] == [
        "2026-12-06T14:30:00-05:00",
        "2026-01-13T09:05:00-05:00",
    ]


@pytest.mark.parametrize("order", [None, "dmy"])
def test_an_id_calc_wrote_in_scientific_notation_is_refused_and_the_rest_imports(order: str | None) -> None:
    rows = list(read_rows(DATA / "posts-long-id-resaved.csv", "published_posts", date_order=order))  # type: ignore[arg-type]

    [(line, error), kept] = rows
    assert line == 2
    assert isinstance(error, RowReadError)
    assert str(error).startswith(
        "column 'platform_post_id': '1.7890123456789E+018' is an id a spreadsheet turned"
    )
    assert kept == (
        3,
        {"platform": "linkedin", "platform_post_id": "7012345", "status": "published", "content": "short id"},
    )

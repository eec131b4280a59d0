"""The role settings the local stack applies per request travel as ``text[]`` literals: every value, whatever
characters it holds, must reach ``set_config`` unchanged."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from nexus_sdk.local._roles import text_array

pytestmark = pytest.mark.db

AWKWARD = ["8s", 'a"b', "c\\d", "x,y", "{z}", " padded ", "", "NULL", "é", "'quoted'"]


@pytest.mark.parametrize("items", [[], ["statement_timeout"], AWKWARD])
def test_text_array_literals_read_back_as_the_same_list(
    conn: psycopg.Connection[Any], items: list[str]
) -> None:
    row = conn.execute("SELECT %s::text[]", [text_array(items)]).fetchone()
    assert row is not None
    assert row[0] == items

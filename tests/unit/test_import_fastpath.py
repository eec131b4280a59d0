"""The bulk-import fast paths (ids, digests, the local stack's one-statement insert) match the general code."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from nexus_sdk.io import _ID_NAMESPACE, _canonical, _canonical_key, _uuid5_text, derive_id
from nexus_sdk.local._catalog import Column, Table
from nexus_sdk.local._sql import InsertPlan, Params, build_insert, shared_columns

KEY_VALUES = st.one_of(st.none(), st.integers(), st.text(), st.uuids().map(str))


@given(st.text())
def test_uuid5_text_is_uuid5(name: str) -> None:
    assert _uuid5_text(name) == str(uuid.uuid5(_ID_NAMESPACE, name))


@given(st.lists(KEY_VALUES, max_size=3))
def test_canonical_key_is_canonical(values: list[object]) -> None:
    assert _canonical_key(values) == _canonical(values)


def test_derive_id_unchanged_for_natural_keys() -> None:
    body = {"user_id": "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572", "idea_hash": "ab" * 32}
    expected = uuid.uuid5(_ID_NAMESPACE, f'content_adaptations\n["{body["user_id"]}","{body["idea_hash"]}"]')
    assert derive_id("content_adaptations", body) == str(expected)


TABLE = Table(
    "public",
    "items",
    {name: Column(name, "text") for name in ("id", "name", "qty", "note")},
    ("id",),
    True,
)


def _sql(rows: list[dict[str, object]], columns: list[str], upsert: str | None = None) -> str:
    plan = InsertPlan(
        columns=columns,
        rows=rows,
        body_text="[]",
        body_is_array=True,
        upsert=upsert,
        on_conflict=["id"] if upsert else None,
        missing_default=True,
    )
    return build_insert(
        TABLE, plan, representation=False, location=False, select=[], singular=False, params=Params()
    ).as_string(None)


def test_shared_columns() -> None:
    assert shared_columns([{"a": 1, "b": 2}, {"b": 3, "a": 4}], ["a", "b", "c"]) == ["a", "b"]
    assert shared_columns([{"a": 1, "x": 0}, {"a": 2}], ["a", "c"]) == ["a"]  # keys outside columns= ignored
    assert shared_columns([{"a": 1}, {"b": 2}], ["a", "b"]) is None


def test_uniform_rows_take_one_recordset_and_leave_missing_columns_out() -> None:
    statement = _sql([{"id": "1", "name": "a"}, {"id": "2", "name": "b"}], ["id", "name", "qty"])
    assert "json_populate_recordset" in statement
    assert "VALUES" not in statement
    assert '("id", "name") SELECT' in statement  # qty left out of the target: it takes its default


def test_mixed_rows_and_merges_with_missing_columns_keep_per_row_defaults() -> None:
    mixed = _sql([{"id": "1", "name": "a", "qty": 1}, {"id": "2", "name": "b"}], ["id", "name", "qty"])
    assert "VALUES" in mixed
    assert "DEFAULT" in mixed
    # A merge must reset the missing column to its default on the existing row: only VALUES says so.
    merge = _sql([{"id": "1", "name": "a"}], ["id", "name", "qty"], upsert="merge-duplicates")
    assert "VALUES" in merge
    assert '"qty" = EXCLUDED."qty"' in merge
    full = _sql([{"id": "1", "name": "a"}], ["id", "name"], upsert="merge-duplicates")
    assert "json_populate_recordset" in full

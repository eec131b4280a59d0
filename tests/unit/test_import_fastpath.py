"""The bulk-import fast paths (ids, digests, the local stack's one-statement insert) match the general code."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_json

from nexus_sdk import NexusClient, io
from nexus_sdk._http import encode_json
from nexus_sdk.io import _ids
from nexus_sdk.io._ids import _ID_NAMESPACE, _canonical, _canonical_key, _uuid5_text, derive_id, id_deriver
from nexus_sdk.io._plan import Batch, Planner, _encode_rows
from nexus_sdk.local._catalog import Column, Table
from nexus_sdk.local._sql import InsertPlan, Params, build_insert, shared_columns
from nexus_sdk.repositories._handle import sync_table

KEY_VALUES = st.one_of(st.none(), st.integers(), st.text(), st.uuids().map(str))


@given(st.text())
def test_uuid5_text_is_uuid5(name: str) -> None:
    assert _uuid5_text(name) == str(uuid.uuid5(_ID_NAMESPACE, name))


@given(st.lists(KEY_VALUES, max_size=3))
def test_canonical_key_is_canonical(values: list[object]) -> None:
    assert _canonical_key(values) == _canonical(values)


@given(KEY_VALUES, KEY_VALUES)
def test_derived_ids_of_a_pair_key_are_those_of_the_canonical_key(user_id: object, platform: object) -> None:
    body = {"id": "x", "user_id": user_id, "platform": platform, "platform_user_id": "me"}
    expected = _uuid5_text("platform_connections\n" + _canonical([user_id, platform]))
    assert id_deriver("platform_connections")(body) == expected == derive_id("platform_connections", body)


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


def test_canonical_key_of_plain_strings_skips_json_dumps(monkeypatch: pytest.MonkeyPatch) -> None:
    # The fast path is the point: a natural key of plain strings must not reach json.dumps.
    def refuse(value: object) -> str:
        raise AssertionError(f"json.dumps used for {value!r}")

    monkeypatch.setattr(_ids, "_canonical", refuse)
    assert _canonical_key(["8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572", "ab" * 32]) == (
        '["8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572","' + "ab" * 32 + '"]'
    )


def _planned(rows: list[object], batch_size: int) -> tuple[list[list[int]], list[tuple[int, str]]]:
    with NexusClient("https://proj.supabase.co", "service-role-key-SECRET") as client:
        planner = Planner(
            sync_table(client.content_adaptations).core,
            "content_adaptations",
            user_id=USER,
            batch_size=batch_size,
        )
        batches = [batch.rows.lines for batch in planner.batches(rows)]
    return batches, sorted((r.line, r.reason) for r in planner.rejects)


USER = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"


def test_planner_rejects_invalid_rows_by_line_and_keeps_batches_full() -> None:
    rows: list[object] = [{"original_idea": f"idea {i}"} for i in range(1, 11)]
    rows[2] = {"original_idea": ""}  # line 3: invalid, found by the per-row fallback
    rows[6] = "not an object"  # line 7: rejected before validation
    rows[7] = {"original_idea": "idea 8", "tone": "x" * 51}  # line 8: too long
    batches, rejects = _planned(rows, batch_size=3)
    assert batches == [[1, 2, 4], [5, 6, 9], [10]]
    assert [line for line, _ in rejects] == [3, 7, 8]
    assert "original_idea" in rejects[0][1]
    assert "tone" in rejects[2][1]


def test_planner_ids_and_bodies_do_not_depend_on_batch_validation() -> None:
    rows = [{"original_idea": f"idea {i}", "adaptations": {"x": {"text": f"t{i}"}}} for i in range(5)]
    with NexusClient("https://proj.supabase.co", "service-role-key-SECRET") as client:
        core = sync_table(client.content_adaptations).core
        planned = [
            json.loads(payload)
            for batch in Planner(core, "content_adaptations", user_id=USER, batch_size=5).batches(rows)
            for payload in batch.rows.payloads
        ]
        singly = [
            json.loads(payload)
            for batch in Planner(core, "content_adaptations", user_id=USER, batch_size=1).batches(rows)
            for payload in batch.rows.payloads
        ]
    assert planned == singly
    assert [b["id"] for b in planned] == [derive_id("content_adaptations", b) for b in planned]


def test_batch_digest_is_the_plain_json_of_the_batch() -> None:
    # Checkpoints written before batches were held as bytes stay valid: the digest is taken as before.
    rows = [{"original_idea": f"idea {i}", "adaptations": {"x": {"text": f"t{i}"}}} for i in range(4)]
    with NexusClient("https://proj.supabase.co", "service-role-key-SECRET") as client:
        planner = Planner(
            sync_table(client.content_adaptations).core, "content_adaptations", user_id=USER, batch_size=3
        )
        batches = list(planner.batches(rows))
    assert [len(batch.rows) for batch in batches] == [3, 1]
    for batch in batches:
        bodies = [json.loads(payload) for payload in batch.rows.payloads]
        expected = hashlib.sha256(b"content_adaptations\n3\n" + to_json(bodies)).hexdigest()
        assert batch.digest == expected
        assert batch.rows.columns == ",".join(sorted({name for body in bodies for name in body}))


def test_token_batches_are_encrypted_once_and_digested_before_encryption() -> None:
    from nexus_sdk.crypto import EncryptionKey, KeyRing

    ring = KeyRing([EncryptionKey.generate()])
    rows = [
        {"platform": f"p{i}", "platform_user_id": "me", "access_token": f"tok-{i}-PLAIN"} for i in range(3)
    ]

    def plan() -> list[Batch]:
        with NexusClient(
            "https://proj.supabase.co", "service-role-key-SECRET", encryption_keys=ring
        ) as client:
            core = sync_table(client.platform_connections).core
            return list(Planner(core, "platform_connections", user_id=USER, batch_size=2).batches(rows))

    first, second = plan(), plan()
    assert [b.digest for b in first] == [b.digest for b in second]  # a re-run resumes from a checkpoint
    payloads = [p for batch in first for p in batch.rows.payloads]
    assert payloads != [p for batch in second for p in batch.rows.payloads]  # fresh nonces
    assert not any(b"PLAIN" in payload for payload in payloads)
    assert all(json.loads(p)["access_token"].startswith("nx1:") for p in payloads)


def test_missing_encryption_keys_fail_before_a_row_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from nexus_sdk.errors import ConfigurationError

    monkeypatch.delenv("NEXUS_ENCRYPTION_KEYS", raising=False)
    rows = iter([{"platform": "x", "platform_user_id": "me", "access_token": "tok"}])
    with (
        NexusClient("https://proj.supabase.co", "service-role-key-SECRET") as client,
        pytest.raises(ConfigurationError, match="NEXUS_ENCRYPTION_KEYS") as info,
    ):
        io.import_rows(client, "platform_connections", rows, user_id=USER)
    assert next(rows)["access_token"] == "tok"  # nothing was read
    assert not getattr(info.value, "__notes__", None)  # no "re-run to resume": nothing had started


def test_a_row_with_a_nul_character_is_rejected_by_line_before_sending() -> None:
    rows: list[object] = [{"original_idea": f"idea {i}"} for i in range(1, 4)]
    rows[1] = {"original_idea": "idea\x002"}  # line 2: PostgreSQL cannot store NUL in text
    batches, rejects = _planned(rows, batch_size=10)
    assert batches == [[1, 3]]
    assert [line for line, _ in rejects] == [2]
    assert "original_idea contains a NUL character" in rejects[0][1]


def test_imports_run_the_collector_less_often_and_restore_it() -> None:
    import gc

    from nexus_sdk.io._plan import fewer_collections

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (10_000, 20, 20)
            with fewer_collections():  # a second import at the same time
                pass
            assert gc.get_threshold() == (10_000, 20, 20)
        assert gc.get_threshold() == (700, 10, 10)
        gc.set_threshold(0)  # automatic collection off: an import leaves it off
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        assert gc.get_threshold()[0] == 0
    finally:
        gc.set_threshold(*before)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=10,
)


@given(st.lists(st.dictionaries(st.sampled_from(["a", "id", "b"]), JSON_VALUES, max_size=3), max_size=6))
def test_rows_encoded_at_once_are_the_rows_encoded_one_by_one(bodies: list[dict[str, object]]) -> None:
    bodies = [{"id": str(index), **body} for index, body in enumerate(bodies)]
    encoded = _encode_rows(bodies, "id")
    if encoded is not None:  # None: the caller encodes each row itself
        assert encoded == [encode_json(body) for body in bodies]


def test_rows_holding_objects_with_ids_are_encoded_one_by_one() -> None:
    bodies = [{"id": "1", "doc": [{"id": "a"}, {"id": "b"}]}, {"id": "2"}]
    assert _encode_rows(bodies, "id") is None  # the text between rows also occurs inside the first
    assert _encode_rows([{"id": "1"}, {"id": "2", "doc": "NaN"}], "id") == [
        b'{"id":"1"}',
        b'{"id":"2","doc":"NaN"}',
    ]
    assert _encode_rows([{"id": "1"}, {"id": "2", "n": float("nan")}], "id") is None  # refused: row by row
    assert _encode_rows([{"a": 1, "id": "1"}], "id") is None  # the key is not first


def test_rows_that_need_their_own_encoding_plan_as_the_others() -> None:
    # The one-call encoding and the row-by-row one give the same batches and rejects, in order.
    rows: list[object] = [
        {"original_idea": f"idea {i}", "adaptations": {"x": {"text": f"t{i}"}}} for i in range(6)
    ]
    rows[1] = {"original_idea": "listed", "adaptations": {"threads": [{"id": "a"}, {"id": "b"}]}}
    rows[3] = {"original_idea": "nul", "adaptations": {"threads": "a\x00b"}}
    rows[4] = {"original_idea": "text NaN", "adaptations": {"threads": "NaN"}}
    batches, rejects = _planned(rows, batch_size=4)
    assert batches == [[1, 2, 3, 5], [6]]
    assert [line for line, _ in rejects] == [4]
    assert "adaptations.threads contains a NUL character" in rejects[0][1]

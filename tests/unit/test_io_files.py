"""Reading JSONL/CSV, deterministic ids, masking and the import request on the wire (respx)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus_sdk import NexusClient
from nexus_sdk.errors import ValidationError
from nexus_sdk.io import MASK, ImportReport, RejectedRow, derive_id, import_rows, read_rows, resolve_table

URL = "http://nexus.test"
USER = str(uuid.uuid4())


def token_for(user_id: str) -> str:
    import base64

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part({'sub': user_id, 'role': 'authenticated'})}.sig"


def test_jsonl_lines_and_parse_errors(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"a": 1}\n\n{oops\n[1]\n{"b": 2}\n', encoding="utf-8")

    rows = list(read_rows(path, "content_adaptations"))

    assert [line for line, _ in rows] == [1, 3, 4, 5]
    assert rows[0][1] == {"a": 1}
    assert isinstance(rows[1][1], ValueError)
    assert "invalid JSON" in str(rows[1][1])
    assert isinstance(rows[2][1], ValueError)
    assert rows[3][1] == {"b": 2}


JSON_OBJECTS = st.dictionaries(
    st.text(max_size=8),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=12,
    ),
    max_size=4,
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(JSON_OBJECTS, min_size=1, max_size=5), st.booleans())
def test_jsonl_rows_are_what_json_loads_reads(
    tmp_path: Path, objects: list[dict[str, object]], ascii: bool
) -> None:
    lines = [json.dumps(obj, ensure_ascii=ascii) for obj in objects]
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    rows = [row for _, row in read_rows(path, "content_adaptations")]

    assert repr(rows) == repr([json.loads(line) for line in lines])  # repr: NaN, -0.0 and int/float alike


def test_jsonl_lines_only_the_json_module_reads(tmp_path: Path) -> None:
    deep = '{"a": ' + "[" * 300 + "]" * 300 + "}"
    path = tmp_path / "rows.jsonl"
    path.write_text(
        '{"s": "\\ud800"}\n' + deep + '\n{"a": 1} trailing\n{"n": NaN, "d": 1e400}\n', encoding="utf-8"
    )

    rows = list(read_rows(path, "content_adaptations"))

    assert rows[0] == (1, {"s": "\ud800"})  # a lone surrogate, as json.loads reads it
    assert rows[1] == (2, json.loads(deep))
    assert isinstance(rows[2][1], ValueError)
    assert str(rows[2][1]) == "invalid JSON: Extra data at column 10"
    assert repr(rows[3][1]) == repr({"n": float("nan"), "d": float("inf")})


def test_csv_json_columns_empty_cells_and_multiline_records(tmp_path: Path) -> None:
    path = tmp_path / "posts.csv"
    path.write_text(
        'platform,content,metrics,metadata\nx,"two\nlines","{""views"": 3}",\nlinkedin,plain,,"[bad"\nx,extra,,,surplus\n',
        encoding="utf-8",
    )

    rows = list(read_rows(path, "published_posts"))

    assert [line for line, _ in rows] == [2, 4, 5]
    assert rows[0][1] == {"platform": "x", "content": "two\nlines", "metrics": {"views": 3}}
    assert "metadata" in str(rows[1][1])
    assert "more fields" in str(rows[2][1])


def test_derive_id_is_stable_and_keyed() -> None:
    body = {"user_id": USER, "idea_hash": "a" * 64, "original_idea": "x", "tone": "casual"}
    same_key = {**body, "tone": "formal", "id": str(uuid.uuid4())}

    assert derive_id("content_adaptations", body) == derive_id("content_adaptations", same_key)
    assert derive_id("content_adaptations", body) != derive_id(
        "content_adaptations", {**body, "user_id": str(uuid.uuid4())}
    )
    post = {"user_id": USER, "platform": "x", "content": "hi"}
    assert derive_id("published_posts", post) == derive_id("published_posts", dict(reversed(post.items())))
    assert derive_id("published_posts", post) != derive_id("published_posts", {**post, "content": "ho"})
    assert uuid.UUID(derive_id("published_posts", post)).version == 5


def test_resolve_table_aliases() -> None:
    assert resolve_table("adaptations") == "content_adaptations"
    with pytest.raises(ValidationError, match="Unknown table"):
        resolve_table("users", ("content_adaptations",))


def test_a_table_name_that_import_refuses_says_why_or_what_was_meant() -> None:
    from nexus_sdk.io import IMPORT_TABLES

    with pytest.raises(ValidationError, match=r"^users cannot be imported: its rows are made by sign-ups"):
        resolve_table("users", IMPORT_TABLES)
    with pytest.raises(ValidationError, match=r"^scheduled_posts cannot be imported: .*schedule\(\)"):
        resolve_table("scheduled", IMPORT_TABLES)
    with pytest.raises(
        ValidationError, match=r"Unknown table 'content_adaptaions' \(did you mean 'content_adaptations'\?\)"
    ):
        resolve_table("content_adaptaions", IMPORT_TABLES)
    with pytest.raises(ValidationError, match=r"Unknown table 'postz' \(did you mean 'posts'\?\)"):
        resolve_table("postz")
    with pytest.raises(ValidationError, match=r"Unknown table 'xyz'; expected one of"):
        resolve_table("xyz")


def test_report_accounting_and_json() -> None:
    report = ImportReport("voice_profiles", read=5, inserted=2, duplicates=1, seconds=2.0)
    report.rejects += [
        RejectedRow(2, "bad", [{"loc": ("name",), "msg": "m", "type": "t"}], {"name": ""}),
        RejectedRow(4, "worse"),
    ]

    data = report.to_dict()

    assert report.read == report.inserted + report.duplicates + report.rejected
    assert (data["rejected"], data["rows_per_second"]) == (2, 2.5)
    assert data["rejects"][0] == {
        "line": 2,
        "reason": "bad",
        "errors": [{"loc": ["name"], "msg": "m", "type": "t"}],
        "row": {"name": ""},
    }
    assert "line 4: worse" in report.summary()
    json.dumps(data)


@respx.mock
def test_wire_format_and_503_retry() -> None:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) == 1:
            return httpx.Response(503, json={"code": "PGRST001", "message": "down"})
        body = json.loads(request.content)
        return httpx.Response(201, json=[{"id": r["id"]} for r in body[:1]])

    respx.post(f"{URL}/rest/v1/content_adaptations").mock(side_effect=answer)
    with NexusClient(URL, "anon-key", access_token=token_for(USER), max_retries=2) as client:
        report = import_rows(
            client, "adaptations", [{"original_idea": "a"}, {"original_idea": "b", "tone": "t"}]
        )

    assert (report.inserted, report.duplicates, report.rejected) == (1, 1, 0)
    assert len(calls) == 2
    sent = calls[1]
    assert sent.url.params["on_conflict"] == "user_id,idea_hash"
    assert sent.url.params["select"] == "id"
    assert set(sent.url.params["columns"].split(",")) >= {
        "id",
        "user_id",
        "original_idea",
        "idea_hash",
        "tone",
    }
    assert sent.headers["Prefer"] == "return=representation,resolution=ignore-duplicates,missing=default"
    rows = json.loads(sent.content)
    assert [r["user_id"] for r in rows] == [USER, USER]
    assert rows[0]["id"] == derive_id("content_adaptations", rows[0])
    assert calls[0].content == calls[1].content  # the retry is the same request


@respx.mock
def test_token_masking_in_rejects(tmp_path: Path) -> None:
    respx.post(f"{URL}/rest/v1/platform_connections").mock(
        return_value=httpx.Response(
            409,
            json={
                "code": "23505",
                "message": "duplicate key",
                "details": "Failing row contains (ciphertext)",
            },
        )
    )
    from nexus_sdk.crypto import EncryptionKey, KeyRing

    ring = KeyRing([EncryptionKey.generate()])
    rows = [
        {
            "platform": "x",
            "platform_user_id": "u",
            "access_token": "tok-SECRET-1",
            "refresh_token": "tok-SECRET-2",
        }
    ]
    with NexusClient(URL, "anon-key", access_token=token_for(USER), encryption_keys=ring) as client:
        report = import_rows(client, "connections", rows, rejects_path=tmp_path / "r.jsonl")

    text = (tmp_path / "r.jsonl").read_text()
    assert report.rejected == 1
    assert "23505" in report.rejects[0].reason
    assert "SECRET" not in text
    assert "ciphertext" not in text  # PostgREST's details may quote the row: left out
    assert json.loads(text)["row"]["access_token"] == MASK


def test_a_user_id_that_is_not_a_uuid_fails_before_a_row_is_read() -> None:
    # Else every row would be rejected one by one, with a rejects file, for one bad argument.
    import asyncio

    from nexus_sdk import AsyncNexusClient
    from nexus_sdk.io import aimport_rows

    rows = iter([{"original_idea": "x"}])
    with (
        NexusClient(URL, "service-role-key-SECRET") as client,
        pytest.raises(ValidationError, match="user_id must be a UUID") as info,
    ):
        import_rows(client, "content_adaptations", rows, user_id="not-a-uuid")
    assert info.value.errors[0]["loc"] == ("user_id",)
    assert not getattr(info.value, "__notes__", None)  # no "re-run to resume": nothing had started

    async def run() -> None:
        async with AsyncNexusClient(URL, "service-role-key-SECRET") as aclient:
            await aimport_rows(aclient, "content_adaptations", rows, user_id="not-a-uuid")

    with pytest.raises(ValidationError, match="user_id must be a UUID"):
        asyncio.run(run())
    assert next(rows) == {"original_idea": "x"}  # nothing was read


def test_a_user_id_in_capitals_is_the_same_user() -> None:
    with NexusClient(URL, "anon-key", access_token=token_for(USER)) as client:
        report = import_rows(client, "content_adaptations", [], user_id=str(USER).upper())
    assert report.read == 0


def test_rows_with_masked_tokens_are_rejected_naming_the_columns_and_the_way_out() -> None:
    from nexus_sdk.crypto import EncryptionKey, KeyRing

    ring = KeyRing([EncryptionKey.generate()])
    rows = [
        {"platform": "x", "platform_user_id": "1", "access_token": MASK},
        {"platform": "linkedin", "platform_user_id": "2", "access_token": MASK, "refresh_token": MASK},
    ]
    with NexusClient(URL, "anon-key", access_token=token_for(USER), encryption_keys=ring) as client:
        report = import_rows(client, "connections", rows)  # nothing to send: no request is made

    assert [r.reason for r in report.rejects] == [
        "access_token is masked (an export without --include-tokens); export again with --include-tokens "
        "to move tokens",
        "access_token and refresh_token are masked (an export without --include-tokens); export again with "
        "--include-tokens to move tokens",
    ]

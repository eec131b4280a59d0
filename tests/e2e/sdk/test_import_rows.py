"""``import_rows`` / ``import_file`` against the local stack (RLS applies); faults are injected in the transport."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nexus_sdk import APIConnectionError, NexusClient
from nexus_sdk.io import MASK, aimport_rows, derive_id, import_file, import_rows
from nexus_sdk.io._checkpoint import Checkpoint
from nexus_sdk.testing import NexusTestStack, NexusTestUser

UserFactory = Callable[..., NexusTestUser]


def ideas(count: int, prefix: str = "idea") -> list[dict[str, Any]]:
    return [
        {
            "original_idea": f"{prefix} {i}",
            "adaptations": {"x": {"text": f"{prefix} on x {i}"}},
            "tone": "casual",
        }
        for i in range(count)
    ]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def db_count(stack: NexusTestStack, table: str, user_id: str) -> int:
    row = (
        stack.sql().execute(f"SELECT count(*) FROM public.{table} WHERE user_id = %s", (user_id,)).fetchone()
    )
    assert row is not None
    return int(row[0])


class FaultyTransport(httpx.BaseTransport):
    """Forwards to the real transport; POSTs number ``fail_from`` onwards fail, or answer 503 ``once``."""

    def __init__(self, *, fail_from: int | None = None, status_503_at: int | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.posts = 0
        self.fail_from = fail_from
        self.status_503_at = status_503_at

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            with self._lock:
                self.posts += 1
                number = self.posts
            if self.fail_from is not None and number >= self.fail_from:
                raise httpx.ConnectError("injected: network down", request=request)
            if number == self.status_503_at:
                return httpx.Response(503, json={"code": "PGRST001", "message": "injected: unavailable"})
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


@contextlib.contextmanager
def user_client(
    stack: NexusTestStack, user: NexusTestUser, transport: httpx.BaseTransport
) -> Iterator[NexusClient]:
    with httpx.Client(transport=transport) as http:
        yield NexusClient(
            stack.url, stack.anon_key, access_token=user.access_token, http_client=http, max_retries=2
        )


def test_bad_rows_are_reported_by_line_and_good_rows_go_in(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    rows = ideas(5)
    lines: list[Any] = [
        rows[0],
        "{not json",
        rows[1],
        "[1, 2]",
        {"original_idea": ""},
        rows[2],
        {"original_idea": "x", "tone": "t" * 60},
        {"original_idea": "unknown column", "colour": "red"},
        rows[3],
        rows[4],
    ]
    source = write_jsonl(tmp_path / "ideas.jsonl", lines)

    report = import_file(nexus_user.client, "adaptations", source)

    assert (report.read, report.inserted, report.duplicates, report.rejected) == (10, 5, 0, 5)
    assert report.read == report.inserted + report.duplicates + report.rejected
    by_line = {r.line: r for r in report.rejects}
    assert sorted(by_line) == [2, 4, 5, 7, 8]
    assert "invalid JSON" in by_line[2].reason
    assert "not a JSON object" in by_line[4].reason
    assert by_line[5].errors[0]["loc"] == ("original_idea",)
    assert by_line[7].errors[0]["loc"] == ("tone",)
    assert by_line[8].errors[0]["loc"] == ("colour",)
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 5
    written = [json.loads(line) for line in Path(f"{source}.rejects.jsonl").read_text().splitlines()]
    assert [w["line"] for w in written] == [2, 4, 5, 7, 8]
    assert written[2]["row"] == {"original_idea": ""}
    assert not Path(f"{source}.checkpoint.json").exists()  # removed once the import completed


def test_importing_the_same_file_twice_adds_nothing(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    source = write_jsonl(tmp_path / "ideas.jsonl", ideas(1200))

    first = import_file(nexus_user.client, "content_adaptations", source, batch_size=250)
    second = import_file(nexus_user.client, "content_adaptations", source, batch_size=250)

    assert (first.inserted, first.duplicates) == (1200, 0)
    assert (second.inserted, second.duplicates, second.rejected) == (0, 1200, 0)
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 1200


def test_natural_key_duplicates_of_rows_made_elsewhere_are_skipped(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    # Made through the SDK with a random id: the import must recognise it by (user_id, idea_hash).
    nexus_user.client.content_adaptations.create(original_idea="idea 0", adaptations={"x": {"text": "x"}})

    report = import_rows(nexus_user.client, "adaptations", ideas(3))

    assert (report.inserted, report.duplicates) == (2, 1)
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 3


def test_rows_without_id_get_deterministic_ids(nexus_user: NexusTestUser) -> None:
    rows = [{"name": "Casual", "characteristics": {"style": "concise"}, "sample_posts": ["hi"]}]
    import_rows(nexus_user.client, "voice_profiles", rows)

    stored = nexus_user.client.voice_profiles.list()
    assert len(stored) == 1
    # derive_id ignores the (random) id of a freshly validated body: the content decides.
    expected = derive_id(
        "voice_profiles", nexus_user.client.voice_profiles._core._raw_create_body(rows[0], {})
    )
    assert str(stored[0].id) == expected


def test_csv_with_json_columns(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    source = tmp_path / "profiles.csv"
    source.write_text(
        "name,is_default,characteristics,sample_posts\n"
        'Pro,true,"{""style"": ""concise"", ""formality_level"": 7}","[""Post one"",\n""Post two""]"\n'
        'Bad,false,"{not json",\n'
        "Casual,,,\n",
        encoding="utf-8",
    )

    report = import_file(nexus_user.client, "profiles", source)
    again = import_file(nexus_user.client, "profiles", source)

    assert (report.read, report.inserted, report.rejected) == (3, 2, 1)
    assert report.rejects[0].line == 4  # the first record spans lines 2-3
    assert "characteristics" in report.rejects[0].reason
    assert (again.inserted, again.duplicates) == (0, 2)
    pro = next(p for p in nexus_user.client.voice_profiles.list() if p.name == "Pro")
    assert pro.is_default is True
    assert pro.characteristics.formality_level == 7
    assert pro.sample_posts == ["Post one", "Post two"]


def test_tokens_are_encrypted_and_never_written_to_rejects(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_service: NexusClient, nexus_user: NexusTestUser
) -> None:
    secret = "oauth-secret-value-1234567890"
    rows = [
        {
            "platform": "linkedin",
            "platform_user_id": "urn:li:person:1",
            "access_token": secret,
            "refresh_token": secret + "r",
        },
        {"platform": "x", "platform_user_id": "", "access_token": secret},  # invalid: empty platform_user_id
        {"platform": "substack", "platform_user_id": "s1", "access_token": MASK},  # a masked export
    ]
    source = write_jsonl(tmp_path / "connections.jsonl", rows)

    report = import_file(nexus_service, "connections", source, user_id=nexus_user.id)

    assert (report.inserted, report.rejected) == (1, 2)
    assert "masked" in report.rejects[1].reason
    stored = (
        nexus_stack.sql()
        .execute(
            "SELECT access_token, refresh_token FROM public.platform_connections WHERE user_id = %s",
            (nexus_user.id,),
        )
        .fetchone()
    )
    assert stored is not None
    assert secret not in stored[0]
    assert secret not in stored[1]
    assert nexus_user.client.platform_connections.list()[0].access_token.get_secret_value() == secret
    rejects_text = Path(f"{source}.rejects.jsonl").read_text()
    assert secret not in rejects_text
    assert json.loads(rejects_text.splitlines()[0])["row"]["access_token"] == MASK
    assert secret not in repr(report)


def test_database_refusals_are_isolated_to_their_rows(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    posts = [{"platform": "x", "content": f"post {i}", "status": "published"} for i in range(40)]
    posts[17]["adaptation_id"] = "00000000-0000-4000-8000-000000000017"  # no such adaptation: FK violation

    report = import_rows(nexus_user.client, "published_posts", posts, batch_size=20)

    assert (report.inserted, report.rejected) == (39, 1)
    assert report.rejects[0].line == 18
    assert "23503" in report.rejects[0].reason
    assert db_count(nexus_stack, "published_posts", nexus_user.id) == 39


def test_a_user_cannot_import_rows_for_someone_else(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    rows = [{"original_idea": "mine"}, {"original_idea": "theirs", "user_id": nexus_other_user.id}]

    report = import_rows(nexus_user.client, "adaptations", rows)

    assert (report.inserted, report.rejected) == (1, 1)
    assert report.rejects[0].line == 2
    assert db_count(nexus_stack, "content_adaptations", nexus_other_user.id) == 0


def test_service_role_rows_need_an_owner(nexus_service: NexusClient) -> None:
    report = import_rows(nexus_service, "adaptations", [{"original_idea": "whose?"}])
    assert report.rejected == 1
    assert "user_id" in report.rejects[0].reason


def test_resumes_after_a_permanent_network_fault(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    source = write_jsonl(tmp_path / "ideas.jsonl", ideas(1000))
    checkpoint = Path(f"{source}.checkpoint.json")
    with (
        user_client(nexus_stack, nexus_user, FaultyTransport(fail_from=4)) as broken,
        pytest.raises(APIConnectionError) as caught,
    ):
        import_file(broken, "adaptations", source, batch_size=100, concurrency=1)

    assert "re-run" in " ".join(caught.value.__notes__)
    assert checkpoint.exists()
    done = json.loads(checkpoint.read_text())["batches"]
    assert len(done) == 3
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 300

    resumed = import_file(nexus_user.client, "adaptations", source, batch_size=100)

    assert resumed.resumed_batches == 3
    assert (resumed.read, resumed.inserted, resumed.duplicates, resumed.rejected) == (1000, 1000, 0, 0)
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 1000
    assert not checkpoint.exists()


def test_rerun_without_checkpoint_still_adds_no_duplicates(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    rows = ideas(500)
    with (
        user_client(nexus_stack, nexus_user, FaultyTransport(fail_from=3)) as broken,
        pytest.raises(APIConnectionError),
    ):
        import_rows(broken, "adaptations", rows, batch_size=100, concurrency=3)
    partial = db_count(nexus_stack, "content_adaptations", nexus_user.id)
    assert 0 < partial < 500

    report = import_rows(nexus_user.client, "adaptations", rows, batch_size=100)

    assert report.inserted == 500 - partial
    assert report.duplicates == partial
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 500


def test_a_503_mid_import_is_retried(nexus_stack: NexusTestStack, nexus_user: NexusTestUser) -> None:
    transport = FaultyTransport(status_503_at=2)
    with user_client(nexus_stack, nexus_user, transport) as client:
        report = import_rows(client, "adaptations", ideas(400), batch_size=100, concurrency=1)

    assert transport.posts == 5  # four batches, one of them twice
    assert (report.inserted, report.duplicates, report.rejected) == (400, 0, 0)
    assert db_count(nexus_stack, "content_adaptations", nexus_user.id) == 400


async def test_async_twin(nexus_stack: NexusTestStack, nexus_user: NexusTestUser, tmp_path: Path) -> None:
    rows = [{"platform": "x", "content": f"async post {i}"} for i in range(250)]
    checkpoint = tmp_path / "cp.json"

    first = await aimport_rows(nexus_user.aclient, "posts", rows, batch_size=50, checkpoint=checkpoint)
    second = await aimport_rows(nexus_user.aclient, "posts", rows, batch_size=50)

    assert (first.inserted, first.batches) == (250, 5)
    assert (second.inserted, second.duplicates) == (0, 250)
    assert not checkpoint.exists()
    assert db_count(nexus_stack, "published_posts", nexus_user.id) == 250


async def test_async_checkpoint_is_saved_off_the_event_loop(
    nexus_user: NexusTestUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    saved_from: list[int] = []
    saved_batches: list[int] = []
    write = Checkpoint._write

    def spy(path: Path, text: str) -> None:
        saved_from.append(threading.get_ident())
        saved_batches.append(len(json.loads(text)["batches"]))
        write(path, text)

    monkeypatch.setattr(Checkpoint, "_write", staticmethod(spy))
    rows = [{"platform": "x", "content": f"checkpointed post {i}"} for i in range(200)]
    report = await aimport_rows(
        nexus_user.aclient, "posts", rows, batch_size=50, concurrency=3, checkpoint=tmp_path / "cp.json"
    )

    assert report.inserted == 200
    assert len(saved_from) == 4
    assert loop_thread not in saved_from
    # Saves run one at a time and each is taken when its turn comes: a later save never holds fewer batches
    # than an earlier one (a stale write would replace a newer checkpoint), and the last holds them all.
    assert saved_batches == sorted(saved_batches)
    assert saved_batches[-1] == 4

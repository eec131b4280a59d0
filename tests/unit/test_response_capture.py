"""``capture_responses()``: the headers, request id and Content-Range of successful calls, types unchanged."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import respx

from nexus_sdk import AsyncNexusClient, NexusClient, ResponseInfo, _http, capture_responses

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
KEY = "sb_secret_SERVICEKEYSERVICEKEYSERVICEKEY"


def test_a_successful_call_shows_its_headers_request_id_and_range(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY) as nx:
        mock.get("/users").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(200, json=[], headers={"sb-request-id": "req-9", "content-range": "0-0/57"}),
            ]
        )
        mock.head("/users").respond(200, headers={"content-range": "*/57", "x-request-id": "req-10"})
        with capture_responses() as responses:
            rows = nx.users.list()
            count = nx.users.count()
    assert rows == []
    assert count == 57
    first, second = responses
    assert isinstance(first, ResponseInfo)
    assert (first.method, first.path, first.status_code, first.attempts) == ("GET", "/users", 200, 2)
    assert (first.request_id, first.content_range, first.total) == ("req-9", "0-0/57", 57)
    assert first.headers["content-range"] == "0-0/57"
    assert first.elapsed > 0
    assert (second.method, second.request_id, second.total) == ("HEAD", "req-10", 57)


def test_nothing_is_recorded_outside_a_block_and_blocks_nest() -> None:
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY) as nx:
        mock.get("/users").respond(200, json=[])
        nx.users.list()
        with capture_responses() as outer:
            nx.users.list()
            with capture_responses() as inner:
                nx.users.list()
        nx.users.list()
    assert (len(outer), len(inner)) == (2, 1)


async def test_async_calls_and_the_tasks_they_start_are_recorded() -> None:
    async with AsyncNexusClient(URL, KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            mock.get("/users").respond(200, json=[], headers={"sb-request-id": "a"})
            with capture_responses() as responses:
                await asyncio.gather(nx.users.list(), nx.users.list())
    assert [r.request_id for r in responses] == ["a", "a"]


def test_types_stay_precise_for_a_type_checker(tmp_path: Path) -> None:
    from mypy import api

    sample = tmp_path / "user_code.py"
    sample.write_text(
        "from nexus_sdk import NexusClient, capture_responses\n"
        "nx = NexusClient('https://x.supabase.co', 'k')\n"
        "with capture_responses() as responses:\n"
        "    rows = nx.published_posts.list()\n"
        "reveal_type(rows)\n"
        "reveal_type(responses)\n"
        "reveal_type(responses[0].total)\n"
    )
    out, _, status = api.run([str(sample), "--strict", "--no-incremental", "--python-version", "3.11"])
    assert status == 0, out
    revealed = [
        line.partition("Revealed type is ")[2] for line in out.splitlines() if "Revealed type" in line
    ]
    assert revealed == [
        '"nexus_sdk._results.RowList[nexus_sdk.models.published_posts.PublishedPost]"',
        '"list[nexus_sdk._http.ResponseInfo]"',
        '"int | None"',
    ], out

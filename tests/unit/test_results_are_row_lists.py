"""Every call returning rows returns what ``list()`` returns: a RowList, so ``.to_pandas()`` works on all."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from nexus_sdk import AsyncNexusClient, NexusClient, RowList
from nexus_sdk.models import PublishedPost, VoiceProfile
from nexus_sdk.models.publishing import ClaimedPost
from tests.unit.test_publishing_wire import SERVICE_KEY, URL, USER_ID, claimed_row, published_row

pytest.importorskip("pandas")


def _voice_row(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "created_at": "2030-01-01T00:00:00+00:00",
        "updated_at": "2030-01-01T00:00:00+00:00",
        "is_default": False,
        **body,
    }


def _server(request: httpx.Request) -> httpx.Response:
    path = request.url.path.removeprefix("/rest/v1")
    if path == "/rpc/top_published_posts":
        return httpx.Response(200, json=[published_row(), published_row()])
    if path == "/rpc/claim_due_posts":
        return httpx.Response(200, json=[claimed_row()])
    if path == "/voice_profiles" and request.method == "POST":
        return httpx.Response(201, json=[_voice_row(body) for body in json.loads(request.content)])
    raise AssertionError(f"unexpected {request.method} {path}")


def _check(rows: Any, model: type[Any], count: int) -> None:
    assert type(rows) is RowList
    assert rows.model is model
    frame = rows.to_pandas()
    assert len(frame) == count
    assert list(frame.columns) == list(model.model_fields)


def test_top_claim_due_and_create_many_return_row_lists() -> None:
    with NexusClient(
        URL, SERVICE_KEY, http_client=httpx.Client(transport=httpx.MockTransport(_server))
    ) as nx:
        _check(nx.published_posts.top(), PublishedPost, 2)
        _check(nx.scheduled_posts.claim_due(), ClaimedPost, 1)
        created = nx.voice_profiles.create_many(
            [{"user_id": USER_ID, "name": "a"}, {"user_id": USER_ID, "name": "b"}]
        )
        _check(created, VoiceProfile, 2)


async def test_the_async_side_returns_row_lists_too() -> None:
    transport = httpx.MockTransport(_server)
    async with AsyncNexusClient(URL, SERVICE_KEY, http_client=httpx.AsyncClient(transport=transport)) as nx:
        _check(await nx.published_posts.top(), PublishedPost, 2)
        _check(await nx.scheduled_posts.claim_due(), ClaimedPost, 1)

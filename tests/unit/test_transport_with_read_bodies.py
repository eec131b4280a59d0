"""A transport that answers with its body already read (httpx.MockTransport, as users' own tests do) works."""

from __future__ import annotations

import uuid

import httpx

from nexus_sdk import AsyncNexusClient, NexusClient

ROW = {
    "id": str(uuid.uuid4()),
    "user_id": str(uuid.uuid4()),
    "platform": "x",
    "status": "published",
    "content": "hello",
    "created_at": "2025-02-10T12:00:00+00:00",
    "updated_at": "2025-02-10T12:00:00+00:00",
}


def _handler(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=[ROW])


def test_sync_client_reads_a_mock_transport_body() -> None:
    transport = httpx.MockTransport(_handler)
    with NexusClient("https://nexus.test", "anon-key", http_client=httpx.Client(transport=transport)) as nx:
        rows = nx.published_posts.list(limit=1)
    assert [row.content for row in rows] == ["hello"]


async def test_async_client_reads_a_mock_transport_body() -> None:
    transport = httpx.MockTransport(_handler)
    async with AsyncNexusClient(
        "https://nexus.test", "anon-key", http_client=httpx.AsyncClient(transport=transport)
    ) as nx:
        rows = await nx.published_posts.list(limit=1)
    assert [row.content for row in rows] == ["hello"]

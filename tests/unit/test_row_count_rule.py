"""One rule for every number of rows per request: an int in 1..1000, ``True`` refused, nothing sent otherwise."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk import AsyncNexusClient, NexusClient, ValidationError, run_worker
from nexus_sdk.crypto import EncryptionKey, KeyRing
from nexus_sdk.io import export_rows, import_rows
from nexus_sdk.query import row_count
from tests.unit.test_publishing_wire import SERVICE_KEY, URL

BAD = [True, False, 0, 1001, -1, 2.0, "10", None]


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"nothing may be sent, but {request.method} {request.url.path} was")


@pytest.fixture
def nx() -> Iterator[NexusClient]:
    with NexusClient(
        URL,
        SERVICE_KEY,
        http_client=httpx.Client(transport=httpx.MockTransport(_refuse)),
        encryption_keys=KeyRing([EncryptionKey.generate()]),
    ) as client:
        yield client


CALLS: dict[str, Callable[[NexusClient, Any], object]] = {
    "list(limit=)": lambda nx, v: nx.published_posts.list(limit=v),
    "iter(page_size=)": lambda nx, v: nx.published_posts.iter(page_size=v),
    "create_many(batch_size=)": lambda nx, v: nx.voice_profiles.create_many([], batch_size=v),
    "top(limit=)": lambda nx, v: nx.published_posts.top(v),
    "claim_due(limit=)": lambda nx, v: nx.scheduled_posts.claim_due(v),
    "expiring(limit=)": lambda nx, v: nx.platform_connections.expiring(
        __import__("datetime").timedelta(0), limit=v
    ),
    "rotate_keys(batch_size=)": lambda nx, v: nx.platform_connections.rotate_keys(batch_size=v),
    "run_worker(batch_size=)": lambda nx, v: run_worker(nx, {"x": print}, batch_size=v, handle_signals=False),
    "import_rows(batch_size=)": lambda nx, v: import_rows(nx, "voice_profiles", [], batch_size=v),
    "export_rows(page_size=)": lambda nx, v: export_rows(nx, "voice_profiles", io.StringIO(), page_size=v),
}


@pytest.mark.parametrize("value", BAD, ids=repr)
@pytest.mark.parametrize("call", list(CALLS), ids=str)
def test_every_row_count_is_checked_before_sending(nx: NexusClient, call: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        CALLS[call](nx, value)
    assert caught.value.errors[0]["type"] == "row_count"
    assert "between 1 and 1000" in caught.value.message


async def test_the_async_side_applies_the_same_rule() -> None:
    async with AsyncNexusClient(
        URL, SERVICE_KEY, http_client=httpx.AsyncClient(transport=httpx.MockTransport(_refuse))
    ) as nx:
        with pytest.raises(ValidationError):
            await nx.published_posts.list(limit=True)
        with pytest.raises(ValidationError):
            await nx.scheduled_posts.claim_due(True)


@pytest.mark.parametrize("value", [1, 500, 1000])
def test_the_rule_accepts_counts_in_range(value: int) -> None:
    assert row_count("limit", value) == value

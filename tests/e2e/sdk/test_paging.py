"""Reading more than one response holds: the stack caps responses at 1000 rows, as Supabase does, and
``iter()`` pages by keyset until the end, with nothing lost or repeated."""

from __future__ import annotations

from typing import Any

import pytest

from nexus_sdk import F
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

ROWS = 1234


async def test_iter_reads_past_the_1000_row_cap(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    created = await sdk(
        repo.create_many(
            [{"original_idea": f"idea {i:05d}", "tone": "odd" if i % 2 else "even"} for i in range(ROWS)],
            batch_size=500,
        )
    )
    assert len(created) == ROWS
    expected = {row.id for row in created}
    assert await sdk(repo.count()) == ROWS

    # One request returns at most 1000 rows.
    assert len(await sdk(repo.list(limit=1000))) == 1000

    # Default ordering (by id), the maximum page size.
    by_id = await sdk.all(repo.iter(page_size=1000))
    assert len(by_id) == ROWS
    assert {row.id for row in by_id} == expected
    assert [row.id for row in by_id] == sorted(expected)

    # Ordered by a column every row of a batch shares (created_at: one transaction): the id breaks ties.
    newest_first = await sdk.all(repo.iter(order_by="-created_at", page_size=300))
    assert len(newest_first) == ROWS
    assert {row.id for row in newest_first} == expected
    keys = [(row.created_at, row.id) for row in newest_first]
    assert keys == sorted(
        keys, reverse=True
    )  # created_at desc, then id desc (PostgreSQL orders uuids as Python does)

    # With a filter, on a text column.
    odd = await sdk.all(repo.iter(where=F("tone") == "odd", order_by="original_idea", page_size=250))
    assert [row.original_idea for row in odd] == [f"idea {i:05d}" for i in range(1, ROWS, 2)]
    assert await sdk(repo.count(where={"tone": "odd"})) == ROWS // 2


async def test_iter_of_nothing_and_exact_multiple(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).voice_profiles
    assert await sdk.all(repo.iter()) == []
    await sdk(repo.create_many([{"name": f"v{i}"} for i in range(6)]))
    # Six rows in pages of three: the last page is full, so one more (empty) request ends the loop.
    assert [p.name for p in await sdk.all(repo.iter(order_by="name", page_size=3))] == [
        f"v{i}" for i in range(6)
    ]

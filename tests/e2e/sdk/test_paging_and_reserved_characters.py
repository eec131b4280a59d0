"""Review findings against the real local stack (PostgreSQL with RLS behind the PostgREST-compatible API).

- ``iter()`` reads everything even when the server caps responses below ``page_size`` (Supabase lets a
  project lower ``max_rows``): a short page is not taken for the last one until the server confirms it.
- Keyset pages and filters stay exact on values PostgREST's syntax reserves (``,.:()"\\``, spaces at
  the ends, ``*``, ``%``, the word ``null``), with ties and NULLs, ascending and descending.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk import AsyncNexusClient, F, NexusClient, local
from nexus_sdk.testing import NexusTestStack, NexusTestUser, skip_unless_ci

pytestmark = [pytest.mark.db, pytest.mark.e2e]

CAP = 40
"""The lowered ``max_rows`` of the second API in front of the same database."""


@pytest.fixture(scope="module")
def capped(nexus_stack: NexusTestStack) -> Iterator[local.LocalStack]:
    """A second API on the session's database and JWT secret, answering at most CAP rows per response."""
    if nexus_stack.local is None or nexus_stack.database_url is None or nexus_stack.jwt_secret is None:
        skip_unless_ci("a second, capped API needs the local stack")
    with local.start(
        port=0,
        database_url=nexus_stack.database_url,
        jwt_secret=nexus_stack.jwt_secret,
        apply_schema=False,
        max_rows=CAP,
    ) as running:
        yield running


@pytest.fixture(params=["sync", "async"])
def capped_client(
    request: pytest.FixtureRequest, capped: local.LocalStack, nexus_user: NexusTestUser
) -> Iterator[Any]:
    """``nexus_user``'s client, sync or async, talking to the capped API."""
    if request.param == "sync":
        with NexusClient(capped.url, capped.anon_key, access_token=nexus_user.access_token) as client:
            yield client
    else:
        http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
        yield AsyncNexusClient(
            capped.url, capped.anon_key, access_token=nexus_user.access_token, http_client=http
        )


async def _all(rows: Any) -> list[Any]:
    if hasattr(rows, "__aiter__"):
        return [row async for row in rows]
    return list(rows)


async def _run(value: Any) -> Any:
    return await value if hasattr(value, "__await__") else value


@pytest.mark.parametrize("order_by", [None, "name", "-created_at"])
async def test_iter_reads_every_row_when_the_server_caps_below_the_page_size(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, capped_client: Any, order_by: str | None
) -> None:
    rows = 3 * CAP + 7
    created = nexus_user.client.voice_profiles.create_many([{"name": f"v{i:04d}"} for i in range(rows)])
    repo = capped_client.voice_profiles
    # The cap is real: one response never holds more than CAP rows.
    assert len(await _run(repo.list(limit=1000))) == CAP
    seen = await _all(repo.iter(order_by=order_by, page_size=500))
    assert len(seen) == rows
    assert {row.id for row in seen} == {row.id for row in created}
    if order_by == "name":
        assert [row.name for row in seen] == [f"v{i:04d}" for i in range(rows)]
    # With a filter, fewer rows than the cap: one short page, confirmed by an empty one.
    few = await _all(repo.iter(where=F("name").in_(["v0001", "v0100"]), order_by="name", page_size=500))
    assert [row.name for row in few] == ["v0001", "v0100"]


# Values that PostgREST's filter syntax reserves, plus spaces at the ends, ties and NULLs.
AWKWARD = ["a,b", "a.b", "c:d", "(x)", 'say "hi"', "back\\slash", " lead", "trail ", "x*y", "50%", "null"]


@pytest.mark.parametrize("order_by", ["tone", "-tone"])
async def test_iter_pages_through_reserved_characters_ties_and_nulls(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, order_by: str
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    # Each awkward value three times (ties), and five NULLs.
    tones: list[str | None] = [tone for tone in AWKWARD for _ in range(3)] + [None] * 5
    created = await sdk(
        repo.create_many([{"original_idea": f"idea {i}", "tone": tone} for i, tone in enumerate(tones)])
    )
    seen = await sdk.all(repo.iter(order_by=order_by, page_size=2))
    assert sorted(str(row.id) for row in seen) == sorted(str(row.id) for row in created)
    # The database's own order (its collation), NULLs last, ties broken by id in the same direction.
    listed = await sdk(
        repo.list(order_by=[order_by, "-id" if order_by.startswith("-") else "id"], limit=1000)
    )
    non_null = [row.id for row in listed if row.tone is not None]
    assert [row.id for row in seen] == non_null + sorted(
        (row.id for row in listed if row.tone is None), reverse=order_by.startswith("-")
    )


async def test_filters_with_reserved_characters_match_exactly(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).content_adaptations
    await sdk(repo.create_many([{"original_idea": f"idea {i}", "tone": t} for i, t in enumerate(AWKWARD)]))
    for tone in AWKWARD:
        top = await sdk(repo.list(where=F("tone") == tone))
        assert [row.tone for row in top] == [tone]
        grouped = await sdk(repo.list(where=(F("tone") == tone) | (F("tone") == "no such tone")))
        assert [row.tone for row in grouped] == [tone]
    listed = await sdk(repo.list(where=F("tone").in_(AWKWARD[:6]), order_by="tone"))
    assert sorted(row.tone for row in listed) == sorted(AWKWARD[:6])
    tree = await sdk(repo.list(where=F("tone").in_(["a,b", " lead"]) | F("tone").like("%slash")))
    assert sorted(row.tone for row in tree) == sorted(["a,b", " lead", "back\\slash"])
    assert await sdk(repo.count(where=F("tone").is_(None))) == 0


def test_text_with_a_nul_character_is_refused_before_sending(nexus_user: NexusTestUser) -> None:
    # PostgreSQL cannot store U+0000 in text or jsonb; the SDK says where, and nothing reaches the server.
    from nexus_sdk import ValidationError

    posts = nexus_user.client.published_posts
    with pytest.raises(ValidationError) as plain:
        posts.create(platform="x", content="a\x00b")
    assert plain.value.errors[0]["loc"] == ("content",)
    ideas = nexus_user.client.content_adaptations
    with pytest.raises(ValidationError) as nested:
        ideas.create_many(
            [
                {"original_idea": "fine"},
                {"original_idea": "y", "adaptations": {"linkedin": {"text": "bad\x00"}}},
            ]
        )
    assert nested.value.errors[0]["loc"][1:] == ("adaptations", "linkedin", "text")
    assert posts.count() == 0
    assert ideas.count() == 0
    # The same text without the NUL goes through, so the refusal was about that character alone.
    assert posts.create(platform="x", content="ab").content == "ab"

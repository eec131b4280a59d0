"""Embedding on the Nexus schema itself: its same-owner composite foreign keys relate posts to their
adaptation and connection, and row-level security applies to embedded rows as to top-level ones."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture
def two_users(stack: local.LocalStack, db: psycopg.Connection[Any]) -> Iterator[dict[str, str]]:
    """Two users, each with an adaptation, a connection, a published post and a scheduled post."""
    tokens: dict[str, str] = {}
    ids: list[str] = []
    for name in ("ann", "ben"):
        uid, token = stack.create_user(f"{name}-{time.time_ns()}@example.com")
        ids.append(uid)
        tokens[name] = token
        db.execute(
            """
            WITH a AS (
              INSERT INTO public.content_adaptations (user_id, original_idea, adaptations)
              VALUES (%(u)s, %(idea)s, '{}') RETURNING id
            ), c AS (
              INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)
              VALUES (%(u)s, 'linkedin', %(idea)s, 'nx1:no-such-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') RETURNING id
            ), p AS (
              INSERT INTO public.published_posts (user_id, adaptation_id, platform_connection_id, platform, content)
              SELECT %(u)s, a.id, c.id, 'linkedin', %(idea)s || ' post' FROM a, c RETURNING id
            )
            INSERT INTO public.scheduled_posts
              (user_id, adaptation_id, platform_connection_id, platform, content, scheduled_for)
            SELECT %(u)s, a.id, c.id, 'linkedin', %(idea)s || ' later', now() + interval '1 day' FROM a, c
            """,
            {"u": uid, "idea": f"{name} idea"},
        )
    yield tokens
    db.execute("DELETE FROM auth.users WHERE id = ANY(%s::uuid[])", [ids])


def _as(stack: local.LocalStack, token: str) -> httpx.Client:
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
    return httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30)


def test_a_post_with_its_adaptation_through_the_composite_key(
    stack: local.LocalStack, two_users: dict[str, str]
) -> None:
    with _as(stack, two_users["ann"]) as ann:
        r = ann.get("/published_posts", params={"select": "content,content_adaptations(original_idea)"})
    assert r.status_code == 200, r.text
    assert r.json() == [{"content": "ann idea post", "content_adaptations": {"original_idea": "ann idea"}}]


def test_a_scheduled_post_with_its_connections_platform(
    stack: local.LocalStack, two_users: dict[str, str]
) -> None:
    with _as(stack, two_users["ben"]) as ben:
        r = ben.get(
            "/scheduled_posts",
            params={"select": "content,connection:platform_connections(platform,platform_user_id)"},
        )
    assert r.status_code == 200, r.text
    assert r.json() == [
        {"content": "ben idea later", "connection": {"platform": "linkedin", "platform_user_id": "ben idea"}}
    ]


def test_embedded_rows_respect_row_level_security(stack: local.LocalStack, two_users: dict[str, str]) -> None:
    with _as(stack, two_users["ann"]) as ann:
        # From a user's own adaptations, only that user's posts; through !inner, only rows RLS lets through.
        mine = ann.get("/content_adaptations", params={"select": "original_idea,published_posts(content)"})
        inner = ann.get("/users", params={"select": "id,published_posts!inner(content)"})
    assert mine.json() == [{"original_idea": "ann idea", "published_posts": [{"content": "ann idea post"}]}]
    assert [row["published_posts"] for row in inner.json()] == [[{"content": "ann idea post"}]]


def test_service_role_embeds_every_users_rows(stack: local.LocalStack, two_users: dict[str, str]) -> None:
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {stack.service_role_key}"}
    with httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30) as service:
        r = service.get(
            "/published_posts",
            params={
                "select": "content,content_adaptations!inner(original_idea)",
                "content_adaptations.original_idea": "in.(ann idea,ben idea)",
                "order": "content",
            },
        )
    assert [row["content_adaptations"]["original_idea"] for row in r.json()] == ["ann idea", "ben idea"]

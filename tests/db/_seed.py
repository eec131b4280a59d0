"""Rows for the database tests: one user's worth of data in every table, written as the superuser."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

TOKEN: str = "nx1:test-key:" + "A" * 48
"""A value of the stored token format (docs/encryption.md) that no key decrypts; the database accepts only
such values as tokens (sql: platform_connections_check_tokens), so the rows written here use it."""


@dataclass(frozen=True)
class Seed:
    """Ids of one user's rows.

    ``*_ref`` rows are referenced by others (a connection and an adaptation used by posts); ``leaf`` rows
    are referenced by nothing, so any role may delete them without tripping a foreign key.
    """

    user_id: uuid.UUID
    connection_ref: uuid.UUID
    adaptation_ref: uuid.UUID
    published_ref: uuid.UUID
    leaf: dict[str, uuid.UUID]


def _one(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...]) -> uuid.UUID:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    value: uuid.UUID = row[0]
    return value


def seed(conn: psycopg.Connection[Any], user_id: uuid.UUID) -> Seed:
    """Insert, for ``user_id``, a row in each table plus one unreferenced ("leaf") row per table."""
    conn_ref = _one(
        conn,
        "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
        " values (%s, 'linkedin', 'urn:li:person:1', %s) returning id",
        (user_id, TOKEN),
    )
    adapt_ref = _one(
        conn,
        "insert into public.content_adaptations (user_id, original_idea, adaptations)"
        """ values (%s, 'idea', '{"x": {"text": "hi"}}') returning id""",
        (user_id,),
    )
    published_ref = _one(
        conn,
        "insert into public.published_posts (user_id, adaptation_id, platform_connection_id, platform, content)"
        " values (%s, %s, %s, 'linkedin', 'posted') returning id",
        (user_id, adapt_ref, conn_ref),
    )
    conn.execute(
        "insert into public.scheduled_posts"
        " (user_id, adaptation_id, content, platform_connection_id, platform, scheduled_for, published_post_id)"
        " values (%s, %s, 'later', %s, 'linkedin', now() + interval '1 day', %s)",
        (user_id, adapt_ref, conn_ref, published_ref),
    )
    leaf = {
        "users": user_id,
        "platform_connections": _one(
            conn,
            "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " values (%s, 'x', '42', %s) returning id",
            (user_id, TOKEN),
        ),
        "content_adaptations": _one(
            conn,
            "insert into public.content_adaptations (user_id, original_idea, adaptations)"
            " values (%s, 'leaf idea', '{}') returning id",
            (user_id,),
        ),
        "voice_profiles": _one(
            conn,
            # Two profiles, so deleting the leaf one is not deleting the user's only profile.
            "insert into public.voice_profiles (user_id, name, characteristics)"
            " values (%s, 'Default', '{}'), (%s, 'Leaf', '{}') returning id",
            (user_id, user_id),
        ),
        "published_posts": _one(
            conn,
            "insert into public.published_posts (user_id, platform, content, status)"
            " values (%s, 'x', 'leaf post', 'failed') returning id",
            (user_id,),
        ),
        "scheduled_posts": _one(
            conn,
            "insert into public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
            " values (%s, 'leaf', %s, 'linkedin', now() + interval '2 days') returning id",
            (user_id, conn_ref),
        ),
    }
    # `returning id` of a two-row insert gives the first row; the leaf profile is the second one.
    leaf["voice_profiles"] = _one(
        conn, "select id from public.voice_profiles where user_id = %s and name = 'Leaf'", (user_id,)
    )
    return Seed(user_id, conn_ref, adapt_ref, published_ref, leaf)

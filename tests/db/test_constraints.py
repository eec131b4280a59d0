"""CHECK, UNIQUE, NOT NULL and foreign-key constraints: bad values fail, naming the constraint."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql

from tests.db._seed import Seed, seed

Conn = psycopg.Connection[Any]


@pytest.fixture
def rows(conn: Conn, make_user: Any) -> Seed:
    return seed(conn, make_user(conn))


def update(conn: Conn, table: str, row_id: Any, column: str, value: Any) -> None:
    conn.execute(
        sql.SQL("update public.{} set {} = %s where id = %s").format(
            sql.Identifier(table), sql.Identifier(column)
        ),
        (value, row_id),
    )


def j(value: Any) -> str:
    return json.dumps(value)


BAD_VALUES = [
    ("platform_connections", "platform", "LinkedIn", "platform_connections_platform_check"),
    ("platform_connections", "platform", "", "platform_connections_platform_check"),
    ("platform_connections", "platform", "1x", "platform_connections_platform_check"),
    ("platform_connections", "profile_data", j(["a"]), "platform_connections_profile_data_check"),
    ("content_adaptations", "adaptations", j("text"), "content_adaptations_adaptations_check"),
    ("content_adaptations", "adaptations", j([]), "content_adaptations_adaptations_check"),
    ("content_adaptations", "idea_hash", "not-a-hash", "content_adaptations_idea_hash_check"),
    ("content_adaptations", "idea_hash", "A" * 64, "content_adaptations_idea_hash_check"),
    ("voice_profiles", "characteristics", j(None), "voice_profiles_characteristics_check"),
    ("voice_profiles", "characteristics", j(7), "voice_profiles_characteristics_check"),
    ("published_posts", "status", "scheduled", "published_posts_status_check"),
    ("published_posts", "status", "PUBLISHED", "published_posts_status_check"),
    ("published_posts", "platform", "x-twitter", "published_posts_platform_check"),
    ("published_posts", "metadata", j([1]), "published_posts_metadata_check"),
    ("published_posts", "metrics", j([1]), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"views": "1500"}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"likes": -1}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"comments": True}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"shares": {"n": 1}}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"impressions": [3000]}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"engagement_rate": 1.5}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"engagement_rate": -0.1}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"engagement_rate": "4%"}), "published_posts_metrics_check"),
    ("published_posts", "metrics", j({"last_synced": 1700000000}), "published_posts_metrics_check"),
    ("scheduled_posts", "status", "pending", "scheduled_posts_status_check"),
    ("scheduled_posts", "platform", "Substack", "scheduled_posts_platform_check"),
    ("scheduled_posts", "retry_count", -1, "scheduled_posts_retry_count_check"),
]


@pytest.mark.parametrize(("table", "column", "value", "constraint"), BAD_VALUES)
def test_bad_values_fail_with_the_named_check(
    conn: Conn, rows: Seed, table: str, column: str, value: Any, constraint: str
) -> None:
    with pytest.raises(errors.CheckViolation) as info:
        update(conn, table, rows.leaf[table], column, value)
    assert info.value.diag.constraint_name == constraint


GOOD_VALUES = [
    ("platform_connections", "platform", "threads"),
    ("platform_connections", "platform", "mastodon_social"),
    ("platform_connections", "profile_data", None),
    ("platform_connections", "profile_data", j({"username": "ada", "followers": 10})),
    ("content_adaptations", "idea_hash", "0123456789abcdef" * 4),
    ("content_adaptations", "idea_hash", None),
    ("content_adaptations", "adaptations", j({"linkedin": {"text": "t", "hashtags": ["a"]}, "future": 1})),
    ("voice_profiles", "characteristics", j({"emoij_usage": "minimal", "formality_level": 7})),
    ("published_posts", "metrics", None),
    ("published_posts", "metrics", j({})),
    (
        "published_posts",
        "metrics",
        j(
            {
                "views": 1500,
                "likes": 45,
                "comments": 12,
                "shares": 8,
                "impressions": 3000,
                "engagement_rate": 0.043,
                "last_synced": "2025-02-10T12:00:00Z",
                "saves": "platform-specific extras are kept",
            }
        ),
    ),
    ("published_posts", "metrics", j({"views": None, "engagement_rate": 0})),
    ("published_posts", "metrics", j({"engagement_rate": 1})),
    ("scheduled_posts", "retry_count", 0),
]


@pytest.mark.parametrize(("table", "column", "value"), GOOD_VALUES)
def test_good_values_pass(conn: Conn, rows: Seed, table: str, column: str, value: Any) -> None:
    update(conn, table, rows.leaf[table], column, value)
    got = conn.execute(
        sql.SQL("select {}::text from public.{} where id = %s").format(
            sql.Identifier(column), sql.Identifier(table)
        ),
        (rows.leaf[table],),
    ).fetchone()
    assert got is not None
    if value is None:
        assert got[0] is None
    elif column in {"profile_data", "adaptations", "characteristics", "metrics"}:
        assert json.loads(got[0]) == json.loads(value)
    else:
        assert got[0] == str(value)


@pytest.mark.parametrize("status", ["pending", "published", "failed", "deleted"])
def test_every_published_status_is_accepted(conn: Conn, rows: Seed, status: str) -> None:
    update(conn, "published_posts", rows.leaf["published_posts"], "status", status)


@pytest.mark.parametrize("status", ["scheduled", "processing", "completed", "failed", "cancelled"])
def test_every_scheduled_status_is_accepted(conn: Conn, rows: Seed, status: str) -> None:
    update(conn, "scheduled_posts", rows.leaf["scheduled_posts"], "status", status)


NOT_NULL = [
    ("users", "email"),
    ("users", "timezone"),
    ("users", "is_active"),
    ("platform_connections", "access_token"),
    ("content_adaptations", "adaptations"),
    ("voice_profiles", "is_default"),
    ("published_posts", "status"),
    ("published_posts", "content"),
    ("scheduled_posts", "scheduled_for"),
    ("scheduled_posts", "retry_count"),
    ("scheduled_posts", "platform_connection_id"),
]


@pytest.mark.parametrize(("table", "column"), NOT_NULL)
def test_not_null(conn: Conn, rows: Seed, table: str, column: str) -> None:
    with pytest.raises(errors.NotNullViolation) as info:
        update(conn, table, rows.leaf[table], column, None)
    assert info.value.diag.column_name == column


def test_one_connection_per_platform_per_user(conn: Conn, rows: Seed) -> None:
    with pytest.raises(errors.UniqueViolation) as info:
        conn.execute(
            "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " values (%s, 'linkedin', 'again', 'nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')",
            (rows.user_id,),
        )
    assert info.value.diag.constraint_name == "idx_platform_connections_user_platform"


def test_emails_are_unique(conn: Conn, make_user: Any) -> None:
    first = make_user(conn, email="same@example.test")
    second = make_user(conn)
    with pytest.raises(errors.UniqueViolation) as info:
        conn.execute("update public.users set email = 'same@example.test' where id = %s", (second,))
    assert info.value.diag.constraint_name == "users_email_key"
    assert first != second


def test_a_second_default_profile_is_refused_by_the_index(conn: Conn, rows: Seed) -> None:
    """The trigger normally unsets the old default; with triggers off the index still holds the rule."""
    conn.execute("set session_replication_role = replica")
    try:
        with pytest.raises(errors.UniqueViolation) as info:
            conn.execute(
                "update public.voice_profiles set is_default = true where user_id = %s", (rows.user_id,)
            )
    finally:
        conn.execute("reset session_replication_role")
    assert info.value.diag.constraint_name == "idx_voice_profiles_user_default"


def test_a_referenced_adaptation_cannot_be_deleted(conn: Conn, rows: Seed) -> None:
    """The document gives these references no ON DELETE rule: NO ACTION keeps the posts' history intact."""
    with pytest.raises(errors.ForeignKeyViolation) as info:
        conn.execute("delete from public.content_adaptations where id = %s", (rows.adaptation_ref,))
    assert info.value.diag.constraint_name in {
        "published_posts_adaptation_id_fkey",
        "scheduled_posts_adaptation_id_fkey",
    }


def test_a_public_user_needs_an_auth_user(conn: Conn) -> None:
    with pytest.raises(errors.ForeignKeyViolation) as info:
        conn.execute("insert into public.users (id, email) values (gen_random_uuid(), 'ghost@example.test')")
    assert info.value.diag.constraint_name == "users_id_fkey"

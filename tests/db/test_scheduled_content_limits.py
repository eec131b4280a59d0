"""No content over its platform's limit is ever scheduled, whichever arguments are given and whoever writes.

The database counts LinkedIn exactly (NFC characters, as the SDK does) and X by an upper bound of twitter-text's
weighted length (docs/schema.md, decision 27): a property test checks against twitter-text itself (the
library the SDK counts with) that every text X counts over 280 is refused, and that the bound is exact on
the plain texts people write (no URL-like dots, or URLs of the plain form it recognises).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from psycopg import errors

from nexus_sdk.models import x_weighted_length
from tests.db._publishing import call
from tests.db._seed import TOKEN

Conn = psycopg.Connection[Any]
X_304 = "日本語のテキスト" * 19  # 152 characters that X counts 2 each: 304
LINKEDIN_3001 = "a" * 3001


@pytest.fixture
def account(conn: Conn, make_user: Any) -> tuple[uuid.UUID, dict[str, uuid.UUID]]:
    user = make_user(conn)
    rows = conn.execute(
        "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
        " values (%s, 'x', 'me', %s), (%s, 'linkedin', 'me', %s), (%s, 'substack', 'me', %s) returning platform, id",
        (user, TOKEN, user, TOKEN, user, TOKEN),
    ).fetchall()
    return user, dict(rows)


def later() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=1)


@pytest.mark.parametrize(("platform", "content"), [("x", X_304), ("linkedin", LINKEDIN_3001)])
@pytest.mark.parametrize("with_platform", [False, True], ids=["platform-not-passed", "platform-passed"])
def test_schedule_post_refuses_content_over_the_limit(
    conn: Conn, as_role: Any, account: Any, platform: str, content: str, with_platform: bool
) -> None:
    user, connections = account
    assert platform != "x" or x_weighted_length(content) == 304
    extra = {"platform": platform} if with_platform else {}
    with pytest.raises(errors.CheckViolation) as info, as_role(conn, "authenticated", user) as cur:
        call(
            cur,
            "schedule_post",
            platform_connection_id=connections[platform],
            scheduled_for=later(),
            content=content,
            **extra,
        )
    assert info.value.diag.message_detail == "content_too_long"
    assert info.value.diag.constraint_name == "scheduled_posts_content_within_limit"


@pytest.mark.parametrize(("platform", "content"), [("x", X_304), ("linkedin", LINKEDIN_3001)])
@pytest.mark.parametrize("role", ["authenticated", "service_role"])
def test_a_direct_insert_or_edit_over_the_limit_is_refused(
    conn: Conn, as_role: Any, account: Any, platform: str, content: str, role: str
) -> None:
    user, connections = account
    sub = user if role == "authenticated" else None
    insert = (
        "insert into public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
        " values (%s, %s, %s, %s, %s) returning id"
    )
    with pytest.raises(errors.CheckViolation), as_role(conn, role, sub) as cur:
        cur.execute(insert, (user, content, connections[platform], platform, later()))
    with as_role(conn, role, sub) as cur:
        cur.execute(insert, (user, "short", connections[platform], platform, later()))
        row_id = cur.fetchone()[0]
        with pytest.raises(errors.CheckViolation):
            cur.execute("update public.scheduled_posts set content = %s where id = %s", (content, row_id))


def test_content_at_the_limit_and_other_platforms_are_accepted(
    conn: Conn, as_role: Any, account: Any
) -> None:
    user, connections = account
    with as_role(conn, "authenticated", user) as cur:
        for platform, content in [
            ("x", "a" * 280),
            ("x", "日本語" * 46 + "ab"),  # 278 + 2
            ("x", "see https://example.com/a/very/long/path/that/x/counts/as/twenty/three/only " + "b" * 200),
            ("linkedin", "é" * 3000),
            ("linkedin", "e\u0301" * 3000),  # 6000 code points, 3000 characters once composed (NFC)
            ("substack", "z" * 100_000),
        ]:
            [row] = call(
                cur,
                "schedule_post",
                platform_connection_id=connections[platform],
                scheduled_for=later(),
                content=content,
            )
            assert row["content"] == content


def test_a_row_over_the_limit_from_before_the_rule_stays_workable(
    conn: Conn, as_role: Any, account: Any
) -> None:
    user, connections = account
    with conn.transaction():
        conn.execute("set local session_replication_role = replica")
        row = conn.execute(
            "insert into public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
            " values (%s, %s, %s, 'x', %s) returning id",
            (user, X_304, connections["x"], later()),
        ).fetchone()
    assert row is not None
    with as_role(conn, "authenticated", user) as cur:
        cur.execute("update public.scheduled_posts set scheduled_for = %s where id = %s", (later(), row[0]))
        assert cur.rowcount == 1
        call(cur, "cancel_scheduled_post", post_id=row[0])


# --- the X bound against twitter-text ------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "hello",
        "world",
        "e.g.",
        "3.5",
        "Node.js",
        "end.",
        "U.S.",
        "a.b",
        "x.co",
        "t.co/abc",
        "example.com",
        "EXAMPLE.COM",
        "例え.jp",
        "日本語",
        "中文",
        "한국어",
        "🙂",
        "👩‍👩‍👧‍👦",
        "🇫🇷",
        "©",
        "®",
        "©️",
        "1️⃣",
        "#️⃣",
        "™",
        "‼",
        "—",
        "…",
        "é",
        "e\u0301",
        "\u0958",
        "\u212b",
        "\r\n",
        "\r",
        "\n",
        "\t",
        " ",
        "\u00a0",
        "\u3000",
        "https://example.com",
        "https://example.com/",
        "https://example.com/a/b_c-d",
        "https://example.com/x?y=1&z=2",
        "http://sub.example.org/path",
        "https://t.co/abcdef",
        "https://t.co/abc/def",
        "https://example.com.",
        "https://example.com/a.",
        "(https://example.com)",
        "https://exa_mple.com",
        "https://example.invalidtld",
        "https://" + "a" * 64 + ".com",
        "www.example.com/path?q=1",
        "example.io",
        "mailto:a@b.com",
        "@user",
        "#tag",
        "$cash",
        "a" * 40,
        "日" * 30,
    ]
)
TEXTS = st.lists(WORDS, min_size=1, max_size=60).map(" ".join) | st.lists(WORDS, min_size=1, max_size=60).map(
    "".join
)


def _db_accepts(conn: Conn, connection_id: uuid.UUID, user: uuid.UUID, text: str) -> bool:
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(
                "insert into public.scheduled_posts (user_id, content, platform_connection_id, platform, scheduled_for)"
                " values (%s, %s, %s, 'x', now() + interval '1 day')",
                (user, text, connection_id),
            )
    except errors.CheckViolation:
        return False
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
@example(text=X_304)
@example(text="x.co " * 12)  # 60 characters, 288 by X's count: short URLs count 23 each
@example(text="©" * 141)  # 141 characters, 282: (c) is an emoji
@example(text="\u0958" * 141)  # NFC decomposes each into two characters: 282
@example(text="https://t.co/abc/" + "d" * 270)
@example(text=("https://" + "a" * 64 + ".com ") * 4)  # a 64-character label: IDNA refuses it, so not a URL
@example(text="https://a.b.c.d.e.example.com/" + "x" * 250)
def test_the_database_never_accepts_what_x_counts_over_280(conn: Conn, account: Any, text: str) -> None:
    user, connections = account
    if x_weighted_length(text) > 280:
        assert not _db_accepts(conn, connections["x"], user, text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(
        st.sampled_from(
            ["hello", "日本語", "🙂", "é", "https://example.com/a/b", "https://sub.example.org/x?y=1"]
        ),
        min_size=1,
        max_size=120,
    )
)
def test_the_bound_is_exact_on_plain_text(conn: Conn, account: Any, words: list[str]) -> None:
    """Text without URL-like dots, or with URLs of the plain form, is accepted exactly up to 280."""
    user, connections = account
    text = " ".join(words)
    assert _db_accepts(conn, connections["x"], user, text) == (x_weighted_length(text) <= 280)

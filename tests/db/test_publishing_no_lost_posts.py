"""The publisher functions (sql/schema/063_api_publisher.sql) on real PostgreSQL: cases that lost a live post or metrics.

Each test failed before its fix. Calls run the PostgREST way (role and JWT claims per transaction), as in
test_publishing.py and test_publishing_workers.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from tests.db._publishing import Conn, call, make_due_posts, service_call


def _account(conn: Conn, make_user: Any) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = make_user(conn)
    row = conn.execute(
        "insert into public.platform_connections (user_id, platform, platform_user_id, access_token)"
        " values (%s, 'linkedin', 'urn:li:person:1', 'nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') returning id",
        (user_id,),
    ).fetchone()
    assert row is not None
    return user_id, row[0]


def _lapse(conn: Conn) -> None:
    conn.execute(
        "update public.scheduled_posts set lease_expires_at = now() - interval '1 second'"
        " where status = 'processing'"
    )


# --- a stalled worker whose post was given up, not taken over ---------------------------------------------


def test_a_stalled_worker_can_complete_a_post_given_up_only_because_its_lease_lapsed(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    """On its last attempt, a post whose worker stalls past the lease is marked ``failed`` by the next claim.

    Nobody else publishes it, so the stalled worker, which did publish it, must still be able to record
    that: refusing left a post live on the platform but ``failed`` in the database, with no
    ``published_posts`` row (and a user who then schedules it again publishes it twice).
    """
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    conn.execute("update public.scheduled_posts set retry_count = 2 where id = %s", (post,))
    [claimed] = service_call(database_url, "claim_due_posts", worker_id="slow", max_attempts=3)
    assert claimed["retry_count"] == 2
    _lapse(conn)  # "slow" is still publishing when its lease runs out
    assert service_call(database_url, "claim_due_posts", worker_id="other", max_attempts=3) == []
    status = conn.execute("select status from public.scheduled_posts where id = %s", (post,)).fetchone()
    assert status == ("failed",)

    # Another worker never held the claim: still refused.
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="other")
    assert info.value.diag.message_detail in {"claim_lost", "not_claimed"}

    [published] = service_call(
        database_url, "complete_scheduled_post", post_id=post, worker_id="slow", platform_post_id="urn:1"
    )
    assert (published["status"], published["platform_post_id"]) == ("published", "urn:1")
    row = conn.execute(
        "select status, published_post_id, lease_expires_at from public.scheduled_posts where id = %s",
        (post,),
    ).fetchone()
    assert row == ("completed", published["id"], None)
    # Idempotent as any completion: the same row again, nothing new.
    [again] = service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="slow")
    assert again["id"] == published["id"]
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (1,)


def test_a_post_its_own_worker_failed_for_good_stays_failed(
    conn: Conn, database_url: str, make_user: Any
) -> None:
    """The exception above is narrow: a worker that reported a failure cannot then complete the post."""
    user_id, connection_id = _account(conn, make_user)
    [post] = make_due_posts(conn, user_id, connection_id, 1)
    service_call(database_url, "claim_due_posts", worker_id="w")
    service_call(
        database_url, "fail_scheduled_post", post_id=post, worker_id="w", error_message="no", retryable=False
    )
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="w")
    assert info.value.diag.message_detail == "not_claimed"
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (0,)


# --- metrics: a null in a snapshot is "not reported", not "erase" -----------------------------------------


def _published_post(conn: Conn, make_user: Any, metrics: dict[str, Any]) -> tuple[uuid.UUID, uuid.UUID]:
    user_id = make_user(conn)
    row = conn.execute(
        "insert into public.published_posts (user_id, platform, content, status, metrics, published_at)"
        " values (%s, 'linkedin', 'p', 'published', %s, now()) returning id",
        (user_id, Jsonb(metrics)),
    ).fetchone()
    assert row is not None
    return user_id, row[0]


def test_a_null_counter_in_a_snapshot_keeps_the_stored_value(
    conn: Conn, as_role: Any, make_user: Any
) -> None:
    """A platform that omits a counter this time (``PostMetrics(views=resp.get("views"))``) sends null.

    ``existing || snapshot`` replaced the stored ``views`` with null, and the engagement rate computed over
    views went with it; decision 13 says JSON null counts as absent.
    """
    user_id, post = _published_post(conn, make_user, {"views": 200, "likes": 4, "saves": 1})
    with as_role(conn, "authenticated", user_id) as cur:
        [row] = call(
            cur,
            "record_post_metrics",
            post_id=post,
            metrics=Jsonb({"views": None, "likes": 10, "saves": None}),
        )
    metrics = row["metrics"]
    assert (metrics["views"], metrics["likes"], metrics["saves"]) == (200, 10, 1)
    assert metrics["engagement_rate"] == 0.05  # 10 / 200, not NULL


def test_an_infinite_synced_at_is_refused(conn: Conn, as_role: Any, make_user: Any) -> None:
    """``synced_at => 'infinity'`` stored ``last_synced: null``, erasing when the metrics were last synced."""
    user_id, post = _published_post(
        conn, make_user, {"likes": 1, "last_synced": "2030-01-01T00:00:00.000000Z"}
    )
    for value in ("infinity", "-infinity"):
        with pytest.raises(errors.InvalidParameterValue), as_role(conn, "authenticated", user_id) as cur:
            cur.execute(
                "select * from public.record_post_metrics(post_id => %s, metrics => %s, synced_at => %s::timestamptz)",
                (post, Jsonb({"likes": 2}), value),
            )
    stored = conn.execute("select metrics from public.published_posts where id = %s", (post,)).fetchone()
    assert stored == ({"likes": 1, "last_synced": "2030-01-01T00:00:00.000000Z"},)

"""The API functions of sql/schema/06*_api_*.sql, called the PostgREST way.

Each call runs as ``select * from public.fn(name => value, ...)`` inside ``as_role`` (role and JWT claims set
per transaction, then rolled back) or, where a commit matters, in a committed service-role transaction. The
concurrency properties (many workers, a dead worker, concurrent ideas) are in test_publishing_workers.py, the
idea hash property in test_publishing_hash.py.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tests.db._publishing import Conn, call, make_due_posts, service_call

# --- a small world: two users, each with an active linkedin connection, an inactive x one, an idea -------


@dataclass(frozen=True)
class Account:
    user_id: uuid.UUID
    linkedin: uuid.UUID
    x_inactive: uuid.UUID
    idea: uuid.UUID


def _account(conn: Conn, make_user: Any) -> Account:
    user_id = make_user(conn)
    linkedin, x_inactive = (
        r[0]
        for r in conn.execute(
            "insert into public.platform_connections (user_id, platform, platform_user_id, access_token, is_active)"
            " values (%s, 'linkedin', 'urn:li:person:1', 'nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', true), (%s, 'x', '42', 'nx1:test-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', false)"
            " returning id",
            (user_id, user_id),
        ).fetchall()
    )
    row = conn.execute(
        "insert into public.content_adaptations (user_id, original_idea, adaptations) values (%s, 'an idea', %s)"
        " returning id",
        (
            user_id,
            Jsonb({"linkedin": {"text": "from the adaptation"}, "substack": {"title": "t", "body": "b"}}),
        ),
    ).fetchone()
    assert row is not None
    return Account(user_id, linkedin, x_inactive, row[0])


@dataclass(frozen=True)
class World:
    owner: Account
    other: Account


@pytest.fixture
def world(conn: Conn, make_user: Any) -> World:
    return World(_account(conn, make_user), _account(conn, make_user))


def in_an_hour() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)


# --- privileges: who may execute what --------------------------------------------------------------------

USER_FUNCTIONS = {
    "idea_hash(text)",
    "schedule_post(uuid,timestamp with time zone,text,uuid,text,text,uuid,uuid)",
    "reschedule_post(uuid,timestamp with time zone,text)",
    "cancel_scheduled_post(uuid)",
    "engagement_rate(jsonb)",
    "record_post_metrics(uuid,jsonb,timestamp with time zone)",
    "top_published_posts(integer,text,timestamp with time zone,uuid)",
    "create_idea(text,jsonb,text,text,uuid,uuid)",
    "mark_adaptation_used(uuid)",
}
SERVICE_FUNCTIONS = {
    "claim_due_posts(text,integer,integer,integer)",
    "complete_scheduled_post(uuid,text,text,timestamp with time zone,jsonb)",
    "fail_scheduled_post(uuid,text,text,boolean,integer,integer,integer)",
    "release_scheduled_post(uuid,text)",
}
TRIGGER_FUNCTIONS = {"content_adaptations_fill_idea_hash()"}


@pytest.mark.parametrize(
    ("signature", "expected"),
    [(s, {"authenticated", "service_role"}) for s in sorted(USER_FUNCTIONS)]
    + [(s, {"service_role"}) for s in sorted(SERVICE_FUNCTIONS)]
    + [(s, set()) for s in sorted(TRIGGER_FUNCTIONS)],
)
def test_execute_privileges(conn: Conn, signature: str, expected: set[str]) -> None:
    row = conn.execute(
        "select array_agg(r) filter (where has_function_privilege(r, %s::regprocedure, 'EXECUTE')),"
        " (select p.prosecdef from pg_proc p where p.oid = %s::regprocedure),"
        " (select p.proconfig from pg_proc p where p.oid = %s::regprocedure)"
        " from unnest(array['anon', 'authenticated', 'service_role']) r",
        (f"public.{signature}",) * 3,
    ).fetchone()
    assert row is not None
    granted, security_definer, config = row
    assert set(granted or []) == expected
    assert security_definer is False
    assert config == ['search_path=""']


def test_every_api_function_is_covered() -> None:
    """A function added to an API file without a decision on its audience fails here."""
    schema_dir = Path(__file__).parents[2] / "sql" / "schema"
    source = "".join(p.read_text() for p in sorted(schema_dir.glob("06*_api_*.sql")))
    defined = set(re.findall(r"CREATE OR REPLACE FUNCTION public\.(\w+)\(", source))
    assert defined == {s.split("(")[0] for s in USER_FUNCTIONS | SERVICE_FUNCTIONS} | {
        "set_default_voice_profile"
    }


ANON_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("schedule_post", {"platform_connection_id": uuid.uuid4(), "scheduled_for": dt.datetime.now(dt.UTC)}),
    ("create_idea", {"original_idea": "x"}),
    ("top_published_posts", {}),
    ("claim_due_posts", {"worker_id": "w"}),
    ("complete_scheduled_post", {"post_id": uuid.uuid4(), "worker_id": "w"}),
    ("fail_scheduled_post", {"post_id": uuid.uuid4(), "worker_id": "w", "error_message": "e"}),
    ("release_scheduled_post", {"post_id": uuid.uuid4(), "worker_id": "w"}),
]


@pytest.mark.parametrize(("fn", "args"), ANON_CALLS, ids=[c[0] for c in ANON_CALLS])
def test_anon_may_call_nothing(conn: Conn, as_role: Any, fn: str, args: dict[str, Any]) -> None:
    with pytest.raises(errors.InsufficientPrivilege), as_role(conn, "anon") as cur:
        call(cur, fn, **args)


SERVICE_ONLY_CALLS = [c for c in ANON_CALLS if c[0] in {s.split("(")[0] for s in SERVICE_FUNCTIONS}]


@pytest.mark.parametrize(("fn", "args"), SERVICE_ONLY_CALLS, ids=[c[0] for c in SERVICE_ONLY_CALLS])
def test_a_user_may_not_call_the_publisher_functions(
    conn: Conn, as_role: Any, world: World, fn: str, args: dict[str, Any]
) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, fn, **args)


# --- scheduling --------------------------------------------------------------------------------------------


def test_a_user_schedules_for_themselves_with_a_content_snapshot(
    conn: Conn, as_role: Any, world: World
) -> None:
    at = in_an_hour()
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(
            cur,
            "schedule_post",
            platform_connection_id=world.owner.linkedin,
            scheduled_for=at,
            adaptation_id=world.owner.idea,
        )
        assert row["user_id"] == world.owner.user_id
        assert row["platform"] == "linkedin"
        assert row["status"] == "scheduled"
        assert row["content"] == "from the adaptation"
        assert row["scheduled_for"] == at
        assert row["timezone"] == "UTC"
        # A snapshot: editing the adaptation afterwards does not change what will be posted.
        cur.execute(
            'update public.content_adaptations set adaptations = \'{"linkedin": {"text": "edited"}}\''
            " where id = %s",
            (world.owner.idea,),
        )
        cur.execute("select content from public.scheduled_posts where id = %s", (row["id"],))
        assert cur.fetchone() == {"content": "from the adaptation"}


def test_explicit_content_wins_and_the_users_time_zone_is_the_default(
    conn: Conn, as_role: Any, world: World
) -> None:
    conn.execute("update public.users set timezone = 'Europe/Paris' where id = %s", (world.owner.user_id,))
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(
            cur,
            "schedule_post",
            platform_connection_id=world.owner.linkedin,
            scheduled_for=in_an_hour(),
            content="hand written",
            adaptation_id=world.owner.idea,
            platform="linkedin",
        )
        assert (row["content"], row["adaptation_id"], row["timezone"]) == (
            "hand written",
            world.owner.idea,
            "Europe/Paris",
        )


def test_scheduling_with_an_id_is_safe_to_retry(conn: Conn, as_role: Any, world: World) -> None:
    post_id = uuid.uuid4()
    args = {
        "platform_connection_id": world.owner.linkedin,
        "scheduled_for": in_an_hour(),
        "content": "c",
        "id": post_id,
    }
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        first = call(cur, "schedule_post", **args)
        second = call(cur, "schedule_post", **{**args, "content": "changed on retry"})
        assert first == second
        assert first[0]["id"] == post_id
        cur.execute("select count(*) as n from public.scheduled_posts where id = %s", (post_id,))
        assert cur.fetchone() == {"n": 1}
    # Someone else's id is not silently returned.
    theirs = _scheduled(conn, world.other)
    with pytest.raises(errors.UniqueViolation), as_role(conn, "authenticated", world.owner.user_id) as cur:
        call(cur, "schedule_post", **{**args, "id": theirs})


def test_the_service_role_schedules_for_a_named_user(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "service_role") as cur:
        [row] = call(
            cur,
            "schedule_post",
            user_id=world.owner.user_id,
            platform_connection_id=world.owner.linkedin,
            scheduled_for=in_an_hour(),
            content="c",
        )
        assert row["user_id"] == world.owner.user_id
    with pytest.raises(errors.InvalidParameterValue) as info, as_role(conn, "service_role") as cur:
        call(
            cur,
            "schedule_post",
            platform_connection_id=world.owner.linkedin,
            scheduled_for=in_an_hour(),
            content="c",
        )
    assert info.value.diag.message_detail == "user_id_required"
    # Acting for a user does not unlock another user's connection.
    with pytest.raises(errors.RaiseException) as refused, as_role(conn, "service_role") as cur:
        call(
            cur,
            "schedule_post",
            user_id=world.owner.user_id,
            platform_connection_id=world.other.linkedin,
            scheduled_for=in_an_hour(),
            content="c",
        )
    assert refused.value.diag.message_detail == "connection_not_found"


SCHEDULE_REFUSALS = [
    # (arguments over the owner's defaults, error class, DETAIL)
    ({"platform_connection_id": "other.linkedin"}, errors.RaiseException, "connection_not_found"),
    ({"platform_connection_id": "random"}, errors.RaiseException, "connection_not_found"),
    ({"user_id": "other"}, errors.InsufficientPrivilege, "not_own_user"),
    ({"platform_connection_id": "owner.x_inactive"}, errors.RaiseException, "connection_inactive"),
    ({"platform": "substack"}, errors.RaiseException, "platform_mismatch"),
    ({"adaptation_id": "other.idea", "content": None}, errors.RaiseException, "adaptation_not_found"),
    ({"scheduled_for": "past"}, errors.InvalidParameterValue, "time_in_past"),
    ({"scheduled_for": "infinity"}, errors.InvalidParameterValue, "invalid_time"),
    ({"content": "   "}, errors.InvalidParameterValue, "content_required"),
    ({"content": None}, errors.InvalidParameterValue, "content_required"),
    ({"timezone": "Mars/Olympus"}, errors.InvalidParameterValue, None),
]


@pytest.mark.parametrize(("override", "error", "detail"), SCHEDULE_REFUSALS)
def test_schedule_refusals(
    conn: Conn,
    as_role: Any,
    world: World,
    override: dict[str, Any],
    error: type[Exception],
    detail: str | None,
) -> None:
    symbolic = {
        "other.linkedin": world.other.linkedin,
        "random": uuid.uuid4(),
        "other": world.other.user_id,
        "owner.x_inactive": world.owner.x_inactive,
        "other.idea": world.other.idea,
        "past": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
        "infinity": dt.datetime.max.replace(tzinfo=dt.UTC),
    }
    args: dict[str, Any] = {
        "platform_connection_id": world.owner.linkedin,
        "scheduled_for": in_an_hour(),
        "content": "c",
    }
    args.update({k: symbolic.get(v, v) if isinstance(v, str) else v for k, v in override.items()})
    if override.get("scheduled_for") == "infinity":
        args["scheduled_for"] = "infinity"
    with pytest.raises(error) as info, as_role(conn, "authenticated", world.owner.user_id) as cur:
        call(cur, "schedule_post", **args)
    if detail is not None:
        assert isinstance(info.value, psycopg.Error)
        assert info.value.diag.message_detail == detail
    assert conn.execute("select count(*) from public.scheduled_posts").fetchone() == (0,)


def test_a_few_minutes_of_clock_skew_are_tolerated(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        rows = call(
            cur,
            "schedule_post",
            platform_connection_id=world.owner.linkedin,
            scheduled_for=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2),
            content="now-ish",
        )
        assert len(rows) == 1


def _scheduled(conn: Conn, account: Account, **extra: Any) -> uuid.UUID:
    cols = {
        "user_id": account.user_id,
        "content": "c",
        "platform_connection_id": account.linkedin,
        "platform": "linkedin",
        "scheduled_for": in_an_hour(),
        **extra,
    }
    query = sql.SQL("insert into public.scheduled_posts ({}) values ({}) returning id").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.SQL(", ").join(sql.Placeholder() * len(cols))
    )
    row = conn.execute(query, tuple(cols.values())).fetchone()
    assert row is not None
    post_id: uuid.UUID = row[0]
    return post_id


def test_reschedule_and_cancel_only_while_unprocessed(conn: Conn, as_role: Any, world: World) -> None:
    post = _scheduled(conn, world.owner)
    later = in_an_hour() + dt.timedelta(days=1)
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(cur, "reschedule_post", post_id=post, scheduled_for=later, timezone="Asia/Tokyo")
        assert (row["scheduled_for"], row["timezone"]) == (later, "Asia/Tokyo")
        [row] = call(cur, "cancel_scheduled_post", post_id=post)
        assert row["status"] == "cancelled"
        # Cancelling again is a harmless retry.
        [again] = call(cur, "cancel_scheduled_post", post_id=post)
        assert again["status"] == "cancelled"
    conn.execute("update public.scheduled_posts set status = 'processing' where id = %s", (post,))
    for fn, args in (("reschedule_post", {"scheduled_for": later}), ("cancel_scheduled_post", {})):
        for role, sub in (("authenticated", world.owner.user_id), ("service_role", None)):
            with pytest.raises(errors.RaiseException) as info, as_role(conn, role, sub) as cur:
                call(cur, fn, post_id=post, **args)
            assert info.value.diag.message_detail in {"not_reschedulable", "not_cancellable"}
    assert conn.execute("select status from public.scheduled_posts where id = %s", (post,)).fetchone() == (
        "processing",
    )


def test_another_users_post_is_not_found(conn: Conn, as_role: Any, world: World) -> None:
    post = _scheduled(conn, world.other)
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        assert call(cur, "reschedule_post", post_id=post, scheduled_for=in_an_hour()) == []
        assert call(cur, "cancel_scheduled_post", post_id=post) == []
    assert conn.execute("select status from public.scheduled_posts where id = %s", (post,)).fetchone() == (
        "scheduled",
    )


def test_reschedule_checks_the_time(conn: Conn, as_role: Any, world: World) -> None:
    post = _scheduled(conn, world.owner)
    with (
        pytest.raises(errors.InvalidParameterValue),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, "reschedule_post", post_id=post, scheduled_for=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))


# --- claiming, completing, failing ------------------------------------------------------------------------


def test_claim_takes_only_due_posts_in_time_order(conn: Conn, as_role: Any, world: World) -> None:
    now = dt.datetime.now(dt.UTC)
    late = _scheduled(conn, world.owner, scheduled_for=now - dt.timedelta(minutes=1))
    early = _scheduled(conn, world.other, scheduled_for=now - dt.timedelta(minutes=5))
    _scheduled(conn, world.owner, scheduled_for=now + dt.timedelta(hours=1))  # not due
    _scheduled(conn, world.owner, scheduled_for=now - dt.timedelta(hours=1), status="cancelled")
    with as_role(conn, "service_role") as cur:
        rows = call(cur, "claim_due_posts", worker_id="w1", max_posts=10, lease_seconds=30)
        assert [r["id"] for r in rows] == [early, late]
        for r in rows:
            assert (r["status"], r["claimed_by"]) == ("processing", "w1")
            assert r["lease_expires_at"] - r["claimed_at"] == dt.timedelta(seconds=30)
        # Nothing else is due.
        assert call(cur, "claim_due_posts", worker_id="w2") == []


def test_claim_respects_max_posts(conn: Conn, as_role: Any, world: World) -> None:
    make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 5)
    with as_role(conn, "service_role") as cur:
        assert len(call(cur, "claim_due_posts", worker_id="w", max_posts=3)) == 3
        assert len(call(cur, "claim_due_posts", worker_id="w", max_posts=3)) == 2


@pytest.mark.parametrize(
    "args",
    [
        {"worker_id": ""},
        {"worker_id": "w", "max_posts": 0},
        {"worker_id": "w", "max_posts": 1001},
        {"worker_id": "w", "lease_seconds": 0},
        {"worker_id": "w", "max_attempts": 0},
    ],
)
def test_claim_rejects_bad_arguments(conn: Conn, as_role: Any, args: dict[str, Any]) -> None:
    with pytest.raises(errors.InvalidParameterValue), as_role(conn, "service_role") as cur:
        call(cur, "claim_due_posts", **args)


def test_complete_publishes_once_and_is_idempotent(conn: Conn, database_url: str, world: World) -> None:
    [post] = make_due_posts(
        conn, world.owner.user_id, world.owner.linkedin, 1, adaptation_id=world.owner.idea
    )
    [claimed] = service_call(database_url, "claim_due_posts", worker_id="w1")
    assert claimed["id"] == post
    published_at = dt.datetime(2030, 5, 1, 12, tzinfo=dt.UTC)
    [first] = service_call(
        database_url,
        "complete_scheduled_post",
        post_id=post,
        worker_id="w1",
        platform_post_id="urn:li:share:9",
        published_at=published_at,
        metadata=Jsonb({"url": "https://example.test/9"}),
    )
    assert first["status"] == "published"
    assert first["platform_post_id"] == "urn:li:share:9"
    assert first["published_at"] == published_at
    assert (first["user_id"], first["platform_connection_id"], first["adaptation_id"], first["platform"]) == (
        world.owner.user_id,
        world.owner.linkedin,
        world.owner.idea,
        "linkedin",
    )
    assert first["content"] == claimed["content"]
    assert first["scheduled_for"] == claimed["scheduled_for"]
    assert first["metadata"] == {"url": "https://example.test/9"}
    sched = conn.execute(
        "select status, published_post_id, lease_expires_at from public.scheduled_posts where id = %s",
        (post,),
    ).fetchone()
    assert sched == ("completed", first["id"], None)

    # A retry (lost response), even with other values: same row, nothing new.
    [second] = service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="w1")
    [third] = service_call(
        database_url, "complete_scheduled_post", post_id=post, worker_id="w1", platform_post_id="other"
    )
    assert first == second == third
    # Another worker is told it lost the claim (a post it made would be a duplicate).
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="w2")
    assert info.value.diag.message_detail == "claim_lost"
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (1,)
    # A completed post is never claimed again.
    assert service_call(database_url, "claim_due_posts", worker_id="w3") == []


def test_complete_needs_the_claim(conn: Conn, as_role: Any, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    with pytest.raises(errors.RaiseException) as info, as_role(conn, "service_role") as cur:
        call(cur, "complete_scheduled_post", post_id=post, worker_id="w1")
    assert info.value.diag.message_detail == "not_claimed"
    with as_role(conn, "service_role") as cur:
        call(cur, "claim_due_posts", worker_id="w1")
        with pytest.raises(errors.RaiseException) as info:
            call(cur, "complete_scheduled_post", post_id=post, worker_id="w2")
    assert info.value.diag.message_detail == "claim_lost"
    with as_role(conn, "service_role") as cur:
        assert call(cur, "complete_scheduled_post", post_id=uuid.uuid4(), worker_id="w1") == []
    assert conn.execute("select count(*) from public.published_posts").fetchone() == (0,)


def test_a_user_cannot_complete_or_claim_even_their_own_post(conn: Conn, as_role: Any, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    conn.execute(
        "update public.scheduled_posts set status = 'processing', claimed_by = 'w' where id = %s", (post,)
    )
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, "complete_scheduled_post", post_id=post, worker_id="w")
    # Nor by writing the publisher's columns directly: a post being processed is out of the user's reach...
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        cur.execute(
            "update public.scheduled_posts set claimed_by = 'me', status = 'scheduled' where id = %s", (post,)
        )
        assert cur.rowcount == 0
    # ...and on a post still scheduled, the claim columns are the publisher's.
    conn.execute("update public.scheduled_posts set status = 'scheduled' where id = %s", (post,))
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        cur.execute("update public.scheduled_posts set claimed_by = 'me' where id = %s", (post,))


def _claim_one(url: str, post: uuid.UUID, worker: str = "w1") -> None:
    rows = service_call(url, "claim_due_posts", worker_id=worker)
    assert [r["id"] for r in rows] == [post]


def test_fail_backs_off_exponentially_then_gives_up(conn: Conn, database_url: str, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    delays = []
    for attempt in range(1, 4):
        _claim_one(database_url, post)
        [row] = service_call(
            database_url,
            "fail_scheduled_post",
            post_id=post,
            worker_id="w1",
            error_message=f"HTTP 503 #{attempt}",
            max_attempts=4,
            base_delay_seconds=10,
            max_delay_seconds=25,
        )
        assert (row["status"], row["retry_count"], row["last_error"]) == (
            "scheduled",
            attempt,
            f"HTTP 503 #{attempt}",
        )
        assert row["lease_expires_at"] is None
        delay = conn.execute(
            "select extract(epoch from scheduled_for - updated_at) from public.scheduled_posts where id = %s",
            (post,),
        ).fetchone()
        assert delay is not None
        delays.append(round(float(delay[0])))
        # Not due until the backoff has passed; move the clock by moving the post.
        assert service_call(database_url, "claim_due_posts", worker_id="w1") == []
        conn.execute(
            "update public.scheduled_posts set scheduled_for = now() - interval '1 second' where id = %s",
            (post,),
        )
    assert delays == [10, 20, 25]  # 10 * 2^(n-1), capped at 25
    _claim_one(database_url, post)
    [row] = service_call(
        database_url,
        "fail_scheduled_post",
        post_id=post,
        worker_id="w1",
        error_message="HTTP 503 #4",
        max_attempts=4,
    )
    assert (row["status"], row["retry_count"]) == ("failed", 4)
    assert service_call(database_url, "claim_due_posts", worker_id="w1") == []


def test_a_permanent_error_fails_at_once(conn: Conn, database_url: str, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    _claim_one(database_url, post)
    [row] = service_call(
        database_url,
        "fail_scheduled_post",
        post_id=post,
        worker_id="w1",
        error_message="x" * 5000,
        retryable=False,
    )
    assert (row["status"], row["retry_count"], len(row["last_error"])) == ("failed", 1, 2000)


def test_fail_needs_the_claim_and_valid_arguments(conn: Conn, as_role: Any, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    with pytest.raises(errors.RaiseException) as info, as_role(conn, "service_role") as cur:
        call(cur, "fail_scheduled_post", post_id=post, worker_id="w1", error_message="e")
    assert info.value.diag.message_detail == "not_claimed"
    with as_role(conn, "service_role") as cur:
        call(cur, "claim_due_posts", worker_id="w1")
        with pytest.raises(errors.RaiseException) as info:
            call(cur, "fail_scheduled_post", post_id=post, worker_id="w2", error_message="e")
    assert info.value.diag.message_detail == "claim_lost"
    for bad in (
        {"error_message": ""},
        {"error_message": "e", "base_delay_seconds": 10, "max_delay_seconds": 5},
    ):
        with pytest.raises(errors.InvalidParameterValue), as_role(conn, "service_role") as cur:
            call(cur, "fail_scheduled_post", post_id=post, worker_id="w1", **bad)


# --- releasing: handing back a claimed post that was never started ----------------------------------------


def _row(conn: Conn, post: uuid.UUID) -> dict[str, Any]:
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("select * from public.scheduled_posts where id = %s", (post,)).fetchone()
    assert row is not None
    return row


def test_release_keeps_retry_count_scheduled_for_and_last_error(
    conn: Conn, database_url: str, world: World
) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    conn.execute(
        "update public.scheduled_posts set retry_count = 2, last_error = 'HTTP 503 #2' where id = %s", (post,)
    )
    before = _row(conn, post)
    [claimed] = service_call(database_url, "claim_due_posts", worker_id="w1", lease_seconds=60)
    assert (claimed["status"], claimed["retry_count"]) == ("processing", 2)

    [row] = service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    assert row == _row(conn, post), "the function returns the row as stored"
    assert row["status"] == "scheduled"
    assert row["lease_expires_at"] is None
    # Not an attempt: no retry_count + 1, no backoff, and the last real error is kept for the user.
    assert (row["retry_count"], row["scheduled_for"], row["last_error"]) == (
        2,
        before["scheduled_for"],
        "HTTP 503 #2",
    )
    # The latest claim stays on record (as after complete or fail): it is what makes a repeat recognisable.
    assert (row["claimed_by"], row["claimed_at"]) == ("w1", claimed["claimed_at"])


def test_a_released_post_is_claimable_again_at_once(conn: Conn, database_url: str, world: World) -> None:
    posts = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 3)
    claimed = service_call(database_url, "claim_due_posts", worker_id="w1", lease_seconds=3600)
    assert [r["id"] for r in claimed] == posts
    for post in posts[1:]:
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    # No lease to wait out and no backoff: the next claim takes them, as fresh as before.
    again = service_call(database_url, "claim_due_posts", worker_id="w2")
    assert [r["id"] for r in again] == posts[1:]
    for r in again:
        assert (r["status"], r["claimed_by"], r["retry_count"], r["last_error"]) == (
            "processing",
            "w2",
            0,
            None,
        )
    assert _row(conn, posts[0])["claimed_by"] == "w1"


def test_only_the_claiming_worker_can_release(conn: Conn, database_url: str, world: World) -> None:
    [post, unclaimed] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 2)
    service_call(database_url, "claim_due_posts", worker_id="w1", max_posts=1)
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w2")
    assert info.value.diag.message_detail == "claim_lost"
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "release_scheduled_post", post_id=unclaimed, worker_id="w1")
    assert info.value.diag.message_detail == "not_claimed"
    with pytest.raises(errors.InvalidParameterValue):
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id=" ")
    assert service_call(database_url, "release_scheduled_post", post_id=uuid.uuid4(), worker_id="w1") == []
    row = _row(conn, post)
    assert (row["status"], row["claimed_by"]) == ("processing", "w1"), "refusals change nothing"
    assert _row(conn, unclaimed)["status"] == "scheduled"

    # A finished post cannot be handed back, not even by the worker that finished it.
    service_call(database_url, "complete_scheduled_post", post_id=post, worker_id="w1")
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    assert info.value.diag.message_detail == "not_claimed"
    assert _row(conn, post)["status"] == "completed"


def test_a_repeated_release_is_harmless_but_never_undoes_another_claim(
    conn: Conn, database_url: str, world: World
) -> None:
    """A retry after a lost response finds the post released by this worker: it gets the row, unchanged."""
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    _claim_one(database_url, post, "w1")
    [first] = service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    [second] = service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    assert first == second == _row(conn, post)

    # Once another worker holds it, the late repeat is refused and leaves that claim alone.
    _claim_one(database_url, post, "w2")
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    assert info.value.diag.message_detail == "claim_lost"
    assert (_row(conn, post)["status"], _row(conn, post)["claimed_by"]) == ("processing", "w2")
    # Released by that other worker: the post is scheduled, but the latest claim was not w1's.
    service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w2")
    with pytest.raises(errors.RaiseException) as info:
        service_call(database_url, "release_scheduled_post", post_id=post, worker_id="w1")
    assert info.value.diag.message_detail == "not_claimed"


def test_a_user_cannot_release_even_their_own_claimed_post(conn: Conn, as_role: Any, world: World) -> None:
    [post] = make_due_posts(conn, world.owner.user_id, world.owner.linkedin, 1)
    conn.execute(
        "update public.scheduled_posts set status = 'processing', claimed_by = 'w',"
        " lease_expires_at = now() + interval '1 hour' where id = %s",
        (post,),
    )
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, "release_scheduled_post", post_id=post, worker_id="w")
    assert (_row(conn, post)["status"], _row(conn, post)["claimed_by"]) == ("processing", "w")


# --- metrics ------------------------------------------------------------------------------------------------


def _published(
    conn: Conn, account: Account, metrics: dict[str, Any] | None = None, status: str = "published"
) -> uuid.UUID:
    row = conn.execute(
        "insert into public.published_posts (user_id, platform, content, status, metrics, published_at)"
        " values (%s, 'linkedin', 'p', %s, %s, now()) returning id",
        (account.user_id, status, Jsonb(metrics) if metrics is not None else None),
    ).fetchone()
    assert row is not None
    post_id: uuid.UUID = row[0]
    return post_id


def test_metrics_merge_and_engagement_rate(conn: Conn, as_role: Any, world: World) -> None:
    post = _published(conn, world.owner, {"likes": 1, "saves": 3})
    synced = dt.datetime(2030, 1, 2, 3, 4, 5, 678900, tzinfo=dt.UTC)
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(
            cur,
            "record_post_metrics",
            post_id=post,
            synced_at=synced,
            metrics=Jsonb(
                {
                    "likes": 45,
                    "comments": 12,
                    "shares": 8,
                    "impressions": 3000,
                    "views": 1500,
                    "engagement_rate": 0.9,
                }
            ),
        )
    assert row["metrics"] == {
        "likes": 45,
        "comments": 12,
        "shares": 8,
        "impressions": 3000,
        "views": 1500,
        "saves": 3,  # kept from before
        "engagement_rate": 0.021667,  # 65 / 3000, the sent 0.9 is overridden
        "last_synced": "2030-01-02T03:04:05.678900Z",
    }


@pytest.mark.parametrize(
    ("metrics", "rate"),
    [
        ({"likes": 10, "impressions": 0, "views": 100}, Decimal("0.1")),  # impressions 0: views
        ({"likes": 10, "views": 40}, Decimal("0.25")),  # impressions missing: views
        ({"likes": 500, "shares": 600, "impressions": 1000}, Decimal("1")),  # capped
        ({"likes": 3}, None),  # no denominator
        ({"likes": 1, "comments": None, "impressions": 3}, Decimal("0.333333")),  # JSON null counts as 0
        ({}, None),
    ],
)
def test_engagement_rate_formula(conn: Conn, metrics: dict[str, Any], rate: Decimal | None) -> None:
    assert conn.execute("select public.engagement_rate(%s)", (Jsonb(metrics),)).fetchone() == (rate,)


def test_metrics_rules(conn: Conn, as_role: Any, world: World) -> None:
    others = _published(conn, world.other)
    pending = _published(conn, world.owner, status="pending")
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        assert call(cur, "record_post_metrics", post_id=others, metrics=Jsonb({"likes": 1})) == []
    with pytest.raises(errors.RaiseException), as_role(conn, "authenticated", world.owner.user_id) as cur:
        call(cur, "record_post_metrics", post_id=pending, metrics=Jsonb({"likes": 1}))
    with pytest.raises(errors.InvalidParameterValue), as_role(conn, "service_role") as cur:
        call(cur, "record_post_metrics", post_id=others, metrics=Jsonb([1, 2]))
    # A negative counter is refused by the table's CHECK, whoever calls.
    with pytest.raises(errors.CheckViolation), as_role(conn, "service_role") as cur:
        call(cur, "record_post_metrics", post_id=others, metrics=Jsonb({"likes": -1}))
    assert conn.execute("select metrics from public.published_posts where id = %s", (others,)).fetchone() == (
        None,
    )


def test_top_posts_by_engagement_under_rls(conn: Conn, as_role: Any, world: World) -> None:
    low = _published(conn, world.owner, {"engagement_rate": 0.01})
    high = _published(conn, world.owner, {"engagement_rate": 0.5})
    none = _published(conn, world.owner)
    _published(conn, world.owner, {"engagement_rate": 0.9}, status="deleted")
    theirs = _published(conn, world.other, {"engagement_rate": 0.99})
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        assert [r["id"] for r in call(cur, "top_published_posts")] == [high, low, none]
        assert [r["id"] for r in call(cur, "top_published_posts", max_posts=1)] == [high]
        assert call(cur, "top_published_posts", platform="x") == []
        # Naming another user does not lift RLS.
        assert call(cur, "top_published_posts", user_id=world.other.user_id) == []
    with as_role(conn, "service_role") as cur:
        assert [r["id"] for r in call(cur, "top_published_posts", max_posts=2)] == [theirs, high]
        assert [r["id"] for r in call(cur, "top_published_posts", user_id=world.other.user_id)] == [theirs]


# --- ideas --------------------------------------------------------------------------------------------------


def test_create_idea_deduplicates_per_user(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [first] = call(
            cur,
            "create_idea",
            original_idea="Ship it",
            adaptations=Jsonb({"x": {"text": "t"}}),
            tone="casual",
        )
        [again] = call(cur, "create_idea", original_idea="Ship it", tone="formal")
        assert again == first
        assert first["idea_hash"] == _sha("Ship it")
        assert first["tone"] == "casual"
        [other_text] = call(cur, "create_idea", original_idea="Ship it ")  # no trimming: another idea
        assert other_text["id"] != first["id"]
    with as_role(conn, "service_role") as cur:
        # The same idea for another user is that user's own row.
        [theirs] = call(cur, "create_idea", original_idea="Ship it", user_id=world.other.user_id)
        assert theirs["user_id"] == world.other.user_id
        with pytest.raises(errors.InvalidParameterValue):
            call(cur, "create_idea", original_idea="no user")


def test_create_idea_refusals(conn: Conn, as_role: Any, world: World) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, "create_idea", original_idea="mine", user_id=world.other.user_id)
    with (
        pytest.raises(errors.InvalidParameterValue),
        as_role(conn, "authenticated", world.owner.user_id) as cur,
    ):
        call(cur, "create_idea", original_idea=" ")
    with pytest.raises(errors.CheckViolation), as_role(conn, "authenticated", world.owner.user_id) as cur:
        call(cur, "create_idea", original_idea="i", adaptations=Jsonb("not an object"))


def _sha(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_the_trigger_fills_and_follows_idea_hash(conn: Conn, world: World) -> None:
    row = conn.execute(
        "select idea_hash from public.content_adaptations where id = %s", (world.owner.idea,)
    ).fetchone()
    assert row == (_sha("an idea"),)
    conn.execute(
        "update public.content_adaptations set original_idea = 'changed' where id = %s", (world.owner.idea,)
    )
    row = conn.execute(
        "select idea_hash from public.content_adaptations where id = %s", (world.owner.idea,)
    ).fetchone()
    assert row == (_sha("changed"),)
    # A hash the writer sets is kept.
    conn.execute(
        "update public.content_adaptations set original_idea = 'again', idea_hash = %s where id = %s",
        ("0" * 64, world.owner.idea),
    )
    row = conn.execute(
        "select idea_hash from public.content_adaptations where id = %s", (world.owner.idea,)
    ).fetchone()
    assert row == ("0" * 64,)
    # A plain insert of a duplicate idea conflicts on (user_id, idea_hash); a PostgREST-style upsert is a no-op.
    with pytest.raises(errors.UniqueViolation):
        conn.execute(
            "insert into public.content_adaptations (user_id, original_idea, adaptations) values (%s, 'an idea', '{}')",
            (world.other.user_id,),
        )
    cur = conn.execute(
        "insert into public.content_adaptations (user_id, original_idea, adaptations) values (%s, 'an idea', '{}')"
        " on conflict (user_id, idea_hash) do nothing",
        (world.other.user_id,),
    )
    assert cur.rowcount == 0


def test_mark_adaptation_used(conn: Conn, as_role: Any, world: World) -> None:
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(cur, "mark_adaptation_used", adaptation_id=world.owner.idea)
        cur.execute("select now() as now")
        now = cur.fetchone()
        assert now is not None
        assert row["last_used_at"] == now["now"]
        assert call(cur, "mark_adaptation_used", adaptation_id=world.other.idea) == []
    row2 = conn.execute(
        "select last_used_at from public.content_adaptations where id = %s", (world.other.idea,)
    ).fetchone()
    assert row2 == (None,)


# --- voice profiles: H1's set_default_voice_profile is the one call --------------------------------------


def test_switching_the_default_voice_profile_is_one_call(conn: Conn, as_role: Any, world: World) -> None:
    first, second = (
        r[0]
        for r in conn.execute(
            "insert into public.voice_profiles (user_id, name, characteristics) values (%s, 'A', '{}'), (%s, 'B', '{}')"
            " returning id",
            (world.owner.user_id, world.owner.user_id),
        ).fetchall()
    )
    with as_role(conn, "authenticated", world.owner.user_id) as cur:
        [row] = call(cur, "set_default_voice_profile", profile_id=second)
        assert row["is_default"] is True
        cur.execute("select id from public.voice_profiles where is_default")
        assert cur.fetchall() == [{"id": second}]
    assert conn.execute(
        "select is_default from public.voice_profiles where id = %s", (first,)
    ).fetchone() == (True,)


# --- retired functions ---------------------------------------------------------------------------------------


def test_the_token_refresh_functions_of_0_1_are_gone(conn: Conn) -> None:
    """No SDK code called them; ``expiring()`` and ``update_tokens()`` do their work (docs/schema.md)."""
    names = {
        r[0]
        for r in conn.execute(
            "select p.proname::text from pg_proc p where p.pronamespace = 'public'::regnamespace"
            " and p.proname in ('expiring_platform_connections', 'record_token_refresh')"
        )
    }
    assert names == set()


def test_rows_come_back_as_json_shaped_dicts(conn: Conn) -> None:
    """``call`` returns dict rows, the shape PostgREST serialises (guards the helper the other tests use)."""
    with conn.cursor(row_factory=dict_row) as cur:
        assert call(cur, "idea_hash", original_idea="") == [
            {"idea_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
        ]

"""The table models: rows as read, Create and Update shapes, their JSON bodies, secrets and column rules."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest

import nexus_sdk.models as models
from nexus_sdk.models import (
    ContentAdaptation,
    ContentAdaptationCreate,
    ContentAdaptationUpdate,
    Platform,
    PlatformConnection,
    PlatformConnectionCreate,
    PlatformConnectionUpdate,
    PostMetrics,
    PublishedPost,
    PublishedPostCreate,
    PublishedPostStatus,
    PublishedPostUpdate,
    Row,
    ScheduledPost,
    ScheduledPostCreate,
    ScheduledPostStatus,
    ScheduledPostUpdate,
    User,
    UserCreate,
    UserUpdate,
    VoiceProfile,
    VoiceProfileCreate,
    VoiceProfileUpdate,
)

NOW = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)
TOKEN = "ya29.access-TOKEN-do-not-print"
REFRESH = "1//refresh-TOKEN-do-not-print"

ROWS: dict[str, type[Row]] = {
    "users": User,
    "platform_connections": PlatformConnection,
    "content_adaptations": ContentAdaptation,
    "voice_profiles": VoiceProfile,
    "published_posts": PublishedPost,
    "scheduled_posts": ScheduledPost,
}

UPDATES = [
    UserUpdate,
    PlatformConnectionUpdate,
    ContentAdaptationUpdate,
    VoiceProfileUpdate,
    PublishedPostUpdate,
    ScheduledPostUpdate,
]


def error_locs(exc: pydantic.ValidationError) -> list[tuple[str | int, ...]]:
    return [tuple(err["loc"]) for err in exc.errors()]


def published_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "adaptation_id": None,
        "platform_connection_id": str(uuid.uuid4()),
        "platform": "x",
        "platform_post_id": "1890",
        "status": "published",
        "content": "hello",
        "metadata": {"thread_id": 7},
        "metrics": {
            "views": 1500,
            "likes": 45,
            "engagement_rate": 0.043,
            "last_synced": "2025-02-10T12:00:00Z",
        },
        "scheduled_for": None,
        "published_at": "2025-02-10T12:00:00+00:00",
        "created_at": "2025-02-10T11:59:59.123456+00:00",
        "updated_at": "2025-02-10T12:00:00.5+00:00",
    }
    row.update(overrides)
    return row


def connection_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "platform": "linkedin",
        "platform_user_id": "urn:li:person:42",
        "access_token": TOKEN,
        "refresh_token": REFRESH,
        "token_expires_at": "2025-03-01T00:00:00+00:00",
        "scope": "w_member_social",
        "profile_data": {"username": "ada", "followers": 10},
        "is_active": True,
        "created_at": "2025-02-10T12:00:00+00:00",
        "updated_at": "2025-02-10T12:00:00+00:00",
        "last_sync_at": None,
    }
    row.update(overrides)
    return row


# --- the exported surface ---------------------------------------------------------------------------


def test_all_is_sorted_and_complete() -> None:
    contract = {
        *(f"{base}{suffix}" for base in ("User", "PlatformConnection", "ContentAdaptation", "VoiceProfile",
                                          "PublishedPost", "ScheduledPost") for suffix in ("", "Create", "Update")),
        "Adaptations", "LinkedInAdaptation", "XAdaptation", "SubstackAdaptation", "VoiceCharacteristics",
        "PostMetrics", "Platform", "PublishedPostStatus", "ScheduledPostStatus",
    }  # fmt: skip
    assert models.__all__ == sorted(models.__all__)
    assert contract <= set(models.__all__)
    for name in models.__all__:
        assert getattr(models, name) is not None


@pytest.mark.parametrize(("table", "row_cls"), ROWS.items())
def test_rows_name_their_table_and_key(table: str, row_cls: type[Row]) -> None:
    assert issubclass(row_cls, Row)
    assert row_cls.table == table
    assert row_cls.primary_key == "id"


def test_importing_models_does_not_load_twitter_text() -> None:
    # Counting X text builds large patterns; it must wait until a write needs it.
    code = "import sys, nexus_sdk.models; print('twitter_text' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- rows -------------------------------------------------------------------------------------------


def test_row_reads_postgrest_json_with_python_types() -> None:
    raw = published_row()
    post = PublishedPost.model_validate(raw)
    assert post.id == uuid.UUID(raw["id"])
    assert post.status is PublishedPostStatus.PUBLISHED
    assert post.created_at == datetime(2025, 2, 10, 11, 59, 59, 123456, tzinfo=UTC)
    assert post.published_at is not None
    assert post.published_at.utcoffset() == timedelta(0)
    assert isinstance(post.metrics, PostMetrics)
    assert post.metrics.views == 1500
    assert post.metadata == {"thread_id": 7}
    assert PublishedPost.model_validate_json(json.dumps(raw)) == post


def test_row_ignores_unknown_columns_and_is_frozen() -> None:
    post = PublishedPost.model_validate(published_row(column_from_the_future=1))
    assert not hasattr(post, "column_from_the_future")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        post.content = "changed"  # type: ignore[misc]


def test_row_nullable_columns_accept_null() -> None:
    raw = published_row(metrics=None, metadata=None, published_at=None, platform_connection_id=None)
    post = PublishedPost.model_validate(raw)
    assert (post.metrics, post.metadata, post.published_at, post.platform_connection_id) == (
        None,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("column", ["status", "created_at", "updated_at", "content", "platform"])
def test_row_not_null_columns_are_required(column: str) -> None:
    # sql/schema/010_tables.sql makes defaulted columns NOT NULL too, so rows type them without None.
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPost.model_validate(published_row(**{column: None}))
    assert error_locs(info.value) == [(column,)]


def test_row_rejects_naive_timestamps() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPost.model_validate(published_row(created_at="2025-02-10T12:00:00"))
    assert error_locs(info.value) == [("created_at",)]


@pytest.mark.parametrize(
    ("row_cls", "raw", "allowed"),
    [
        (PublishedPost, published_row(status="live"), "'pending', 'published', 'failed' or 'deleted'"),
        (
            ScheduledPost,
            {
                "id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "content": "c",
                "platform_connection_id": str(uuid.uuid4()), "platform": "x", "status": "Done",
                "scheduled_for": "2025-02-10T12:00:00Z", "timezone": "UTC", "retry_count": 0,
                "created_at": "2025-02-10T12:00:00Z", "updated_at": "2025-02-10T12:00:00Z",
            },
            "'scheduled', 'processing', 'completed', 'failed' or 'cancelled'",
        ),
    ],
)  # fmt: skip
def test_status_outside_the_enum_is_a_clear_error(
    row_cls: type[Row], raw: dict[str, Any], allowed: str
) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        row_cls.model_validate(raw)
    assert error_locs(info.value) == [("status",)]
    assert allowed in str(info.value)


def test_rows_never_apply_write_rules() -> None:
    # Whatever the database holds stays readable: limits are for writes.
    post = PublishedPost.model_validate(
        published_row(
            content="x" * 5000, metrics={"views": -3, "engagement_rate": 4.3}, platform="Weird Name"
        )
    )
    assert post.metrics is not None
    assert post.metrics.engagement_rate == 4.3
    user = User.model_validate(
        {
            "id": str(uuid.uuid4()),
            "email": "a@b.c",
            "timezone": "Not/AZone",
            "is_active": True,
            "created_at": "2025-02-10T12:00:00Z",
            "updated_at": "2025-02-10T12:00:00Z",
        }
    )
    assert user.timezone == "Not/AZone"


def test_row_accepts_any_platform_name() -> None:
    assert PublishedPost.model_validate(published_row(platform="threads")).platform == "threads"
    assert PublishedPost.model_validate(published_row(platform="x")).platform == Platform.X


# --- creates ----------------------------------------------------------------------------------------


def test_create_generates_a_fresh_id_and_omits_a_missing_user_id() -> None:
    a = PublishedPostCreate(platform="x", content="one")
    b = PublishedPostCreate(platform="x", content="one")
    assert a.id != b.id
    assert a.id.version == 4
    body = a.to_request_json()
    assert body["id"] == str(a.id)
    assert "user_id" not in body
    owner = uuid.uuid4()
    assert PublishedPostCreate(platform="x", content="one", user_id=owner).to_request_json()[
        "user_id"
    ] == str(owner)


def test_create_leaves_database_defaults_to_the_database() -> None:
    """Unset columns with a server default are not sent: a role without INSERT privilege on them (e.g.
    authenticated on scheduled_posts.retry_count) can still insert, and the database stays the one source of
    the defaults. The generated id, and NOT NULL documents with no server default, are always sent."""
    conn_id = uuid.uuid4()
    published = PublishedPostCreate(platform="x", content="c")
    assert published.status == "pending"
    assert set(published.to_request_json()) == {"id", "platform", "content"}
    scheduled = ScheduledPostCreate(
        platform_connection_id=conn_id, platform="x", content="c", scheduled_for=NOW
    )
    assert (scheduled.status, scheduled.timezone, scheduled.retry_count) == ("scheduled", "UTC", 0)
    assert set(scheduled.to_request_json()) == {
        "id",
        "platform_connection_id",
        "platform",
        "content",
        "scheduled_for",
    }
    explicit = ScheduledPostCreate(
        platform_connection_id=conn_id, platform="x", content="c", scheduled_for=NOW, timezone="Europe/Paris"
    )
    assert explicit.to_request_json()["timezone"] == "Europe/Paris"
    user = UserCreate(email="ada@example.com")
    assert (user.timezone, user.is_active) == ("UTC", True)
    assert set(user.to_request_json()) == {"id", "email"}
    profile = VoiceProfileCreate(name="Casual", id=conn_id).to_request_json()
    assert profile == {"id": str(conn_id), "name": "Casual", "characteristics": {}}
    idea = ContentAdaptationCreate(original_idea="i", id=conn_id).to_request_json()
    assert set(idea) == {"id", "original_idea", "idea_hash", "adaptations"}
    assert idea["adaptations"] == {}
    assert PlatformConnectionCreate(platform="x", platform_user_id="1", access_token=TOKEN).is_active is True


def test_create_has_no_timestamps_and_rejects_unknown_fields() -> None:
    for create in (PublishedPostCreate, ScheduledPostCreate, UserCreate, VoiceProfileCreate):
        assert "created_at" not in create.model_fields
        assert "updated_at" not in create.model_fields
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostCreate(platform="x", content="c", contnet="typo")  # type: ignore[call-arg]
    assert error_locs(info.value) == [("contnet",)]


def test_create_body_is_plain_json() -> None:
    post = PublishedPostCreate(
        platform=Platform.LINKEDIN,
        content="hi",
        status=PublishedPostStatus.PUBLISHED,
        published_at=datetime(2025, 2, 10, 13, 0, tzinfo=timezone(timedelta(hours=1))),
        metadata={"k": [1, {"n": None}]},
        metrics=PostMetrics(views=1, last_synced=NOW),
    )
    body = post.to_request_json()
    assert json.loads(json.dumps(body)) == body
    assert body["platform"] == "linkedin"
    assert type(body["platform"]) is str
    assert body["status"] == "published"
    assert body["published_at"] == "2025-02-10T13:00:00+01:00"
    assert body["metrics"] == {"views": 1, "last_synced": "2025-02-10T12:00:00Z"}
    assert body["metadata"] == {"k": [1, {"n": None}]}


def test_create_rejects_naive_datetimes() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        ScheduledPostCreate(
            platform_connection_id=uuid.uuid4(), platform="x", content="c", scheduled_for=datetime(2025, 1, 1)
        )
    assert error_locs(info.value) == [("scheduled_for",)]


@pytest.mark.parametrize(
    ("build", "loc"),
    [
        (lambda: UserCreate(email="a" * 250 + "@b.com"), "email"),
        (lambda: UserCreate(email="a@b.c", full_name="n" * 256), "full_name"),
        (lambda: UserCreate(email=""), "email"),
        (lambda: ContentAdaptationCreate(original_idea="i", tone="t" * 51), "tone"),
        (lambda: ContentAdaptationCreate(original_idea="i", idea_hash="f" * 65), "idea_hash"),
        (lambda: ContentAdaptationCreate(original_idea="i", target_audience="a" * 256), "target_audience"),
        (lambda: ContentAdaptationCreate(original_idea=""), "original_idea"),
        (lambda: VoiceProfileCreate(name="n" * 256), "name"),
        (lambda: PlatformConnectionCreate(platform="x", platform_user_id="u" * 256, access_token="t"), "platform_user_id"),
        (lambda: PublishedPostCreate(platform="x", content="c", platform_post_id="p" * 256), "platform_post_id"),
        (lambda: UserUpdate(full_name="n" * 256), "full_name"),
        (lambda: ScheduledPostUpdate(retry_count=-1), "retry_count"),
    ],
)  # fmt: skip
def test_varchar_lengths_and_required_text(build: Any, loc: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        build()
    assert error_locs(info.value) == [(loc,)]


def test_varchar_limits_are_inclusive() -> None:
    assert len(UserCreate(email="a" * 249 + "@b.com").email) == 255
    assert ContentAdaptationCreate(original_idea="i", idea_hash="f" * 64).idea_hash == "f" * 64
    assert ContentAdaptationCreate(original_idea="i", tone="t" * 50).tone == "t" * 50


# --- updates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("update_cls", UPDATES)
def test_an_empty_update_sends_nothing(update_cls: type[pydantic.BaseModel]) -> None:
    update = update_cls()
    assert update.to_request_json() == {}  # type: ignore[attr-defined]
    assert "id" not in update_cls.model_fields
    assert "created_at" not in update_cls.model_fields


def test_update_tells_null_from_not_given() -> None:
    update = PublishedPostUpdate(metrics=None, platform_post_id="99")
    assert update.to_request_json() == {"metrics": None, "platform_post_id": "99"}
    assert update.model_fields_set == {"metrics", "platform_post_id"}
    assert ScheduledPostUpdate(last_error=None, status="cancelled").to_request_json() == {
        "last_error": None,
        "status": "cancelled",
    }


@pytest.mark.parametrize(
    ("update_cls", "column"),
    [
        (PublishedPostUpdate, "content"),
        (PublishedPostUpdate, "platform"),
        (ScheduledPostUpdate, "scheduled_for"),
        (ScheduledPostUpdate, "platform_connection_id"),
        (PlatformConnectionUpdate, "access_token"),
        (ContentAdaptationUpdate, "adaptations"),
        (VoiceProfileUpdate, "characteristics"),
        (UserUpdate, "email"),
        (UserUpdate, "is_active"),
        (PublishedPostUpdate, "status"),
        (ScheduledPostUpdate, "status"),
        (ScheduledPostUpdate, "retry_count"),
        (VoiceProfileUpdate, "is_default"),
        (PlatformConnectionUpdate, "is_active"),
    ],
)
def test_update_refuses_null_for_not_null_columns(update_cls: type[pydantic.BaseModel], column: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        update_cls(**{column: None})
    assert error_locs(info.value) == [(column,)]
    assert "NOT NULL" in str(info.value)


def test_update_body_has_json_values() -> None:
    when = datetime(2025, 5, 1, 9, 30, tzinfo=UTC)
    post_id = uuid.uuid4()
    body = ScheduledPostUpdate(
        status=ScheduledPostStatus.COMPLETED, published_post_id=post_id, scheduled_for=when
    ).to_request_json()
    assert body == {
        "status": "completed",
        "published_post_id": str(post_id),
        "scheduled_for": "2025-05-01T09:30:00Z",
    }


def test_write_models_are_frozen_and_copy_with_a_user_id() -> None:
    create = VoiceProfileCreate(name="Pro")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        create.name = "Other"  # type: ignore[misc]
    owner = uuid.uuid4()
    assert create.model_copy(update={"user_id": owner}).to_request_json()["user_id"] == str(owner)


def test_write_model_validate_applies_write_rules() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        ContentAdaptationCreate.model_validate(
            {"original_idea": "i", "adaptations": {"x": {"text": "a" * 281}}}
        )
    assert error_locs(info.value) == [("adaptations", "x", "text")]
    with pytest.raises(pydantic.ValidationError):
        PublishedPostUpdate.model_validate_json('{"metrics": {"likes": -1}}')


# --- secrets ----------------------------------------------------------------------------------------


def assert_masked(text: str) -> None:
    assert TOKEN not in text
    assert REFRESH not in text


def test_connection_row_masks_tokens() -> None:
    conn = PlatformConnection.model_validate(connection_row())
    assert_masked(repr(conn))
    assert_masked(str(conn))
    assert_masked(conn.model_dump_json())
    assert_masked(str(conn.model_dump()))
    assert "**********" in conn.model_dump_json()
    assert conn.access_token.get_secret_value() == TOKEN


def test_connection_create_masks_tokens_and_reveals_them_only_in_the_request_body() -> None:
    create = PlatformConnectionCreate(
        platform="LinkedIn", platform_user_id="urn:li:person:42", access_token=TOKEN, refresh_token=REFRESH
    )
    assert_masked(repr(create))
    assert_masked(str(create))
    assert_masked(create.model_dump_json())
    body = create.to_request_json()
    assert body["access_token"] == TOKEN
    assert body["refresh_token"] == REFRESH
    assert body["platform"] == "linkedin"


def test_connection_update_masks_tokens() -> None:
    update = PlatformConnectionUpdate(access_token=TOKEN, refresh_token=None)
    assert_masked(repr(update))
    assert_masked(update.model_dump_json())
    assert update.to_request_json() == {"access_token": TOKEN, "refresh_token": None}


def test_validation_errors_do_not_echo_tokens() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PlatformConnectionCreate(
            platform="not a platform",
            platform_user_id="u",
            access_token=TOKEN,
            refresh_token={"value": REFRESH},
        )
    assert {("platform",), ("refresh_token",)} <= set(error_locs(info.value))
    assert_masked(str(info.value))
    assert_masked(repr(info.value))
    assert_masked(str(info.value.errors(include_input=False)))


def test_empty_token_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PlatformConnectionCreate(platform="x", platform_user_id="u", access_token="")
    assert error_locs(info.value) == [("access_token",)]


# --- platforms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("linkedin", "linkedin"), (" LinkedIn ", "linkedin"), (Platform.X, "x"), ("threads", "threads"),
     ("mastodon_social2", "mastodon_social2"), ("a" * 50, "a" * 50)],
)  # fmt: skip
def test_platform_set_is_open(given: str, stored: str) -> None:
    create = PublishedPostCreate(platform=given, content="c")
    assert create.platform == stored
    assert create.to_request_json()["platform"] == stored


@pytest.mark.parametrize("bad", ["", "two words", "1password", "x-twitter", "a" * 51, "_x", "émoji"])
def test_platform_must_be_an_identifier(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PlatformConnectionCreate(platform=bad, platform_user_id="u", access_token="t")
    assert error_locs(info.value) == [("platform",)]
    assert "lowercase identifier" in str(info.value)


def test_platform_enum_is_a_str_enum() -> None:
    assert [p.value for p in Platform] == ["linkedin", "x", "substack"]
    assert Platform("x") == "x"
    with pytest.raises(ValueError, match="tiktok"):
        PublishedPostStatus("tiktok")


# --- time zones -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("UTC", "UTC"), ("Europe/Paris", "Europe/Paris"), (" utc ", "UTC"), ("america/new_york", "America/New_York"),
     ("Asia/Kolkata", "Asia/Kolkata")],
)  # fmt: skip
def test_timezone_must_exist_and_is_canonicalised(given: str, stored: str) -> None:
    assert UserCreate(email="a@b.c", timezone=given).timezone == stored
    scheduled = ScheduledPostCreate(
        platform_connection_id=uuid.uuid4(), platform="x", content="c", scheduled_for=NOW, timezone=given
    )
    assert scheduled.to_request_json()["timezone"] == stored
    assert UserUpdate(timezone=given).to_request_json() == {"timezone": stored}


@pytest.mark.parametrize(
    "bad", ["Mars/Olympus_Mons", "", "../../etc/passwd", "/etc/localtime", "Europe/", "GMT+25"]
)
def test_unknown_timezone_is_rejected(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        UserCreate(email="a@b.c", timezone=bad)
    assert error_locs(info.value) == [("timezone",)]
    with pytest.raises(pydantic.ValidationError) as info:
        ScheduledPostUpdate(timezone=bad)
    assert error_locs(info.value) == [("timezone",)]


def test_timezone_cannot_be_set_to_null() -> None:
    for update_cls in (UserUpdate, ScheduledPostUpdate):
        with pytest.raises(pydantic.ValidationError) as info:
            update_cls(timezone=None)
        assert error_locs(info.value) == [("timezone",)]


# --- post content limits ----------------------------------------------------------------------------


def test_post_content_is_checked_against_its_platform() -> None:
    assert PublishedPostCreate(platform="x", content="a" * 280).content == "a" * 280
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostCreate(platform="x", content="a" * 281)
    assert error_locs(info.value) == [("content",)]
    assert "281" in str(info.value)
    assert PublishedPostCreate(platform="linkedin", content="a" * 3000).content
    with pytest.raises(pydantic.ValidationError):
        PublishedPostCreate(platform="linkedin", content="a" * 3001)
    with pytest.raises(pydantic.ValidationError) as info:
        ScheduledPostCreate(
            platform_connection_id=uuid.uuid4(), platform="X", content="日" * 141, scheduled_for=NOW
        )
    assert error_locs(info.value) == [("content",)]
    # Platforms without a known limit take any length.
    assert PublishedPostCreate(platform="substack", content="a" * 50_000).content
    assert PublishedPostCreate(platform="threads", content="a" * 5000).content


def test_update_checks_content_only_when_the_platform_is_in_it() -> None:
    assert PublishedPostUpdate(content="a" * 500).to_request_json() == {"content": "a" * 500}
    with pytest.raises(pydantic.ValidationError) as info:
        ScheduledPostUpdate(platform="x", content="a" * 500)
    assert error_locs(info.value) == [("content",)]


def test_documents_have_no_custom_init() -> None:
    # A custom __init__ would make pydantic call Python for every document of every row read (and would
    # run write rules on reads): reading 1000 published_posts got twice as slow when one slipped in.
    for doc in (models.Adaptations, models.LinkedInAdaptation, models.XAdaptation, models.SubstackAdaptation,
                models.VoiceCharacteristics, models.PostMetrics):  # fmt: skip
        assert doc.__pydantic_custom_init__ is False


# --- idea_hash --------------------------------------------------------------------------------------


def test_idea_hash_defaults_to_the_sha256_of_the_idea() -> None:
    idea = "Ship small, ship often ✨"
    expected = hashlib.sha256(idea.encode()).hexdigest()
    assert ContentAdaptationCreate(original_idea=idea).to_request_json()["idea_hash"] == expected
    given = "AB" * 32
    assert ContentAdaptationCreate(original_idea=idea, idea_hash=given).idea_hash == "ab" * 32
    assert ContentAdaptationCreate(original_idea=idea, idea_hash=None).to_request_json()["idea_hash"] is None


@pytest.mark.parametrize("bad", ["abc", "g" * 64, "a" * 63, "a" * 65])
def test_idea_hash_must_be_64_hex_digits(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        ContentAdaptationCreate(original_idea="i", idea_hash=bad)
    assert error_locs(info.value) == [("idea_hash",)]


def test_update_keeps_idea_hash_in_step_with_the_idea() -> None:
    body = ContentAdaptationUpdate(original_idea="new idea").to_request_json()
    assert body == {"original_idea": "new idea", "idea_hash": hashlib.sha256(b"new idea").hexdigest()}
    assert ContentAdaptationUpdate(tone="casual").to_request_json() == {"tone": "casual"}
    explicit = ContentAdaptationUpdate(original_idea="x", idea_hash=None).to_request_json()
    assert explicit == {"original_idea": "x", "idea_hash": None}

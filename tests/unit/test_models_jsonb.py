"""The JSONB documents: platform rules on write, X's weighted counting, and unknown keys kept through a round trip."""

from __future__ import annotations

import copy
import math
import pickle
import uuid
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nexus_sdk._types import NOT_GIVEN, NotGiven, strip_not_given
from nexus_sdk.models import (
    Adaptations,
    ContentAdaptation,
    ContentAdaptationCreate,
    ContentAdaptationUpdate,
    LinkedInAdaptation,
    PostMetrics,
    PublishedPost,
    PublishedPostCreate,
    PublishedPostUpdate,
    SubstackAdaptation,
    VoiceCharacteristics,
    VoiceProfile,
    VoiceProfileCreate,
    VoiceProfileUpdate,
    XAdaptation,
    x_weighted_length,
)

NOW = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)
STAMPS = {"created_at": "2025-02-10T12:00:00Z", "updated_at": "2025-02-10T12:00:00Z"}


def locs(exc: pydantic.ValidationError) -> list[tuple[str | int, ...]]:
    return [tuple(err["loc"]) for err in exc.errors()]


def create_with(adaptations: Any) -> ContentAdaptationCreate:
    return ContentAdaptationCreate(original_idea="an idea", adaptations=adaptations)


def rejected(adaptations: Any) -> list[tuple[str | int, ...]]:
    with pytest.raises(pydantic.ValidationError) as info:
        create_with(adaptations)
    return locs(info.value)


def adaptation_row(adaptations: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "original_idea": "an idea",
        "adaptations": adaptations,
        **STAMPS,
    }


# --- X: twitter-text v3 weighted length -------------------------------------------------------------

LONG_URL = "https://example.com/" + "very-long-path/" * 30


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("a" * 280, 280),
        ("日" * 140, 280),  # CJK counts 2
        ("한국어", 6),  # Hangul counts 2
        ("😷" * 3, 6),  # an emoji counts 2
        ("👨‍👩‍👧‍👦", 2),  # a ZWJ family sequence (7 code points) is one emoji
        ("🙋🏽", 2),  # emoji with a skin-tone modifier
        (LONG_URL, 23),  # any URL counts 23, whatever its length
        ("see example.com now", 8 + 23),  # so does a bare domain
        ("café", 4),  # Latin-1 counts 1
        ("e\u0301", 1),  # NFC-normalised before counting
        ("“quotes” – and…", 16),  # U+2026 is outside the weight-1 ranges; curly quotes and dashes are inside
    ],
)
def test_x_weighted_length(text: str, length: int) -> None:
    assert x_weighted_length(text) == length


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("a" * 280, True),
        ("a" * 281, False),
        ("日" * 140, True),
        ("日" * 141, False),
        ("😷" * 140, True),
        ("😷" * 141, False),
        ("a" * 257 + LONG_URL, False),  # glued to a word, the URL is not a link and counts in full
        ("a" * 256 + " " + LONG_URL, True),  # 256 + 1 + 23 = 280, though the text is 700+ characters long
        ("a" * 257 + " " + LONG_URL, False),
    ],
)
def test_x_text_limit(text: str, ok: bool) -> None:
    if ok:
        assert create_with(Adaptations(x=XAdaptation(text=text))).adaptations.x is not None
    else:
        assert rejected({"x": {"text": text}}) == [("adaptations", "x", "text")]


def test_x_error_names_the_count_and_limit() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        create_with({"x": {"text": "日" * 141}})
    assert "X counts this text as 282 characters; the limit is 280" in str(info.value)


def test_x_thread_items_are_each_checked() -> None:
    doc = {"x": {"text": "first", "thread": ["second", "b" * 281, "fine", "c" * 300]}}
    assert rejected(doc) == [("adaptations", "x", "thread", 1), ("adaptations", "x", "thread", 3)]
    ok = create_with({"x": {"text": "first", "thread": ["a" * 280, "日" * 140]}})
    assert ok.adaptations.x is not None
    assert len(ok.adaptations.x.thread) == 2


@pytest.mark.parametrize("text", ["", "   ", "bad \ufffe char"])
def test_x_text_empty_or_invalid_is_rejected(text: str) -> None:
    assert rejected({"x": {"text": text}}) == [("adaptations", "x", "text")]


# --- LinkedIn ---------------------------------------------------------------------------------------


def test_linkedin_text_limit() -> None:
    assert create_with({"linkedin": {"text": "a" * 3000}}).adaptations.linkedin is not None
    assert rejected({"linkedin": {"text": "a" * 3001}}) == [("adaptations", "linkedin", "text")]
    assert rejected({"linkedin": {"text": " "}}) == [("adaptations", "linkedin", "text")]


def test_hashtags_are_normalised() -> None:
    doc = LinkedInAdaptation(text="t", hashtags=["#AI", "ai", "  ml ", "##DeepLearning", "Ai", "python"])
    created = create_with(Adaptations(linkedin=doc))
    assert created.adaptations.linkedin is not None
    assert created.adaptations.linkedin.hashtags == ["AI", "ml", "DeepLearning", "python"]
    assert created.to_request_json()["adaptations"]["linkedin"]["hashtags"] == [
        "AI",
        "ml",
        "DeepLearning",
        "python",
    ]


@pytest.mark.parametrize("bad", ["two words", "#", "  ", "tab\there", "# spaced out"])
def test_hashtags_with_spaces_or_empty_are_rejected(bad: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        create_with({"linkedin": {"text": "t", "hashtags": ["ok", bad]}})
    assert locs(info.value) == [("adaptations", "linkedin", "hashtags")]
    assert "without spaces" in str(info.value)


def test_media_urls_must_be_http() -> None:
    ok = ["https://cdn.example.com/a.png", "http://localhost:8080/b.jpg"]
    created = create_with({"linkedin": {"text": "t", "media_urls": ok}})
    assert created.adaptations.linkedin is not None
    assert created.adaptations.linkedin.media_urls == ok  # kept exactly, not re-encoded
    bad = [
        "https://fine.example/x",
        "ftp://example.com/f",
        "not a url",
        "javascript:alert(1)",
        "/relative.png",
    ]
    assert rejected({"linkedin": {"text": "t", "media_urls": bad}}) == [
        ("adaptations", "linkedin", "media_urls", index) for index in (1, 2, 3, 4)
    ]


# --- Substack ---------------------------------------------------------------------------------------


def test_substack_title_and_body() -> None:
    assert create_with({"substack": {"title": "T" * 280, "body": "b"}}).adaptations.substack is not None
    assert rejected({"substack": {"body": "b"}}) == [("adaptations", "substack", "title")]
    assert rejected({"substack": {"title": "T"}}) == [("adaptations", "substack", "body")]
    assert rejected({"substack": {"title": "  ", "body": "b"}}) == [("adaptations", "substack", "title")]
    assert rejected({"substack": {"title": "T" * 281, "body": "b"}}) == [("adaptations", "substack", "title")]
    assert rejected({"substack": {"title": "T", "body": "\n"}}) == [("adaptations", "substack", "body")]


# --- adaptations: open set of platforms -------------------------------------------------------------


def test_unknown_platforms_are_kept_raw() -> None:
    raw = {
        "x": {"text": "hi", "poll": {"options": ["a", "b"]}},
        "threads": {"text": "new platform", "reply_control": "everyone"},
        "bluesky": "plain text shape",
    }
    row = ContentAdaptation.model_validate(adaptation_row(raw))
    assert row.adaptations.get("threads") == raw["threads"]
    assert row.adaptations.get("BlueSky") == "plain text shape"
    assert row.adaptations.get("linkedin") is None
    assert isinstance(row.adaptations.get("x"), XAdaptation)
    update = ContentAdaptationUpdate(adaptations=row.adaptations)
    assert update.to_request_json() == {"adaptations": raw}


def test_platform_keys_are_normalised_on_write() -> None:
    created = create_with({"LinkedIn": {"text": "hello"}, " Threads ": {"text": "t"}})
    assert created.to_request_json()["adaptations"] == {
        "linkedin": {"text": "hello"},
        "threads": {"text": "t"},
    }
    assert isinstance(created.adaptations.linkedin, LinkedInAdaptation)
    # A known platform under another spelling still gets its rules.
    assert rejected({"X": {"text": "a" * 281}}) == [("adaptations", "x", "text")]


def test_bad_or_duplicate_platform_keys_are_rejected() -> None:
    assert rejected({"not a platform": {}}) == [("adaptations",)]
    with pytest.raises(pydantic.ValidationError, match="appears twice"):
        create_with({"x": {"text": "a"}, "X": {"text": "b"}})


def test_text_shorthand_is_read_as_an_object() -> None:
    # The schema's column description shows {"linkedin": "...", "x": "..."}.
    row = ContentAdaptation.model_validate(adaptation_row({"linkedin": "full post", "x": "short"}))
    assert row.adaptations.linkedin == LinkedInAdaptation(text="full post")
    assert row.adaptations.x is not None
    assert row.adaptations.x.text == "short"
    body = ContentAdaptationUpdate(adaptations=row.adaptations).to_request_json()
    assert body == {"adaptations": {"linkedin": {"text": "full post"}, "x": {"text": "short"}}}


def test_rows_read_documents_that_break_write_rules() -> None:
    raw = {
        "x": {"text": "a" * 400},
        "linkedin": {"text": "t", "hashtags": ["two words"], "media_urls": ["nope"]},
    }
    row = ContentAdaptation.model_validate(adaptation_row(raw))
    assert row.adaptations.x is not None
    assert len(row.adaptations.x.text) == 400
    # ...but writing them back applies the rules.
    with pytest.raises(pydantic.ValidationError) as info:
        ContentAdaptationUpdate(adaptations=row.adaptations)
    assert set(locs(info.value)) == {
        ("adaptations", "x", "text"),
        ("adaptations", "linkedin", "hashtags"),
        ("adaptations", "linkedin", "media_urls", 0),
    }


# --- voice characteristics --------------------------------------------------------------------------


def voice_row(characteristics: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "name": "Pro",
        "is_default": True,
        "characteristics": characteristics,
        **STAMPS,
    }


def test_misspelt_emoij_usage_is_read_and_emitted_as_emoji_usage() -> None:
    doc = {"tone": ["professional"], "emoij_usage": "minimal", "formality_level": 7, "signature": "— A."}
    row = VoiceProfile.model_validate(voice_row(doc))
    assert row.characteristics.emoji_usage == "minimal"
    body = VoiceProfileUpdate(characteristics=row.characteristics).to_request_json()
    assert body == {
        "characteristics": {
            "tone": ["professional"],
            "emoji_usage": "minimal",
            "formality_level": 7,
            "signature": "— A.",
        }
    }
    both = VoiceCharacteristics.model_validate({"emoij_usage": "lots", "emoji_usage": "none"})
    assert both.emoji_usage == "none"
    assert "emoij_usage" not in both.model_dump()
    created = VoiceProfileCreate(name="n", characteristics={"emoij_usage": "some"})
    assert created.to_request_json()["characteristics"] == {"emoji_usage": "some"}


@pytest.mark.parametrize(("level", "ok"), [(1, True), (10, True), (0, False), (11, False), (-3, False)])
def test_formality_level_is_1_to_10(level: int, ok: bool) -> None:
    doc = VoiceCharacteristics(formality_level=level)
    if ok:
        assert VoiceProfileCreate(name="n", characteristics=doc).characteristics.formality_level == level
    else:
        with pytest.raises(pydantic.ValidationError) as info:
            VoiceProfileCreate(name="n", characteristics=doc)
        assert locs(info.value) == [("characteristics", "formality_level")]


def test_voice_characteristics_shape() -> None:
    doc = VoiceCharacteristics.model_validate(
        {"tone": ["professional", "approachable"], "style": "concise", "sentence_length": "short",
         "vocabulary": "industry-specific", "common_phrases": ["In my experience"], "avoid_words": ["very"]}
    )  # fmt: skip
    assert doc.tone == ["professional", "approachable"]
    assert doc.avoid_words == ["very"]
    with pytest.raises(pydantic.ValidationError):
        VoiceCharacteristics.model_validate({"tone": "professional"})


# --- post metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [0, 0.0, 0.043, 1, 1.0])
def test_engagement_rate_in_range(rate: float) -> None:
    update = PublishedPostUpdate(metrics=PostMetrics(engagement_rate=rate))
    assert update.to_request_json() == {"metrics": {"engagement_rate": rate}}


@pytest.mark.parametrize("rate", [-0.01, 1.01, 4.3, math.nan, math.inf])
def test_engagement_rate_out_of_range(rate: float) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostUpdate(metrics=PostMetrics(engagement_rate=rate))
    assert locs(info.value) == [("metrics", "engagement_rate")]


@pytest.mark.parametrize("field", ["views", "likes", "comments", "shares", "impressions"])
def test_counts_are_non_negative(field: str) -> None:
    assert PublishedPostUpdate(metrics={field: 0}).to_request_json() == {"metrics": {field: 0}}
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostCreate(platform="x", content="c", metrics={field: -1})
    assert locs(info.value) == [("metrics", field)]
    with pytest.raises(pydantic.ValidationError):
        PublishedPostUpdate(metrics={field: 1.5})


def test_last_synced_must_be_aware_on_write() -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostUpdate(metrics=PostMetrics(last_synced=datetime(2025, 1, 1)))
    assert locs(info.value) == [("metrics", "last_synced")]
    body = PublishedPostUpdate(metrics=PostMetrics(last_synced=NOW)).to_request_json()
    assert body == {"metrics": {"last_synced": "2025-02-10T12:00:00Z"}}


def test_metrics_read_modify_write_keeps_unknown_keys() -> None:
    raw_metrics = {"views": 1500, "likes": 45, "reactions": {"celebrate": 3}, "engagement_rate": 0.043}
    row = {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "platform": "linkedin",
        "content": "c",
        "status": "published",
        "metrics": raw_metrics,
        **STAMPS,
    }
    post = PublishedPost.model_validate(row)
    metrics = post.metrics
    assert metrics is not None
    assert metrics.model_extra == {"reactions": {"celebrate": 3}}
    metrics.likes = 46
    metrics.last_synced = NOW
    body = PublishedPostUpdate(metrics=metrics).to_request_json()
    assert body == {
        "metrics": {
            "views": 1500,
            "likes": 46,
            "reactions": {"celebrate": 3},
            "engagement_rate": 0.043,
            "last_synced": "2025-02-10T12:00:00Z",
        }
    }


def test_documents_validate_assignment() -> None:
    metrics = PostMetrics()
    metrics.likes = "12"  # type: ignore[assignment]
    assert metrics.likes == 12
    with pytest.raises(pydantic.ValidationError):
        metrics.likes = "many"  # type: ignore[assignment]


def test_update_holds_its_own_copy_of_a_document() -> None:
    metrics = PostMetrics(likes=1)
    update = PublishedPostUpdate(metrics=metrics)
    metrics.likes = 999
    assert update.to_request_json() == {"metrics": {"likes": 1}}


# --- property tests ---------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
unknown_keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in PostMetrics.model_fields)


@settings(max_examples=60, deadline=None)
@given(
    known=st.fixed_dictionaries(
        {},
        optional={
            "views": st.integers(0, 10**12),
            "likes": st.integers(0, 10**9),
            "engagement_rate": st.floats(0, 1),
        },
    ),
    extra=st.dictionaries(unknown_keys, json_values, max_size=4),
)
def test_metrics_round_trip_keeps_every_key(known: dict[str, Any], extra: dict[str, Any]) -> None:
    stored = {**extra, **known}
    post = PublishedPost.model_validate(
        {
            "id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()),
            "platform": "x",
            "content": "c",
            "status": "published",
            "metrics": stored,
            **STAMPS,
        }
    )
    assert PublishedPostUpdate(metrics=post.metrics).to_request_json() == {"metrics": stored}


platform_names = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True).filter(
    lambda name: name not in Adaptations.model_fields
)


@settings(max_examples=60, deadline=None)
@given(
    idea=st.text(min_size=1, max_size=50).filter(str.strip),
    # 40 characters stay under 280 even when full of short URLs (23 each); X refuses U+FFFE, U+FEFF, U+FFFF.
    x_text=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\ufffe\ufeff\uffff"), min_size=1,
                   max_size=40).filter(str.strip),
    tags=st.lists(st.from_regex(r"#?[A-Za-z0-9_]{1,10}", fullmatch=True), max_size=5),
    others=st.dictionaries(platform_names, st.dictionaries(st.text(max_size=5), json_values, max_size=2), max_size=2),
    tone=st.none() | st.text(max_size=50),
)  # fmt: skip
def test_create_request_json_round_trips(
    idea: str, x_text: str, tags: list[str], others: dict[str, Any], tone: str | None
) -> None:
    adaptations = {"x": {"text": x_text}, "linkedin": {"text": idea, "hashtags": tags}, **others}
    create = ContentAdaptationCreate(original_idea=idea, adaptations=adaptations, tone=tone)
    body = create.to_request_json()
    again = ContentAdaptationCreate.model_validate(body)
    assert again == create
    assert again.to_request_json() == body
    assert body["adaptations"].keys() >= others.keys()
    row = ContentAdaptation.model_validate({**body, "user_id": str(uuid.uuid4()), **STAMPS})
    assert (
        ContentAdaptationUpdate(adaptations=row.adaptations).to_request_json()["adaptations"]
        == body["adaptations"]
    )


@settings(max_examples=60, deadline=None)
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "platform_post_id": st.none() | st.text(max_size=255),
            "metadata": st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=3),
            "status": st.sampled_from(["pending", "published", "failed", "deleted"]),
            "adaptation_id": st.none() | st.uuids(version=4),
            "published_at": st.none() | st.datetimes(timezones=st.just(UTC)),
        },
    )
)
def test_update_request_json_round_trips(fields: dict[str, Any]) -> None:
    update = PublishedPostUpdate(**fields)
    body = update.to_request_json()
    assert body.keys() == fields.keys()
    again = PublishedPostUpdate.model_validate(body)
    assert again.to_request_json() == body
    assert again.model_fields_set == update.model_fields_set


# --- the NOT_GIVEN sentinel -------------------------------------------------------------------------


def test_not_given_sentinel() -> None:
    assert not NOT_GIVEN
    assert repr(NOT_GIVEN) == "NOT_GIVEN"
    assert NotGiven() is NOT_GIVEN
    assert copy.deepcopy(NOT_GIVEN) is NOT_GIVEN
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN  # noqa: S301 - our own bytes
    kwargs = {"content": NOT_GIVEN, "metrics": None, "status": "failed"}
    assert strip_not_given(kwargs) == {"metrics": None, "status": "failed"}
    assert PublishedPostUpdate(**strip_not_given(kwargs)).to_request_json() == {
        "metrics": None,
        "status": "failed",
    }


def test_substack_adaptation_model_round_trip() -> None:
    doc = SubstackAdaptation(title="Why", body="Because.", subtitle="kept")
    body = create_with(Adaptations(substack=doc)).to_request_json()
    assert body["adaptations"] == {"substack": {"title": "Why", "body": "Because.", "subtitle": "kept"}}


# --- the read path runs no Python per document --------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [PostMetrics, VoiceCharacteristics, Adaptations, LinkedInAdaptation, XAdaptation, SubstackAdaptation],
)
def test_documents_carry_no_write_rule_validators(doc: type[pydantic.BaseModel]) -> None:
    # Reading 1000 rows must not call Python once per document for rules that only matter on write
    # (benchmarks/bench_read.py). Only read-side shape fixes may remain: the text shorthand and the
    # misspelt emoji key, both "before" validators that any stored row may need.
    decorators = doc.__pydantic_decorators__
    assert not decorators.field_validators
    assert all(d.info.mode == "before" for d in decorators.model_validators.values())
    assert set(decorators.model_validators) <= {"_shorthand", "_accept_misspelling"}


def test_write_rules_never_touch_the_callers_document() -> None:
    doc = LinkedInAdaptation(text="t", hashtags=["#AI", "ai", " ml "])
    created = create_with(Adaptations(linkedin=doc))
    assert created.adaptations.linkedin is not None
    assert created.adaptations.linkedin.hashtags == ["AI", "ml"]
    assert doc.hashtags == ["#AI", "ai", " ml "]  # normalised in the write model's own copy only


def test_a_document_built_in_code_is_normalised_and_checked_on_write() -> None:
    # Built directly (not in write mode), "LinkedIn" is just an unknown key; on write it is the
    # linkedin platform, typed and checked.
    doc = Adaptations.model_validate({"LinkedIn": {"text": "a" * 3001}, "x": {"text": "ok"}})
    assert doc.linkedin is None
    assert doc.model_extra == {"LinkedIn": {"text": "a" * 3001}}
    assert rejected(doc) == [("adaptations", "linkedin", "text")]
    fine = Adaptations.model_validate({"LinkedIn": {"text": "hello"}})
    body = ContentAdaptationUpdate(adaptations=fine).to_request_json()
    assert body == {"adaptations": {"linkedin": {"text": "hello"}}}
    with pytest.raises(pydantic.ValidationError, match="appears twice"):
        create_with(Adaptations.model_validate({"linkedin": {"text": "a"}, "LinkedIn": {"text": "b"}}))

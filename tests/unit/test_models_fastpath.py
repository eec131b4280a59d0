"""The fast paths of the write models agree with the slow, general code they skip."""

from __future__ import annotations

import copy
import string
import unicodedata
from typing import Any, ClassVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from nexus_sdk.models import (
    ContentAdaptationCreate,
    PlatformConnectionCreate,
    PublishedPostCreate,
    ScheduledPostCreate,
    UserCreate,
    VoiceProfileCreate,
)
from nexus_sdk.models._base import CreateModel, JsonbModel, request_bodies
from nexus_sdk.models._fields import (
    WRITE_KEY,
    X_MAX_WEIGHTED_LENGTH,
    check_linkedin_text,
    check_x_text,
    normalise_platform,
    sha256_hex,
    x_text_is_plainly_short,
)
from nexus_sdk.models.jsonb import LinkedInAdaptation, XAdaptation

_parse: Any = pytest.importorskip("twitter_text").parse_tweet

ASCII_NO_DOT = "".join(chr(c) for c in range(128) if chr(c) != ".")


def _parser_verdict(text: str) -> str:
    """What check_x_text must answer, decided by the twitter-text parser alone."""
    if not text.strip():
        return "x_text_empty"
    parsed = _parse(text)
    if parsed.weightedLength > X_MAX_WEIGHTED_LENGTH:
        return "x_text_too_long"
    if not parsed.valid:
        return "x_text_invalid"
    return "ok"


def _verdict(text: str) -> str:
    try:
        check_x_text(text)
    except PydanticCustomError as exc:
        return exc.type
    return "ok"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ASCII_NO_DOT, max_size=X_MAX_WEIGHTED_LENGTH))
@example("line one\r\nline two")
def test_plainly_short_x_text_weighs_its_length(text: str) -> None:
    assert x_text_is_plainly_short(text)
    parsed = _parse(text)
    # At most its length: twitter-text counts a CRLF pair as one character, so "\r\n" weighs 1.
    assert parsed.weightedLength <= len(text)
    assert parsed.valid or not text.strip()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=string.printable, max_size=40),
            st.sampled_from(["a.com", "a.co", "t.co/x", "https://x.io", "日本", "😀", "é", ".", " "]),
        ),
        max_size=40,
    ).map("".join)
)
def test_check_x_text_agrees_with_the_parser(text: str) -> None:
    assert _verdict(text) == _parser_verdict(text)


@pytest.mark.parametrize(
    "text",
    [
        "a.com " * 20,  # 120 characters, but 20 URLs of 23: the reason len <= 140 is no shortcut
        "x" * 281,
        "日" * 141,
        "see example.com",
        "x" * 280,
    ],
)
def test_check_x_text_traps(text: str) -> None:
    assert _verdict(text) == _parser_verdict(text)


def test_short_urls_are_counted_as_23() -> None:
    assert not x_text_is_plainly_short("a.com " * 20)
    with pytest.raises(PydanticCustomError) as caught:
        check_x_text("a.com " * 20)
    assert caught.value.type == "x_text_too_long"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60).map(lambda t: t * 60))
def test_linkedin_length_is_the_nfc_length(text: str) -> None:
    nfc = len(unicodedata.normalize("NFC", text))
    if not text.strip():
        expected = "linkedin_text_empty"
    elif nfc > 3000:
        expected = "linkedin_text_too_long"
    else:
        assert check_linkedin_text(text) == text
        return
    with pytest.raises(PydanticCustomError) as caught:
        check_linkedin_text(text)
    assert caught.value.type == expected


def test_linkedin_counts_composed_characters_once() -> None:
    decomposed = "e\u0301" * 3000  # 6000 code points, 3000 characters once composed
    assert check_linkedin_text(decomposed) == decomposed
    with pytest.raises(PydanticCustomError):
        check_linkedin_text("a" * 3001)


class _Left(JsonbModel):
    mood: str = "calm"


class _Right(_Left):
    mood: str = "busy"
    tags: list[str] = Field(default_factory=list)


def test_document_defaults_are_per_class() -> None:
    # The cached defaults of a parent must not leak into a subclass that changes them.
    assert _Left(mood="busy").model_dump() == {"mood": "busy"}
    assert _Right(mood="calm").model_dump() == {"mood": "calm"}
    assert _Right.model_validate({}).model_dump() == {}
    assert _Left.model_validate({}).model_dump() == {}


def test_document_dump_keeps_given_and_unknown_keys() -> None:
    doc = XAdaptation.model_validate({"text": "hi", "thread": [], "poll": {"a": 1}})
    assert doc.model_dump() == {"text": "hi", "thread": [], "poll": {"a": 1}}
    assert XAdaptation.model_validate({"text": "hi"}).model_dump() == {"text": "hi"}
    unset = LinkedInAdaptation.model_validate({"text": "t"})
    unset.__dict__["hashtags"] = ["late"]  # a value written past validation is not a default any more
    assert unset.model_dump() == {"text": "t", "hashtags": ["late"]}


class _Probe(CreateModel):
    seen: ClassVar[list[Any]] = []
    a: str

    @field_validator("a")
    @classmethod
    def _record(cls, value: str, info: ValidationInfo) -> str:
        cls.seen.append(info.context)
        return value


def test_model_validate_runs_validators_once_and_keeps_the_callers_context() -> None:
    _Probe.seen.clear()
    _Probe.model_validate({"a": "x"}, context={"mine": 1})
    assert _Probe.seen == [{WRITE_KEY: True, "mine": 1}]
    _Probe.seen.clear()
    _Probe(a="x")
    assert _Probe.seen == [{WRITE_KEY: True}]


def test_create_model_still_validates_and_derives() -> None:
    model = ContentAdaptationCreate.model_validate(
        {"original_idea": "idea", "adaptations": {"LinkedIn ": {"text": "t", "hashtags": ["#AI", "ai"]}}}
    )
    body = model.to_request_json()
    assert body["adaptations"] == {"linkedin": {"text": "t", "hashtags": ["AI"]}}
    assert body["idea_hash"] == sha256_hex("idea")
    with pytest.raises(ValueError, match="the limit is 280"):
        ContentAdaptationCreate.model_validate(
            {"original_idea": "i", "adaptations": {"x": {"text": "a.com " * 20}}}
        )


# --- request_bodies: one dump for a batch equals to_request_json row by row -----------------------------

_UID = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"
_NOW = "2025-02-10T12:00:00+00:00"

_PLATFORM_DOCS = st.fixed_dictionaries(
    {},
    optional={
        "linkedin": st.one_of(
            st.text(min_size=1, max_size=20).filter(str.strip),  # the shorthand: a bare string
            st.fixed_dictionaries(
                {"text": st.text(min_size=1, max_size=20).filter(str.strip)},
                optional={
                    "hashtags": st.lists(st.sampled_from(["#AI", "ai", " ml ", "Data"]), max_size=3),
                    "media_urls": st.lists(st.just("https://example.com/a.png"), max_size=1),
                    "poll": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                },
            ),
        ),
        "X": st.fixed_dictionaries(
            {"text": st.sampled_from(["short post", "another"])},
            optional={"thread": st.lists(st.just("more"), max_size=2)},
        ),
        "threads": st.one_of(
            st.none(), st.text(max_size=5), st.dictionaries(st.text(max_size=3), st.booleans())
        ),
    },
)


@st.composite
def _create_inputs(draw: st.DrawFn) -> tuple[type[CreateModel], dict[str, Any]]:
    table = draw(st.sampled_from(["content", "voice", "post", "connection", "scheduled", "user"]))
    common: dict[str, Any] = draw(
        st.fixed_dictionaries({}, optional={"user_id": st.sampled_from([None, _UID]), "id": st.uuids()})
    )
    if table == "content":
        data = {"original_idea": draw(st.text(min_size=1, max_size=20).filter(str.strip))}
        data |= draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "adaptations": _PLATFORM_DOCS,
                    "tone": st.sampled_from([None, "casual"]),
                    "idea_hash": st.just("ab" * 32),
                },
            )
        )
        return ContentAdaptationCreate, common | data
    if table == "voice":
        characteristics = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "tone": st.lists(st.sampled_from(["warm", "dry"]), max_size=2),
                    "emoij_usage": st.just("some"),
                    "formality_level": st.integers(1, 10),
                    "extra": st.booleans(),
                },
            )
        )
        data = {"name": "voice"} | draw(
            st.fixed_dictionaries(
                {}, optional={"characteristics": st.just(characteristics), "is_default": st.booleans()}
            )
        )
        return VoiceProfileCreate, common | data
    if table == "post":
        metrics = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "likes": st.integers(0, 9),
                    "engagement_rate": st.floats(0, 1),
                    "last_synced": st.just(_NOW),
                },
            )
        )
        data = {"platform": "LinkedIn", "content": "hello"} | draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "metrics": st.one_of(st.none(), st.just(metrics)),
                    "metadata": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                    "status": st.sampled_from(["pending", "published"]),
                },
            )
        )
        return PublishedPostCreate, common | data
    if table == "connection":
        data = {
            "platform": "x",
            "platform_user_id": "me",
            "access_token": draw(st.text(min_size=1, max_size=9)),
        }
        data |= draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "refresh_token": st.one_of(st.none(), st.just("r")),
                    "profile_data": st.just({"a": [1]}),
                },
            )
        )
        return PlatformConnectionCreate, common | data
    if table == "scheduled":
        data = {"platform_connection_id": _UID, "platform": "x", "content": "c", "scheduled_for": _NOW}
        data |= draw(
            st.fixed_dictionaries(
                {}, optional={"timezone": st.just("europe/paris"), "retry_count": st.just(0)}
            )
        )
        return ScheduledPostCreate, common | data
    common.pop("user_id", None)
    return UserCreate, common | {"email": "a@example.com"}


@given(st.lists(_create_inputs(), min_size=1, max_size=4))
@settings(max_examples=300)
def test_request_bodies_equal_to_request_json(inputs: list[tuple[type[CreateModel], dict[str, Any]]]) -> None:
    create = inputs[0][0]
    items = [data for model, data in inputs if model is create]
    before = copy.deepcopy(items)
    models = [create.model_validate(data) for data in items]
    expected = [model.to_request_json() for model in models]  # before request_bodies marks fields set
    assert request_bodies(models) == expected
    assert items == before  # validation never changes its input (the batch path relies on it)


def test_request_bodies_refuses_mixed_classes() -> None:
    mixed = [ContentAdaptationCreate(original_idea="i"), UserCreate(email="a@example.com")]
    with pytest.raises(TypeError, match="one class"):
        request_bodies(mixed)


def test_platform_names_seen_again_are_checked_alike() -> None:
    for _ in range(2):
        assert normalise_platform(" LinkedIn ") == "linkedin"
        with pytest.raises(PydanticCustomError, match="lowercase identifier"):
            normalise_platform("Bad Name")
    names = [f"p{i}" for i in range(1000)]
    assert [normalise_platform(f" {name.upper()}") for name in names] == names  # more than are remembered

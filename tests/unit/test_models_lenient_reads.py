"""Review findings: rows the database can hold must be readable, and writes must fit the columns."""

from __future__ import annotations

import uuid
import warnings
from typing import Any

import pydantic
import pytest

from nexus_sdk.models import (
    ContentAdaptation,
    ContentAdaptationUpdate,
    PostMetrics,
    PublishedPost,
    PublishedPostUpdate,
    ScheduledPostCreate,
    ScheduledPostUpdate,
    VoiceProfile,
    VoiceProfileUpdate,
    XAdaptation,
)
from nexus_sdk.pandas import to_pandas

STAMPS = {"created_at": "2025-02-10T12:00:00+00:00", "updated_at": "2025-02-10T12:00:00+00:00"}


def _ids() -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4())}


def _post(metrics: Any) -> dict[str, Any]:
    return {**_ids(), **STAMPS, "platform": "x", "status": "published", "content": "c", "metrics": metrics}


@pytest.mark.parametrize(
    "metrics",
    [{"views": 1.5}, {"likes": 2.25, "views": 3}, {"last_synced": "last tuesday"}, {"impressions": 1e30}],
)
def test_published_post_reads_metrics_the_check_allows(metrics: dict[str, Any]) -> None:
    """The CHECK allows any number >= 0 as a count and any string as last_synced."""
    row = PublishedPost.model_validate(_post(metrics))
    assert isinstance(row.metrics, PostMetrics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert row.metrics.model_dump(mode="json") == metrics


def test_metrics_that_fit_stay_typed_next_to_one_that_does_not() -> None:
    row = PublishedPost.model_validate(_post({"views": 1.5, "likes": 4, "engagement_rate": 0.5, "x": [1]}))
    assert row.metrics is not None
    assert (row.metrics.views, row.metrics.likes, row.metrics.engagement_rate) == (1.5, 4, 0.5)
    assert row.metrics.model_extra == {"x": [1]}


def test_writing_back_an_ill_fitting_document_names_the_key() -> None:
    row = PublishedPost.model_validate(_post({"views": 1.5, "likes": 4}))
    with pytest.raises(pydantic.ValidationError) as info:
        PublishedPostUpdate(metrics=row.metrics)
    assert [e["loc"] for e in info.value.errors()] == [("metrics", "views")]


@pytest.mark.parametrize(
    "characteristics",
    [
        {"tone": None},
        {"tone": "friendly"},
        {"formality_level": 7.5},
        {"common_phrases": None, "style": ["a"]},
    ],
)
def test_voice_profile_reads_any_characteristics_object(characteristics: dict[str, Any]) -> None:
    data = {**_ids(), **STAMPS, "name": "n", "is_default": True, "characteristics": characteristics}
    row = VoiceProfile.model_validate(data)
    assert row.characteristics.model_fields_set == set(characteristics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert row.characteristics.model_dump(mode="json") == characteristics


def test_voice_profile_reads_null_elements_of_sample_posts() -> None:
    """``text[]`` elements may be NULL (``ARRAY['a', NULL]``)."""
    data = {**_ids(), **STAMPS, "name": "n", "is_default": True, "characteristics": {}}
    row = VoiceProfile.model_validate({**data, "sample_posts": ["a", None]})
    assert row.sample_posts == ["a", None]


def test_voice_profile_with_fitting_keys_round_trips_after_an_ill_fitting_one_is_fixed() -> None:
    data = {**_ids(), **STAMPS, "name": "n", "is_default": True}
    row = VoiceProfile.model_validate({**data, "characteristics": {"tone": None, "style": "terse", "k": 1}})
    doc = row.characteristics
    doc.tone = ["warm"]
    body = VoiceProfileUpdate(characteristics=doc).to_request_json()
    assert body == {"characteristics": {"tone": ["warm"], "style": "terse", "k": 1}}


@pytest.mark.parametrize(
    "adaptations",
    [
        {"x": {"text": "a", "thread": None}},
        {"linkedin": {"hashtags": ["ai"]}},
        {"linkedin": {"text": "a", "hashtags": None}, "x": "short"},
        {"substack": "body only"},
        {"substack": {"title": "t"}},
        {"x": 5},
    ],
)
def test_content_adaptation_reads_any_adaptations_object(adaptations: dict[str, Any]) -> None:
    data = {**_ids(), **STAMPS, "original_idea": "i", "adaptations": adaptations}
    row = ContentAdaptation.model_validate(data)
    assert row.adaptations.model_fields_set == set(adaptations)


def test_fitting_platforms_stay_typed_when_another_does_not_fit() -> None:
    adaptations = {"x": {"text": "a", "thread": None}, "linkedin": {"text": "b"}, "threads": "t"}
    data = {**_ids(), **STAMPS, "original_idea": "i", "adaptations": adaptations}
    row = ContentAdaptation.model_validate(data)
    assert isinstance(row.adaptations.x, XAdaptation)
    assert row.adaptations.x.text == "a"
    assert row.adaptations.linkedin is not None
    assert row.adaptations.linkedin.text == "b"
    assert row.adaptations.get("threads") == "t"
    row.adaptations.x.thread = ["b"]
    body = ContentAdaptationUpdate(adaptations=row.adaptations).to_request_json()
    assert body == {
        "adaptations": {"x": {"text": "a", "thread": ["b"]}, "linkedin": {"text": "b"}, "threads": "t"}
    }


@pytest.mark.parametrize("count", [2**31, 2**40])
def test_retry_count_fits_a_postgres_integer(count: int) -> None:
    """``retry_count`` is ``integer``: PostgreSQL refuses 2147483648 with "out of range"."""
    scheduled = {"platform_connection_id": uuid.uuid4(), "platform": "x", "content": "c"}
    with pytest.raises(pydantic.ValidationError):
        ScheduledPostCreate(**scheduled, scheduled_for="2031-01-01T00:00:00Z", retry_count=count)
    with pytest.raises(pydantic.ValidationError):
        ScheduledPostUpdate(retry_count=count)
    assert ScheduledPostUpdate(retry_count=2**31 - 1).to_request_json() == {"retry_count": 2**31 - 1}


def test_to_pandas_flattens_fractional_and_huge_counts() -> None:
    metrics = ({"views": 1.5}, {"views": 2, "last_synced": "soon"}, {"likes": 10**20})
    rows = [PublishedPost.model_validate(_post(m)) for m in metrics]
    frame = to_pandas(rows, flatten_metrics=True)
    assert frame["metrics.last_synced"].iloc[1] == "soon"
    assert list(frame["metrics.views"])[:2] == [1.5, 2.0]
    assert str(frame["metrics.views"].dtype) == "Float64"
    assert str(frame["metrics.comments"].dtype) == "Int64"
    assert frame["metrics.likes"].iloc[2] == 10**20


def test_to_pandas_keeps_timestamps_beyond_2262() -> None:
    """PostgreSQL accepts ``scheduled_for`` in 2300; nanosecond timestamps end in April 2262."""
    later = PublishedPost.model_validate({**_post(None), "scheduled_for": "2300-01-01T00:00:00+00:00"})
    now = PublishedPost.model_validate({**_post(None), "scheduled_for": "2025-01-01T00:00:00+02:00"})
    frame = to_pandas([later, now])
    assert str(frame["scheduled_for"].dtype) == "datetime64[us, UTC]"
    assert [t.isoformat() for t in frame["scheduled_for"]] == [
        "2300-01-01T00:00:00+00:00",
        "2024-12-31T22:00:00+00:00",
    ]
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"

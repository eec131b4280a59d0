"""``nexus_sdk.pandas.to_pandas``: typed columns, flattened metrics, masked tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pandas as pd

from nexus_sdk.models import PlatformConnection, PublishedPost
from nexus_sdk.pandas import to_pandas

NOW = datetime(2025, 2, 10, 12, 0, tzinfo=UTC).isoformat()


def post(i: int, metrics: dict[str, object] | None) -> PublishedPost:
    return PublishedPost.model_validate(
        {"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "platform": "x" if i % 2 else "linkedin",
         "status": "published", "content": f"post {i}", "metrics": metrics, "created_at": NOW, "updated_at": NOW,
         "published_at": NOW}
    )  # fmt: skip


def test_dtypes_of_posts() -> None:
    frame = to_pandas([post(1, {"views": 10}), post(2, None)])

    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"
    assert str(frame["scheduled_for"].dtype) == "datetime64[ns, UTC]"  # all null, still a datetime column
    assert frame["platform"].dtype == "category"
    assert frame["status"].dtype == "category"
    assert frame["content"].dtype == "string"
    assert frame["id"].dtype == "string"
    assert frame["metrics"].dtype == object
    assert frame.loc[0, "metrics"] == {"views": 10}
    assert frame.loc[0, "published_at"] == pd.Timestamp(NOW)


def test_flattened_metrics() -> None:
    frame = to_pandas(
        [post(1, {"views": 10, "likes": 2, "engagement_rate": 0.5, "custom": "kept"}), post(2, None)],
        flatten_metrics=True,
    )

    assert "metrics" not in frame.columns
    assert frame["metrics.views"].dtype == "Int64"
    assert frame["metrics.engagement_rate"].dtype == "Float64"
    assert str(frame["metrics.last_synced"].dtype) == "datetime64[ns, UTC]"
    assert frame["metrics.views"].tolist() == [10, pd.NA]
    assert frame["metrics.custom"].tolist()[0] == "kept"


def test_empty_input_keeps_typed_columns() -> None:
    frame = to_pandas([], model=PublishedPost, flatten_metrics=True)

    assert len(frame) == 0
    assert frame["metrics.views"].dtype == "Int64"
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"


def test_tokens_never_reach_the_frame() -> None:
    row = PlatformConnection.model_validate(
        {"id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()), "platform": "x", "platform_user_id": "u",
         "access_token": "very-secret-token", "is_active": True, "created_at": NOW, "updated_at": NOW}
    )  # fmt: skip

    frame = to_pandas([row])

    assert frame.loc[0, "access_token"] == "**********"
    assert "very-secret-token" not in frame.to_csv()
    assert frame["is_active"].dtype == "boolean"

"""Decoding rows pauses the garbage collector for the one pydantic call, and always leaves it as it was."""

from __future__ import annotations

import gc
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from nexus_sdk.models import PublishedPost
from nexus_sdk.models._base import collector_paused, validate_rows


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.enable()
    yield
    if not was_enabled:
        gc.disable()


def _row(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": str(uuid.uuid4()),
        "user_id": str(uuid.uuid4()),
        "platform": "linkedin",
        "status": "published",
        "content": "hello",
        "metrics": {"views": 3, "future_metric": 1},
        "created_at": "2025-02-10T12:00:00+00:00",
        "updated_at": "2025-02-10T12:00:00+00:00",
    }
    row.update(overrides)
    return row


def test_rows_are_typed_models_with_documents_and_unknown_keys() -> None:
    rows = validate_rows(PublishedPost, json.dumps([_row(), _row()]).encode())
    assert [type(row) for row in rows] == [PublishedPost, PublishedPost]
    assert isinstance(rows[0].id, uuid.UUID)
    assert rows[0].metrics is not None
    assert rows[0].metrics.views == 3
    assert rows[0].metrics.model_extra == {"future_metric": 1}


def test_collector_is_off_during_the_call_and_on_after() -> None:
    seen: list[bool] = []

    class Probe(BaseModel):
        value: int

        @field_validator("value")
        @classmethod
        def _record(cls, value: int) -> int:
            seen.append(gc.isenabled())
            return value

    assert [probe.value for probe in validate_rows(Probe, b'[{"value": 1}, {"value": 2}]')] == [1, 2]
    assert seen == [False, False]
    assert gc.isenabled()


def test_collector_is_restored_after_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        validate_rows(PublishedPost, json.dumps([_row(status="no-such-status")]).encode())
    assert gc.isenabled()


def test_a_collector_the_application_disabled_stays_disabled() -> None:
    gc.disable()
    validate_rows(PublishedPost, json.dumps([_row()]).encode())
    assert not gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_concurrent_pauses_resume_only_when_the_last_one_ends() -> None:
    inside = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with collector_paused():
                inside.set()
                release.wait(10)
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert inside.wait(10)
        # A second, shorter pause (another thread decoding) ends while the first is still running.
        validate_rows(PublishedPost, json.dumps([_row()]).encode())
        assert not gc.isenabled(), "the collector came back while another thread was still decoding"
    finally:
        release.set()
        thread.join(10)
    assert not errors
    assert gc.isenabled()

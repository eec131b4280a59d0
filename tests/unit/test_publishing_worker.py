"""The worker without a database: redaction, option checks, sync/async parity, and API faults (respx).

The worker's behaviour against real PostgreSQL (concurrency, crashes, retries, signals) is in
``tests/e2e/test_publishing_workers.py``.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from nexus_sdk import NexusClient, _http
from nexus_sdk._redact import MASK
from nexus_sdk.errors import PermissionDeniedError, ValidationError
from nexus_sdk.worker import arun_worker, redact, run_worker
from tests.unit.test_publishing_wire import REST, SERVICE_KEY, claimed_row, published_row, scheduled_row


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)


@pytest.mark.parametrize(
    ("text", "kept", "removed"),
    [
        ("401: Bearer abc.def-ghi", "401: ", "abc.def-ghi"),
        ("token eyJhbGciOi.eyJzdWIi.c2ln expired", "expired", "eyJhbGciOi.eyJzdWIi.c2ln"),
        ("GET /v2/me?access_token=AQVx9_secret&x=1 failed", "&x=1 failed", "AQVx9_secret"),
        ('{"client_secret": "s3cr3t", "ok": true}', '"ok": true', "s3cr3t"),
        ("key sk_live_" + "a" * 40 + " rejected", "rejected", "a" * 40),
        ("password: hunter2", "password: ", "hunter2"),
    ],
)
def test_redact_removes_credentials(text: str, kept: str, removed: str) -> None:
    clean = redact(text)
    assert removed not in clean
    assert kept in clean
    assert MASK in clean


def test_redact_keeps_ids_and_plain_words_and_removes_known_secrets() -> None:
    post_id = "0ba4b646-4a23-499e-8d3f-ae26a05c8857"
    text = f"post {post_id} rejected by LinkedIn: duplicate content (HTTP 422)"
    assert redact(text) == text
    assert redact("the key is short-ish", ["short-ish"]) == f"the key is {MASK}"


def test_sync_and_async_workers_take_the_same_arguments() -> None:
    sync = inspect.signature(run_worker)
    asynchronous = inspect.signature(arun_worker)
    assert list(sync.parameters) == list(asynchronous.parameters)
    for name, parameter in sync.parameters.items():
        other = asynchronous.parameters[name]
        assert (parameter.kind, parameter.default) == (other.kind, other.default), name
    assert inspect.iscoroutinefunction(arun_worker)
    assert not inspect.iscoroutinefunction(run_worker)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 0},
        {"batch_size": 1001},
        {"lease": 0.5},
        {"max_posts": 0},
        {"poll_interval": -1},
        {"idle_exit": "soon"},
    ],
)
def test_bad_options_are_refused_before_claiming(kwargs: dict[str, Any]) -> None:
    with (
        respx.mock(base_url=REST, assert_all_called=False) as api,
        NexusClient("https://p.supabase.co", SERVICE_KEY) as nx,
    ):
        route = api.post("/rpc/claim_due_posts").respond(200, json=[])
        with pytest.raises(ValidationError):
            run_worker(nx, {"linkedin": lambda post: None}, handle_signals=False, **kwargs)
        with pytest.raises(ValidationError):
            run_worker(nx, {"linkedin": "not callable"}, handle_signals=False)  # type: ignore[dict-item]
        assert not route.called


def test_transient_faults_are_waited_out_and_an_unexpected_publisher_result_is_still_recorded(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nexus_sdk.worker")
    claims = [
        httpx.Response(503),  # a claim is not retried by the client (not idempotent): the loop waits
        httpx.Response(503),
        httpx.Response(503),
        httpx.Response(
            200, json=[claimed_row("w"), {**claimed_row("w"), "id": "44444444-2222-4333-8444-555555555555"}]
        ),
        httpx.Response(200, json=[]),
    ]
    with (
        respx.mock(base_url="https://p.supabase.co/rest/v1", assert_all_called=False) as api,
        NexusClient("https://p.supabase.co", SERVICE_KEY) as nx,
    ):
        claim = api.post("/rpc/claim_due_posts").mock(side_effect=claims)
        fail = api.post("/rpc/fail_scheduled_post").respond(200, json=[scheduled_row(retry_count=1)])
        complete = api.post("/rpc/complete_scheduled_post").mock(
            side_effect=[
                httpx.Response(503),
                httpx.Response(503),
                httpx.Response(503),
                httpx.Response(200, json=[published_row()]),
                httpx.Response(200, json=[published_row()]),
            ]
        )
        # 42: a numeric id where a str was due. The post is live: it must be recorded, not retried (a retry
        # would publish it again).
        results: Iterator[Any] = iter([42, "urn:ok"])
        stop = threading.Event()
        stats = run_worker(
            nx,
            {"LinkedIn": lambda post: next(results)},
            worker_id="w",
            idle_exit=0,
            poll_interval=0,
            stop=stop,
            handle_signals=False,
        )
    assert claim.call_count == 5
    # Errors: three failed claims, and one failed recording (three 503s exhaust the client's own retries).
    assert (stats.errors, stats.claimed, stats.retried, stats.published) == (4, 2, 0, 2)
    assert not fail.called
    first = json.loads(complete.calls[0].request.content)
    assert first["platform_post_id"] == "42"
    assert json.loads(complete.calls.last.request.content)["platform_post_id"] == "urn:ok"
    assert complete.call_count == 5  # the publication is recorded even through a flaky gateway
    assert "a publisher must return a str, a PublishResult or None, not int" in caplog.text
    assert "could not claim due posts" in caplog.text
    assert SERVICE_KEY not in caplog.text


def test_a_refusal_other_than_a_fault_stops_the_worker() -> None:
    with (
        respx.mock(base_url="https://p.supabase.co/rest/v1") as api,
        NexusClient("https://p.supabase.co", SERVICE_KEY) as nx,
    ):
        api.post("/rpc/claim_due_posts").respond(
            403, json={"code": "42501", "message": "permission denied for function claim_due_posts"}
        )
        with pytest.raises(PermissionDeniedError):
            run_worker(nx, {"linkedin": lambda post: None}, handle_signals=False)


def test_a_stopping_worker_releases_unstarted_posts_instead_of_failing_them(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Handing back is not a failed attempt: no ``fail_scheduled_post``, one ``release_scheduled_post`` each."""
    caplog.set_level(logging.INFO, logger="nexus_sdk.worker")
    ids = [f"4444444{n}-2222-4333-8444-555555555555" for n in range(3)]
    with (
        respx.mock(base_url="https://p.supabase.co/rest/v1", assert_all_called=False) as api,
        NexusClient("https://p.supabase.co", SERVICE_KEY) as nx,
    ):
        api.post("/rpc/claim_due_posts").respond(200, json=[{**claimed_row("w"), "id": i} for i in ids])
        api.post("/rpc/complete_scheduled_post").respond(200, json=[published_row()])
        fail = api.post("/rpc/fail_scheduled_post").respond(200, json=[scheduled_row(retry_count=1)])
        release = api.post("/rpc/release_scheduled_post").mock(
            side_effect=[
                httpx.Response(200, json=[scheduled_row(claimed_by="w")]),
                # Taken over meanwhile: nothing to hand back, and nothing to stop the worker for.
                httpx.Response(
                    400,
                    json={"code": "P0001", "message": "claimed by another worker", "details": "claim_lost"},
                ),
            ]
        )
        stop = threading.Event()

        def publish(post: Any) -> str:
            stop.set()
            return "urn:1"

        stats = run_worker(nx, {"linkedin": publish}, worker_id="w", stop=stop, handle_signals=False)
    assert not fail.called
    assert [json.loads(call.request.content) for call in release.calls] == [
        {"post_id": ids[1], "worker_id": "w"},
        {"post_id": ids[2], "worker_id": "w"},
    ]
    assert (stats.claimed, stats.published, stats.released, stats.lost, stats.retried) == (3, 1, 1, 1, 0)
    assert "handing back 2 unstarted post(s): worker stopping" in caplog.text

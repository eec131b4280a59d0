"""Messages about malformed requests reach the stack's log at most once per interval, with a count."""

from __future__ import annotations

import logging

import pytest

from nexus_sdk.local import _limits


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("nexus_sdk.local.http", logging.WARNING, __file__, 1, msg, None, None)


def test_a_repeated_message_passes_once_per_interval_then_says_how_many_were_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(_limits.time, "monotonic", lambda: now[0])
    limiter = _limits.OncePerInterval(frozenset({"Invalid HTTP request received."}), interval=60.0)
    first = _record("Invalid HTTP request received.")
    assert limiter.filter(first)
    assert first.getMessage() == "Invalid HTTP request received."
    for step in range(1234):
        now[0] += 0.01
        assert not limiter.filter(_record("Invalid HTTP request received.")), step
    now[0] = 1061.0
    later = _record("Invalid HTTP request received.")
    assert limiter.filter(later)
    assert later.getMessage() == "Invalid HTTP request received. (1,234 more in the last 61 s)"
    now[0] += 1
    assert not limiter.filter(_record("Invalid HTTP request received."))


def test_other_messages_pass_untouched() -> None:
    limiter = _limits.OncePerInterval(frozenset({"Invalid HTTP request received."}))
    for _ in range(3):
        record = _record("Exception in ASGI application\n")
        assert limiter.filter(record)
        assert record.getMessage() == "Exception in ASGI application\n"

"""An unexpected failure in /rest/v1 is logged by its class, SQLSTATE, method and path only: never the
exception's message or traceback text, which can quote the request's values (tokens, personal data)."""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import httpx
import psycopg.errors
import pytest

from nexus_sdk import local
from nexus_sdk.local import _read

pytestmark = [pytest.mark.db, pytest.mark.e2e]

SECRET = "sk_live_4f9c2a7e1b8d6f3a0c5e9b2d7a1f4c8e"


def _fails_quoting_the_request(*args: Any, **kwargs: Any) -> NoReturn:
    ctx = args[1]
    # What a bug deep in the server could raise: a message quoting what the client sent.
    raise psycopg.errors.DataCorrupted(f"could not read {ctx.request.url} for {ctx.request.headers}")


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_unexpected_error_is_logged_without_the_requests_values(
    stack: local.LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    level: int,
) -> None:
    monkeypatch.setattr(_read, "read", _fails_quoting_the_request)
    caplog.set_level(level, logger="nexus_sdk")
    r = httpx.get(
        f"{stack.rest_url}/users",
        params={"api_token": f"eq.{SECRET}"},
        headers={"apikey": stack.anon_key, "X-Note": SECRET},
        timeout=30,
    )
    assert r.status_code == 500
    assert SECRET not in r.text
    logged = "\n".join(f"{rec.getMessage()}\n{caplog.handler.format(rec)}" for rec in caplog.records)
    assert SECRET not in logged
    assert "GET /rest/v1/users" in logged
    assert "DataCorrupted" in logged
    assert "XX001" in logged
    assert "api_token" not in logged  # not even the query string's names

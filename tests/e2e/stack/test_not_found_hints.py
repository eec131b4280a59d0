"""PGRST205, PGRST202 and PGRST200 carry PostgREST's "Perhaps you meant ..." hint when a close name exists,
and a null hint when none does."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.fixture
def rest(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> Any:
    key = stack.service_role_key
    with httpx.Client(base_url=stack.rest_url, headers={"apikey": key}, timeout=30) as client:
        yield client


@pytest.mark.parametrize(
    ("path", "status", "code", "hint"),
    [
        ("/cf_bookz", 404, "PGRST205", "Perhaps you meant the table 'public.cf_books'"),
        ("/cf_zzzzzzzzzzzzzzzzzzzz", 404, "PGRST205", None),
        (
            "/rpc/cf_plus_onee?num=1",
            404,
            "PGRST202",
            "Perhaps you meant to call the function public.cf_plus_one",
        ),
        ("/rpc/zz_qqqqqqqqqqqqq", 404, "PGRST202", None),
        (
            "/rpc/cf_plus_one?nun=1",
            404,
            "PGRST202",
            "Perhaps you meant to call the function public.cf_plus_one(num)",
        ),
        (
            "/cf_books?select=*,cf_author(*)",
            400,
            "PGRST200",
            "Perhaps you meant 'cf_authors' instead of 'cf_author'.",
        ),
        ("/cf_books?select=*,qqqqqqqqqqqqqqqqqqqqqqqqqqqqqq(*)", 400, "PGRST200", None),
    ],
)
def test_not_found_errors_suggest_a_close_name(
    rest: httpx.Client, path: str, status: int, code: str, hint: str | None
) -> None:
    r = rest.get(path)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text
    assert r.json()["hint"] == hint

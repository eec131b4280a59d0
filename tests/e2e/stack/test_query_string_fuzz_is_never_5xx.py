"""Malformed requests are answered 4xx, never 5xx (a 5xx is retried by clients and hides the mistake).

Hypothesis builds query strings, ``Accept``/``Prefer``/``Range`` headers and bodies out of the pieces of
PostgREST's grammar (operators, parentheses, quotes, JSON arrows, casts, embedding marks) and sends them to a
table, a function and a write; PostgREST answers each with its 4xx (or a 2xx), so must the stack.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import Any, Final

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexus_sdk import local

from .conftest import CONFORMANCE_SEED as SEED

pytestmark = [pytest.mark.db, pytest.mark.e2e]

PIECES: Final = [
    "id", "title", "year", "meta", "summary", "author_id", "cf_authors", "cf_tags", "cf_books", "x", "1", "-1",
    "2001", "0", "99999999999999999999", "eq.", "neq.", "gt.", "in.", "is.", "not.", "like.", "ilike.", "fts.",
    "fts(english).", "plfts.", "cs.", "cd.", "ov.", "sl.", "adj.", "eq(any).", "like(all).", "isdistinct.",
    "match.", "null", "true", "unknown", "(", ")", "{", "}", "[", "]", ",", ".", '"', "\\", "*", "->", "->>",
    "::", "::text", "::int", ":", "!", "!inner", "!left", "...", " ", "%", "&", "=", "asc", "desc",
    "nullsfirst", "or", "and", "not", "é", "\u00a0",
]  # fmt: skip
KEYS: Final = ["select", "order", "or", "and", "not.or", "limit", "offset", "columns", "on_conflict", "id", "title",
               "meta->n", "meta->>n", "cf_authors.name", "cf_authors.order", "cf_tags.limit", "year", "x"]  # fmt: skip
ACCEPTS: Final = [None, "", "*/*", "application/json", "text/csv", "application/vnd.pgrst.object+json",
                  "application/vnd.pgrst.array+json;nulls=stripped", "text/csv;q=0.1, */*;q=0.2", "image/*",
                  "application/vnd.pgrst.plan", ";", "a/b;q=x"]  # fmt: skip
PREFERS: Final = [None, "count=exact", "count=planned", "return=representation", "handling=strict, x=y",
                  "max-affected=1, handling=strict", "timezone=Mars/Base", "missing=default", "tx=rollback"]  # fmt: skip
RANGES: Final = [None, "0-0", "5-1", "0-", "-3", "items=0-1", "a-b", "99999999999999999999-0"]

_text = st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
_params = st.lists(st.tuples(st.sampled_from(KEYS), _text), max_size=5)
_bodies = st.one_of(
    st.just(b""),
    st.sampled_from(
        [
            b"{}",
            b"[]",
            b"[{}]",
            b"null",
            b"5",
            b'"x"',
            b"[1]",
            b"{bad",
            b'{"id": "x"}',
            b'[{"id": 1}, {"title": 2}]',
            b'{"n": 99999999999999999999}',
            b'{"meta": {"a": [1, {"b": null}]}}',
        ]
    ),
    _text.map(str.encode),
)


@pytest.fixture(scope="module")
def client(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> Iterator[httpx.Client]:
    conformance_db.execute(SEED)
    with httpx.Client(base_url=stack.rest_url, headers={"apikey": stack.anon_key}, timeout=30) as c:
        yield c


def _headers(accept: str | None, prefer: str | None, range_: str | None) -> dict[str, str]:
    headers = {"Accept": accept, "Prefer": prefer, "Range": range_}
    return {k: v for k, v in headers.items() if v is not None}


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    target=st.sampled_from(
        ["/cf_books", "/cf_authors", "/rpc/cf_books_below", "/rpc/cf_seven", "/cf%20odd-names"]
    ),
    method=st.sampled_from(["GET", "HEAD", "GET", "POST", "PATCH", "DELETE"]),
    params=_params,
    accept=st.sampled_from(ACCEPTS),
    prefer=st.sampled_from(PREFERS),
    range_=st.sampled_from(RANGES),
    body=_bodies,
    content_type=st.sampled_from(
        [None, "application/json", "text/csv", "application/x-www-form-urlencoded", "text/plain"]
    ),
)
def test_no_request_is_answered_5xx(
    client: httpx.Client,
    target: str,
    method: str,
    params: list[tuple[str, str]],
    accept: str | None,
    prefer: str | None,
    range_: str | None,
    body: bytes,
    content_type: str | None,
) -> None:
    query = urllib.parse.urlencode(params)
    headers = _headers(accept, prefer, range_)
    if content_type is not None:
        headers["Content-Type"] = content_type
    r = client.request(method, f"{target}?{query}", headers=headers, content=body or None)
    assert r.status_code < 500, (method, target, query, headers, body, r.status_code, r.text)

"""Errors carry PostgREST 14's messages and its ``Proxy-Status`` header.

Facts (PostgREST 14's error module and its ErrorSpec/SingularSpec/RpcSpec): every error PostgREST itself
answers (a request error, a schema-cache error, a JWT error, a database error) carries
``Proxy-Status: PostgREST; error=<code>``; PGRST116's message is "Cannot coerce the result to a single JSON
object"; a method other than GET, HEAD and POST on ``/rpc/`` is 405 PGRST101 "Cannot use the <METHOD> method on
RPC". The gateway's own 401 (no or a wrong API key) is not PostgREST's and has no such header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import httpx
import pytest

from nexus_sdk import local

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

OBJECT: Final = {"Accept": "application/vnd.pgrst.object+json"}


def _c(name: str, method: str, path: str, status: int, **kw: Any) -> Case:
    return Case("errors14", name, method, path, status, **kw)


CASES: Final = [
    _c("singular of many", "GET", "/cf_books?select=id", 406, request_headers=OBJECT,
       json={"code": "PGRST116", "details": "The result contains 4 rows", "hint": None,
             "message": "Cannot coerce the result to a single JSON object"},
       headers={"Proxy-Status": "PostgREST; error=PGRST116"}),
    _c("singular of none on a write", "PATCH", "/cf_counters?id=eq.99", 406, body={"n": 1},
       request_headers={**OBJECT, "Prefer": "return=representation"},
       error={"code": "PGRST116", "message": "Cannot coerce the result to a single JSON object",
              "details": "The result contains 0 rows"}),
    _c("unknown table", "GET", "/cf_nothing", 404, error={"code": "PGRST205"},
       headers={"Proxy-Status": "PostgREST; error=PGRST205"}),
    _c("query string", "GET", "/cf_books?id=nope.1", 400, error={"code": "PGRST100"},
       headers={"Proxy-Status": "PostgREST; error=PGRST100"}),
    _c("database error", "GET", "/cf_books?id=eq.abc", 400, error={"code": "22P02"},
       headers={"Proxy-Status": "PostgREST; error=22P02"}),
    _c("RPC method", "DELETE", "/rpc/cf_seven", 405,
       json={"code": "PGRST101", "details": None, "hint": None, "message": "Cannot use the DELETE method on RPC"},
       headers={"Proxy-Status": "PostgREST; error=PGRST101"}),
    _c("RPC PATCH", "PATCH", "/rpc/cf_seven", 405, body={},
       error={"code": "PGRST101", "message": "Cannot use the PATCH method on RPC"}),
    _c("no error, no Proxy-Status", "GET", "/cf_publishers?id=eq.1", 200, absent=("Proxy-Status",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)


def test_the_gateways_401_is_not_postgrests(stack: local.LocalStack) -> None:
    r = httpx.get(f"{stack.rest_url}/cf_books", headers={"apikey": "not-a-key"})
    assert r.status_code == 401
    assert "proxy-status" not in r.headers

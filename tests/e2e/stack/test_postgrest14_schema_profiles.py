"""``Accept-Profile`` and ``Content-Profile`` as PostgREST 14 reads them.

Facts (PostgREST 14's ApiRequest.getSchema and Response.contentTypeHeaders, MultipleSchemaSpec): POST,
PATCH, PUT and DELETE name their schema in ``Content-Profile``, other methods in ``Accept-Profile``; the other
header is not read. A schema that is not exposed is 406 PGRST106. A response with a body to a request that named
its schema carries ``Content-Profile: <schema>`` (supabase-js names it on every request).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

REPR: Final = {"Prefer": "return=representation"}


def _c(name: str, method: str, path: str, status: int, **kw: Any) -> Case:
    return Case("profile14", name, method, path, status, **kw)


CASES: Final = [
    _c("a read names its schema", "GET", "/cf_publishers?id=eq.1", 200, request_headers={"Accept-Profile": "public"},
       json=[{"id": 1, "name": "Acme"}], headers={"Content-Profile": "public"}),
    _c("a read does not read Content-Profile", "GET", "/cf_publishers?id=eq.1", 200,
       request_headers={"Content-Profile": "private"}, json=[{"id": 1, "name": "Acme"}], absent=("Content-Profile",)),
    _c("a write does not read Accept-Profile", "POST", "/cf_counters", 201, body={"id": 50},
       request_headers={**REPR, "Accept-Profile": "private"}, json=[{"id": 50, "n": 0, "label": "dflt"}]),
    _c("a write names its schema", "POST", "/cf_counters", 201, body={"id": 51},
       request_headers={**REPR, "Content-Profile": "public"}, headers={"Content-Profile": "public"}),
    _c("a write to another schema", "PATCH", "/cf_counters?id=eq.1", 406, body={"n": 1},
       request_headers={"Content-Profile": "private"},
       json={"code": "PGRST106", "details": None, "hint": "Only the following schemas are exposed: public",
             "message": "Invalid schema: private"}),
    _c("no body, no Content-Profile", "DELETE", "/cf_counters?id=eq.3", 204,
       request_headers={"Content-Profile": "public"}, absent=("Content-Profile",)),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

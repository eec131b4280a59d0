"""Write bodies are read as PostgREST 14 reads them.

Facts (PostgREST 14's ApiRequest.Payload and QueryBuilder modules, InsertSpec/UpdateSpec): a JSON body that
does not parse is 400 PGRST102 "Empty or invalid json" with null details (the parser's message is dropped); an
array whose first element is not an object, or whose objects differ in keys, is "All object keys must match"
(null details); any other JSON value (a number, a string, null) is taken as an empty array, so a POST inserts
nothing (201, ``[]``); ``application/x-www-form-urlencoded`` is one object of strings; ``text/csv`` is read on
PATCH too; any other Content-Type is 400 PGRST102 "Content-Type not acceptable: <type>". A PATCH takes its
values from the first object of an array, and one whose payload names no column (``{}``, ``[]``, ``[{}]``)
updates nothing, without needing a filter: 204 (200 ``[]`` with return=representation), ``Content-Range: */*``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import psycopg
import pytest

from nexus_sdk import local

from .conftest import CONFORMANCE_SEED as SEED
from .postgrest_cases import Case, check, send

pytestmark = [pytest.mark.db, pytest.mark.e2e]

REPR: Final = {"Prefer": "return=representation"}


def _c(name: str, method: str, path: str, status: int, **kw: Any) -> Case:
    return Case("payload14", name, method, path, status, **kw)


def _102(message: str) -> dict[str, Any]:
    return {"code": "PGRST102", "details": None, "hint": None, "message": message}


CASES: Final = [
    _c("invalid JSON", "POST", "/cf_counters", 400, content="{bad", json=_102("Empty or invalid json"),
       request_headers={"Content-Type": "application/json"}),
    _c("an array of scalars", "POST", "/cf_counters", 400, body=[1, 2], json=_102("All object keys must match")),
    _c("objects with other keys", "POST", "/cf_counters", 400, body=[{"id": 8}, {"id": 9, "n": 1}],
       json=_102("All object keys must match")),
    _c("a scalar inserts nothing", "POST", "/cf_counters", 201, body=5, request_headers=REPR, json=[]),
    _c("null inserts nothing", "POST", "/cf_counters", 201, body=None, request_headers=REPR, json=[]),
    _c("form body", "POST", "/cf_counters", 201, content="id=8&label=a+b",
       request_headers={**REPR, "Content-Type": "application/x-www-form-urlencoded"},
       json=[{"id": 8, "n": 0, "label": "a b"}]),
    _c("text/plain is not read", "POST", "/cf_counters", 400, content="x",
       request_headers={"Content-Type": "text/plain"}, json=_102("Content-Type not acceptable: text/plain")),
    _c("an unknown type is named as sent", "POST", "/cf_counters", 400, content="<x/>",
       request_headers={"Content-Type": "application/xml; charset=utf-8"},
       json=_102("Content-Type not acceptable: application/xml; charset=utf-8")),
    _c("PATCH with an array", "PATCH", "/cf_counters?id=eq.2", 200, body=[{"n": 6}], request_headers=REPR,
       json=[{"id": 2, "n": 6, "label": "two"}]),
    _c("PATCH with CSV", "PATCH", "/cf_counters?id=eq.2", 200, content="n,label\n7,NULL",
       request_headers={**REPR, "Content-Type": "text/csv"}, json=[{"id": 2, "n": 7, "label": None}]),
    _c("PATCH {} updates nothing", "PATCH", "/cf_counters", 204, body={}, text="",
       headers={"Content-Range": "*/*"}, absent=("Content-Type",)),
    _c("PATCH [] updates nothing", "PATCH", "/cf_counters?id=eq.1", 204, body=[], text="",
       headers={"Content-Range": "*/*"}),
    _c("PATCH [{}] updates nothing", "PATCH", "/cf_counters", 204, body=[{}], text=""),
    _c("PATCH {} returns no row", "PATCH", "/cf_counters?select=id", 200, body={}, request_headers=REPR,
       text="[]", headers={"Content-Range": "*/*", "Preference-Applied": "return=representation"}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)


def test_an_empty_patch_changes_no_row(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    conformance_db.execute(SEED)
    before = conformance_db.execute("SELECT * FROM public.cf_counters ORDER BY id").fetchall()
    for case in CASES:
        if case.method == "PATCH" and "nothing" in case.name:
            check(case, send(stack, case))
    assert conformance_db.execute("SELECT * FROM public.cf_counters ORDER BY id").fetchall() == before

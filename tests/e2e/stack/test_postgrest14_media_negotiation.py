"""``Accept`` is negotiated as PostgREST 14 does it, ``nulls=stripped`` included.

Facts (PostgREST 14's MediaType and Plan.Negotiate modules, NullsStripSpec; WAI's ``parseHttpAccept``): the
``Accept`` entries are tried best first, by ``q`` and then by specificity (more parameters first, ``*``
counting against), so ``text/csv;q=0.5, application/json`` is JSON and ``*/*, text/csv`` is CSV;
``application/vnd.pgrst.array+json`` is JSON; ``application/*`` is no type PostgREST answers (406); the 406
message names each entry as PostgREST knows it (a plan type with its ``for="..."``); an empty ``Accept`` offers
nothing (406). ``application/vnd.pgrst.array+json;nulls=stripped`` and ``...object+json;nulls=stripped`` answer
the body without null object fields (``json_strip_nulls``, nested objects included) with that Content-Type,
on reads and on writes' representations (supabase-js ``stripNulls()``, postgrest-py ``strip_nulls()``).
``text/csv`` is answered for the rows of a function too (its media handlers are for any relation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

JSON_TYPE: Final = {"Content-Type": "application/json; charset=utf-8"}
CSV_TYPE: Final = {"Content-Type": "text/csv; charset=utf-8"}
ARRAY_STRIP: Final = {"Accept": "application/vnd.pgrst.array+json;nulls=stripped"}
OBJECT_STRIP: Final = {"Accept": "application/vnd.pgrst.object+json;nulls=stripped"}
REPR: Final = {"Prefer": "return=representation"}


def _c(name: str, path: str, status: int, accept: str, method: str = "GET", **kw: Any) -> Case:
    headers = {"Accept": accept, **kw.pop("request_headers", {})}
    return Case("media14", name, method, path, status, request_headers=headers, **kw)


def _406(offered: str) -> dict[str, Any]:
    return {"code": "PGRST107", "details": None, "hint": None,
            "message": f"None of these media types are available: {offered}"}  # fmt: skip


CASES: Final = [
    _c("vnd.pgrst.array+json is JSON", "/cf_books?select=id&id=eq.1", 200, "application/vnd.pgrst.array+json",
       json=[{"id": 1}], headers=JSON_TYPE),
    _c("higher q first", "/cf_books?select=id&id=eq.1", 200, "text/csv;q=0.5, application/json",
       json=[{"id": 1}], headers=JSON_TYPE),
    _c("more specific first", "/cf_books?select=id&id=eq.1", 200, "*/*, text/csv", text="id\n1",
       headers=CSV_TYPE),
    _c("application/* is not answered", "/cf_books?select=id", 406, "application/*", json=_406("application/*")),
    _c("406 names the entries best first", "/cf_books?select=id", 406,
       "text/plain, image/png;q=0.2, application/geo+json",
       json=_406("text/plain, application/geo+json, image/png")),
    _c("a plan type is named with its target", "/cf_books?select=id", 406,
       "application/vnd.pgrst.plan+text; options=", json=_406('application/vnd.pgrst.plan+text; for="application/json"')),
    _c("an empty Accept offers nothing", "/cf_books?select=id", 406, "", json=_406("")),
    _c("nulls stripped, nested too", "/cf_books?select=id,year,author:cf_authors!cf_books_author_fk(name,publisher_id)&id=gt.2&order=id",
       200, ARRAY_STRIP["Accept"],
       text='[{"id":3,"year":2010,"author":{"name":"Bob","publisher_id":1}},{"id":4,"author":{"name":"Cy","publisher_id":2}}]',
       headers={"Content-Type": "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"}),
    _c("the short vendor name", "/cf_books?select=id,year&id=eq.4", 200,
       "application/vnd.pgrst.array;nulls=stripped", json=[{"id": 4}]),
    _c("one object, nulls stripped", "/cf_books?select=id,year,summary&id=eq.4", 200, OBJECT_STRIP["Accept"],
       json={"id": 4}, headers={"Content-Type": "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"}),
    _c("one object of many", "/cf_books?select=id", 406, OBJECT_STRIP["Accept"],
       error={"code": "PGRST116", "details": "The result contains 4 rows"}),
    _c("insert representation", "/cf_counters?select=id,label", 201, ARRAY_STRIP["Accept"], method="POST",
       body={"id": 7, "label": None}, request_headers=REPR, json=[{"id": 7}]),
    _c("update representation", "/cf_counters?id=eq.1", 200, ARRAY_STRIP["Accept"], method="PATCH",
       body={"label": None}, request_headers=REPR, json=[{"id": 1, "n": 0}]),
    _c("a function's rows as CSV", "/rpc/cf_books_below?id=3&select=id,title", 200, "text/csv",
       text="id,title\n1,Alpha\n2,Beta", headers=CSV_TYPE),
    _c("a function's rows", "/rpc/cf_books_below?id=5&select=id,year&id=gt.3", 200, ARRAY_STRIP["Accept"],
       json=[{"id": 4}]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

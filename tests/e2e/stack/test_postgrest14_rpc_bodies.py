"""``POST /rpc/`` bodies and overload errors as PostgREST 14 answers them.

Facts (PostgREST 14's Plan.findProc, ApiRequest.Payload, Error modules; RpcSpec): a JSON array's first object
gives the arguments (its objects must have the same keys); any other JSON value gives none;
``application/x-www-form-urlencoded`` arguments are text read by each parameter's type; ``text/plain``,
``text/xml`` and ``application/octet-stream`` bodies look only for a function with one unnamed parameter of
that type (404 PGRST202 "Could not find the function s.f in the schema cache", details "... with a single unnamed
text parameter ...", no hint); any other Content-Type is 400 PGRST102 "Content-Type not acceptable: <type>".
A ``void`` result is 204 without a body but with the headers of its one row (``Content-Range: 0-0/*``,
Response.hs: the range header is added before the void check). PGRST203 names every candidate with its parameters: ``s.f(arg => integer), s.f(arg => text, num => integer)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import psycopg
import pytest

from nexus_sdk import local

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

OVERLOADS: Final = """
CREATE OR REPLACE FUNCTION public.cf14_same_args(arg integer) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'int' $$;
CREATE OR REPLACE FUNCTION public.cf14_same_args(arg text, num integer DEFAULT 0) RETURNS text LANGUAGE sql
  IMMUTABLE AS $$ SELECT 'text' $$;
GRANT EXECUTE ON FUNCTION public.cf14_same_args(integer), public.cf14_same_args(text, integer) TO anon;
"""


def _c(name: str, path: str, status: int, **kw: Any) -> Case:
    return Case("rpc14", name, "POST", path, status, **kw)


CASES: Final = [
    _c("array: the first object's arguments", "/rpc/cf_plus_one", 200, body=[{"num": 1}, {"num": 5}],
       json={"num_plus_one": 2}),
    _c("array of other keys", "/rpc/cf_plus_one", 400, body=[{"num": 1}, {"x": 5}],
       json={"code": "PGRST102", "details": None, "hint": None, "message": "All object keys must match"}),
    _c("a scalar body gives no arguments", "/rpc/cf_seven", 200, body=5, json=7),
    _c("form arguments", "/rpc/cf_plus_one", 200, content="num=41",
       request_headers={"Content-Type": "application/x-www-form-urlencoded"}, json={"num_plus_one": 42}),
    _c("text/plain looks for one unnamed text parameter", "/rpc/cf_seven", 404, content="x",
       request_headers={"Content-Type": "text/plain"},
       json={"code": "PGRST202", "hint": None,
             "message": "Could not find the function public.cf_seven in the schema cache",
             "details": "Searched for the function public.cf_seven with a single unnamed text parameter, "
                        "but no matches were found in the schema cache."}),
    _c("another type is refused", "/rpc/cf_seven", 400, content="<a/>",
       request_headers={"Content-Type": "application/xml"},
       json={"code": "PGRST102", "details": None, "hint": None,
             "message": "Content-Type not acceptable: application/xml"}),
    _c("void: no body, a one-row Content-Range", "/rpc/cf_noop", 204, body={}, text="",
       headers={"Content-Range": "0-0/*"}, absent=("Content-Type",)),
    _c("void, counted", "/rpc/cf_noop", 204, body={}, text="", request_headers={"Prefer": "count=exact"},
       headers={"Content-Range": "0-0/1", "Preference-Applied": "count=exact"}),
    _c("ambiguous overloads are listed", "/rpc/cf14_same_args", 300, body={"arg": "1"},
       json={"code": "PGRST203", "details": None,
             "hint": "Try renaming the parameters or the function itself in the database so function "
                     "overloading can be resolved",
             "message": "Could not choose the best candidate function between: "
                        "public.cf14_same_args(arg => integer), public.cf14_same_args(arg => text, num => integer)"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def overloads(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> None:
    conformance_db.execute(OVERLOADS)
    stack.reload_schema()


@pytest.mark.usefixtures("overloads")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

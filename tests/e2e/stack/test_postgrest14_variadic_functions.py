"""Functions with a ``VARIADIC`` parameter are called as PostgREST 14 calls them (RpcSpec's VARIADIC cases).

Facts (PostgREST 14's Plan.CallPlan and QueryBuilder): the argument is passed as ``VARIADIC name := array``; a
JSON body gives the array; on GET (and in a form body) every value of the repeated parameter becomes one element
(one value: an array of one); other repeated parameters keep their last value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import psycopg
import pytest

from nexus_sdk import local

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

FUNCTIONS: Final = """
CREATE OR REPLACE FUNCTION public.cf14_variadic(VARIADIC v text[] DEFAULT '{}') RETURNS text[]
  LANGUAGE sql IMMUTABLE AS 'SELECT v';
CREATE OR REPLACE FUNCTION public.cf14_hello(name text, VARIADIC v text[] DEFAULT '{}') RETURNS text
  LANGUAGE sql IMMUTABLE AS $$ SELECT 'Hello, ' || name $$;
GRANT EXECUTE ON FUNCTION public.cf14_variadic(text[]), public.cf14_hello(text, text[]) TO anon;
"""
FORM: Final = {"Content-Type": "application/x-www-form-urlencoded"}


def _c(name: str, method: str, path: str, **kw: Any) -> Case:
    return Case("variadic14", name, method, path, 200, **kw)


CASES: Final = [
    _c("a JSON array", "POST", "/rpc/cf14_variadic", body={"v": ["hi", "hello", "there"]},
       json=["hi", "hello", "there"]),
    _c("no value: the default", "GET", "/rpc/cf14_variadic", json=[]),
    _c("one value", "GET", "/rpc/cf14_variadic?v=hi", json=["hi"]),
    _c("repeated values", "GET", "/rpc/cf14_variadic?v=hi&v=there", json=["hi", "there"]),
    _c("a form of one value", "POST", "/rpc/cf14_variadic", content="v=hi", request_headers=FORM, json=["hi"]),
    _c("a form of repeated values", "POST", "/rpc/cf14_variadic", content="v=hi&v=there", request_headers=FORM,
       json=["hi", "there"]),
    _c("other repeated parameters keep the last", "GET", "/rpc/cf14_hello?name=ignored&name=world&v=unused",
       json="Hello, world"),
]  # fmt: skip


@pytest.fixture(scope="module")
def functions(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> None:
    conformance_db.execute(FUNCTIONS)
    stack.reload_schema()


@pytest.mark.usefixtures("functions")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

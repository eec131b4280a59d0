"""Resource paths, the ``Range`` header and ``Content-Location`` as PostgREST 14 answers them.

Facts (PostgREST 14's ApiRequest and QueryParams modules, QuerySpec/ErrorSpec; the HTTP package's
``urlEncode``): a path is a table (one segment), ``rpc/<function>`` (two) or else 404 PGRST125 "Invalid path
specified in request URL", so a trailing ``/`` (an empty last segment) is PGRST125 too; the ``Range`` header
is read on GET only (HEAD ignores it) and only as ``^([0-9]+)-([0-9]*)$`` (``items=0-9`` is ignored); ``Content-Location`` is the path and the parameters sorted by name,
each byte outside ``A-Za-z0-9-_.~`` as ``%`` and two upper-case hex digits, the bytes of a non-ASCII
character taken as characters and encoded as UTF-8 again (``é`` is ``%C3%83%C2%A9``). ``OPTIONS`` answers
``Allow`` (OptionsSpec): a relation's methods as it takes them (``pg_relation_is_updatable`` for a view; ``PUT``
with a primary key), ``OPTIONS,POST`` for a volatile function, ``OPTIONS,GET,HEAD,POST`` for another, and
``OPTIONS,GET,HEAD`` at the root.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import psycopg
import pytest

from nexus_sdk import local

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

VIEWS: Final = """
CREATE OR REPLACE VIEW public.cf14_book_count AS SELECT count(*) AS n FROM public.cf_books;
GRANT SELECT ON public.cf14_book_count TO anon;
"""
PGRST125: Final = {
    "code": "PGRST125",
    "details": None,
    "hint": None,
    "message": "Invalid path specified in request URL",
}


def _c(name: str, method: str, path: str, status: int, **kw: Any) -> Case:
    return Case("paths14", name, method, path, status, **kw)


CASES: Final = [
    _c("a trailing slash", "GET", "/cf_publishers/", 404, json=PGRST125,
       headers={"Proxy-Status": "PostgREST; error=PGRST125"}),
    _c("a nested path", "GET", "/cf_publishers/1", 404, json=PGRST125),
    _c("below a function", "GET", "/rpc/cf_seven/x", 404, json=PGRST125),
    _c("Range on GET", "GET", "/cf_publishers?select=id&order=id", 200, request_headers={"Range": "0-0"},
       json=[{"id": 1}], headers={"Content-Range": "0-0/*"}),
    _c("a Range of another form is ignored", "GET", "/cf_publishers?select=id&order=id", 200,
       request_headers={"Range": "items=0-0"}, json=[{"id": 1}, {"id": 2}, {"id": 3}],
       headers={"Content-Range": "0-2/*"}),
    _c("Range on HEAD is ignored", "HEAD", "/cf_publishers?select=id", 200, request_headers={"Range": "0-0"},
       text="", headers={"Content-Range": "0-2/*"}),
    _c("Content-Location escapes in upper case", "GET", "/cf_publishers?select=id,name&id=in.(1,2)&order=id", 200,
       json=[{"id": 1, "name": "Acme"}, {"id": 2, "name": "Globex"}],
       headers={"Content-Location": "/cf_publishers?id=in.%281%2C2%29&order=id&select=id%2Cname"}),
    _c("Content-Location of a control character", "GET", "/cf_publishers?select=id&name=eq.%0A", 200, json=[],
       headers={"Content-Location": "/cf_publishers?name=eq.%0A&select=id"}),
    _c("Content-Location of a non-ASCII value", "GET", "/cf_publishers?select=id&name=eq.%C3%A9", 200, json=[],
       headers={"Content-Location": "/cf_publishers?name=eq.%C3%83%C2%A9&select=id"}),
    _c("OPTIONS on a table", "OPTIONS", "/cf_books", 200, headers={"Allow": "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"}),
    _c("OPTIONS on a table without a key", "OPTIONS", "/cf_log", 200,
       headers={"Allow": "OPTIONS,GET,HEAD,POST,PATCH,DELETE"}),
    _c("OPTIONS on a view that takes no write", "OPTIONS", "/cf14_book_count", 200,
       headers={"Allow": "OPTIONS,GET,HEAD"}),
    _c("OPTIONS on a volatile function", "OPTIONS", "/rpc/cf_noop", 200, headers={"Allow": "OPTIONS,POST"}),
    _c("OPTIONS on an immutable function", "OPTIONS", "/rpc/cf_seven", 200,
       headers={"Allow": "OPTIONS,GET,HEAD,POST"}),
    _c("OPTIONS on no function", "OPTIONS", "/rpc/cf_nothing", 404, error={"code": "PGRST202"}),
    _c("OPTIONS at the root", "OPTIONS", "/", 200, headers={"Allow": "OPTIONS,GET,HEAD"}),
]  # fmt: skip


@pytest.fixture(scope="module")
def views(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> None:
    conformance_db.execute(VIEWS)
    stack.reload_schema()


@pytest.mark.usefixtures("views")
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

"""Query-string corners PostgREST 14's parser answers in its own way.

Facts (PostgREST 14's ApiRequest.QueryParams, AndOrParamsSpec): ``or=``/``and=`` values are parsed with the
operator in front (``or`` + ``()``), so an error's column counts it and ``?or=id.eq.1`` reads as a filter on a
column ``orid``; an empty tree is "unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator
(not) or logic operator (and, or)". The parsers of ``select``, filter keys, ``in.(...)``, ``is.`` values and
logic trees stop where their grammar ends and do not require the end of the text, so what follows is ignored.
Its ``order`` errors are parsec's (the doctests of ``pOrder``: the column of the word that failed, its first
differing character). An ``order`` key's embedding path is read as a filter key's: ``rel!hint.order`` (as postgrest-py sends
``order(..., foreign_table="rel!hint")``) is the top level's order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import pytest

from .postgrest_cases import Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]

TREE_START: Final = 'unexpected ")" expecting field name (* or [a..z0..9_$]), negation operator (not) or logic operator (and, or)'


def _c(name: str, path: str, status: int, **kw: Any) -> Case:
    return Case("grammar14", name, "GET", path, status, **kw)


CASES: Final = [
    _c("empty or", "/cf_books?or=()", 400,
       json={"code": "PGRST100", "details": TREE_START, "hint": None,
             "message": '"failed to parse logic tree (())" (line 1, column 4)'}),
    _c("empty not.or", "/cf_books?not.or=()", 400,
       error={"details": TREE_START, "message": '"failed to parse logic tree (())" (line 1, column 8)'}),
    _c("a trailing comma", "/cf_books?and=(id.eq.1,)", 400,
       error={"details": TREE_START, "message": '"failed to parse logic tree ((id.eq.1,))" (line 1, column 13)'}),
    _c("or without parentheses is a filter on orid", "/cf_books?or=id.eq.1", 400,
       error={"code": "42703", "message": "column cf_books.orid does not exist"}),
    _c("after a logic tree", "/cf_books?select=id&or=(id.eq.1))", 200, json=[{"id": 1}]),
    _c("after an in list", "/cf_books?select=id&id=in.(1,2)x&order=id", 200, json=[{"id": 1}, {"id": 2}]),
    _c("after an is value", "/cf_books?select=id&year=is.nullx", 200, json=[{"id": 4}]),
    _c("after select", "/cf_books?select=id)&id=eq.1", 200, json=[{"id": 1}]),
    _c("after a filter key", "/cf_books?select=id&id)=eq.1", 200, json=[{"id": 1}]),
    _c("order key with a hint", "/cf_authors?select=id,cf_books!cf_books_author_fk(id)"
       "&cf_books!cf_books_author_fk.order=id.desc&limit=1", 200, json=[{"id": 4, "cf_books": []}]),
    _c("an unknown order modifier", "/cf_books?order=id.ac", 400,
       json={"code": "PGRST100", "hint": None, "message": '"failed to parse order (id.ac)" (line 1, column 4)',
             "details": 'unexpected "c" expecting "asc", "desc", "nullsfirst" or "nullslast"'}),
    _c("an unknown nulls modifier", "/cf_books?order=id.asc.nlsfst", 400,
       error={"message": '"failed to parse order (id.asc.nlsfst)" (line 1, column 8)',
              "details": 'unexpected "l" expecting "nullsfirst" or "nullslast"'}),
    _c("text after a modifier", "/cf_books?order=id.descc", 400,
       error={"message": '"failed to parse order (id.descc)" (line 1, column 8)',
              "details": "unexpected 'c' expecting delimiter (.), \",\" or end of input"}),
    _c("text after nulls", "/cf_books?order=id.nullslasttt", 400,
       error={"message": '"failed to parse order (id.nullslasttt)" (line 1, column 13)',
              "details": "unexpected 't' expecting \",\" or end of input"}),
    _c("a related order of two columns", "/cf_books?order=cf_authors(name,id)", 400,
       error={"message": '"failed to parse order (cf_authors(name,id))" (line 1, column 11)',
              "details": "unexpected '(' expecting letter, digit, \"-\", \"->>\", \"->\", delimiter (.), \",\" "
                         "or end of input"}),
    _c("a character no column name takes", "/cf_books?select=id,cf_tags(label[])", 400,
       error={"message": '"failed to parse select parameter (id,cf_tags(label[]))" (line 1, column 17)',
              "details": "unexpected '[' expecting letter, digit, \"-\", \"->>\", \"->\", \"::\", \".\", "
                         "\")\", \",\" or end of input"}),
    _c("a hint without an embedding", "/cf_books?select=title!x", 400,
       error={"message": '"failed to parse select parameter (title!x)" (line 1, column 6)'}),
    _c("a cast without a type", "/cf_books?select=title::", 400,
       error={"details": "unexpected end of input expecting letter or digit"}),
    _c("a negative index that is no number", "/cf_books?select=meta->>-1x", 400,
       error={"message": '"failed to parse select parameter (meta->>-1x)" (line 1, column 10)',
              "details": "unexpected 'x' expecting digit, \"->\", \"::\", \".\", \",\" or end of input"}),
    _c("a nested tree of an unknown operator", "/cf_books?and=(ord(id.eq.1),id.eq.2)", 400,
       error={"message": '"failed to parse logic tree ((ord(id.eq.1),id.eq.2))" (line 1, column 7)',
              "details": 'unexpected "d" expecting "("'}),
    _c("not. before no tree", "/cf_books?or=(id.eq.1,not.xor(id.eq.2))", 400,
       error={"details": 'unexpected "x" expecting logic operator (and, or)'}),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_answers_as_postgrest14(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)

"""PostgREST's answers, as a table: each case is a request and the status, body and headers PostgREST 14
gives it on the schema of conformance_schema.sql with the rows of conformance_seed.sql.

The facts come from PostgREST's documentation and its test suite; the cases, names and data are ours.
``feature`` groups the cases as docs/local-stack.md lists what the stack claims. :func:`send` sends a case's
request to a stack and :func:`check` asserts PostgREST's answer (the ``answers_as_postgrest`` fixture does both).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import httpx

if TYPE_CHECKING:
    from nexus_sdk import local

ALICE: Final = "aaaaaaaa-0000-4000-8000-000000000001"
BOB: Final = "aaaaaaaa-0000-4000-8000-000000000002"

_ABSENT: Final = object()


@dataclass(frozen=True)
class Case:
    """One request and PostgREST's answer to it."""

    feature: str
    name: str
    method: str
    path: str
    """Path and query string under /rest/v1, percent-encoded where a character would be misread."""
    status: int
    json: Any = _ABSENT
    """The exact JSON body (lists in order), unless absent."""
    error: dict[str, Any] | None = None
    """Keys the error body must have with these values."""
    text: str | None = None
    """The exact body text."""
    headers: dict[str, str] = field(default_factory=dict)
    """Response headers that must have exactly these values."""
    absent: tuple[str, ...] = ()
    """Response headers that must not be sent."""
    request_headers: dict[str, str] = field(default_factory=dict)
    body: Any = _ABSENT
    """A JSON request body."""
    content: str | None = None
    """A request body sent as written (declare its ``Content-Type`` in ``request_headers``)."""
    role: str = "anon"
    """``anon``, ``service``, ``alice`` or ``bob`` (authenticated users, by JWT ``sub``)."""

    @property
    def id(self) -> str:
        return f"{self.feature}:{self.name}"

    @property
    def has_json(self) -> bool:
        return self.json is not _ABSENT

    @property
    def has_body(self) -> bool:
        return self.body is not _ABSENT


def _c(feature: str, name: str, method: str, path: str, status: int, **kw: Any) -> Case:
    return Case(feature, name, method, path, status, **kw)


def client_as(stack: local.LocalStack, role: str) -> httpx.Client:
    """A client of the stack's /rest/v1 as ``role``: ``anon``, ``service``, ``alice`` or ``bob``."""
    headers = {"apikey": stack.anon_key}
    if role == "service":
        headers["Authorization"] = f"Bearer {stack.service_role_key}"
    elif role in ("alice", "bob"):
        headers["Authorization"] = f"Bearer {stack.mint_token(ALICE if role == 'alice' else BOB)}"
    return httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30)


def send(stack: local.LocalStack, case: Case) -> httpx.Response:
    """The case's request, sent as written (its path is not re-encoded)."""
    with client_as(stack, case.role) as client:
        headers = dict(case.request_headers)
        content = None
        if case.content is not None:
            content = case.content.encode()
        elif case.has_body:
            content = json.dumps(case.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return client.request(case.method, case.path, headers=headers, content=content)


def check(case: Case, r: httpx.Response) -> None:
    """Assert PostgREST's answer: status, body, headers."""
    assert r.status_code == case.status, r.text
    if case.has_json:
        assert r.json() == case.json
    if case.error is not None:
        body = r.json()
        assert set(body) == {"code", "details", "hint", "message"}, body
        for key, value in case.error.items():
            assert body[key] == value, (key, body)
    if case.text is not None:
        assert r.text == case.text
    for name, value in case.headers.items():
        assert r.headers.get(name) == value, (name, dict(r.headers))
    for name in case.absent:
        assert name not in r.headers, (name, dict(r.headers))


REPR = {"Prefer": "return=representation"}
CSV_OUT = {"Accept": "text/csv"}
CSV_IN = {"Content-Type": "text/csv"}
CSV_TYPE = {"Content-Type": "text/csv; charset=utf-8"}

CASES: Final[list[Case]] = [
    # -- select, filters, order: the basics ------------------------------------------------------------
    _c("read", "columns", "GET", "/cf_publishers?select=id,name&order=id", 200,
       json=[{"id": 1, "name": "Acme"}, {"id": 2, "name": "Globex"}, {"id": 3, "name": "Initech"}],
       headers={"Content-Range": "0-2/*"}),
    _c("read", "alias and cast", "GET", "/cf_books?select=label:title,y:year::text&id=eq.1", 200,
       json=[{"label": "Alpha", "y": "2001"}]),
    _c("read", "eq neq", "GET", "/cf_books?select=id&year=neq.2001&title=neq.Delta&order=id", 200,
       json=[{"id": 2}, {"id": 3}]),
    _c("read", "gt lte", "GET", "/cf_books?select=id&year=gt.2001&year=lte.2010&order=id", 200,
       json=[{"id": 2}, {"id": 3}]),
    _c("read", "like star", "GET", "/cf_books?select=id&title=like.*ta&order=id", 200,
       json=[{"id": 2}, {"id": 4}]),
    _c("read", "ilike", "GET", "/cf_books?select=id&title=ilike.ALPHA", 200, json=[{"id": 1}]),
    _c("read", "match", "GET", "/cf_books?select=id&title=match.^[AB]&order=id", 200,
       json=[{"id": 1}, {"id": 2}]),
    _c("read", "is null", "GET", "/cf_books?select=id&year=is.null", 200, json=[{"id": 4}]),
    _c("read", "not is null", "GET", "/cf_books?select=id&editor_id=not.is.null&order=id", 200,
       json=[{"id": 1}, {"id": 3}]),
    _c("read", "isdistinct", "GET", "/cf_books?select=id&editor_id=isdistinct.1&order=id", 200,
       json=[{"id": 1}, {"id": 2}, {"id": 4}]),
    _c("read", "in quoted", "GET", '/cf_books?select=id&title=in.(Alpha,"Gamma")&order=id', 200,
       json=[{"id": 1}, {"id": 3}]),
    _c("read", "cs on jsonb", "GET", '/cf_books?select=id&meta=cs.{"n":2}', 200, json=[{"id": 2}]),
    _c("read", "or", "GET", "/cf_books?select=id&or=(id.eq.1,year.gt.2005)&order=id", 200,
       json=[{"id": 1}, {"id": 3}]),
    _c("read", "not.and", "GET", "/cf_books?select=id&not.and=(id.gt.1,id.lt.4)&order=id", 200,
       json=[{"id": 1}, {"id": 4}]),
    _c("read", "eq(any)", "GET", "/cf_books?select=id&id=eq(any).{1,3}&order=id", 200,
       json=[{"id": 1}, {"id": 3}]),
    _c("read", "like(all)", "GET", "/cf_books?select=id&title=like(all).{*a*,*l*}&order=id", 200,
       json=[{"id": 1}, {"id": 4}]),
    _c("read", "order nullsfirst", "GET", "/cf_books?select=id&order=year.desc.nullsfirst", 200,
       json=[{"id": 4}, {"id": 3}, {"id": 2}, {"id": 1}]),
    _c("read", "range header", "GET", "/cf_books?select=id&order=id", 206,
       request_headers={"Range": "1-2", "Prefer": "count=exact"},
       json=[{"id": 2}, {"id": 3}], headers={"Content-Range": "1-2/4", "Preference-Applied": "count=exact"}),
    _c("read", "singular", "GET", "/cf_books?select=id&id=eq.2", 200,
       request_headers={"Accept": "application/vnd.pgrst.object+json"}, json={"id": 2}),
    _c("read", "singular of many", "GET", "/cf_books?select=id", 406,
       request_headers={"Accept": "application/vnd.pgrst.object+json"},
       error={"code": "PGRST116", "details": "The result contains 4 rows"}),
    _c("read", "unknown table", "GET", "/cf_nothing", 404,
       error={"code": "PGRST205", "message": "Could not find the table 'public.cf_nothing' in the schema cache"}),
    _c("read", "unknown column", "GET", "/cf_books?select=nope", 400, error={"code": "42703"}),
    _c("read", "unknown operator", "GET", "/cf_books?id=nope.1", 400, error={"code": "PGRST100"}),
    _c("read", "computed field selected", "GET", "/cf_books?select=id,cf_label&id=eq.1", 200,
       json=[{"id": 1, "cf_label": "Alpha (2001)"}]),
    _c("read", "computed field filtered", "GET", "/cf_books?select=id&cf_label=like.*2005*", 200, json=[{"id": 2}]),
    _c("read", "computed field ordered", "GET", "/cf_books?select=id&order=cf_label.desc&limit=2", 200,
       json=[{"id": 3}, {"id": 4}]),
    _c("read", "computed fields are not part of *", "GET", "/cf_books?id=eq.2", 200,
       json=[{"id": 2, "title": "Beta", "author_id": 1, "editor_id": None, "year": 2005,
              "summary": "jumps over the lazy dog", "meta": {"n": 2}}]),
    _c("embed", "computed field of an embedded resource", "GET",
       "/cf_authors?select=name,cf_books!author_id(cf_label)&id=eq.2", 200,
       json=[{"name": "Bob", "cf_books": [{"cf_label": "Gamma (2010)"}]}]),
    _c("read", "aggregates are disabled, as on Supabase", "GET", "/cf_books?select=count()", 400,
       json={"code": "PGRST123", "details": None, "hint": None, "message": "Use of aggregate functions is not allowed"}),
    _c("read", "sum() likewise", "GET", "/cf_books?select=year.sum()", 400, error={"code": "PGRST123"}),
    _c("read", "Content-Location sorted", "GET", "/cf_publishers?select=name&id=eq.1", 200,
       json=[{"name": "Acme"}], headers={"Content-Location": "/cf_publishers?id=eq.1&select=name"}),
    _c("read", "Content-Location bare", "GET", "/cf_publishers?id=eq.3", 200,
       json=[{"id": 3, "name": "Initech"}], headers={"Content-Location": "/cf_publishers?id=eq.3"}),
    _c("read", "HEAD", "HEAD", "/cf_publishers", 200, text="", headers={"Content-Range": "0-2/*"}),
    _c("read", "another schema", "GET", "/cf_books", 406, request_headers={"Accept-Profile": "private"},
       json={"code": "PGRST106", "details": None, "hint": "Only the following schemas are exposed: public",
             "message": "Invalid schema: private"}),
    _c("read", "invalid input for the column's type", "GET", "/cf_books?id=eq.abc", 400,
       error={"code": "22P02", "message": 'invalid input syntax for type integer: "abc"'}),
    # -- PostgreSQL's errors, with PostgREST's statuses -------------------------------------------------------
    _c("errors", "unique violation", "POST", "/cf_counters", 409, body={"id": 1},
       json={"code": "23505", "details": "Key (id)=(1) already exists.", "hint": None,
             "message": 'duplicate key value violates unique constraint "cf_counters_pkey"'}),
    _c("errors", "foreign key violation", "POST", "/cf_books", 409, body={"id": 30, "title": "x", "author_id": 99},
       error={"code": "23503",
              "message": 'insert or update on table "cf_books" violates foreign key constraint "cf_books_author_fk"',
              "details": 'Key (author_id)=(99) is not present in table "cf_authors".'}),
    _c("errors", "not-null violation", "POST", "/cf_books", 400, body={"id": 30, "author_id": 1},
       error={"code": "23502"}),
    _c("errors", "empty body", "POST", "/cf_counters", 400, text=None,
       request_headers={"Content-Type": "application/json"}, error={"code": "PGRST102"}),
    _c("errors", "a write through GET", "GET", "/rpc/cf_clear_counters", 405,
       error={"code": "25006", "message": "cannot execute DELETE in a read-only transaction"}),
    _c("errors", "delete without a filter (pg-safeupdate, as on Supabase)", "DELETE", "/cf_counters", 400,
       error={"code": "21000"}),
    _c("errors", "anon without the grant", "GET", "/cf_notes", 401, error={"code": "42501"},
       headers={"WWW-Authenticate": "Bearer"}),
    _c("errors", "authenticated without the grant", "DELETE", "/cf_drafts?id=eq.1", 403, role="alice",
       error={"code": "42501"}),
    # -- identifiers PostgREST accepts ---------------------------------------------------------------------
    _c("identifiers", "dash and space in select", "GET", "/cf%20odd-names?select=id,first-name,last%20name", 200,
       json=[{"id": 1, "first-name": "Ann", "last name": "Lee"}]),
    _c("identifiers", "quoted :: and ->", "GET", '/cf%20odd-names?select="a::b","x->y"', 200,
       json=[{"a::b": 5, "x->y": "arrow"}]),
    _c("identifiers", "dash in a filter", "GET", "/cf%20odd-names?select=id&first-name=eq.Ann", 200,
       json=[{"id": 1}]),
    _c("identifiers", "space in a filter", "GET", "/cf%20odd-names?select=id&last%20name=eq.Lee", 200,
       json=[{"id": 1}]),
    _c("identifiers", "quoted name in a filter", "GET", '/cf%20odd-names?select=id&"a::b"=eq.5', 200,
       json=[{"id": 1}]),
    _c("identifiers", "dash in order", "GET", "/cf%20odd-names?select=id&order=first-name.desc", 200,
       json=[{"id": 1}]),
    _c("identifiers", "symbols as a JSON key", "GET", "/cf_books?select=id,meta->>!@%23$%25^%26*_d&id=eq.1", 200,
       json=[{"id": 1, "!@#$%^&*_d": "weird"}]),
    _c("identifiers", "digits then letters as a JSON key", "GET", "/cf_books?select=meta->>0xy1&id=eq.1", 200,
       json=[{"0xy1": "hex"}]),
    _c("identifiers", "symbols key in a filter", "GET", "/cf_books?select=id&meta->>!@%23$%25^%26*_d=eq.weird",
       200, json=[{"id": 1}]),
    _c("identifiers", "dashed JSON key", "GET", "/cf%20odd-names?select=data->>k-1", 200, json=[{"k-1": "1"}]),
    _c("identifiers", "quoted JSON key", "GET", '/cf%20odd-names?select=data->>"a b"', 200, json=[{"a b": "2"}]),
    _c("identifiers", "spaces inside and=()", "GET", "/cf_books?select=id&and=(%20id.gt.1%20,%20id.lt.3%20)", 200,
       json=[{"id": 2}]),
    _c("identifiers", "spaces inside nested or()", "GET",
       "/cf_books?select=id&or=(%20id.eq.1%20,%20and(%20id.gt.2%20,%20id.lt.4%20)%20)&order=id", 200,
       json=[{"id": 1}, {"id": 3}]),
    # -- JSON paths ------------------------------------------------------------------------------------------
    _c("json", "path ending in an index is keyed by its last key", "GET",
       "/cf_books?select=meta->arr->0->1->>1::int&id=eq.4", 200, json=[{"arr": 11}]),
    _c("json", "index only: keyed by the column", "GET", "/cf_books?select=meta->tags->>0&id=eq.1", 200,
       json=[{"tags": "x"}]),
    _c("json", "column then index", "GET", "/cf%20odd-names?select=data->0", 200, json=[{"data": None}]),
    _c("json", "filter on a path", "GET", "/cf_books?select=id&meta->>n=eq.2", 200, json=[{"id": 2}]),
    # -- full-text search --------------------------------------------------------------------------------------
    _c("fts", "plfts(french) on text", "GET", "/cf_docs?select=id&body=plfts(french).chats", 200,
       json=[{"id": 2}]),
    _c("fts", "fts(english) stems text", "GET", "/cf_docs?select=id&body=fts(english).cat", 200,
       json=[{"id": 1}]),
    _c("fts", "tsvector column as is", "GET", "/cf_docs?select=id&vec=fts(english).run", 200, json=[{"id": 1}]),
    _c("fts", "wfts on jsonb", "GET", "/cf_docs?select=id&j=wfts(english).cats", 200, json=[{"id": 2}]),
    _c("fts", "negated", "GET", "/cf_docs?select=id&body=not.plfts(english).cats", 200, json=[{"id": 2}]),
    _c("fts", "phrase", "GET", "/cf_docs?select=id&body=phfts(french).chats%20sont", 200, json=[{"id": 2}]),
    # -- ranges ------------------------------------------------------------------------------------------------------
    _c("range", "negative offset is a no-op", "GET", "/cf_publishers?select=id&offset=-4&order=id", 200,
       json=[{"id": 1}, {"id": 2}, {"id": 3}], headers={"Content-Range": "0-2/*"}),
    _c("range", "negative limit", "GET", "/cf_publishers?select=id&limit=-1", 416,
       error={"code": "PGRST103", "message": "Requested range not satisfiable",
              "details": "Limit should be greater than or equal to zero."}),
    _c("range", "a limit that is not an integer is ignored", "GET", "/cf_publishers?select=id&limit=abc&order=id",
       200, json=[{"id": 1}, {"id": 2}, {"id": 3}]),
    _c("range", "limit 0", "GET", "/cf_publishers?select=id&limit=0", 200, json=[],
       headers={"Content-Range": "*/*"}),
    _c("range", "offset and limit counted", "GET", "/cf_publishers?select=id&order=id&limit=1&offset=1", 206,
       request_headers={"Prefer": "count=exact"}, json=[{"id": 2}], headers={"Content-Range": "1-1/3"}),
    _c("range", "offset past the end", "GET", "/cf_publishers?offset=5", 416,
       request_headers={"Prefer": "count=exact"}, error={"code": "PGRST103"}),
    # -- counts ---------------------------------------------------------------------------------------------------
    _c("count", "planned from the planner", "GET", "/cf_publishers?select=id&order=id", 200,
       request_headers={"Prefer": "count=planned"}, headers={"Content-Range": "0-2/3",
                                                             "Preference-Applied": "count=planned"}),
    _c("count", "estimated below max_rows is exact", "GET", "/cf_books?select=id&id=gt.1&order=id", 200,
       request_headers={"Prefer": "count=estimated"}, json=[{"id": 2}, {"id": 3}, {"id": 4}],
       headers={"Content-Range": "0-2/3", "Preference-Applied": "count=estimated"}),
    # -- Prefer ---------------------------------------------------------------------------------------------------
    _c("prefer", "handling=strict refuses unknown", "GET", "/cf_publishers", 400,
       request_headers={"Prefer": "handling=strict, anything"},
       json={"code": "PGRST122", "details": "Invalid preferences: anything", "hint": None,
             "message": "Invalid preferences given with handling=strict"}),
    _c("prefer", "handling=strict across headers", "POST", "/cf_counters", 400,
       request_headers={"Prefer": "handling=strict, something, else"}, body={"id": 9},
       error={"code": "PGRST122", "details": "Invalid preferences: something, else"}),
    _c("prefer", "handling=lenient ignores unknown", "GET", "/cf_publishers?select=id&id=eq.1", 200,
       request_headers={"Prefer": "handling=lenient, anything"}, json=[{"id": 1}],
       headers={"Preference-Applied": "handling=lenient"}),
    _c("prefer", "max-affected exceeded", "DELETE", "/cf_counters?id=gt.0", 400,
       request_headers={"Prefer": "handling=strict, max-affected=2"},
       json={"code": "PGRST124", "details": "The query affects 3 rows", "hint": None,
             "message": "Query result exceeds max-affected preference constraint"}),
    _c("prefer", "max-affected within", "DELETE", "/cf_counters?id=eq.1", 204, text="",
       request_headers={"Prefer": "handling=strict, max-affected=2"},
       headers={"Preference-Applied": "handling=strict, max-affected=2"}),
    _c("prefer", "max-affected on PATCH", "PATCH", "/cf_counters?id=lt.3", 400, body={"n": 1},
       request_headers={"Prefer": "handling=strict, max-affected=1"},
       error={"code": "PGRST124", "details": "The query affects 2 rows"}),
    _c("prefer", "max-affected without strict is ignored", "DELETE", "/cf_counters?id=gt.0", 204, text="",
       request_headers={"Prefer": "max-affected=1"}, absent=("Preference-Applied",)),
    _c("prefer", "max-affected on a set-returning function", "POST", "/rpc/cf_clear_counters", 400,
       request_headers={"Prefer": "handling=strict, max-affected=2"},
       error={"code": "PGRST124", "details": "The query affects 3 rows"}),
    _c("prefer", "max-affected on a void function", "POST", "/rpc/cf_noop", 400,
       request_headers={"Prefer": "handling=strict, max-affected=2"},
       error={"code": "PGRST128",
              "message": "Function must return SETOF or TABLE when max-affected preference is used with "
                         "handling=strict"}),
    _c("prefer", "timezone", "GET", "/cf_times?select=t", 200,
       request_headers={"Prefer": "timezone=America/Los_Angeles"}, json=[{"t": "2023-10-18T05:37:59.611-07:00"}],
       headers={"Preference-Applied": "timezone=America/Los_Angeles"}),
    # PostgREST 14 accepts only the names of pg_timezone_names (numeric offsets came with 16).
    _c("prefer", "timezone with strict", "GET", "/cf_times?select=t", 200,
       request_headers={"Prefer": "handling=strict, timezone=Asia/Kolkata"},
       json=[{"t": "2023-10-18T18:07:59.611+05:30"}],
       headers={"Preference-Applied": "handling=strict, timezone=Asia/Kolkata"}),
    _c("prefer", "an offset is no zone name, strict", "GET", "/cf_times?select=t", 400,
       request_headers={"Prefer": "handling=strict, timezone=+05:30"},
       json={"code": "PGRST122", "details": "Invalid preferences: timezone=+05:30", "hint": None,
             "message": "Invalid preferences given with handling=strict"}),
    _c("prefer", "invalid timezone is not applied", "GET", "/cf_times?select=t", 200,
       request_headers={"Prefer": "timezone=Invalid/Timezone"},
       json=[{"t": "2023-10-18T12:37:59.611+00:00"}], absent=("Preference-Applied",)),
    _c("prefer", "first occurrence wins", "POST", "/cf_counters", 201,
       request_headers={"Prefer": "return=representation, return=minimal"}, body={"id": 9},
       json=[{"id": 9, "n": 0, "label": "dflt"}], headers={"Preference-Applied": "return=representation"}),
    # -- writes ----------------------------------------------------------------------------------------------------
    _c("write", "insert minimal", "POST", "/cf_counters", 201, body={"id": 9}, text="",
       headers={"Content-Range": "*/*"}, absent=("Location",)),
    _c("write", "insert headers-only", "POST", "/cf_counters", 201, body={"id": 9},
       request_headers={"Prefer": "return=headers-only"}, headers={"Location": "/cf_counters?id=eq.9"}),
    _c("write", "insert representation with select", "POST", "/cf_counters?columns=id,label&select=id,label", 201,
       body=[{"id": 9}, {"id": 10, "label": "x"}], request_headers={"Prefer": "return=representation"},
       json=[{"id": 9, "label": None}, {"id": 10, "label": "x"}]),
    _c("write", "missing=default", "POST", "/cf_counters?columns=id,label&select=id,label", 201,
       body=[{"id": 9}], request_headers={"Prefer": "return=representation, missing=default"},
       json=[{"id": 9, "label": "dflt"}], headers={"Preference-Applied": "missing=default, return=representation"}),
    _c("write", "unknown payload column", "POST", "/cf_counters", 400, body={"id": 9, "nope": 1},
       error={"code": "PGRST204", "message": "Could not find the 'nope' column of 'cf_counters' in the schema cache"}),
    _c("write", "patch", "PATCH", "/cf_counters?id=eq.1", 204, body={"n": 3}, text="",
       headers={"Content-Range": "0-0/*"}),
    _c("write", "patch nothing matched", "PATCH", "/cf_counters?id=eq.99", 200, body={"n": 3},
       request_headers=REPR, json=[], headers={"Content-Range": "*/*"}),
    _c("write", "delete", "DELETE", "/cf_counters?id=eq.3", 204, text="", headers={"Content-Range": "*/*"}),
    _c("write", "delete counted", "DELETE", "/cf_counters?id=eq.3", 200,
       request_headers={"Prefer": "return=representation, count=exact"},
       json=[{"id": 3, "n": 9, "label": "three"}],
       headers={"Content-Range": "*/1", "Preference-Applied": "return=representation, count=exact"}),
    _c("write", "patch columns", "PATCH", "/cf_counters?id=eq.1&columns=n", 200,
       body={"n": 4, "label": "ignored"}, request_headers=REPR, json=[{"id": 1, "n": 4, "label": "one"}]),
    _c("write", "patch columns missing=default", "PATCH", "/cf_counters?id=eq.1&columns=n,label", 200,
       body={"n": 4}, request_headers={"Prefer": "return=representation, missing=default"},
       json=[{"id": 1, "n": 4, "label": "dflt"}],
       headers={"Preference-Applied": "missing=default, return=representation"}),
    _c("write", "patch columns missing is null", "PATCH", "/cf_counters?id=eq.2&columns=label", 200,
       body={"n": 4}, request_headers=REPR, json=[{"id": 2, "n": 5, "label": None}]),
    _c("write", "patch unknown columns", "PATCH", "/cf_counters?id=eq.1&columns=nope", 400, body={"n": 1},
       error={"code": "PGRST204"}),
    _c("write", "column grants: insert returns the selected columns", "POST", "/cf_drafts?select=id,title", 201,
       body={"id": 2, "title": "T"}, request_headers=REPR, json=[{"id": 2, "title": "T"}]),
    _c("write", "column grants: patch returns the selected columns", "PATCH", "/cf_drafts?id=eq.1&select=title",
       200, body={"title": "X"}, request_headers=REPR, json=[{"title": "X"}]),
    _c("write", "column grants: a withheld column", "GET", "/cf_drafts?select=secret", 401,
       error={"code": "42501"}),
    _c("write", "view: Location from the base table's key", "POST", "/cf_books_view", 201,
       body={"id": 10, "title": "V", "author_id": 1}, request_headers={"Prefer": "return=headers-only"},
       headers={"Location": "/cf_books_view?id=eq.10"}),
    _c("write", "view: renamed key column", "POST", "/cf_renamed_books", 201,
       body={"book_id": 11, "name": "R", "author_id": 1}, request_headers={"Prefer": "return=headers-only"},
       headers={"Location": "/cf_renamed_books?book_id=eq.11"}),
    _c("write", "view: upsert on the inferred key", "POST", "/cf_books_view", 200,
       body=[{"id": 1, "title": "A1", "author_id": 1}],
       request_headers={"Prefer": "return=representation, resolution=merge-duplicates"},
       json=[{"id": 1, "title": "A1", "author_id": 1, "year": 2001}]),
    # order= orders what a write returns; limit/offset do not limit it (PostgREST 13 dropped limited writes)
    _c("write", "patch ordered", "PATCH", "/cf_counters?id=gt.0&order=id.desc", 200, body={"label": "z"},
       request_headers=REPR,
       json=[{"id": 3, "n": 9, "label": "z"}, {"id": 2, "n": 5, "label": "z"}, {"id": 1, "n": 0, "label": "z"}],
       headers={"Content-Range": "0-2/*"}),
    _c("write", "patch ordered by a column not selected", "PATCH", "/cf_counters?id=gt.0&select=id&order=n.desc",
       200, body={"label": "z"}, request_headers=REPR, json=[{"id": 3}, {"id": 2}, {"id": 1}]),
    _c("write", "patch limit and offset are ignored", "PATCH", "/cf_counters?id=gt.0&limit=1&offset=1&order=id",
       200, body={"n": 7}, request_headers={"Prefer": "return=representation, count=exact"},
       json=[{"id": 1, "n": 7, "label": "one"}, {"id": 2, "n": 7, "label": "two"},
             {"id": 3, "n": 7, "label": "three"}],
       headers={"Content-Range": "0-2/3"}),
    _c("write", "patch limit without a filter is still refused", "PATCH", "/cf_counters?limit=1&order=id", 400,
       body={"n": 7}, error={"code": "21000"}),
    _c("write", "delete ordered, limit ignored", "DELETE", "/cf_counters?id=gt.1&order=id.desc&limit=1", 200,
       request_headers=REPR, json=[{"id": 3, "n": 9, "label": "three"}, {"id": 2, "n": 5, "label": "two"}]),
    _c("write", "delete minimal with limit deletes every match", "DELETE", "/cf_counters?id=gt.0&limit=1", 204,
       request_headers={"Prefer": "count=exact"}, text="", headers={"Content-Range": "*/3"}),
    _c("write", "insert ordered", "POST", "/cf_counters?order=id.desc&select=id", 201,
       body=[{"id": 7}, {"id": 9}, {"id": 8}], request_headers=REPR, json=[{"id": 9}, {"id": 8}, {"id": 7}]),
    _c("write", "embedded order applies, embedded limit does not", "PATCH",
       "/cf_authors?id=eq.1&select=name,cf_books!author_id(id)&cf_books.order=id.desc&cf_books.limit=1", 200,
       body={"name": "Ada2"}, request_headers=REPR, json=[{"name": "Ada2", "cf_books": [{"id": 2}, {"id": 1}]}]),
    _c("write", "order by an unknown column", "PATCH", "/cf_counters?id=eq.1&order=nope", 400, body={"n": 1},
       request_headers=REPR, error={"code": "42703"}),
    # -- upserts ------------------------------------------------------------------------------------------------------
    _c("upsert", "every row existed: 200", "POST", "/cf_counters", 200, body=[{"id": 1, "n": 10}],
       request_headers={"Prefer": "return=representation, resolution=merge-duplicates"},
       json=[{"id": 1, "n": 10, "label": "one"}],
       headers={"Preference-Applied": "resolution=merge-duplicates, return=representation"}),
    _c("upsert", "some rows new: 201", "POST", "/cf_counters", 201, body=[{"id": 1, "n": 10}, {"id": 7, "n": 1}],
       request_headers={"Prefer": "return=representation, resolution=merge-duplicates"},
       json=[{"id": 1, "n": 10, "label": "one"}, {"id": 7, "n": 1, "label": "dflt"}]),
    _c("upsert", "empty array: 200", "POST", "/cf_counters", 200, body=[],
       request_headers={"Prefer": "return=representation, resolution=merge-duplicates"}, json=[]),
    _c("upsert", "minimal: 200 without a body", "POST", "/cf_counters", 200, body=[{"id": 2, "n": 1}],
       request_headers={"Prefer": "resolution=merge-duplicates"}, text=""),
    _c("upsert", "on_conflict unique column", "POST", "/cf_keyed_log?on_conflict=k", 200,
       body=[{"k": "a", "v": 5}], request_headers={"Prefer": "return=representation, resolution=merge-duplicates"},
       json=[{"k": "a", "v": 5}]),
    _c("upsert", "table without a key ignores the resolution", "POST", "/cf_log", 201, body=[{"k": "b", "v": 2}],
       request_headers={"Prefer": "return=representation, resolution=merge-duplicates"},
       json=[{"k": "b", "v": 2}], headers={"Preference-Applied": "return=representation"}),
    _c("upsert", "ignore-duplicates", "POST", "/cf_counters", 201, body=[{"id": 1, "n": 99}, {"id": 8, "n": 1}],
       request_headers={"Prefer": "return=representation, resolution=ignore-duplicates"},
       json=[{"id": 8, "n": 1, "label": "dflt"}],
       headers={"Preference-Applied": "resolution=ignore-duplicates, return=representation"}),
    # -- PUT: one row by its primary key --------------------------------------------------------------------------
    _c("put", "OPTIONS lists PUT for a table with a primary key", "OPTIONS", "/cf_counters", 200,
       headers={"Allow": "OPTIONS,GET,HEAD,POST,PUT,PATCH,DELETE"}),
    _c("put", "OPTIONS without a primary key", "OPTIONS", "/cf_log", 200,
       headers={"Allow": "OPTIONS,GET,HEAD,POST,PATCH,DELETE"}),
    _c("put", "inserts a new row: 201", "PUT", "/cf_counters?id=eq.9", 201,
       body=[{"id": 9, "n": 1, "label": "nine"}], request_headers=REPR,
       json=[{"id": 9, "n": 1, "label": "nine"}], absent=("Content-Range",)),
    _c("put", "replaces an existing row: 200", "PUT", "/cf_counters?id=eq.1", 200,
       body={"id": 1, "n": 13, "label": "thirteen"}, request_headers=REPR,
       json=[{"id": 1, "n": 13, "label": "thirteen"}], headers={"Preference-Applied": "return=representation"}),
    _c("put", "minimal: 204", "PUT", "/cf_counters?id=eq.1", 204,
       body={"id": 1, "n": 2, "label": "x"}, request_headers={"Prefer": "return=minimal"}, text="",
       headers={"Preference-Applied": "return=minimal"}, absent=("Content-Type", "Content-Range")),
    _c("put", "no Prefer: 204", "PUT", "/cf_counters?id=eq.9", 204, body={"id": 9, "n": 2, "label": "x"}, text=""),
    _c("put", "composite key", "PUT", "/cf_shelves?owner=eq.ann&code=eq.C", 201,
       body={"owner": "ann", "code": "C", "label": "Side"}, request_headers=REPR,
       json=[{"owner": "ann", "code": "C", "label": "Side"}]),
    _c("put", "only the first matching row of an array", "PUT", "/cf_counters?id=eq.1", 200,
       body=[{"id": 1, "n": 19, "label": "a"}, {"id": 12, "n": 1, "label": "b"}],
       request_headers={**REPR, "Accept": "application/vnd.pgrst.object+json"},
       json={"id": 1, "n": 19, "label": "a"}),
    _c("put", "singular insert: 201", "PUT", "/cf_counters?id=eq.11", 201,
       body={"id": 11, "n": 11, "label": "b"},
       request_headers={**REPR, "Accept": "application/vnd.pgrst.object+json"},
       json={"id": 11, "n": 11, "label": "b"}),
    _c("put", "the Range header is ignored", "PUT", "/cf_counters?id=eq.1", 200,
       body={"id": 1, "n": 5, "label": "r"}, request_headers={**REPR, "Range": "1-1"},
       json=[{"id": 1, "n": 5, "label": "r"}]),
    _c("put", "select with embedding", "PUT", "/cf_books?id=eq.2&select=title,author:cf_authors!author_id(name)", 200,
       body={"id": 2, "title": "B2", "author_id": 2}, request_headers=REPR,
       json=[{"title": "B2", "author": {"name": "Bob"}}]),
    _c("put", "limit", "PUT", "/cf_counters?id=eq.1&limit=1", 400, body={"id": 1, "n": 1, "label": "l"},
       json={"code": "PGRST114", "details": None, "hint": None,
             "message": "limit/offset querystring parameters are not allowed for PUT"}),
    _c("put", "offset", "PUT", "/cf_counters?id=eq.1&offset=1", 400, body={"id": 1, "n": 1, "label": "l"},
       error={"code": "PGRST114"}),
    _c("put", "a filter on another column", "PUT", "/cf_counters?n=eq.0", 405, body={"id": 1, "n": 0, "label": "l"},
       json={"code": "PGRST105", "details": None, "hint": None,
             "message": "Filters must include all and only primary key columns with 'eq' operators"}),
    _c("put", "the key and another column", "PUT", "/cf_counters?id=eq.1&n=eq.0", 405,
       body={"id": 1, "n": 0, "label": "l"}, error={"code": "PGRST105"}),
    _c("put", "not.eq", "PUT", "/cf_counters?id=not.eq.1", 405, body={"id": 1, "n": 0, "label": "l"},
       error={"code": "PGRST105"}),
    _c("put", "in", "PUT", "/cf_counters?id=in.(1)", 405, body={"id": 1, "n": 0, "label": "l"},
       error={"code": "PGRST105"}),
    _c("put", "and", "PUT", "/cf_counters?and=(id.eq.1)", 405, body={"id": 1, "n": 0, "label": "l"},
       error={"code": "PGRST105"}),
    _c("put", "no filter", "PUT", "/cf_counters", 405, body={"id": 1, "n": 0, "label": "l"},
       error={"code": "PGRST105"}),
    _c("put", "part of a composite key", "PUT", "/cf_shelves?owner=eq.ann", 405,
       body={"owner": "ann", "code": "A", "label": "x"}, error={"code": "PGRST105"}),
    _c("put", "a table without a primary key", "PUT", "/cf_log?k=eq.a", 405, body={"k": "a", "v": 1},
       error={"code": "PGRST105"}),
    _c("put", "payload key differs from the URL's", "PUT", "/cf_counters?id=eq.5", 400,
       body={"id": 6, "n": 0, "label": "l"},
       json={"code": "PGRST115", "details": None, "hint": None,
             "message": "Payload values do not match URL in primary key column(s)"}),
    _c("put", "composite payload key differs", "PUT", "/cf_shelves?owner=eq.ann&code=eq.A", 400,
       body={"owner": "ben", "code": "A", "label": "x"}, error={"code": "PGRST115"}),
    # -- CSV ---------------------------------------------------------------------------------------------------------
    _c("csv", "read", "GET", "/cf_publishers?order=id", 200, request_headers=CSV_OUT,
       text="id,name\n1,Acme\n2,Globex\n3,Initech", headers={**CSV_TYPE, "Content-Range": "0-2/*"}),
    _c("csv", "quoting and NULL as nothing", "GET", "/cf_books?select=id,title,year,summary&order=id", 200,
       request_headers=CSV_OUT,
       text='id,title,year,summary\n1,Alpha,2001,"the quick brown fox"\n2,Beta,2005,"jumps over the lazy dog"\n'
            '3,Gamma,2010,"les chats sont mignons"\n4,Delta,,'),
    _c("csv", "quotes doubled", "GET", "/cf_books?select=id,meta&id=eq.2", 200, request_headers=CSV_OUT,
       text='id,meta\n2,"{""n"": 2}"'),
    _c("csv", "aliases name the header", "GET", "/cf_books?select=t:title,y:year::text&id=eq.1", 200,
       request_headers=CSV_OUT, text="t,y\nAlpha,2001"),
    _c("csv", "no rows: an empty header line", "GET", "/cf_publishers?id=eq.99", 200, request_headers=CSV_OUT,
       text="\n", headers=CSV_TYPE),
    _c("csv", "the client's first choice wins", "GET", "/cf_publishers?select=id&id=eq.1", 200,
       request_headers={"Accept": "text/csv, application/json"}, text="id\n1", headers=CSV_TYPE),
    _c("csv", "JSON first", "GET", "/cf_publishers?select=id&id=eq.1", 200,
       request_headers={"Accept": "application/json, text/csv"}, json=[{"id": 1}]),
    _c("csv", "counted range", "GET", "/cf_publishers?select=id&order=id&limit=2", 206,
       request_headers={**CSV_OUT, "Prefer": "count=exact"}, text="id\n1\n2",
       headers={**CSV_TYPE, "Content-Range": "0-1/3"}),
    _c("csv", "HEAD", "HEAD", "/cf_publishers", 200, request_headers=CSV_OUT, text="", headers=CSV_TYPE),
    _c("csv", "insert from CSV, answered as CSV", "POST", "/cf_log", 201,
       request_headers={**CSV_IN, **CSV_OUT, **REPR}, content="k,v\nb,2\nNULL,3",
       text="k,v\nb,2\n,3", headers={**CSV_TYPE, "Content-Range": "*/*"}),
    _c("csv", "select narrows the CSV answer", "POST", "/cf_counters?select=id", 201,
       request_headers={**CSV_IN, **CSV_OUT, **REPR}, content="id,n,label\n8,1,x\n9,2,Windows NT",
       text="id\n8\n9"),
    _c("csv", "quoted fields in", "POST", "/cf_log", 201, request_headers={**CSV_IN, **REPR},
       content='k,v\n"a,""b""",7\r\n"",8\n', json=[{"k": 'a,"b"', "v": 7}, {"k": "", "v": 8}]),
    _c("csv", "an empty string is quoted", "POST", "/cf_log", 201, request_headers={**CSV_IN, **CSV_OUT, **REPR},
       content='k,v\n"",1', text='k,v\n"",1'),
    _c("csv", "minimal", "POST", "/cf_log", 201, request_headers=CSV_IN, content="k,v\nz,1", text="",
       headers={"Content-Range": "*/*"}),
    _c("csv", "a line short of fields", "POST", "/cf_log", 400, request_headers=CSV_IN,
       content="k,v\nfoo,1\nbaz",
       json={"code": "PGRST102", "details": None, "hint": None,
             "message": "All lines must have same number of fields"}),
    _c("csv", "patch answered as CSV", "PATCH", "/cf_counters?id=eq.1", 200, body={"n": 3},
       request_headers={**CSV_OUT, **REPR}, text="id,n,label\n1,3,one", headers=CSV_TYPE),
    _c("csv", "delete answered as CSV", "DELETE", "/cf_counters?id=eq.3", 200,
       request_headers={**CSV_OUT, **REPR}, text="id,n,label\n3,9,three", headers=CSV_TYPE),
    # -- functions ---------------------------------------------------------------------------------------------------
    _c("rpc", "single OUT parameter is an object", "GET", "/rpc/cf_plus_one?num=5", 200,
       json={"num_plus_one": 6}),
    _c("rpc", "single INOUT parameter is an object", "GET", "/rpc/cf_inc?num=2", 200, json={"num": 3}),
    _c("rpc", "many OUT parameters", "GET", "/rpc/cf_two_outs", 200, json={"a": 1, "b": "two"}),
    _c("rpc", "one-column TABLE is an array of objects", "GET", "/rpc/cf_ids", 200,
       json=[{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}]),
    _c("rpc", "composite", "POST", "/rpc/cf_point_of", 200, body={}, json={"x": 10, "y": 5}),
    _c("rpc", "domain over a composite", "POST", "/rpc/cf_point_domain_of", 200, body={}, json={"x": 10, "y": 5}),
    _c("rpc", "counted scalar", "GET", "/rpc/cf_seven", 200, request_headers={"Prefer": "count=exact"},
       text="7", headers={"Content-Range": "0-0/1"}),
    _c("rpc", "counted composite", "GET", "/rpc/cf_point_of", 200, request_headers={"Prefer": "count=exact"},
       json={"x": 10, "y": 5}, headers={"Content-Range": "0-0/1"}),
    _c("rpc", "unknown GET argument", "GET", "/rpc/cf_plus_one?num=5&other=1", 404,
       error={"code": "PGRST202",
              "message": "Could not find the function public.cf_plus_one(num, other) in the schema cache",
              "details": "Searched for the function public.cf_plus_one with parameters num, other, but no "
                         "matches were found in the schema cache."}),
    _c("rpc", "unknown function without arguments", "GET", "/rpc/cf_nope", 404,
       error={"code": "PGRST202",
              "message": "Could not find the function public.cf_nope without parameters in the schema cache"}),
    _c("rpc", "GET argument that is also a filter", "GET", "/rpc/cf_books_below?id=4&id=gt.1&select=id", 200,
       json=[{"id": 2}, {"id": 3}]),
    _c("rpc", "request.path as PostgREST sees it", "POST", "/rpc/cf_guc", 200, body={"name": "request.path"},
       json="/rpc/cf_guc"),
    _c("rpc", "request.method", "POST", "/rpc/cf_guc", 200, body={"name": "request.method"}, json="POST"),
    _c("rpc", "request.cookies", "POST", "/rpc/cf_cookie", 200, body={"name": "c2"},
       request_headers={"Cookie": "c1=v1; c2=v2"}, json="v2"),
    _c("rpc", "void", "POST", "/rpc/cf_noop", 204, body={}, text=""),
    _c("rpc", "named overload first: none", "POST", "/rpc/cf_echo", 200, body={}, json=1),
    _c("rpc", "named overload first: x, y", "POST", "/rpc/cf_echo", 200, body={"x": 1, "y": 2}, json=3),
    _c("rpc", "else the single unnamed json parameter gets the body", "POST", "/rpc/cf_echo", 200,
       body={"A": 1, "B": 2, "C": 3}, json={"A": 1, "B": 2, "C": 3}),
    _c("rpc", "a named json parameter does not get the body", "POST", "/rpc/cf_named_json", 404,
       body={"A": 1, "B": 2, "C": 3},
       json={"code": "PGRST202", "hint": None,
             "message": "Could not find the function public.cf_named_json(A, B, C) in the schema cache",
             "details": "Searched for the function public.cf_named_json with parameters A, B, C or with a single "
                        "unnamed json/jsonb parameter, but no matches were found in the schema cache."}),
    # -- embedding -----------------------------------------------------------------------------------------------
    _c("embed", "ambiguous: 300 PGRST201", "GET", "/cf_books?select=id,cf_authors(name)", 300,
       error={"code": "PGRST201",
              "message": "Could not embed because more than one relationship was found for 'cf_books' and "
                         "'cf_authors'",
              "hint": "Try changing 'cf_authors' to one of the following: 'cf_authors!cf_books_author_fk', "
                      "'cf_authors!cf_books_editor_fk'. Find the desired relationship in the 'details' key.",
              "details": [
                  {"cardinality": "many-to-one", "embedding": "cf_books with cf_authors",
                   "relationship": "cf_books_author_fk using cf_books(author_id) and cf_authors(id)"},
                  {"cardinality": "many-to-one", "embedding": "cf_books with cf_authors",
                   "relationship": "cf_books_editor_fk using cf_books(editor_id) and cf_authors(id)"}]}),
    _c("embed", "many-to-one by column hint", "GET", "/cf_books?select=id,cf_authors!author_id(name)&order=id",
       200, json=[{"id": 1, "cf_authors": {"name": "Ada"}}, {"id": 2, "cf_authors": {"name": "Ada"}},
                  {"id": 3, "cf_authors": {"name": "Bob"}}, {"id": 4, "cf_authors": {"name": "Cy"}}]),
    _c("embed", "many-to-one by constraint hint, null when none", "GET",
       "/cf_books?select=id,cf_authors!cf_books_editor_fk(name)&order=id", 200,
       json=[{"id": 1, "cf_authors": {"name": "Bob"}}, {"id": 2, "cf_authors": None},
             {"id": 3, "cf_authors": {"name": "Ada"}}, {"id": 4, "cf_authors": None}]),
    _c("embed", "alias", "GET", "/cf_books?select=id,writer:cf_authors!author_id(name)&id=eq.3", 200,
       json=[{"id": 3, "writer": {"name": "Bob"}}]),
    _c("embed", "column as the target", "GET", "/cf_books?select=id,editor_id(name)&id=eq.1", 200,
       json=[{"id": 1, "editor_id": {"name": "Bob"}}]),
    _c("embed", "constraint as the target", "GET", "/cf_books?select=id,cf_books_author_fk(name)&id=eq.4", 200,
       json=[{"id": 4, "cf_books_author_fk": {"name": "Cy"}}]),
    _c("embed", "one-to-many", "GET",
       "/cf_authors?select=name,cf_books!author_id(title)&order=id&cf_books.order=id", 200,
       json=[{"name": "Ada", "cf_books": [{"title": "Alpha"}, {"title": "Beta"}]},
             {"name": "Bob", "cf_books": [{"title": "Gamma"}]}, {"name": "Cy", "cf_books": [{"title": "Delta"}]},
             {"name": "Di", "cf_books": []}]),
    _c("embed", "one-to-one", "GET", "/cf_authors?select=name,cf_author_bios(bio)&order=id", 200,
       json=[{"name": "Ada", "cf_author_bios": {"bio": "First programmer"}}, {"name": "Bob", "cf_author_bios": None},
             {"name": "Cy", "cf_author_bios": {"bio": "Writer"}}, {"name": "Di", "cf_author_bios": None}]),
    _c("embed", "one-to-one from the key's side", "GET", "/cf_author_bios?select=bio,cf_authors(name)&order=bio",
       200, json=[{"bio": "First programmer", "cf_authors": {"name": "Ada"}},
                  {"bio": "Writer", "cf_authors": {"name": "Cy"}}]),
    _c("embed", "many-to-many", "GET", "/cf_books?select=title,cf_tags(label)&order=id&cf_tags.order=id", 200,
       json=[{"title": "Alpha", "cf_tags": [{"label": "sci"}, {"label": "fun"}]},
             {"title": "Beta", "cf_tags": [{"label": "fun"}]}, {"title": "Gamma", "cf_tags": [{"label": "old"}]},
             {"title": "Delta", "cf_tags": []}]),
    _c("embed", "many-to-many by junction hint", "GET",
       "/cf_tags?select=label,cf_books!cf_book_tags(id)&id=eq.2&cf_books.order=id", 200,
       json=[{"label": "fun", "cf_books": [{"id": 1}, {"id": 2}]}]),
    _c("embed", "composite foreign key, many-to-one", "GET", "/cf_shelf_items?select=id,cf_shelves(label)&order=id",
       200, json=[{"id": 1, "cf_shelves": {"label": "Top"}}, {"id": 2, "cf_shelves": {"label": "Bottom"}},
                  {"id": 3, "cf_shelves": {"label": "Ben top"}}]),
    _c("embed", "composite foreign key, one-to-many", "GET",
       "/cf_shelves?select=owner,code,cf_shelf_items(id)&order=owner,code", 200,
       json=[{"owner": "ann", "code": "A", "cf_shelf_items": [{"id": 1}]},
             {"owner": "ann", "code": "B", "cf_shelf_items": [{"id": 2}]},
             {"owner": "ben", "code": "A", "cf_shelf_items": [{"id": 3}]}]),
    _c("embed", "self reference by column", "GET", "/cf_authors?select=name,mentor:mentor_id(name)&order=id", 200,
       json=[{"name": "Ada", "mentor": None}, {"name": "Bob", "mentor": {"name": "Ada"}},
             {"name": "Cy", "mentor": {"name": "Ada"}}, {"name": "Di", "mentor": None}]),
    _c("embed", "self reference by table", "GET",
       "/cf_authors?select=name,mentees:cf_authors(name)&id=lt.3&order=id&mentees.order=id", 200,
       json=[{"name": "Ada", "mentees": [{"name": "Bob"}, {"name": "Cy"}]}, {"name": "Bob", "mentees": []}]),
    _c("embed", "nested with nested options", "GET",
       "/cf_publishers?select=name,cf_authors(name,cf_books!author_id(title))&id=eq.1&cf_authors.order=id"
       "&cf_authors.cf_books.order=id.desc", 200,
       json=[{"name": "Acme", "cf_authors": [{"name": "Ada", "cf_books": [{"title": "Beta"}, {"title": "Alpha"}]},
                                            {"name": "Bob", "cf_books": [{"title": "Gamma"}]}]}]),
    _c("embed", "filter on the embedded rows only", "GET",
       "/cf_publishers?select=name,cf_authors(name)&cf_authors.name=eq.Cy&order=id", 200,
       json=[{"name": "Acme", "cf_authors": []}, {"name": "Globex", "cf_authors": [{"name": "Cy"}]},
             {"name": "Initech", "cf_authors": []}]),
    _c("embed", "!inner filters the top level", "GET",
       "/cf_publishers?select=name,cf_authors!inner(name)&cf_authors.name=eq.Cy", 200,
       json=[{"name": "Globex", "cf_authors": [{"name": "Cy"}]}]),
    _c("embed", "!inner to-one", "GET", "/cf_books?select=id,cf_authors!editor_id!inner(name)&order=id", 200,
       json=[{"id": 1, "cf_authors": {"name": "Bob"}}, {"id": 3, "cf_authors": {"name": "Ada"}}]),
    _c("embed", "!left", "GET", "/cf_books?select=id,cf_authors!editor_id!left(name)&id=eq.2", 200,
       json=[{"id": 2, "cf_authors": None}]),
    _c("embed", "!inner counted", "GET", "/cf_publishers?select=id,cf_authors!inner()&order=id", 200,
       request_headers={"Prefer": "count=exact"}, json=[{"id": 1}, {"id": 2}], headers={"Content-Range": "0-1/2"}),
    _c("embed", "limit and offset inside", "GET",
       "/cf_publishers?select=name,cf_authors(name)&id=eq.1&cf_authors.order=id&cf_authors.limit=1"
       "&cf_authors.offset=1", 200, json=[{"name": "Acme", "cf_authors": [{"name": "Bob"}]}]),
    _c("embed", "or inside", "GET",
       "/cf_publishers?select=name,cf_authors(name)&id=lt.3&order=id&cf_authors.or=(name.eq.Ada,name.eq.Cy)", 200,
       json=[{"name": "Acme", "cf_authors": [{"name": "Ada"}]}, {"name": "Globex", "cf_authors": [{"name": "Cy"}]}]),
    _c("embed", "filters by alias", "GET",
       "/cf_publishers?select=id,a:cf_authors(name),b:cf_authors(name)&id=eq.1&a.name=eq.Ada&b.name=eq.Bob", 200,
       json=[{"id": 1, "a": [{"name": "Ada"}], "b": [{"name": "Bob"}]}]),
    _c("embed", "is.null anti-join with an empty embed", "GET",
       "/cf_publishers?select=name,cf_authors()&cf_authors=is.null", 200, json=[{"name": "Initech"}]),
    _c("embed", "not.is.null", "GET", "/cf_publishers?select=name,cf_authors()&cf_authors=not.is.null&order=id",
       200, json=[{"name": "Acme"}, {"name": "Globex"}]),
    _c("embed", "other operators on an embedding", "GET", "/cf_publishers?select=name,cf_authors()&cf_authors=eq.1",
       400, error={"code": "PGRST120", "message": "Bad operator on the 'cf_authors' embedded resource",
                   "details": "Only is null or not is null filters are allowed on embedded resources"}),
    _c("embed", "or across embedded resources", "GET",
       "/cf_books?select=id,e:cf_authors!editor_id()&or=(e.not.is.null,id.eq.4)&order=id", 200, json=[{"id": 1}, {"id": 3}, {"id": 4}]),
    _c("embed", "order by a to-one column", "GET",
       "/cf_books?select=title,cf_authors!author_id(name)&order=cf_authors(name).desc,id", 200,
       json=[{"title": "Delta", "cf_authors": {"name": "Cy"}}, {"title": "Gamma", "cf_authors": {"name": "Bob"}},
             {"title": "Alpha", "cf_authors": {"name": "Ada"}}, {"title": "Beta", "cf_authors": {"name": "Ada"}}]),
    _c("embed", "order by a to-many column", "GET",
       "/cf_authors?select=name,cf_books!author_id(title)&order=cf_books(title)", 400,
       error={"code": "PGRST118"}),
    _c("embed", "spread to-one", "GET", "/cf_books?select=title,...cf_authors!author_id(author:name)&id=eq.3", 200,
       json=[{"title": "Gamma", "author": "Bob"}]),
    _c("embed", "spread to-many: correlated arrays", "GET",
       "/cf_publishers?select=name,...cf_authors(author:name)&order=id&cf_authors.order=id", 200,
       json=[{"name": "Acme", "author": ["Ada", "Bob"]}, {"name": "Globex", "author": ["Cy"]},
             {"name": "Initech", "author": []}]),
    _c("embed", "spread to-many, nested", "GET",
       "/cf_authors?select=name,...cf_books!author_id(titles:title,...cf_tags(labels:label))&id=eq.1"
       "&cf_books.order=id&cf_books.cf_tags.order=id", 200,
       json=[{"name": "Ada", "titles": ["Alpha", "Beta"], "labels": [["sci", "fun"], ["fun"]]}]),
    _c("embed", "no relationship: PGRST200", "GET", "/cf_books?select=*,cf_times(*)", 400,
       error={"code": "PGRST200",
              "message": "Could not find a relationship between 'cf_books' and 'cf_times' in the schema cache",
              "details": "Searched for a foreign key relationship between 'cf_books' and 'cf_times' in the "
                         "schema 'public', but no matches were found."}),
    _c("embed", "no relationship with a hint", "GET", "/cf_books?select=*,cf_authors!nope(*)", 400,
       error={"code": "PGRST200",
              "details": "Searched for a foreign key relationship between 'cf_books' and 'cf_authors' using the "
                         "hint 'nope' in the schema 'public', but no matches were found."}),
    _c("embed", "filter on a resource not embedded", "GET", "/cf_books?select=id&cf_authors.name=eq.Ada", 400,
       error={"code": "PGRST108", "message": "'cf_authors' is not an embedded resource in this request"}),
    _c("embed", "through a view", "GET", "/cf_books_view?select=title,cf_authors(name)&id=eq.1", 200,
       json=[{"title": "Alpha", "cf_authors": {"name": "Ada"}}]),
    _c("embed", "on a write's representation", "POST", "/cf_books?select=id,cf_authors!author_id(name)", 201,
       body={"id": 20, "title": "New", "author_id": 2}, request_headers=REPR,
       json=[{"id": 20, "cf_authors": {"name": "Bob"}}]),
    _c("embed", "on a patch's representation", "PATCH",
       "/cf_books?id=eq.1&select=title,cf_tags(label)&cf_tags.order=id", 200, body={"title": "A2"},
       request_headers=REPR, json=[{"title": "A2", "cf_tags": [{"label": "sci"}, {"label": "fun"}]}]),
    _c("embed", "on a function's rows", "GET", "/rpc/cf_books_below?id=3&select=title,cf_authors!author_id(name)&order=id",
       200, json=[{"title": "Alpha", "cf_authors": {"name": "Ada"}}, {"title": "Beta", "cf_authors": {"name": "Ada"}}]),
    # -- row-level security applies to embedded rows ---------------------------------------------------------------
    _c("rls", "alice sees her notes embedded", "GET",
       "/cf_books?select=title,cf_notes(body)&id=lt.4&order=id&cf_notes.order=id", 200, role="alice",
       json=[{"title": "Alpha", "cf_notes": [{"body": "alice on alpha"}]},
             {"title": "Beta", "cf_notes": [{"body": "alice on beta"}]}, {"title": "Gamma", "cf_notes": []}]),
    _c("rls", "bob sees his", "GET", "/cf_books?select=title,cf_notes(body)&id=lt.3&order=id", 200, role="bob",
       json=[{"title": "Alpha", "cf_notes": [{"body": "bob on alpha"}]}, {"title": "Beta", "cf_notes": []}]),
    _c("rls", "!inner through RLS", "GET", "/cf_books?select=title,cf_notes!inner()&order=id", 200, role="bob",
       json=[{"title": "Alpha"}]),
    _c("rls", "anon may not read the embedded table", "GET", "/cf_books?select=title,cf_notes(body)", 401,
       error={"code": "42501"}),
    _c("rls", "service role sees all", "GET", "/cf_books?select=id,cf_notes(id)&id=eq.1&cf_notes.order=id", 200,
       role="service", json=[{"id": 1, "cf_notes": [{"id": 1}, {"id": 2}]}]),
]  # fmt: skip

"""What a verb handler gets: the request's facts (:class:`RequestContext`) and the app (:class:`Engine`).

A client sends the same headers request after request (its key, its token, ``Accept``), so what the stack
reads from them is worked out once per distinct list of headers (:class:`RequestHeaders`, kept by a
:class:`HeaderCache`) and shared by the requests that send that list.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol
from urllib.parse import unquote_plus

from starlette.requests import Request

from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._limits import MAX_BODY_BYTES, read_body
from nexus_sdk.local._negotiate import negotiate, parse_prefs

if TYPE_CHECKING:
    from psycopg import sql

    from nexus_sdk.local._catalog import Catalog
    from nexus_sdk.local._sql import Params

__all__ = [
    "Engine",
    "HeaderCache",
    "Identity",
    "RequestContext",
    "RequestHeaders",
    "json_body",
    "query_items",
    "request_body",
]

_BIG_BODY_CHARS: Final = 1 << 20
"""A JSON body at least this long is parsed element by element, yielding to other requests in between."""
_PARSE_SLICE_SECONDS: Final = 0.005
"""How long a big body is parsed before other requests get a turn of the event loop."""
_DECODER: Final = json.JSONDecoder()
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
"""JSON's whitespace, as the json module skips it."""


def _after_space(text: str, position: int) -> int:
    """The first index from ``position`` on that is not JSON whitespace."""
    return _WHITESPACE.match(text, position).end()  # type: ignore[union-attr]  # always matches ("" at least)


_HEADER_SETS_MAX: Final = 256
"""Distinct header lists a :class:`HeaderCache` keeps (all are forgotten when it is full)."""


class Engine(Protocol):
    """What the verb handlers need from the app: the schema cache, the row cap, and one transaction."""

    @property
    def catalog(self) -> Catalog:
        """The schema cache."""
        ...

    @property
    def schema(self) -> str:
        """The exposed schema (``public``)."""
        ...

    @property
    def max_rows(self) -> int | None:
        """The cap on rows per response; ``None`` for none."""
        ...

    async def run(
        self,
        ctx: RequestContext,
        statement: sql.Composed | bytes,
        params: Params | dict[str, Any],
        *,
        read_only: bool,
        expect_one: bool,
        max_affected: int | None = None,
        explain: sql.Composed | bytes | None = None,
        require_one: ApiError | None = None,
    ) -> tuple[Any, ...]:
        """Run one statement in the request's transaction and return its one row."""
        ...


_QUERY_SEPARATORS: Final = re.compile("[&;]")
"""What separates a query string's parameters for PostgREST (http-types' ``parseQuery``): ``&`` and ``;``."""


def query_items(request: Request) -> tuple[tuple[str, str], ...]:
    """The query string's (key, value) pairs in order, as PostgREST reads them.

    Parameters are separated by ``&`` or ``;`` (clients escape a ``;`` inside a value as ``%3B``); a
    parameter without ``=`` (``?id&select=id``), or an empty one, has no value and PostgREST leaves it out;
    ``key=`` has the empty value. Keys and values are unescaped as ``parse_qsl`` does (``+`` is a space,
    ``%XX`` a UTF-8 byte, a malformed escape kept as it is).
    """
    text = request.scope.get("query_string", b"").decode("latin-1")
    pairs = []
    escaped = "%" in text or "+" in text
    for part in _QUERY_SEPARATORS.split(text):
        key, equals, value = part.partition("=")
        if not equals:
            continue
        if escaped:
            key, value = unquote_plus(key), unquote_plus(value)
        pairs.append((key, value))
    return tuple(pairs)


class Identity:
    """Who a request's key and token say it is: what the app worked out from them, once per header list.

    The token's time claims are checked again on every request (:func:`nexus_sdk.local._jwt.verify` with
    :attr:`token`), so a token that expires stops working whatever is remembered here.
    """

    __slots__ = ("claims_json", "role", "token")

    def __init__(self, role: str, token: str, claims_json: str) -> None:
        self.role = role
        self.token = token
        """The JWT the request is made with: the bearer token, else the API key."""
        self.claims_json = claims_json
        """The claims as the JSON of ``request.jwt.claims``."""


class RequestHeaders:
    """The request headers as the API reads them, made once per distinct list of raw headers.

    Shared by every request that sends the same list, so nothing here may change once made, but
    :attr:`identity` (set by the app the first time it checks the key of a list that carries one) and the
    media type, remembered the first time it is negotiated (a refusal is raised again each time).
    """

    __slots__ = ("_first", "_media", "identity", "prefer", "prefs", "settings")

    def __init__(self, request: Request) -> None:
        first: dict[str, str] = {}
        for key, value in request.scope["headers"]:
            first.setdefault(key.decode("latin-1"), value.decode("latin-1"))
        self._first = first
        self.prefer: tuple[str, ...] = tuple(request.headers.getlist("prefer"))
        """Every ``Prefer`` header, in order."""
        self.prefs = parse_prefs(self.prefer)
        """The ``Prefer`` values (read-only: shared by the requests sending these headers)."""
        self.settings = (
            json.dumps({k.lower(): v for k, v in request.headers.items()}),
            json.dumps(dict(request.cookies)),
        )
        """``request.headers`` and ``request.cookies``: the JSON of their transaction settings."""
        self.identity: Identity | None = None
        self._media: tuple[Literal["json", "object", "csv"], bool] | None = None

    def get(self, name: str) -> str | None:
        """The first value of the header ``name`` (lower case), as ``request.headers.get(name)``."""
        return self._first.get(name)

    def media(self) -> tuple[Literal["json", "object", "csv"], bool]:
        """The media type ``Accept`` asks for and whether nulls are stripped
        (:func:`~nexus_sdk.local._negotiate.negotiate`).

        Raises:
            ApiError: 406 PGRST107 when the stack answers with none of the offered types.
        """
        if self._media is None:
            self._media = negotiate(self.get("accept"))
        return self._media


class HeaderCache:
    """The :class:`RequestHeaders` of the header lists seen last, at most :data:`_HEADER_SETS_MAX` of them.

    One per app: an identity holds only for the app whose keys and secret checked it.
    """

    def __init__(self) -> None:
        self._known: dict[tuple[tuple[bytes, bytes], ...], RequestHeaders] = {}

    def get(self, request: Request) -> RequestHeaders:
        """The headers of ``request``, made now unless the same list came before."""
        raw = tuple(request.scope["headers"])
        known = self._known.get(raw)
        if known is None:
            if len(self._known) >= _HEADER_SETS_MAX:
                self._known.clear()
            known = self._known[raw] = RequestHeaders(request)
        return known


class RequestContext:
    """Per-request facts computed once."""

    __slots__ = (
        "_body",
        "claims",
        "claims_json",
        "csv",
        "headers",
        "max_body",
        "method",
        "path",
        "prefs",
        "query_items",
        "request",
        "response_headers",
        "response_status",
        "role",
        "singular",
        "strip",
    )

    def __init__(
        self,
        request: Request,
        role: str,
        claims: dict[str, Any],
        method: str,
        *,
        max_body: int = MAX_BODY_BYTES,
        items: tuple[tuple[str, str], ...] | None = None,
        headers: RequestHeaders | None = None,
    ) -> None:
        self.request = request
        self.headers = RequestHeaders(request) if headers is None else headers
        """The request's headers as the API reads them."""
        self.query_items = query_items(request) if items is None else items
        """The query string's (key, value) pairs in order."""
        self.max_body = max_body
        """The most bytes a body may have (413 beyond)."""
        self._body: bytes | None = None
        self.role = role
        self.claims = claims
        self.claims_json = ""
        """The claims as the JSON of ``request.jwt.claims``."""
        self.method = method
        self.path: str = request.scope["path"]
        """The request's path (as ``request.url.path``)."""
        self.prefs = self.headers.prefs
        media, self.strip = self.headers.media()
        """``strip``: ``nulls=stripped`` was asked for (JSON bodies drop null object fields)."""
        self.singular = media == "object"
        self.csv = media == "csv"
        """``Accept: text/csv``: the rows as CSV."""
        self.response_status: int | None = None
        """``response.status`` as set by the statement, if it was."""
        self.response_headers: list[tuple[str, str]] = []
        """``response.headers`` as set by the statement."""


async def request_body(ctx: RequestContext) -> bytes:
    """The request body, read once and at most ``ctx.max_body`` bytes of it.

    Raises:
        ApiError: 413 when the body is larger.
    """
    if ctx._body is None:
        ctx._body = await read_body(ctx.request, ctx.max_body)
    return ctx._body


async def json_body(ctx: RequestContext) -> tuple[Any, str]:
    """The request body, parsed as JSON (the caller has read its ``Content-Type``), and its text.

    Raises:
        ApiError: 400 PGRST102 for an empty or invalid body (PostgREST drops the parser's message: null
            details).
    """
    raw = await request_body(ctx)
    try:
        # UnicodeDecodeError is a ValueError: a body that is not UTF-8 is invalid JSON, not a crash.
        text = raw.decode("utf-8", errors="strict") if raw else ""
        if not text.strip():
            raise ApiError(400, "PGRST102", "Empty or invalid json")
        return await _loads_sharing_the_loop(text), text
    except ValueError as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid json") from exc
    except RecursionError as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid json", details="nested too deeply") from exc


async def _loads_sharing_the_loop(text: str) -> Any:
    """``json.loads(text)``; a big array is decoded an element at a time, with other requests run between.

    Decoding runs on the event loop (a thread would not help: the decoder holds the GIL), so a 30 MB body
    decoded in one call would hold every other client of the stack for the better part of a second. An
    array is the shape of a big write (bulk inserts), so its elements are decoded one by one with the same
    decoder, and the loop gets a turn every few milliseconds. The result, and what is refused, are those of
    ``json.loads``.

    Raises:
        ValueError: ``text`` is not one JSON value.
    """
    start = _after_space(text, 0)
    if len(text) < _BIG_BODY_CHARS or not text.startswith("[", start):
        return json.loads(text)
    items: list[Any] = []
    position = _after_space(text, start + 1)
    if text.startswith("]", position):
        closed = position + 1
    else:
        pause_at = time.monotonic() + _PARSE_SLICE_SECONDS
        while True:
            item, position = _DECODER.raw_decode(text, position)
            items.append(item)
            position = _after_space(text, position)
            if text.startswith("]", position):
                closed = position + 1
                break
            if not text.startswith(",", position):
                raise ValueError(f"expected ',' or ']' at {position}")
            position = _after_space(text, position + 1)
            if time.monotonic() >= pause_at:
                await asyncio.sleep(0)
                pause_at = time.monotonic() + _PARSE_SLICE_SECONDS
    if _after_space(text, closed) != len(text):
        raise ValueError(f"extra data at {closed}")
    return items

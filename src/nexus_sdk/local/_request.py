"""What a verb handler gets: the request's facts (:class:`RequestContext`) and the app (:class:`Engine`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from starlette.requests import Request

from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._limits import MAX_BODY_BYTES, read_body
from nexus_sdk.local._negotiate import negotiate, parse_prefs

if TYPE_CHECKING:
    from psycopg import sql

    from nexus_sdk.local._catalog import Catalog
    from nexus_sdk.local._sql import Params

__all__ = ["Engine", "RequestContext", "json_body", "query_items", "request_body"]


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


def query_items(request: Request) -> tuple[tuple[str, str], ...]:
    """The query string's (key, value) pairs in order: ``request.query_params.multi_items()``, parsed as
    Starlette parses it, without building its multi-dict."""
    return tuple(parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))


class RequestContext:
    """Per-request facts computed once."""

    __slots__ = (
        "_body",
        "claims",
        "claims_json",
        "csv",
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
    ) -> None:
        self.request = request
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
        self.prefs = parse_prefs(request.headers.getlist("prefer"))
        media, self.strip = negotiate(request.headers.get("accept"))
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
        return json.loads(text), text
    except ValueError as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid json") from exc
    except RecursionError as exc:
        raise ApiError(400, "PGRST102", "Empty or invalid json", details="nested too deeply") from exc

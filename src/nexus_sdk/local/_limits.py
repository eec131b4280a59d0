"""What the stack refuses before it parses or sends anything: sizes, nesting, numbers, NUL characters.

Bad input is answered 4xx, never 5xx, and never read in full:

- the request line and headers together at most :data:`MAX_HEAD_BYTES` (else 431, answered while the
  headers arrive; see :func:`bounded_protocol`), a body at most ``max_body_bytes`` (else 413, at once when
  ``Content-Length`` says so, else as soon as the streamed body passes it);
- the request line and headers within :data:`HEAD_TIMEOUT` seconds, and no pause in a body longer than
  :data:`BODY_IDLE_TIMEOUT` (else 408 and the connection closed), as nginx in front of Supabase times them
  out: a client that opens requests and never finishes them (slowloris) holds nothing for long;
- query-string values nested at most :data:`MAX_QUERY_DEPTH` levels (``or=(and(...))``, a JSON argument of
  an RPC ``GET``; else 400 PGRST100); a JSON body too deeply nested to parse is 400 PGRST102;
- ``limit``/``offset``/``Range`` numbers past ``bigint`` and JSON-path indexes past ``integer`` are 400
  ``22003``, and a NUL character in the query string is 400 ``22021``: PostgreSQL's answers, which PostgREST
  passes on, given before anything reaches the database.

Requests too malformed to parse are answered (400, 431) and logged at most once a minute per message, with a
count of the others, so a client sending garbage cannot fill a log.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk.local._errors import ApiError

if TYPE_CHECKING:
    from starlette.requests import Request

__all__ = [
    "BODY_IDLE_TIMEOUT",
    "HEAD_TIMEOUT",
    "MAX_BODY_BYTES",
    "MAX_HEAD_BYTES",
    "MAX_QUERY_DEPTH",
    "body_too_large",
    "bounded_protocol",
    "check_query",
    "read_body",
]

MAX_HEAD_BYTES: Final = 32 * 1024
"""The request line and all headers together (a JWT with generous metadata is a few KiB)."""
MAX_BODY_BYTES: Final = 32 * 1024 * 1024
"""The default cap on a request body (``start(max_body_bytes=...)`` changes it)."""
MAX_QUERY_DEPTH: Final = 64
"""How deeply ``(``, ``[`` and ``{`` may nest in one query-string value."""
HEAD_TIMEOUT: Final = 60.0
"""Seconds a client has for a request line and headers, from connecting or from the first byte of its next
request on a kept-alive connection (nginx's ``client_header_timeout``)."""
BODY_IDLE_TIMEOUT: Final = 60.0
"""Seconds a request body may pause between two of its parts (nginx's ``client_body_timeout``)."""

_BIGINT_DIGITS: Final = 19  # 9223372036854775807
_INT_DIGITS: Final = 10  # 2147483647
_LONG_INDEX: Final = re.compile(r"->>?\s*-?\d{" + str(_INT_DIGITS + 1) + ",}")
_STRUCTURED: Final = frozenset(
    {"select", "order", "or", "and", "not.or", "not.and", "columns", "on_conflict"}
)


def body_too_large(limit: int) -> ApiError:
    """413, answered as Supabase's gateway does (a body of only ``message``)."""
    return ApiError(413, "", "Request size limit exceeded", hint=f"The body may be at most {limit} bytes.")


def _nesting(text: str) -> int:
    if text.count("(") + text.count("[") + text.count("{") <= MAX_QUERY_DEPTH:
        return 0  # cannot nest deeper than it has openers; most values end here, without a loop
    depth = deepest = 0
    for c in text:
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
    return deepest


def _out_of_range(kind: str) -> ApiError:
    return ApiError(400, "22003", f"{kind} out of range")


def _long_number(text: str, digits: int) -> bool:
    return len(text) > digits and any(len(run) > digits for run in re.findall(r"\d+", text))


def check_query(items: Sequence[tuple[str, str]], range_header: str | None) -> None:
    """Refuse a query string (and ``Range`` header) that would fail in a way worse than a 4xx.

    Raises:
        ApiError: 400 ``22021`` (NUL), 400 PGRST100 (nested too deeply), 400 ``22003`` (number too large).
    """
    for key, value in items:
        if "\x00" in key or "\x00" in value:
            raise ApiError(400, "22021", 'invalid byte sequence for encoding "UTF8": 0x00')
        for text in (key, value):
            if _nesting(text) > MAX_QUERY_DEPTH:
                raise ApiError(
                    400,
                    "PGRST100",
                    f'"failed to parse {key}" : nested too deeply',
                    details=f"more than {MAX_QUERY_DEPTH} levels of (, [ or {{",
                )
        last = key.rsplit(".", 1)[-1]
        if last in ("limit", "offset") and _long_number(value, _BIGINT_DIGITS):
            raise _out_of_range("bigint")
        # JSON-path indexes appear in column names: filter keys and the structured parameters' values.
        if _LONG_INDEX.search(key) or (last in _STRUCTURED and _LONG_INDEX.search(value)):
            raise _out_of_range("integer")
    if range_header is not None and _long_number(range_header, _BIGINT_DIGITS):
        raise _out_of_range("bigint")


def _body_timed_out(idle_timeout: float) -> ApiError:
    return ApiError(
        408,
        "",
        "Request body timed out",
        hint=f"The body paused for more than {idle_timeout:g} seconds.",
        headers={"Connection": "close"},  # the rest of a stalled body is never read
    )


async def read_body(request: Request, limit: int, *, idle_timeout: float = BODY_IDLE_TIMEOUT) -> bytes:
    """The request body, refused with 413 as soon as it is known to be larger than ``limit`` bytes, and with
    408 when it pauses for more than ``idle_timeout`` seconds.

    Raises:
        ApiError: 413, 408.
    """
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise body_too_large(limit)
    chunks: list[bytes] = []
    size = 0
    parts = request.stream()
    while True:
        try:
            async with asyncio.timeout(idle_timeout):
                chunk = await anext(parts)
        except StopAsyncIteration:
            break
        except TimeoutError as exc:
            raise _body_timed_out(idle_timeout) from exc
        size += len(chunk)
        if size > limit:
            raise body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class OncePerInterval(logging.Filter):
    """Lets each of ``messages`` through once per ``interval`` seconds; the next one that passes says how many
    were left out in between (e.g. "Invalid HTTP request received. (1,234 more in the last 60 s)"). Other
    records pass untouched."""

    def __init__(self, messages: frozenset[str], interval: float = 60.0) -> None:
        super().__init__()
        self.messages = messages
        self.interval = interval
        self._seen: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = record.msg
        if not isinstance(key, str) or key not in self.messages:
            return True
        now = time.monotonic()
        last, left_out = self._seen.get(key, (-math.inf, 0))
        if now - last < self.interval:
            self._seen[key] = (last, left_out + 1)
            return False
        if left_out:
            record.msg = f"{record.msg} ({left_out:,} more in the last {now - last:.0f} s)"
        self._seen[key] = (now, 0)
        return True


_PROTOCOL_LOG: Final = logging.getLogger("nexus_sdk.local.http")
"""What the HTTP protocol logs; its messages about malformed requests rate-limited by :class:`OncePerInterval`.
Warnings and errors only, as uvicorn's own logger is set up for the stack (its per-connection trace lines are
never built)."""
_PROTOCOL_LOG.setLevel(logging.WARNING)
_PROTOCOL_LOG.addFilter(
    OncePerInterval(frozenset({"Invalid HTTP request received.", "Unsupported upgrade request."}))
)


def bounded_protocol(max_head_bytes: int = MAX_HEAD_BYTES, head_timeout: float = HEAD_TIMEOUT) -> Any:
    """uvicorn's httptools protocol, answering 431 as soon as the request line and headers pass the bound, and
    408 (closing the connection) when they are not complete ``head_timeout`` seconds after the connection
    opened or the request began.

    The headers are parsed as they arrive, so an endless header is refused without being read in full.
    """
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _Refused(Exception):
        pass

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        _head_bytes = 0
        _head_refused = False

        _head_timer: asyncio.TimerHandle | None = None
        _head_open = False

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.logger = _PROTOCOL_LOG  # uvicorn's "Invalid HTTP request received.", once a minute

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_head_timer()
            super().connection_lost(exc)

        def _arm_head_timer(self) -> None:
            if self._head_timer is None:
                self._head_timer = asyncio.get_running_loop().call_later(head_timeout, self._head_timed_out)

        def _disarm_head_timer(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timed_out(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.keep_alive = False  # a pipelined request stalled behind one still answering
                return
            self._answer_and_close(b"408 Request Timeout", b"Request header timed out")

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._head_open:
                # A request began in this data and its head is not all here: it is timed from now. (A head
                # that arrives whole, the usual case, needs no timer.)
                self._arm_head_timer()

        def on_message_begin(self) -> None:
            self._head_bytes = 0
            self._head_open = True
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._head_open = False
            self._disarm_head_timer()
            super().on_headers_complete()

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > max_head_bytes:
                self._head_refused = True
                raise _Refused  # stops the parser; uvicorn then answers through send_400_response

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            super().on_header(name, value)

        def send_400_response(self, msg: str) -> None:
            if not self._head_refused:
                super().send_400_response(msg)
                return
            self._answer_and_close(b"431 Request Header Fields Too Large", b"Request header fields too large")

        def _answer_and_close(self, status: bytes, message: bytes) -> None:
            """Answer ``{"message": ...}`` with ``status`` before any request reached the app, and hang up."""
            body = b'{"message":"' + message + b'"}'
            self.transport.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
            )
            self.transport.close()

    return BoundedHttpToolsProtocol

"""The HTTP core: request descriptions, the retry policy, response-to-error mapping, and two senders.

Everything above the two ``_run`` loops is free of I/O. An SDK operation is a generator (an
"operation") that yields :class:`APIRequest` descriptions and receives :class:`APIResponse` results;
:func:`call` wraps one request in the retry policy and yields the low-level steps, :class:`Send` and
:class:`Sleep`. The sync and async senders only perform those steps, so both clients share every
decision: which requests may be retried, how long to wait, and which exception a response becomes.

httpx exceptions are translated here and nowhere else, always with ``raise ... from exc``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import email.utils
import functools
import json
import logging
import os
import random
import ssl
import sys
import threading
import time
import urllib.parse
import warnings
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, TypeVar

import httpcore
import httpx
from pydantic_core import ValidationError as PydanticValidationError

from nexus_sdk._version import __version__
from nexus_sdk.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    ValidationError,
    api_error,
)
from nexus_sdk.settings import ENV_LOG, NOT_GIVEN, REST_PATH, ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "APIRequest",
    "APIResponse",
    "AsyncSender",
    "DeadlineExceeded",
    "Operation",
    "ResponseInfo",
    "Send",
    "Sleep",
    "SyncSender",
    "call",
    "capture_responses",
    "check_no_nul",
    "configure_logging",
    "deadline_transport",
    "encode_json",
    "error_from_response",
    "host_of",
    "json_rows",
    "retry_delay",
]

logger: Final = logging.getLogger("nexus_sdk")

_LOG_LEVELS: Final = {"info": logging.INFO, "debug": logging.DEBUG}


def configure_logging(environ: Mapping[str, str] | None = None) -> None:
    """Honour ``NEXUS_LOG=info|debug``: log every request of the SDK to stderr (as ``OPENAI_LOG`` does).

    ``info`` logs one line per attempt: method, path (never the query string), status, duration, request
    id, retry number; ``debug`` adds the query's parameter names and the response's content type,
    ``Content-Range`` and size. No header value, body, key or token is ever logged. Unset, the SDK only
    logs through the ``nexus_sdk`` logger as any library does (retries at WARNING), and configures nothing.
    Called when the HTTP layer is first imported (a client is created).

    Args:
        environ: Where to read ``NEXUS_LOG``; ``os.environ`` if omitted.
    """
    value = (os.environ if environ is None else environ).get(ENV_LOG, "").strip().lower()
    if not value:
        return
    level = _LOG_LEVELS.get(value)
    if level is None:
        warnings.warn(f"{ENV_LOG}={value!r} is not one of: info, debug; ignored.", stacklevel=2)
        return
    if not any(isinstance(handler, _StderrHandler) for handler in logger.handlers):
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(levelname)s %(name)s] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (it may have been replaced since)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


T = TypeVar("T")

INITIAL_RETRY_DELAY: Final = 0.5
"""Seconds; the ceiling of the first backoff, doubling on each retry."""
MAX_RETRY_DELAY: Final = 8.0
"""Seconds; the backoff ceiling never grows past this."""
MAX_RETRY_AFTER: Final = 60.0
"""Seconds; a longer Retry-After is not waited for (the error is raised instead)."""


# 501 Not Implemented and 505 will not change on a second try.
_RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})
_NOT_RETRIED_CODES: Final = frozenset({"57014"})
"""Error codes that a second try would only repeat: ``57014``, a statement the database cancelled at its
``statement_timeout`` (PostgREST answers it with a 500). Sending the same query again would hold a
connection for the whole timeout once more, and again, on a database that is already slow."""


@dataclass(frozen=True, slots=True)
class APIRequest:
    """One PostgREST request, described without sending it."""

    method: str
    path: str
    """Relative to ``/rest/v1``, e.g. ``/published_posts`` or ``/rpc/claim_due_posts``."""
    params: tuple[tuple[str, str], ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    """The body, or ``None`` for no body."""
    retry_safe: bool = False
    """Whether repeating the request cannot change the outcome (reads, writes keyed by id)."""
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    """Per-attempt timeout for this call; ``NOT_GIVEN`` means the client's."""
    content: bytes | None = None
    """An already-encoded JSON body, sent as is with ``Content-Type: application/json``; use instead of
    ``json`` when the body is large (see :func:`encode_json`)."""

    def __post_init__(self) -> None:
        if self.json is not None and self.content is not None:
            raise ValueError("An APIRequest takes a json body or encoded content, not both.")


@dataclass(frozen=True, slots=True)
class APIResponse:
    """A successful (2xx) response, read in full."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    attempts: int
    """How many times the request was sent; above 1 means an earlier attempt may have taken effect."""

    def json(self) -> Any:
        """The body parsed as JSON (``None`` for an empty body)."""
        return json.loads(self.content) if self.content else None

    def rows(self) -> list[dict[str, Any]]:
        """The body as PostgREST's array of row objects (``[]`` for an empty body); see :func:`json_rows`."""
        return json_rows(self.content)


def json_rows(content: bytes) -> list[dict[str, Any]]:
    """Parse a body that must be a JSON array of objects, as PostgREST answers for rows.

    Raises:
        json.JSONDecodeError: Not JSON.
        pydantic_core.ValidationError: JSON of another shape (where, without the value). The senders turn
            both into :class:`~nexus_sdk.errors.APIResponseValidationError`, naming the request.
    """
    data = json.loads(content) if content else []
    if type(data) is list and all(type(row) is dict for row in data):
        return data
    from pydantic import TypeAdapter

    # Only on the failure path: pydantic says where the shape is wrong, e.g. "0: Input should be a valid
    # dictionary".
    TypeAdapter(list[dict[str, Any]]).validate_python(data, strict=True)
    raise AssertionError("unreachable: the adapter refused the data")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Send:
    """Step: send this request once and hand back the ``httpx.Response`` or the ``httpx`` exception."""

    request: APIRequest
    deadline: float | None = None
    """``time.monotonic()`` by which the attempt must be over, body included (``None``: no deadline)."""


@dataclass(frozen=True, slots=True)
class Sleep:
    """Step: wait this many seconds."""

    seconds: float


Step: TypeAlias = Send | Sleep
Outcome: TypeAlias = httpx.Response | httpx.RequestError | None
Operation: TypeAlias = Generator[Step, Outcome, T]
"""An SDK operation: yields steps, receives their outcomes, returns the result."""


def encode_json(value: Any) -> bytes:
    """Encode a JSON body once, in Rust: about a microsecond per row instead of six with ``json.dumps``.

    The output is compact UTF-8, as httpx would send it. Unlike ``json.dumps`` it also accepts UUIDs,
    datetimes and enums (written as pydantic writes them in JSON mode).

    Args:
        value: JSON-compatible data, e.g. a list of row bodies.

    Returns:
        The encoded body, for :attr:`APIRequest.content`.

    Raises:
        ValidationError: ``value`` holds a NUL character (see :func:`check_no_nul`).
        ValueError: ``value`` holds a float JSON cannot carry (NaN, infinity) or an unknown type.
    """
    from pydantic_core import PydanticSerializationError, to_json

    try:
        body = to_json(value)
    except PydanticSerializationError as exc:
        raise ValueError(f"The request body is not JSON-serialisable: {exc}") from None
    if b"NaN" in body or b"Infinity" in body:
        # to_json writes NaN and Infinity bare, which is not JSON and which PostgreSQL refuses. Such bytes
        # may also just sit inside a string: let the strict encoder decide (it raises ValueError on a
        # non-finite float), as httpx's json= does.
        json.dumps(value, allow_nan=False, default=str)
    if b"\\u0000" in body:
        # A NUL character, or a string that merely spells a backslash and "u0000": the walk tells which.
        check_no_nul(value)
    return body


def _nul_location(value: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                return (*path, key)
            found = _nul_location(item, (*path, key))
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _nul_location(item, (*path, index))
            if found is not None:
                return found
    return None


def check_no_nul(value: Any) -> None:
    """Refuse a JSON body holding a NUL character, which PostgreSQL cannot store in text or jsonb.

    Sent anyway, the database answers 400 (22P05 or 22P02) after the request has travelled; refused here,
    the error says where, and nothing is sent.

    Args:
        value: The body (dicts, lists, strings, numbers).

    Raises:
        ValidationError: A string or key holds ``"\\x00"``; ``errors[0]["loc"]`` is where. The value itself
            is never quoted (it may be a token).
    """
    location = _nul_location(value, ())
    if location is None:
        return
    where = ".".join(str(part) for part in location) or "body"
    message = f"{where} contains a NUL character (\\u0000), which PostgreSQL cannot store in text or JSON."
    raise ValidationError.at(location, message, "string_nul")


def error_from_response(response: httpx.Response) -> APIStatusError:
    """Build the exception for an error response from PostgREST's ``{code, message, details, hint}``.

    The class (and so the status) is chosen by :func:`nexus_sdk.errors.api_error`. Request headers are never
    looked at, so no key or token can leak into the message.
    """
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = None
    code = message = details = hint = None
    if isinstance(body, Mapping):
        code = _text(body.get("code"))
        message = _text(body.get("message")) or _text(body.get("msg")) or _text(body.get("error"))
        details = _text(body.get("details"))
        hint = _text(body.get("hint"))
    if not message:
        message = response.reason_phrase or "HTTP error"
    if response.status_code == 404 and not isinstance(body, Mapping):
        # Not the API's answer (PostgREST and Auth answer a 404 in JSON): typically a URL that is not the
        # project's. The path names the table, never a value (the query string is left out).
        url = response.request.url
        message += (
            f" ({response.request.method} {url.path} at {url.host}{f':{url.port}' if url.port else ''} is not "
            "an API answer: is the URL the project's, e.g. SUPABASE_URL=https://<ref>.supabase.co?)"
        )
    return api_error(
        message,
        status_code=response.status_code,
        code=code,
        details=details,
        hint=hint,
        request_id=response.headers.get("sb-request-id") or response.headers.get("x-request-id"),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _error_code(response: httpx.Response) -> str | None:
    """The ``code`` of a JSON error body (PostgREST's ``{"code": ...}``), or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    return _text(body.get("code")) if isinstance(body, Mapping) else None


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or an HTTP date), if any."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _timeout_budget(timeout: TimeoutTypes) -> float | None:
    if isinstance(timeout, httpx.Timeout):
        values = [v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v is not None]
        return max(values) if values else None
    return timeout


def retry_delay(
    request: APIRequest,
    outcome: httpx.Response | httpx.RequestError,
    retries_done: int,
    max_retries: int,
    timeout: TimeoutTypes,
) -> float | None:
    """Decide whether to retry, and after how long.

    Retried: connection errors, 408, 429 and 5xx other than 501/505, unless the error's ``code`` is one a
    second try would only repeat (a statement cancelled at its timeout). A request that may have reached
    the server is retried only when ``request.retry_safe``; one that never left (connect failure) or
    that the server refused to process (429) is always safe.

    Returns:
        The delay in seconds, or ``None`` to stop and report ``outcome``.
    """
    if retries_done >= max_retries:
        return None
    retry_after: float | None = None
    if isinstance(outcome, httpx.Response):
        if outcome.status_code not in _RETRYABLE_STATUSES:
            return None
        if outcome.status_code != 429 and not request.retry_safe:
            return None
        if outcome.status_code == 500 and _error_code(outcome) in _NOT_RETRIED_CODES:
            return None
        retry_after = _retry_after(outcome.headers)
    elif not (request.retry_safe or isinstance(outcome, httpx.ConnectError | httpx.ConnectTimeout)):
        return None
    if retry_after is not None:
        # If the server says how long to wait, obey, unless that outlasts what the caller allowed.
        budget = _timeout_budget(timeout)
        limit = MAX_RETRY_AFTER if budget is None else min(MAX_RETRY_AFTER, budget)
        return retry_after if retry_after <= limit else None
    # Full jitter: spreads retries of many clients hit by the same outage.
    ceiling = min(MAX_RETRY_DELAY, INITIAL_RETRY_DELAY * 2**retries_done)
    return random.uniform(0, ceiling)


def _describe(outcome: httpx.Response | httpx.RequestError) -> str:
    if isinstance(outcome, httpx.Response):
        return f"HTTP {outcome.status_code}"
    return type(outcome).__name__


def _request_id(headers: httpx.Headers) -> str | None:
    request_id: str | None = headers.get("sb-request-id") or headers.get("x-request-id")
    return request_id


def host_of(url: str) -> str:
    """The ``host[:port]`` of ``url``, without any user or password, for messages and logs."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2]


class DeadlineExceeded(httpx.TimeoutException):
    """An attempt outlasted its deadline (``timeout``, or what was left of the call's ``total_timeout``).

    httpx's own timeouts bound each network operation; this one bounds the attempt as a whole, so a server
    that trickles its answer cannot hold a call for longer than asked. It is an httpx timeout, so the retry
    policy and the error mapping treat it as one.
    """


def _finish(
    request: APIRequest,
    outcome: httpx.Response | httpx.RequestError,
    attempts: int,
    settings: ClientSettings,
) -> APIResponse:
    """Turn the last outcome into a result or raise the SDK exception for it."""
    host = host_of(settings.url)
    if isinstance(outcome, httpx.TimeoutException):
        raise APITimeoutError(f"{request.method} {request.path} to {host} timed out.") from outcome
    if isinstance(outcome, httpx.ConnectError):
        raise APIConnectionError(
            f"{request.method} {request.path}: could not connect to {host} ({type(outcome).__name__})."
        ) from outcome
    if isinstance(outcome, httpx.RequestError):
        # Our own wording: httpx messages can quote the URL, and we keep the query string out of logs.
        raise APIConnectionError(
            f"{request.method} {request.path} to {host} failed: {type(outcome).__name__}."
        ) from outcome
    if outcome.status_code >= 400:
        raise error_from_response(outcome)
    if outcome.status_code >= 300:
        # PostgREST never redirects; a proxy in front of it does (http:// to https://, a moved domain).
        # Its empty body must not pass for "no rows" (list() would return [], create() a ConflictError).
        raise _redirect_error(request, outcome)
    return APIResponse(outcome.status_code, outcome.headers, outcome.content, attempts)


def _redirect_error(request: APIRequest, response: httpx.Response) -> APIStatusError:
    location = response.headers.get("location")
    # Only scheme, host and path: the query string holds filter values, kept out of messages and logs.
    target = str(httpx.URL(location).copy_with(query=None, fragment=None)) if location else "elsewhere"
    return api_error(
        f"{request.method} {request.path} was redirected ({response.status_code}) to {target}; "
        "set the client URL to the address the API answers at (e.g. https:// rather than http://).",
        status_code=response.status_code,
        request_id=_request_id(response.headers),
    )


def _earliest(*instants: float | None) -> float | None:
    given = [instant for instant in instants if instant is not None]
    return min(given) if given else None


def _log_outcome(
    request: APIRequest,
    outcome: httpx.Response | httpx.RequestError,
    seconds: float,
    retries_done: int,
    settings: ClientSettings,
) -> None:
    """One line per attempt at INFO (NEXUS_LOG=info): no query string, header value, body, key or token."""
    if not logger.isEnabledFor(logging.INFO):
        return
    if isinstance(outcome, httpx.Response):
        result = f"{outcome.status_code} {outcome.reason_phrase}".rstrip()
        request_id = _request_id(outcome.headers)
    else:
        result = f"{type(outcome).__name__} from {host_of(settings.url)}"
        request_id = None
    logger.info(
        "HTTP %s %s%s -> %s in %.0f ms (request id %s, retry %d of %d)",
        request.method,
        REST_PATH,
        request.path,
        result,
        seconds * 1000,
        request_id or "-",
        retries_done,
        settings.max_retries,
    )
    if logger.isEnabledFor(logging.DEBUG):
        # Parameter names only: their values are filters, which may hold anything the caller filters by.
        names = ",".join(sorted({name for name, _ in request.params})) or "-"
        if isinstance(outcome, httpx.Response):
            logger.debug(
                "HTTP %s %s%s: params %s; response content-type %s, content-range %s, %d bytes",
                request.method,
                REST_PATH,
                request.path,
                names,
                outcome.headers.get("content-type", "-"),
                outcome.headers.get("content-range", "-"),
                len(outcome.content),
            )
        else:
            logger.debug("HTTP %s %s%s: params %s", request.method, REST_PATH, request.path, names)


@dataclass(frozen=True, slots=True)
class ResponseInfo:
    """What a successful HTTP response said besides its rows: status, headers, request id, row range.

    Recorded by :func:`capture_responses` for every request an SDK call made; the call's own return value
    (and its type) is unchanged.
    """

    method: str
    """``GET``, ``POST``, ``PATCH``, ``DELETE`` or ``HEAD``."""
    path: str
    """Below ``/rest/v1``, e.g. ``/published_posts`` or ``/rpc/claim_due_posts`` (no query string)."""
    status_code: int
    headers: httpx.Headers
    """Every response header."""
    attempts: int
    """How many times the request was sent (above 1: it was retried)."""
    elapsed: float
    """Seconds from the first attempt to the final response, waits between retries included."""

    @property
    def request_id(self) -> str | None:
        """The gateway's request id (``sb-request-id``, else ``x-request-id``); quote it in support requests."""
        return _request_id(self.headers)

    @property
    def content_range(self) -> str | None:
        """The ``Content-Range`` header, e.g. ``0-24/3573`` (``*/3573`` for a count)."""
        value: str | None = self.headers.get("content-range")
        return value

    @property
    def total(self) -> int | None:
        """The row count after the ``/`` of ``Content-Range`` (with ``count=exact``), if the server sent one."""
        total = (self.content_range or "").rpartition("/")[2]
        return int(total) if total.isdigit() else None


_CAPTURES: Final[contextvars.ContextVar[tuple[list[ResponseInfo], ...]]] = contextvars.ContextVar(
    "nexus_sdk_captures", default=()
)


@contextlib.contextmanager
def capture_responses() -> Iterator[list[ResponseInfo]]:
    """Record the response of every SDK request made inside the block: headers, request id, row range.

    The SDK's calls keep returning typed rows; this is where their HTTP side is read, for the calls made in
    this thread (sync) or this task and the tasks it starts (async). Blocks nest; each sees its own calls.

    Example::

        with capture_responses() as responses:
            posts = nx.published_posts.list(limit=25)
        print(responses[-1].request_id, responses[-1].content_range)

    Yields:
        The list the responses are appended to, one :class:`ResponseInfo` per request, in order.
    """
    responses: list[ResponseInfo] = []
    token = _CAPTURES.set((*_CAPTURES.get(), responses))
    try:
        yield responses
    finally:
        _CAPTURES.reset(token)


def _record(request: APIRequest, response: APIResponse, elapsed: float) -> None:
    captures = _CAPTURES.get()
    if not captures:
        return
    info = ResponseInfo(
        request.method, request.path, response.status_code, response.headers, response.attempts, elapsed
    )
    for responses in captures:
        responses.append(info)


def call(request: APIRequest, settings: ClientSettings) -> Operation[APIResponse]:
    """Send ``request`` under the retry policy; ``yield from`` this inside an operation.

    Each attempt must be over, body included, within the timeout (the largest part of an
    :class:`httpx.Timeout`); the whole call, retries and waits included, within the client's
    ``total_timeout`` when one is set.

    Raises:
        ValidationError: The body holds a NUL character; nothing was sent.
        APIStatusError: The final response was an error (the subclass for its status).
        APITimeoutError: The final attempt timed out, or the call ran out of its total time.
        APIConnectionError: The final attempt got no response.
    """
    if request.json is not None:
        check_no_nul(request.json)  # encoded content was checked by encode_json
    timeout = settings.timeout if isinstance(request.timeout, NotGiven) else request.timeout
    budget = _timeout_budget(timeout)
    started = time.monotonic()
    call_deadline = None if settings.total_timeout is None else started + settings.total_timeout
    retries_done = 0
    while True:
        sent = time.monotonic()
        attempt_deadline = None if budget is None else sent + budget
        outcome = yield Send(request, _earliest(attempt_deadline, call_deadline))
        assert outcome is not None  # the senders always answer a Send
        _log_outcome(request, outcome, time.monotonic() - sent, retries_done, settings)
        delay = retry_delay(request, outcome, retries_done, settings.max_retries, timeout)
        if delay is not None and call_deadline is not None and time.monotonic() + delay >= call_deadline:
            delay = None  # no time left for another attempt: report this one
        if delay is None:
            response = _finish(request, outcome, retries_done + 1, settings)
            _record(request, response, time.monotonic() - started)
            return response
        retries_done += 1
        logger.warning(
            "Retrying %s %s in %.2fs (retry %d of %d) after %s",
            request.method,
            request.path,
            delay,
            retries_done,
            settings.max_retries,
            _describe(outcome),
        )
        yield Sleep(delay)


_IDENTITY: Final = {"User-Agent": f"nexus-sdk/{__version__}", "X-Client-Info": f"nexus-sdk/{__version__}"}
"""Sent with every request: who is calling (as supabase-py sends ``X-Client-Info: supabase-py/<version>``)."""


def _clamped(timeout: TimeoutTypes, deadline: float | None) -> TimeoutTypes:
    """The httpx timeout of one attempt: no network operation may wait past the attempt's deadline."""
    if deadline is None:
        return timeout
    # Never 0: to a socket that means non-blocking, and a read would fail as an error, not a timeout.
    left = max(0.001, deadline - time.monotonic())
    if isinstance(timeout, httpx.Timeout):
        return httpx.Timeout(
            connect=left if timeout.connect is None else min(timeout.connect, left),
            read=left if timeout.read is None else min(timeout.read, left),
            write=left if timeout.write is None else min(timeout.write, left),
            pool=left if timeout.pool is None else min(timeout.pool, left),
        )
    return left if timeout is None else min(timeout, left)


def _build(client: httpx.Client | httpx.AsyncClient, settings: ClientSettings, step: Send) -> httpx.Request:
    request = step.request
    timeout = settings.timeout if isinstance(request.timeout, NotGiven) else request.timeout
    headers = {**_IDENTITY, **settings.headers(), **request.headers}
    # httpx sets this header for json= only; encoded content must say what it is itself.
    if request.content is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    return client.build_request(
        request.method,
        settings.base_url + request.path,
        params=request.params,
        headers=headers,
        json=request.json,
        content=request.content,
        timeout=_clamped(timeout, step.deadline),
    )


def _past(deadline: float | None, request: httpx.Request) -> None:
    if deadline is not None and time.monotonic() >= deadline:
        raise DeadlineExceeded("The attempt outlasted its timeout.", request=request)


_ATTEMPT: Final = threading.local()
"""``deadline``: the ``time.monotonic()`` by which this thread's attempt must be over, or ``None``."""


def _within(timeout: float | None, expired: type[httpcore.TimeoutException]) -> float | None:
    """One socket operation's timeout: never past the running attempt's deadline (raise once it is past)."""
    deadline: float | None = getattr(_ATTEMPT, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("The attempt outlasted its timeout.")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the running attempt's deadline.

    httpcore reads the status line and headers in as many reads as the server takes to send them; each read
    here gets only what is left of the attempt, so a server trickling them cannot outlast it either.
    """

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _within(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _within(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking sockets, wrapped in :class:`_DeadlineStream`."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = _within(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


@functools.cache
def _trust_nothing() -> ssl.SSLContext:
    """A TLS context that requires a verified certificate and trusts no authority: every handshake fails."""
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # CERT_REQUIRED and check_hostname, no CA loaded


def tls_verify(base_url: str) -> ssl.SSLContext | bool:
    """What a default client verifies TLS with: httpx's default (certifi's authorities) for an https API.

    For a plain-http API (the local stack), a context that trusts nothing. Such a client never opens TLS:
    it sends only to the API's base URL and never follows a redirect. Building httpx's default context
    parses certifi's bundle, ~18 ms per client, which a test suite or a notebook pays again and again.
    Should a handshake happen anyway, it fails: closed, never open. (Proxies from the environment keep
    httpx's own default.)
    """
    if urllib.parse.urlsplit(base_url).scheme.lower() == "https":
        return True
    return _trust_nothing()


def deadline_transport(verify: ssl.SSLContext | bool = True) -> httpx.HTTPTransport:
    """httpx's default transport, with every socket wait bounded by the running attempt's deadline.

    The ``httpx.Client`` a :class:`~nexus_sdk.NexusClient` creates uses it, so ``timeout`` bounds a sync
    attempt exactly, trickled headers included, with no thread. httpx offers no public way to choose
    httpcore's network backend, so it is set on the transport's pool; should a later httpx or httpcore
    lay that out differently, the plain transport is returned, bounded per read as a caller's own client is.

    Args:
        verify: As httpx's ``verify``; see :func:`tls_verify`.
    """
    transport = httpx.HTTPTransport(verify=verify)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(pool, httpcore.ConnectionPool) and isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = _DeadlineBackend(backend)
    return transport


def default_async_client(base_url: str) -> httpx.AsyncClient:
    """The ``httpx.AsyncClient`` an :class:`~nexus_sdk.AsyncNexusClient` for ``base_url`` makes when given none.

    Cancellation bounds an async attempt, so httpx's defaults serve as they are, but for TLS over plain
    http (:func:`tls_verify`).
    """
    return httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(verify=tls_verify(base_url)))


def default_client(base_url: str) -> httpx.Client:
    """The ``httpx.Client`` a :class:`~nexus_sdk.NexusClient` for ``base_url`` makes when given none: on
    :func:`deadline_transport`, so a sync attempt is bounded exactly (its async twin is
    :func:`default_async_client`; the two differ for real, so neither is generated).
    """
    return httpx.Client(transport=deadline_transport(tls_verify(base_url)))


def _whole(response: httpx.Response, raw: bytes, request: httpx.Request) -> httpx.Response:
    """The streamed response with its body read: decoded (gzip ...) as httpx does, which may raise."""
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        content=raw,
        request=request,
        extensions=response.extensions,
    )


def _bad_response(exc: Exception, response: httpx.Response | None) -> APIResponseValidationError:
    """A 2xx answer of the wrong shape (an HTML page from a proxy, another API): the error says so.

    Neither the body nor pydantic's text (which quotes it) goes into the message.
    """
    errors: list[dict[str, Any]] = []
    if isinstance(exc, PydanticValidationError):
        errors = [
            {"loc": error["loc"], "msg": error["msg"], "type": error["type"]}
            for error in exc.errors(include_input=False, include_url=False)
        ][:10]
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        where = ".".join(str(part) for part in first["loc"]) or "body"
        problem = f"{where}: {first['msg']}"
    else:
        problem = "the body is not JSON"
    if response is None:
        return APIResponseValidationError(
            f"The response is not what the API returns ({problem}).", errors=errors
        )
    request = response.request
    kind = response.headers.get("content-type", "no content type").split(";")[0]
    return APIResponseValidationError(
        f"{request.method} {request.url.host}{request.url.path} answered {response.status_code} with a body "
        f"that is not what the API returns ({kind}, {len(response.content)} bytes; {problem}). "
        "A proxy or another service may be answering at this URL.",
        status_code=response.status_code,
        request_id=_request_id(response.headers),
        errors=errors,
    )


_SHAPE_ERRORS: Final = (PydanticValidationError, json.JSONDecodeError)
"""What decoding a 2xx body of the wrong shape raises inside an operation."""


class SyncSender:
    """Runs operations over an ``httpx.Client``.

    It and :class:`AsyncSender` are written by hand, not generated by ``tools/async_to_sync.py`` like the
    facades: they are where the two clients really differ (blocking calls against awaited ones, and how a
    deadline can interrupt them).
    """

    def __init__(self, client: httpx.Client, settings: ClientSettings) -> None:
        self._client = client
        self._settings = settings

    def _send(self, step: Send) -> httpx.Response | httpx.RequestError:
        request = _build(self._client, self._settings, step)
        # Read by deadline_transport's sockets, if the client uses it: no wait outlasts the attempt.
        _ATTEMPT.deadline = step.deadline
        try:
            # Never follow a redirect, whatever the client's own setting: the keys would go along to
            # wherever it points (httpx strips only Authorization when the host changes, not apikey).
            response = self._client.send(request, stream=True, follow_redirects=False)
            if response.is_stream_consumed:
                # The transport answered with its body already read (httpx.MockTransport): it is whole.
                return response
            try:
                chunks = []
                # Read by chunks, checking the deadline between them: httpx's timeouts bound each read,
                # so a server sending a byte at a time would otherwise hold the call as long as it likes.
                for chunk in response.iter_raw():
                    chunks.append(chunk)
                    _past(step.deadline, request)
            finally:
                response.close()
            return _whole(response, b"".join(chunks), request)
        except httpx.RequestError as exc:
            # Not only TransportError: a body that fails to decode (DecodingError) or a redirect
            # loop must also leave as an SDK exception, never as a raw httpx one.
            return exc
        finally:
            _ATTEMPT.deadline = None

    def run(self, operation: Operation[T]) -> T:
        """Drive ``operation`` to completion, performing its steps."""
        outcome: Outcome = None
        last: httpx.Response | None = None
        try:
            while True:
                try:
                    step = operation.send(outcome)
                except _SHAPE_ERRORS as exc:
                    raise _bad_response(exc, last) from None
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                    continue
                outcome = self._send(step)
                if isinstance(outcome, httpx.Response):
                    last = outcome
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


class AsyncSender:
    """Runs operations over an ``httpx.AsyncClient``; the twin of :class:`SyncSender`.

    The difference is real: here the deadline cancels the attempt wherever it waits (connecting, sending,
    reading headers or body), which asyncio can do and a blocking socket read cannot.
    """

    def __init__(self, client: httpx.AsyncClient, settings: ClientSettings) -> None:
        self._client = client
        self._settings = settings

    async def _send(self, step: Send) -> httpx.Response | httpx.RequestError:
        request = _build(self._client, self._settings, step)
        loop = asyncio.get_running_loop()
        when = None if step.deadline is None else loop.time() + (step.deadline - time.monotonic())
        try:
            async with asyncio.timeout_at(when):
                # Never follow a redirect: see SyncSender._send.
                response = await self._client.send(request, stream=True, follow_redirects=False)
                if response.is_stream_consumed:
                    # The body was read by the transport (httpx.MockTransport): see SyncSender._send.
                    return response
                try:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                finally:
                    await response.aclose()
            return _whole(response, raw, request)
        except TimeoutError:
            return DeadlineExceeded("The attempt outlasted its timeout.", request=request)
        except httpx.RequestError as exc:
            return exc

    async def run(self, operation: Operation[T]) -> T:
        """Drive ``operation`` to completion, performing its steps."""
        outcome: Outcome = None
        last: httpx.Response | None = None
        try:
            while True:
                try:
                    step = operation.send(outcome)
                except _SHAPE_ERRORS as exc:
                    raise _bad_response(exc, last) from None
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                    continue
                outcome = await self._send(step)
                if isinstance(outcome, httpx.Response):
                    last = outcome
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


configure_logging()

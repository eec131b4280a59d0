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
import email.utils
import json
import logging
import random
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeAlias, TypeVar

import httpx

from nexus_sdk.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ValidationError,
    status_error_class,
)
from nexus_sdk.settings import NOT_GIVEN, ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "APIRequest",
    "APIResponse",
    "AsyncSender",
    "Operation",
    "Send",
    "Sleep",
    "SyncSender",
    "call",
    "check_no_nul",
    "encode_json",
    "error_from_response",
    "retry_delay",
]

logger: Final = logging.getLogger("nexus_sdk")

T = TypeVar("T")

INITIAL_RETRY_DELAY: Final = 0.5
"""Seconds; the ceiling of the first backoff, doubling on each retry."""
MAX_RETRY_DELAY: Final = 8.0
"""Seconds; the backoff ceiling never grows past this."""
MAX_RETRY_AFTER: Final = 60.0
"""Seconds; a longer Retry-After is not waited for (the error is raised instead)."""


# 501 Not Implemented and 505 will not change on a second try.
_RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


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


@dataclass(frozen=True, slots=True)
class Send:
    """Step: send this request once and hand back the ``httpx.Response`` or the ``httpx`` exception."""

    request: APIRequest


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
    raise ValidationError(message, errors=[{"loc": location, "msg": message, "type": "string_nul"}])


def error_from_response(response: httpx.Response) -> APIStatusError:
    """Build the exception for an error response from PostgREST's ``{code, message, details, hint}``.

    The class is chosen by :func:`nexus_sdk.errors.status_error_class`. Request headers are never
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
    error_class = status_error_class(response.status_code, code, details)
    return error_class(
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

    Retried: connection errors, 408, 429 and 5xx other than 501/505. A request that may have reached
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


def _finish(request: APIRequest, outcome: httpx.Response | httpx.RequestError, attempts: int) -> APIResponse:
    """Turn the last outcome into a result or raise the SDK exception for it."""
    if isinstance(outcome, httpx.TimeoutException):
        raise APITimeoutError(f"{request.method} {request.path} timed out.") from outcome
    if isinstance(outcome, httpx.RequestError):
        # Our own wording: httpx messages can quote the URL, and we keep the query string out of logs.
        raise APIConnectionError(
            f"{request.method} {request.path} failed: {type(outcome).__name__}."
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
    return status_error_class(response.status_code)(
        f"{request.method} {request.path} was redirected ({response.status_code}) to {target}; "
        "set the client URL to the address the API answers at (e.g. https:// rather than http://).",
        status_code=response.status_code,
        request_id=response.headers.get("sb-request-id") or response.headers.get("x-request-id"),
    )


def call(request: APIRequest, settings: ClientSettings) -> Operation[APIResponse]:
    """Send ``request`` under the retry policy; ``yield from`` this inside an operation.

    Raises:
        ValidationError: The body holds a NUL character; nothing was sent.
        APIStatusError: The final response was an error (the subclass for its status).
        APITimeoutError: The final attempt timed out.
        APIConnectionError: The final attempt got no response.
    """
    if request.json is not None:
        check_no_nul(request.json)  # encoded content was checked by encode_json
    timeout = settings.timeout if isinstance(request.timeout, NotGiven) else request.timeout
    retries_done = 0
    while True:
        outcome = yield Send(request)
        assert outcome is not None  # the senders always answer a Send
        delay = retry_delay(request, outcome, retries_done, settings.max_retries, timeout)
        if delay is None:
            return _finish(request, outcome, retries_done + 1)
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


def _build(client: httpx.Client | httpx.AsyncClient, settings: ClientSettings, step: Send) -> httpx.Request:
    request = step.request
    timeout = settings.timeout if isinstance(request.timeout, NotGiven) else request.timeout
    headers = {**settings.headers(), **request.headers}
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
        timeout=timeout,
    )


class SyncSender:
    """Runs operations over an ``httpx.Client``."""

    def __init__(self, client: httpx.Client, settings: ClientSettings) -> None:
        self._client = client
        self._settings = settings

    def run(self, operation: Operation[T]) -> T:
        """Drive ``operation`` to completion, performing its steps."""
        outcome: Outcome = None
        try:
            while True:
                step = operation.send(outcome)
                if isinstance(step, Sleep):
                    time.sleep(step.seconds)
                    outcome = None
                    continue
                try:
                    outcome = self._client.send(_build(self._client, self._settings, step))
                except httpx.RequestError as exc:
                    # Not only TransportError: a body that fails to decode (DecodingError) or a redirect
                    # loop must also leave as an SDK exception, never as a raw httpx one.
                    outcome = exc
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]


class AsyncSender:
    """Runs operations over an ``httpx.AsyncClient``; the twin of :class:`SyncSender`."""

    def __init__(self, client: httpx.AsyncClient, settings: ClientSettings) -> None:
        self._client = client
        self._settings = settings

    async def run(self, operation: Operation[T]) -> T:
        """Drive ``operation`` to completion, performing its steps."""
        outcome: Outcome = None
        try:
            while True:
                step = operation.send(outcome)
                if isinstance(step, Sleep):
                    await asyncio.sleep(step.seconds)
                    outcome = None
                    continue
                try:
                    outcome = await self._client.send(_build(self._client, self._settings, step))
                except httpx.RequestError as exc:
                    # Not only TransportError: a body that fails to decode (DecodingError) or a redirect
                    # loop must also leave as an SDK exception, never as a raw httpx one.
                    outcome = exc
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

"""The exceptions nexus-sdk raises.

Every exception derives from :class:`NexusError`, so ``except NexusError`` catches anything the SDK
raises on purpose. The tree::

    NexusError
    ├── ConfigurationError            bad or missing settings (URL, keys, encryption keys, extras)
    ├── ValidationError               bad input, raised before anything is sent
    ├── SchemaError                   applying the bundled SQL failed (nothing was changed)
    ├── CryptoError
    │   └── DecryptionError           a stored token could not be decrypted (which reason is in .reason)
    │       └── RowDecryptionError    ... while reading rows: names every (row id, column, reason)
    ├── APIConnectionError            the request never got an HTTP response
    │   └── APITimeoutError
    ├── APIResponseValidationError    a 2xx answer whose body is not what the API returns (e.g. a proxy's page)
    └── APIStatusError                PostgREST answered with a 4xx/5xx; carries code/message/details/hint
        ├── BadRequestError           400 (PostgREST: 22P02, 23502, 23514, P0001, PGRST1xx ...)
        ├── AuthenticationError       401: missing apikey, expired or invalid JWT, anon hitting RLS
        ├── PermissionDeniedError     403: RLS or a missing privilege for an authenticated role
        ├── NotFoundError             404: no such row for the caller (also read from PGRST116 and from
        │                             a publishing function's "..._not_found" details)
        ├── NotAcceptableError        406 other than "no row"
        ├── ConflictError             409: unique (23505) or foreign key (23503) violation; also a
        │                             publishing state conflict (e.g. details "claim_lost")
        ├── UnprocessableEntityError  422
        ├── RateLimitError            429
        └── InternalServerError       5xx

The class of an error response is chosen here and nowhere else (:func:`api_error`), and its
``status_code`` is always the status of its class: a response the SDK reads as a named case (a 406
PGRST116 "no row", a 400 P0001 with a known ``details`` token) gets that case's class *and* status, and
keeps what the server sent in ``response_status``.

No exception message, ``repr`` or ``str`` ever contains an API key, a JWT or an OAuth token: messages
are built from PostgREST's error body and from our own wording, and request headers are never echoed.
"""

from __future__ import annotations

import re
from typing import Any, Final, Self

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CryptoError",
    "DecryptionError",
    "InternalServerError",
    "NexusError",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RowDecryptionError",
    "SchemaError",
    "UnprocessableEntityError",
    "ValidationError",
    "api_error",
    "status_error_class",
]


class NexusError(Exception):
    """Base class of every exception raised by nexus-sdk."""

    message: str
    """A human-readable description, free of secrets."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(NexusError):
    """A setting is missing or malformed (URL, API key, encryption keys, an optional extra)."""


class ValidationError(NexusError, ValueError):
    """Input was rejected before anything was sent to the server.

    ``errors`` holds one entry per problem, in the shape of pydantic's ``ValidationError.errors()``
    (``loc``, ``msg``, ``type``) without the offending input values, which may be secrets.
    """

    errors: list[dict[str, Any]]

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []

    @classmethod
    def at(cls, loc: str | int | tuple[str | int, ...], message: str, kind: str = "value_error") -> Self:
        """The error for one bad input: the one way the SDK builds a ValidationError for a location.

        Args:
            loc: Where: an argument or field name, or a path into nested input (``("adaptations", "x")``).
            message: What is wrong, without quoting the value (it may be a secret).
            kind: A short machine-readable word, as pydantic's ``type`` (``"missing"``, ``"uuid"`` ...).

        Returns:
            The error, with one entry in :attr:`errors`.
        """
        path = loc if isinstance(loc, tuple) else (loc,)
        return cls(message, errors=[{"loc": path, "msg": message, "type": kind}])


class SchemaError(NexusError):
    """Applying the bundled SQL failed; the transaction was rolled back, so nothing changed."""


class CryptoError(NexusError):
    """Base class of token-encryption failures."""


class DecryptionError(CryptoError):
    """A stored value could not be decrypted.

    ``reason`` says why, as one of a fixed set of words, so callers can branch on it:
    ``"malformed"``, ``"unknown_version"``, ``"unknown_key"``, ``"authentication_failed"`` (wrong key,
    tampered value, or a value copied from another row or column), ``"plaintext"`` (a legacy
    unencrypted value read without opting in).
    """

    reason: str

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RowDecryptionError(DecryptionError):
    """Tokens of rows read from a table could not be decrypted.

    A :class:`DecryptionError` (``reason`` is that of the first failure) that also says where: the row id
    and the column of the first failure, and every failure of the response in :attr:`failures`, so a
    caller can report them and read the other rows (e.g. excluding these ids). The message names row ids,
    columns and reasons, never a stored value or a token.
    """

    table: str
    """The table read, e.g. ``platform_connections``."""
    row_id: str | None
    """The id of the first row that failed (None if the response did not include ids)."""
    column: str
    """The column of the first failure, e.g. ``access_token``."""
    failures: tuple[tuple[str | None, str, str], ...]
    """``(row id, column, reason)`` for every value of the response that failed, in response order."""

    def __init__(
        self, table: str, failures: tuple[tuple[str | None, str, str], ...], *, first: str | None = None
    ) -> None:
        """Describe the failed values.

        Args:
            table: The table the rows were read from.
            failures: ``(row id, column, reason)`` per failed value; at least one.
            first: The first failure's own message (e.g. which key id it needs), which names no value.
        """
        row_id, column, reason = failures[0]
        listed = "; ".join(f"row {rid} {col}: {why}" for rid, col, why in failures[:10])
        more = f" (and {len(failures) - 10} more)" if len(failures) > 10 else ""
        # The reasons are codes; the first failure's message says what to do (e.g. add back key 'k2025').
        detail = f" The first: {first}" if first else ""
        super().__init__(
            f"Cannot decrypt {len(failures)} token(s) read from {table}: {listed}{more}.{detail} The other "
            "rows are intact; read them by id or exclude these ids, and see the reasons in docs/encryption.md.",
            reason=reason,
        )
        self.table = table
        self.row_id = row_id
        self.column = column
        self.failures = failures


class APIConnectionError(NexusError):
    """The request did not get an HTTP response (DNS, refused, reset, TLS ...)."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out.") -> None:
        super().__init__(message)


class APIResponseValidationError(NexusError):
    """A successful (2xx) answer whose body is not of the shape the API returns.

    Typically an HTML page from a proxy or captive portal, or another service at the configured URL. The
    message names the request, the status, the content type and the size; never the body.
    """

    status_code: int | None
    """The HTTP status of the answer."""
    request_id: str | None
    """The gateway's request id, when it sent one."""
    errors: list[dict[str, Any]]
    """What did not fit, as ``{loc, msg, type}`` entries (no input values)."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.request_id = request_id
        self.errors = errors or []


class APIStatusError(NexusError):
    """PostgREST (or the gateway in front of it) answered with an error status.

    Attributes mirror PostgREST's error body ``{code, message, details, hint}``.
    """

    status_code: int
    """The HTTP status."""
    code: str | None
    """PostgREST's code: a SQLSTATE such as ``23505`` or a ``PGRSTnnn`` code."""
    details: str | None
    """PostgREST's ``details``, e.g. which key conflicted."""
    hint: str | None
    """PostgREST's ``hint``."""
    request_id: str | None
    """The gateway's request id, when it sent one; quote it in support requests."""
    response_status: int
    """The status the server answered; differs from :attr:`status_code` only where the SDK reads a
    response as a named case (see :func:`api_error`), e.g. 400 for a ``claim_lost`` ConflictError."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        details: str | None = None,
        hint: str | None = None,
        request_id: str | None = None,
        response_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.details = details
        self.hint = hint
        self.request_id = request_id
        self.response_status = status_code if response_status is None else response_status

    def __str__(self) -> str:
        head = f"{self.status_code}"
        if self.code:
            head += f" {self.code}"
        text = f"{head}: {self.message}"
        if self.details:
            text += f" (details: {self.details})"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, "
            f"message={self.message!r})"
        )


class BadRequestError(APIStatusError):
    """400: the server rejected the request (bad value, constraint, raised exception)."""


class AuthenticationError(APIStatusError):
    """401: no or bad API key, an expired or invalid JWT, or the anon role denied by RLS."""


class PermissionDeniedError(APIStatusError):
    """403: the authenticated role lacks a privilege, or a row-level security policy refused a write."""


class NotFoundError(APIStatusError):
    """404: the row (or a row it refers to) does not exist for the caller, or row-level security hides it.

    Also what a single-row request that matched no row (PostgREST's 406 PGRST116) and a publishing function's
    ``connection_not_found`` / ``adaptation_not_found`` (400 P0001) become; ``status_code`` is 404 for all.
    """

    @classmethod
    def row(cls, table: str, row_id: object, *, cause: APIStatusError | None = None) -> NotFoundError:
        """The error for a row of ``table`` with id ``row_id`` that the caller cannot see.

        Args:
            table: The table, e.g. ``scheduled_posts``.
            row_id: The id asked for.
            cause: The server's answer, whose code, details, hint, request id and status are kept.

        Returns:
            The error, naming the table and the id, status 404.
        """
        return cls(
            f"No {table} row with id {row_id} is visible to this client.",
            status_code=404,
            code=cause.code if cause else None,
            details=cause.details if cause else None,
            hint=cause.hint if cause else None,
            request_id=cause.request_id if cause else None,
            response_status=cause.response_status if cause else None,
        )


class NotAcceptableError(APIStatusError):
    """406 other than "no row": e.g. a single-row request that matched several rows."""


class ConflictError(APIStatusError):
    """409: a unique (23505) or foreign key (23503) violation.

    The publishing operations also raise it when a post is not in a state that allows the call: the SQL
    function answers 400 P0001 with a ``details`` token (``claim_lost``, ``not_cancellable`` ...), kept in
    ``details``; ``status_code`` is 409 and ``response_status`` 400.
    """


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically up to ``max_retries``."""


class InternalServerError(APIStatusError):
    """5xx."""


STATUS_ERRORS: Final[dict[int, type[APIStatusError]]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    406: NotAcceptableError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}
"""The exception class for each HTTP status; 5xx map to InternalServerError, others to APIStatusError."""


DETAIL_ERRORS: Final[dict[str, type[APIStatusError]]] = {
    # The connection or adaptation named does not exist for the acting user (or RLS hides it).
    "connection_not_found": NotFoundError,
    "adaptation_not_found": NotFoundError,
    # The row exists but its state forbids the operation.
    "not_reschedulable": ConflictError,
    "not_cancellable": ConflictError,
    "not_claimed": ConflictError,
    "claim_lost": ConflictError,
    "not_published": ConflictError,
}
"""The class for each ``details`` token the publishing functions (``sql/``) raise with P0001 (HTTP 400)."""

CLASS_STATUS: Final[dict[type[APIStatusError], int]] = {cls: status for status, cls in STATUS_ERRORS.items()}
"""The status of each class of :data:`STATUS_ERRORS`: what ``status_code`` holds for that class."""

_ZERO_ROWS: Final = re.compile(r"\b0 rows\b")


def status_error_class(
    status_code: int, code: str | None = None, details: str | None = None
) -> type[APIStatusError]:
    """Choose the exception class for a response: the one place where that choice is made.

    Args:
        status_code: The HTTP status.
        code: PostgREST's ``code``.
        details: PostgREST's ``details``.

    Returns:
        The class: by status, except the named cases (PGRST116 with no row: NotFoundError; P0001 with a
        token of :data:`DETAIL_ERRORS`: that token's class).
    """
    if code == "P0001" and details in DETAIL_ERRORS:
        return DETAIL_ERRORS[details]
    if status_code == 406 and code == "PGRST116" and (details is None or _ZERO_ROWS.search(details)):
        # A singular request that matched zero rows is, to the user, "not found"; PostgREST uses the same
        # code for "several rows" (details "The result contains 2 rows"), which stays a 406.
        return NotFoundError
    if status_code >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)


def api_error(
    message: str,
    *,
    status_code: int,
    code: str | None = None,
    details: str | None = None,
    hint: str | None = None,
    request_id: str | None = None,
) -> APIStatusError:
    """The exception for an error response, its class chosen by :func:`status_error_class`.

    Its ``status_code`` is the status of its class (404 for NotFoundError, 409 for ConflictError ...), so
    class and status always agree; the server's own status is kept in ``response_status``.

    Args:
        message: PostgREST's ``message`` (or our own wording), free of secrets.
        status_code: The status the server answered.
        code: PostgREST's ``code``.
        details: PostgREST's ``details``.
        hint: PostgREST's ``hint``.
        request_id: The gateway's request id.

    Returns:
        The exception, to be raised.
    """
    error_class = status_error_class(status_code, code, details)
    return error_class(
        message,
        status_code=CLASS_STATUS.get(error_class, status_code),
        code=code,
        details=details,
        hint=hint,
        request_id=request_id,
        response_status=status_code,
    )

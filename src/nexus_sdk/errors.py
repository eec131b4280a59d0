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
        ├── NotFoundError             404, and a single-row request that matched no row (PGRST116)
        ├── NotAcceptableError        406 other than "no row"
        ├── ConflictError             409: unique (23505) or foreign key (23503) violation; also a
        │                             publishing state conflict (e.g. details "claim_lost")
        ├── UnprocessableEntityError  422
        ├── RateLimitError            429
        └── InternalServerError       5xx

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

    def __init__(self, table: str, failures: tuple[tuple[str | None, str, str], ...]) -> None:
        """Describe the failed values.

        Args:
            table: The table the rows were read from.
            failures: ``(row id, column, reason)`` per failed value; at least one.
        """
        row_id, column, reason = failures[0]
        listed = "; ".join(f"row {rid} {col}: {why}" for rid, col, why in failures[:10])
        more = f" (and {len(failures) - 10} more)" if len(failures) > 10 else ""
        super().__init__(
            f"Cannot decrypt {len(failures)} token(s) read from {table}: {listed}{more}. The other rows "
            "are intact; read them by id or exclude these ids, and see the reasons in docs/encryption.md.",
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

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        details: str | None = None,
        hint: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.details = details
        self.hint = hint
        self.request_id = request_id

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
    """404, or a single-row request that matched no row (PostgREST PGRST116)."""


class NotAcceptableError(APIStatusError):
    """406 other than "no row": e.g. a single-row request that matched several rows."""


class ConflictError(APIStatusError):
    """409: a unique (23505) or foreign key (23503) violation.

    The publishing operations also raise it, keeping the server's 400 status and ``details``, when a post
    is not in a state that allows the call (``claim_lost``, ``not_cancellable``, ...).
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


_ZERO_ROWS: Final = re.compile(r"\b0 rows\b")


def status_error_class(
    status_code: int, code: str | None = None, details: str | None = None
) -> type[APIStatusError]:
    """Choose the exception class for a response: the one place where that choice is made."""
    if status_code == 406 and code == "PGRST116" and (details is None or _ZERO_ROWS.search(details)):
        # A singular request that matched zero rows is, to the user, "not found"; PostgREST uses the same
        # code for "several rows" (details "The result contains 2 rows"), which stays a 406.
        return NotFoundError
    if status_code >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status_code, APIStatusError)

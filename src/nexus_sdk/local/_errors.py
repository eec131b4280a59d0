"""PostgREST's error bodies and its SQLSTATE-to-HTTP-status table, in one place."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any, Final

__all__ = ["ApiError", "pg_error_status", "raised_error", "valid_header"]


class ApiError(Exception):
    """An error answered to the client as PostgREST would: a status and ``{code, message, details, hint}``.

    Raised anywhere in request handling; the app turns it into the response. Messages never contain
    request headers, so no key or token can leak through them.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: str | None = None,
        hint: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint
        self.headers = headers or {}

    def body(self) -> bytes:
        """The JSON body PostgREST sends for this error."""
        return json.dumps(
            {"code": self.code, "details": self.details, "hint": self.hint, "message": self.message},
            separators=(",", ":"),
        ).encode()


def check_api_key(apikey: str | None, keys: Collection[str]) -> str:
    """Supabase's gateway (Kong) check, made before PostgREST or GoTrue sees the request.

    Returns:
        The key, one of ``keys``.

    Raises:
        ApiError: 401 with an empty code: the gateway's body holds only ``message`` and ``hint``.
    """
    if not apikey:
        raise ApiError(
            401, "", "No API key found in request", hint="No `apikey` request header or url param was found."
        )
    if apikey not in keys:
        raise ApiError(
            401, "", "Invalid API key", hint="Double check your Supabase `anon` or `service_role` API key."
        )
    return apikey


def parse_error(message: str, details: str | None = None) -> ApiError:
    """PGRST100: the query string could not be parsed."""
    return ApiError(400, "PGRST100", message, details=details)


def unsupported(what: str) -> ApiError:
    """A request PostgREST would accept but this stack does not implement: refuse it, never guess."""
    return ApiError(
        400,
        "PGRST100",
        f"{what} is not supported by the nexus-sdk local stack",
        hint="See docs/local-stack.md for what the local stack implements.",
    )


# Exact codes first, then two-character classes, as PostgREST's table lists them.
_EXACT: Final[dict[str, int]] = {
    "23503": 409,
    "23505": 409,
    "25006": 405,
    "57P01": 503,
    "53400": 500,
    "P0001": 400,
    "42883": 404,
    "42P01": 404,
    "42P17": 500,
}
_CLASSES: Final[dict[str, int]] = {
    "08": 503,
    "09": 500,
    "0L": 403,
    "0P": 403,
    "25": 500,
    "28": 403,
    "2D": 500,
    "38": 500,
    "39": 500,
    "3B": 500,
    "40": 500,
    "53": 503,
    "54": 500,
    "55": 500,
    "57": 500,
    "58": 500,
    "F0": 500,
    "HV": 500,
    "P0": 500,
    "XX": 500,
}


def pg_error_status(sqlstate: str | None, *, authenticated: bool, message: str = "") -> int:
    """The HTTP status PostgREST answers for a PostgreSQL error.

    Args:
        sqlstate: the error's SQLSTATE (``None`` when the server sent none).
        authenticated: whether the request runs as a role other than anon; 42501 is 401 for anon, 403 else.
        message: the error's primary message, which decides two codes: ``21000`` is 400 only for
            pg-safeupdate's "... requires a WHERE clause" (else 500), ``22023`` is 401 for a JWT role that
            does not exist (else 400).

    Returns:
        The HTTP status code.
    """
    if sqlstate is None:
        return 500
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate == "21000":
        return 400 if message.endswith("requires a WHERE clause") else 500
    if sqlstate == "22023":
        return 401 if message.startswith("role") and message.endswith("does not exist") else 400
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    if sqlstate.startswith("PT"):
        # RAISE ... USING ERRCODE = 'PT402' chooses the status itself; anything but a status is a 500.
        digits = sqlstate[2:]
        if digits.isascii() and digits.isdigit() and 100 <= int(digits) <= 599:
            return int(digits)
        return 500
    return _CLASSES.get(sqlstate[:2], 400)


# RFC 9110 field names are tokens; values may not hold control characters (no CR/LF header injection).
_HEADER_NAME_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_RE: Final = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")


def valid_header(name: object, value: object) -> bool:
    """Whether ``name: value`` is a header a database setting may add (strings, no CR/LF or controls)."""
    return (
        isinstance(name, str)
        and isinstance(value, str)
        and _HEADER_NAME_RE.fullmatch(name) is not None
        and _HEADER_VALUE_RE.fullmatch(value) is not None
    )


_MESSAGE_HINT: Final = (
    "MESSAGE must be a JSON object with obligatory keys: 'code', 'message' "
    "and optional keys: 'details', 'hint'."
)
_DETAIL_HINT: Final = (
    "DETAIL must be a JSON object with obligatory keys: 'status', 'headers' and optional key: 'status_text'."
)


def _raise_parse_error(details: str, hint: str) -> ApiError:
    return ApiError(
        500,
        "PGRST121",
        "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error",
        details=details,
        hint=hint,
    )


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _optional_text(obj: dict[str, Any], key: str) -> tuple[bool, str | None]:
    value = obj.get(key)
    return value is None or isinstance(value, str), value


def raised_error(message: str, detail: str | None) -> ApiError:
    """The response a function asked for with ``RAISE SQLSTATE 'PGRST'``, as PostgREST builds it.

    The error's MESSAGE is a JSON object ``{code, message, details?, hint?}`` (the response body) and its
    DETAIL a JSON object ``{status, headers, status_text?}`` (the HTTP status and extra headers).

    Args:
        message: the error's primary message.
        detail: the error's DETAIL, if any.

    Returns:
        The error to answer: the one asked for, or 500 PGRST121 when MESSAGE or DETAIL is malformed.
    """
    body = _json_object(message)
    ok_details, details = _optional_text(body or {}, "details")
    ok_hint, hint = _optional_text(body or {}, "hint")
    if (
        body is None
        or not isinstance(body.get("code"), str)
        or not isinstance(body.get("message"), str)
        or not (ok_details and ok_hint)
    ):
        return _raise_parse_error(f"Invalid JSON value for MESSAGE: '{message}'", _MESSAGE_HINT)
    if detail is None:
        return _raise_parse_error("DETAIL is missing in the RAISE statement", _DETAIL_HINT)
    spec = _json_object(detail)
    bad_detail = _raise_parse_error(f"Invalid JSON value for DETAIL: '{detail}'", _DETAIL_HINT)
    if spec is None:
        return bad_detail
    status, headers = spec.get("status"), spec.get("headers")
    ok_text, _status_text = _optional_text(spec, "status_text")
    if (
        not isinstance(status, int)
        or isinstance(status, bool)
        or not 100 <= status <= 599
        or not isinstance(headers, dict)
        or not ok_text
        or not all(valid_header(k, v) for k, v in headers.items())
    ):
        return bad_detail
    # status_text (a custom reason phrase) is accepted but not sent: the server picks the standard one.
    return ApiError(status, body["code"], body["message"], details=details, hint=hint, headers=dict(headers))

"""PostgREST's error bodies and its SQLSTATE-to-HTTP-status table, in one place."""

from __future__ import annotations

import json
from typing import Final

__all__ = ["ApiError", "pg_error_status"]


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


def pg_error_status(sqlstate: str | None, *, authenticated: bool) -> int:
    """The HTTP status PostgREST answers for a PostgreSQL error.

    Args:
        sqlstate: the error's SQLSTATE (``None`` when the server sent none).
        authenticated: whether the request runs as a role other than anon; 42501 is 401 for anon, 403 else.

    Returns:
        The HTTP status code.
    """
    if sqlstate is None:
        return 500
    if sqlstate == "42501":
        return 403 if authenticated else 401
    if sqlstate in _EXACT:
        return _EXACT[sqlstate]
    if sqlstate.startswith("PT") and sqlstate[2:].isdigit():
        # RAISE ... USING ERRCODE = 'PT402' chooses the status itself.
        return int(sqlstate[2:])
    return _CLASSES.get(sqlstate[:2], 400)

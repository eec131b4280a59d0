"""Content negotiation: ``Prefer``, ``Accept`` and ``Content-Type``, and the response headers they decide.

Everything here reads request headers or shapes response headers; nothing touches the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from starlette.responses import Response

from nexus_sdk.local._errors import ApiError, valid_header

__all__ = [
    "JSON",
    "OBJECT",
    "Prefs",
    "apply_response_settings",
    "check_json_content_type",
    "content_range",
    "parse_prefs",
    "parse_response_settings",
    "wants_singular",
]

JSON: Final = "application/json; charset=utf-8"
OBJECT: Final = "application/vnd.pgrst.object+json; charset=utf-8"
_SINGULAR_TYPES: Final = frozenset({"application/vnd.pgrst.object+json", "application/vnd.pgrst.object"})
_PLURAL_TYPES: Final = frozenset({"application/json", "*/*", "application/*"})


@dataclass(slots=True)
class Prefs:
    """The ``Prefer`` values the stack honours; ``applied`` is what ``Preference-Applied`` lists."""

    returning: str = "minimal"
    count: bool = False
    resolution: str | None = None
    missing_default: bool = False
    applied: tuple[str, ...] = ()


def parse_prefs(headers: Sequence[str]) -> Prefs:
    """Read every ``Prefer`` header; unknown preferences are ignored, as PostgREST does by default."""
    prefs = Prefs()
    applied: list[str] = []
    for header in headers:
        for token in header.split(","):
            key, _, value = token.strip().partition("=")
            key, value = key.strip(), value.strip()
            if key == "return" and value in ("minimal", "representation", "headers-only"):
                prefs.returning = value
                applied.append(f"return={value}")
            elif key == "count" and value in ("exact", "planned", "estimated"):
                # Planned and estimated counts are answered exactly: a correct estimate.
                prefs.count = True
                applied.append(f"count={value}")
            elif key == "resolution" and value in ("merge-duplicates", "ignore-duplicates"):
                prefs.resolution = value
                applied.append(f"resolution={value}")
            elif key == "missing" and value == "default":
                prefs.missing_default = True
                applied.append("missing=default")
    prefs.applied = tuple(applied)
    return prefs


def wants_singular(accept: str | None) -> bool:
    """Whether ``Accept`` asks for one object (``application/vnd.pgrst.object+json``).

    Raises:
        ApiError: 406 PGRST107 when no offered media type is one the stack answers with.
    """
    if not accept:
        return False
    offered = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    for media, part in zip(offered, accept.split(","), strict=True):
        if media in _SINGULAR_TYPES:
            if "nulls=stripped" in part.replace(" ", "").lower():
                raise ApiError(406, "PGRST107", f"None of these media types are available: {part.strip()}")
            return True
        if media in _PLURAL_TYPES or media == "":
            return False
    raise ApiError(406, "PGRST107", f"None of these media types are available: {', '.join(offered)}")


def check_json_content_type(content_type: str | None) -> None:
    """Refuse a request body that is not declared as JSON (a missing ``Content-Type`` means JSON).

    Raises:
        ApiError: 415 PGRST107.
    """
    ctype = (content_type or "application/json").split(";")[0].strip().lower()
    if ctype not in ("application/json", "", "*/*"):
        raise ApiError(415, "PGRST107", f"The Content-Type sent in the request is invalid: {ctype}")


def content_range(lower: int, rows: int, total: int | None) -> str:
    """``Content-Range`` for ``rows`` rows starting at ``lower`` of ``total`` (``None``: not counted)."""
    total_text = "*" if total is None else str(total)
    if rows > 0 and total != 0:
        return f"{lower}-{lower + rows - 1}/{total_text}"
    return f"*/{total_text}"


def parse_response_settings(
    status: str | None, headers: str | None
) -> tuple[int | None, list[tuple[str, str]]]:
    """Parse ``response.status`` and ``response.headers`` as PostgREST does.

    Raises:
        ApiError: 500 PGRST112 for a status that is not an HTTP status code, 500 PGRST111 for headers that
            are not a JSON array of single-key objects with string values.
    """
    code: int | None = None
    if status is not None:
        text = status.strip()
        if not (text.isascii() and text.isdigit() and 100 <= int(text) <= 599):
            raise ApiError(500, "PGRST112", "response.status guc must be a valid status code")
        code = int(text)
    pairs: list[tuple[str, str]] = []
    if headers is not None:
        bad = ApiError(
            500,
            "PGRST111",
            "response.headers guc must be a JSON array composed of objects with a single key and a string value",
        )
        try:
            parsed = json.loads(headers)
        except (ValueError, RecursionError) as exc:
            raise bad from exc
        if not isinstance(parsed, list):
            raise bad
        for item in parsed:
            if not (isinstance(item, dict) and len(item) == 1):
                raise bad
            ((name, value),) = item.items()
            if not valid_header(name, value):
                raise bad
            pairs.append((name, value))
    return code, pairs


def apply_response_settings(
    response: Response, status: int | None, headers: Sequence[tuple[str, str]]
) -> Response:
    """Give the response the status and headers the statement set; they replace the stack's own."""
    if status is not None:
        response.status_code = status
    for name in {n.lower() for n, _ in headers}:
        del response.headers[name]
    for name, value in headers:
        response.headers.append(name, value)
    return response

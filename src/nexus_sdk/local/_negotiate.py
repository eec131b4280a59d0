"""Content negotiation: ``Prefer``, ``Accept`` and ``Content-Type``, and the response headers they decide.

Everything here reads request headers or shapes response headers; nothing touches the database.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from starlette.responses import Response

from nexus_sdk.local._errors import ApiError, valid_header
from nexus_sdk.local._media import accept_list

__all__ = [
    "CSV",
    "JSON",
    "OBJECT",
    "EncodedResponse",
    "Prefs",
    "apply_response_settings",
    "body_media",
    "content_range",
    "negotiate",
    "parse_prefs",
    "parse_response_settings",
    "response_media",
    "wants_singular",
]

CSV: Final = "text/csv; charset=utf-8"
JSON: Final = "application/json; charset=utf-8"
OBJECT: Final = "application/vnd.pgrst.object+json; charset=utf-8"
OBJECT_STRIPPED: Final = "application/vnd.pgrst.object+json;nulls=stripped; charset=utf-8"
ARRAY_STRIPPED: Final = "application/vnd.pgrst.array+json;nulls=stripped; charset=utf-8"


def body_media(*, singular: bool, csv: bool, strip: bool) -> str:
    """The ``Content-Type`` of a response body in the negotiated media type."""
    if singular:
        return OBJECT_STRIPPED if strip else OBJECT
    if csv:
        return CSV
    return ARRAY_STRIPPED if strip else JSON


_CONTENT_TYPE_LINES: Final = {
    media: (b"content-type", media.encode("latin-1"))
    for media in (CSV, JSON, OBJECT, OBJECT_STRIPPED, ARRAY_STRIPPED)
}
"""The ``Content-Type`` line of each media type :func:`body_media` answers."""


_ACCEPTED_PREFS: Final = frozenset(
    {
        "resolution=merge-duplicates", "resolution=ignore-duplicates",
        "return=representation", "return=minimal", "return=headers-only",
        "count=exact", "count=planned", "count=estimated",
        "tx=commit", "tx=rollback",
        "missing=default", "missing=null",
        "handling=strict", "handling=lenient",
    }
)  # fmt: skip
"""The preferences PostgREST knows (``timezone=`` and ``max-affected=`` take any value)."""


@dataclass(slots=True)
class Prefs:
    """The ``Prefer`` values, as PostgREST reads them: the first occurrence of each kind wins."""

    returning: str = "minimal"
    returning_given: bool = False
    count_kind: str | None = None
    """``exact``, ``planned``, ``estimated`` or ``None``."""
    resolution: str | None = None
    missing: str | None = None
    """``default``, ``null`` or ``None``."""
    handling: str | None = None
    timezone: str | None = None
    max_affected: int | None = None
    invalid: tuple[str, ...] = ()
    """Preferences PostgREST does not know (refused with ``handling=strict``)."""

    @property
    def count(self) -> bool:
        """Whether a count was asked for."""
        return self.count_kind is not None

    @property
    def missing_default(self) -> bool:
        """``missing=default``: keys an object lacks take the column default."""
        return self.missing == "default"

    @property
    def strict(self) -> bool:
        """``handling=strict``."""
        return self.handling == "strict"

    def accept_timezone(self, names: Collection[str]) -> Prefs:
        """These preferences with ``timezone=`` kept only as PostgREST 14 keeps it: when the (first) zone is
        a name of ``pg_timezone_names``; else it is not applied, and every ``timezone=`` preference is
        invalid (PGRST122 with ``handling=strict``). ``self`` is not changed (it may be shared)."""
        if self.timezone is None:
            return self
        if self.timezone in names:
            kept = tuple(t for t in self.invalid if not t.startswith("timezone="))
            return self if kept == self.invalid else dataclasses.replace(self, invalid=kept)
        return dataclasses.replace(self, timezone=None)

    def check_strict(self) -> None:
        """Refuse unknown preferences under ``handling=strict``, as PostgREST 12+ does.

        Raises:
            ApiError: 400 PGRST122.
        """
        if self.strict and self.invalid:
            raise ApiError(
                400,
                "PGRST122",
                "Invalid preferences given with handling=strict",
                details=f"Invalid preferences: {', '.join(self.invalid)}",
            )

    def applied(
        self, *, write: bool = False, resolution: bool = True, max_affected: bool = False
    ) -> str | None:
        """The ``Preference-Applied`` value in PostgREST's order, or ``None`` when nothing applies.

        Args:
            write: list the write preferences (resolution, missing, return).
            resolution: whether the resolution took effect (it does not on a table without a key).
            max_affected: whether ``max-affected`` was honoured (only with ``handling=strict``).
        """
        out: list[str] = []
        if write:
            if self.resolution is not None and resolution:
                out.append(f"resolution={self.resolution}")
            if self.missing is not None:
                out.append(f"missing={self.missing}")
            if self.returning_given:
                out.append(f"return={self.returning}")
        if self.count_kind is not None:
            out.append(f"count={self.count_kind}")
        if self.handling is not None:
            out.append(f"handling={self.handling}")
        if self.timezone is not None:
            out.append(f"timezone={self.timezone}")
        if max_affected and self.strict and self.max_affected is not None:
            out.append(f"max-affected={self.max_affected}")
        return ", ".join(out) or None


_INT64_TEXT: Final = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|0[oO][0-7]+|[0-9]+)")


def _read_int64(text: str) -> int | None:
    """A ``max-affected`` value as PostgREST reads it (Haskell's ``read`` into a 64-bit integer).

    Decimal, ``0x`` hexadecimal or ``0o`` octal, optionally negative; a value outside the 64-bit range
    wraps around (modulo 2**64, two's complement) as Haskell's ``read`` does, so PostgREST applies, and
    reports in ``Preference-Applied``, the wrapped value. ``None`` when it is not such a number.
    """
    if len(text) > 4096 or _INT64_TEXT.fullmatch(text) is None:
        return None
    negative = text.startswith("-")
    digits = text.lstrip("-")
    base = (
        {"x": 16, "o": 8}.get(digits[1:2].lower(), 10) if digits.startswith("0") and len(digits) > 1 else 10
    )
    value = int(digits[2:] if base != 10 else digits, base)
    value = (-value if negative else value) % 2**64
    return value - 2**64 if value >= 2**63 else value


def parse_prefs(headers: Sequence[str]) -> Prefs:
    """Read every ``Prefer`` header as PostgREST does; unknown preferences are kept in ``invalid``."""
    prefs = Prefs()
    invalid: list[str] = []
    seen_max_affected = False
    for header in headers:
        for raw in header.split(","):
            token = raw.strip()
            key, _, value = token.partition("=")
            if token.startswith("timezone="):
                if prefs.timezone is None:
                    prefs.timezone = token[len("timezone=") :]
                # Invalid unless the zone is accepted (see Prefs.accept_timezone).
                invalid.append(token)
                continue
            if token.startswith("max-affected="):
                # The first one counts, even when it is not a number (PostgREST then ignores them all).
                if not seen_max_affected:
                    seen_max_affected = True
                    prefs.max_affected = _read_int64(token[len("max-affected=") :])
                continue
            if token not in _ACCEPTED_PREFS:
                if token:
                    invalid.append(token)
                continue
            if key == "return" and not prefs.returning_given:
                prefs.returning, prefs.returning_given = value, True
            elif key == "count" and prefs.count_kind is None:
                prefs.count_kind = value
            elif key == "resolution" and prefs.resolution is None:
                prefs.resolution = value
            elif key == "missing" and prefs.missing is None:
                prefs.missing = value
            elif key == "handling" and prefs.handling is None:
                prefs.handling = value
            # tx= is known to PostgREST but only honoured when the server allows it, which Supabase does not.
    prefs.invalid = tuple(invalid)
    return prefs


def negotiate(accept: str | None, *, csv: bool = True) -> tuple[Literal["json", "object", "csv"], bool]:
    """The media type to answer with, as PostgREST 14 picks it, and whether nulls are stripped.

    The ``Accept`` entries are tried best first (quality, then specificity; see ``_media``): ``json``
    (``application/json``, ``*/*``, ``application/vnd.pgrst.array+json``), ``object``
    (``application/vnd.pgrst.object+json``), ``csv`` (``text/csv``, unless ``csv`` is False); with
    ``nulls=stripped`` on the vendor types, the second value is True.

    Raises:
        ApiError: 406 PGRST107 when no offered media type is one the stack answers with.
    """
    offered = accept_list(accept)
    for media in offered:
        if media.kind in ("json", "any"):
            return "json", False
        if media.kind == "array-strip":
            return "json", True
        if media.kind == "object":
            return "object", media.strip
        if media.kind == "csv" and csv:
            return "csv", False
    names = ", ".join(m.mime for m in offered)
    raise ApiError(406, "PGRST107", f"None of these media types are available: {names}")


def response_media(accept: str | None, *, csv: bool = True) -> Literal["json", "object", "csv"]:
    """The media type ``Accept`` asks for (see :func:`negotiate`): ``json`` (an array), ``object``
    (``application/vnd.pgrst.object+json``) or ``csv`` (``text/csv``, unless ``csv`` is False).

    Raises:
        ApiError: 406 PGRST107 when no offered media type is one the stack answers with.
    """
    return negotiate(accept, csv=csv)[0]


def wants_singular(accept: str | None) -> bool:
    """Whether ``Accept`` asks for one object (``application/vnd.pgrst.object+json``).

    Raises:
        ApiError: 406 PGRST107 when no offered media type is one the stack answers with.
    """
    return response_media(accept) == "object"


class EncodedResponse(Response):
    """A response with a body, made from its header lines ready to send.

    Starlette's :class:`~starlette.responses.Response` takes a mapping, encodes it and adds
    ``content-length`` and ``content-type``; this one takes the lines as Starlette would make them
    (lower-case names, Latin-1 values, in order) and adds the same two at the end, without the mapping.
    """

    def __init__(
        self, content: bytes, status_code: int, lines: list[tuple[bytes, bytes]], media_type: str
    ) -> None:
        self.status_code = status_code
        self.background = None
        self.body = content
        lines.append((b"content-length", b"%d" % len(content)))
        lines.append(_CONTENT_TYPE_LINES[media_type])
        self.raw_headers = lines


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

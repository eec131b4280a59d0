"""Field rules shared by the models: platform names, time zones, URLs, hashtags, platform text limits.

Two kinds of rule live here. Rules on Create/Update fields always run: those models exist only to be
written. Rules inside JSONB documents (``JsonbModel._write_rules``) are applied by the Create/Update
models when a document is placed into one, never by the document classes themselves, because the same
classes are also filled from database rows: a row must never become unreadable because another tool
stored, say, a 300-character X text, and reading stays free of per-document Python calls.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, StringConstraints, TypeAdapter, ValidationInfo
from pydantic import HttpUrl as _PydanticHttpUrl
from pydantic import ValidationError as _PydanticValidationError
from pydantic_core import PydanticCustomError

from nexus_sdk.errors import ConfigurationError

WRITE_KEY: Final = "nexus_sdk.write"
"""Validation-context key: when true, validation is for a write (``Adaptations`` normalises its keys)."""

WRITE_CONTEXT: Final[Mapping[str, Any]] = {WRITE_KEY: True}
"""The validation context of everything built to be written: Create/Update models and their documents."""

REVEAL_KEY: Final = "nexus_sdk.reveal_secrets"
"""Serialization-context key: when true, SecretStr fields are written as their plain values."""

X_MAX_WEIGHTED_LENGTH: Final = 280
"""X's limit on a post's weighted length (twitter-text v3)."""

LINKEDIN_MAX_LENGTH: Final = 3000
"""LinkedIn's limit on a post's text, in characters."""

SUBSTACK_TITLE_MAX_LENGTH: Final = 280
"""Our cap on a Substack title: long enough for any real headline, short enough to catch a pasted body."""

_PLATFORM_RE: Final = re.compile(r"[a-z][a-z0-9_]{0,49}")


def is_write(info: ValidationInfo) -> bool:
    """Whether a validator runs in write mode (the context carries ``WRITE_KEY: True``)."""
    context = info.context
    return isinstance(context, Mapping) and bool(context.get(WRITE_KEY))


def write_context(context: Any) -> dict[str, Any]:
    """A validation context in write mode, keeping the caller's own keys (and an explicit opt-out)."""
    if isinstance(context, Mapping):
        return {WRITE_KEY: True, **context}
    return dict(WRITE_CONTEXT)


# --- platform names ---------------------------------------------------------------------------------


_PLATFORM_NAMES: dict[str, str] = {}
"""Names already normalised and found valid, by their spelling: every row of an import names the same few."""
_PLATFORM_NAMES_KEPT: Final = 256


def normalise_platform(value: str) -> str:
    """Lower-case and strip a platform name, and check it is an identifier.

    Raises:
        PydanticCustomError: the name is not ``^[a-z][a-z0-9_]{0,49}$`` after normalising.
    """
    if type(value) is str:
        known = _PLATFORM_NAMES.get(value)
        if known is not None:
            return known
    name = str(value).strip().lower()
    if _PLATFORM_RE.fullmatch(name) is None:
        raise PydanticCustomError(
            "platform_name",
            "platform must be a lowercase identifier such as 'linkedin' (a letter, then up to 49 letters, "
            "digits or underscores); got '{platform}'",
            {"platform": name[:60]},
        )
    if type(value) is str and len(_PLATFORM_NAMES) < _PLATFORM_NAMES_KEPT:
        _PLATFORM_NAMES[value] = name
    return name


PlatformName = Annotated[str, AfterValidator(normalise_platform)]
"""A platform name on write: any identifier, known (``Platform``) or not; normalised to lower case."""


# --- time zones -------------------------------------------------------------------------------------


@functools.cache
def _zones_by_folded_name() -> dict[str, str]:
    # Built once and only when an exact lookup failed: scanning the zone database takes tens of ms.
    return {name.casefold(): name for name in available_timezones()}


def check_timezone(value: str) -> str:
    """Return the canonical IANA name of a time zone, e.g. ``"europe/paris"`` -> ``"Europe/Paris"``.

    Raises:
        PydanticCustomError: no such zone in the system zone database or the ``tzdata`` package.
    """
    name = value.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # ValueError covers keys that are not zone names at all (absolute paths, "..", empty).
        canonical = _zones_by_folded_name().get(name.casefold())
        if canonical is None:
            raise PydanticCustomError(
                "timezone",
                "unknown time zone '{timezone}': use an IANA name such as 'Europe/Paris'",
                {"timezone": name[:60]},
            ) from None
        return canonical
    return name


Timezone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=50), AfterValidator(check_timezone)
]
"""An IANA time zone name (``VARCHAR(50)``) that exists here."""


# --- plain column rules -----------------------------------------------------------------------------


def reject_null(value: Any) -> Any:
    """Reject an explicit null for a NOT NULL column in an update model."""
    if value is None:
        raise PydanticCustomError(
            "not_null", "this column is NOT NULL: leave it out instead of setting it to null"
        )
    return value


NOT_NULL: Final = AfterValidator(reject_null)
"""Put on an update field of a NOT NULL column: ``None`` means "not set", never "set to null"."""


def require_aware(value: datetime | None) -> datetime | None:
    """Reject a naive datetime: PostgreSQL would read it in the server's zone, not the caller's."""
    if value is not None and value.utcoffset() is None:
        raise PydanticCustomError("timezone_aware", "datetime must carry a time zone (e.g. UTC)")
    return value


Varchar50 = Annotated[str, StringConstraints(max_length=50)]
Varchar64 = Annotated[str, StringConstraints(max_length=64)]
Varchar255 = Annotated[str, StringConstraints(max_length=255)]
RequiredText = Annotated[str, StringConstraints(min_length=1)]
"""A NOT NULL text column that must also hold something."""
RequiredVarchar255 = Annotated[str, StringConstraints(min_length=1, max_length=255)]
IdeaHash = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=64, pattern=r"^[0-9a-fA-F]{64}$")
]
"""A SHA-256 digest as 64 hex digits, stored in lower case (the database CHECKs ``^[0-9a-f]{64}$``)."""


def sha256_hex(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits (how ``idea_hash`` is computed)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- URLs and hashtags ------------------------------------------------------------------------------

_HTTP_URL: Final[TypeAdapter[_PydanticHttpUrl]] = TypeAdapter(_PydanticHttpUrl)


def check_http_url(value: str) -> str:
    """Check that a string is an absolute http(s) URL; return it unchanged (no re-encoding).

    Raises:
        PydanticCustomError: not an http or https URL with a host.
    """
    try:
        _HTTP_URL.validate_python(value)
    except _PydanticValidationError:
        raise PydanticCustomError(
            "http_url", "must be an absolute http(s) URL, got '{url}'", {"url": value[:100]}
        ) from None
    return value


def normalise_hashtags(tags: list[str]) -> list[str]:
    """Strip whitespace and leading '#', reject inner whitespace, drop case-insensitive duplicates.

    The first spelling of a tag wins and order is kept: ``["#AI", "ai", " ml "]`` -> ``["AI", "ml"]``.

    Raises:
        PydanticCustomError: a tag is empty or contains whitespace.
    """
    seen: set[str] = set()
    result: list[str] = []
    for raw in tags:
        tag = raw.strip().lstrip("#").strip()
        if not tag or any(ch.isspace() for ch in tag):
            raise PydanticCustomError(
                "hashtag", "hashtag '{tag}' must be one word without spaces", {"tag": raw[:60]}
            )
        key = tag.casefold()
        if key not in seen:
            seen.add(key)
            result.append(tag)
    return result


# --- platform text limits ---------------------------------------------------------------------------


def _parse_tweet() -> Callable[[str], Any]:
    try:
        # Imported here, not at module import: building its URL and emoji patterns takes ~0.3 s.
        from twitter_text import parse_tweet  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - it is a hard dependency
        raise ConfigurationError(
            "counting X text needs the 'twitter-text-parser' package (another package providing "
            "'twitter_text' may be shadowing it)"
        ) from exc
    return parse_tweet  # type: ignore[no-any-return]


def x_weighted_length(text: str) -> int:
    """The length X counts for a post (twitter-text v3): most CJK and emoji count 2, any URL 23.

    Args:
        text: the post text.

    Returns:
        The weighted length, to compare with :data:`X_MAX_WEIGHTED_LENGTH`.
    """
    return int(_parse_tweet()(text).weightedLength)


def x_text_is_plainly_short(text: str) -> bool:
    """Whether ``text`` is within X's limit without asking the twitter-text parser (a sufficient test).

    True for ASCII text of at most 280 characters without a ``.``. In twitter-text v3 every ASCII
    character weighs 1, no ASCII-only sequence is an emoji, ASCII holds none of the characters X refuses,
    and a URL (which counts 23 whatever its length, so a short one counts *more* than its characters) needs
    a dot before its top-level domain. So such a text's weighted length is at most its length (a CRLF
    pair counts once). Anything else (a dot anywhere, any non-ASCII character) goes to the parser:
    parsing costs ~50 us, this test ~0.2 us.

    Args:
        text: the post text.

    Returns:
        True when the text is certainly valid and short enough; False when the parser must decide.
    """
    return len(text) <= X_MAX_WEIGHTED_LENGTH and text.isascii() and "." not in text


def check_x_text(text: str) -> str:
    """Check one X post (the main text or a thread item) against X's rules.

    Raises:
        PydanticCustomError: empty, over 280 weighted characters, or containing characters X refuses.
    """
    if not text.strip():
        raise PydanticCustomError("x_text_empty", "an X post cannot be empty")
    if x_text_is_plainly_short(text):
        return text
    parsed = _parse_tweet()(text)
    length = int(parsed.weightedLength)
    if length > X_MAX_WEIGHTED_LENGTH:
        raise PydanticCustomError(
            "x_text_too_long",
            "X counts this text as {length} characters; the limit is {limit}",
            {"length": length, "limit": X_MAX_WEIGHTED_LENGTH},
        )
    if not parsed.valid:
        raise PydanticCustomError("x_text_invalid", "the text contains characters X does not accept")
    return text


def check_linkedin_text(text: str) -> str:
    """Check a LinkedIn post text: not empty and at most 3000 characters.

    Raises:
        PydanticCustomError: empty or too long.
    """
    if not text.strip():
        raise PydanticCustomError("linkedin_text_empty", "a LinkedIn post cannot be empty")
    # LinkedIn counts characters as the user sees them; NFC keeps "e + accent" as one. ASCII text is
    # already in NFC, so its length needs no normalising copy.
    length = len(text) if text.isascii() else len(unicodedata.normalize("NFC", text))
    if length > LINKEDIN_MAX_LENGTH:
        raise PydanticCustomError(
            "linkedin_text_too_long",
            "a LinkedIn post is {length} characters; the limit is {limit}",
            {"length": length, "limit": LINKEDIN_MAX_LENGTH},
        )
    return text


def check_post_content(platform: str | None, content: str) -> str:
    """Check a post's content against the limit of its platform, when that platform is known."""
    if platform == "x":
        return check_x_text(content)
    if platform == "linkedin":
        return check_linkedin_text(content)
    return content


def check_non_negative(value: int | None) -> int | None:
    """Reject a negative count."""
    if value is not None and value < 0:
        raise PydanticCustomError(
            "non_negative", "must be a non-negative integer, got {value}", {"value": value}
        )
    return value


def check_rate(value: float | None) -> float | None:
    """Reject a rate outside [0, 1] (and NaN or infinity, which JSON cannot carry)."""
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise PydanticCustomError(
            "rate_range", "must be a fraction between 0 and 1 (0.043 for 4.3%), got {value}", {"value": value}
        )
    return value


def check_formality(value: int | None) -> int | None:
    """Reject a formality level outside 1..10."""
    if value is not None and not 1 <= value <= 10:
        raise PydanticCustomError(
            "formality_range", "must be between 1 and 10, got {value}", {"value": value}
        )
    return value

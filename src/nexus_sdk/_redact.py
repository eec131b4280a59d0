"""The one mask, and the one redaction of secrets in text and URLs.

Everything the SDK prints, logs, stores or raises in place of a secret is :data:`MASK`: the mask pydantic's
``SecretStr`` shows, so a token masked by a model and one masked in a message look the same.

- :func:`redact_url`: a database URL or DSN without its password.
- :func:`redact`: free text (an error message, a log line) without the given secrets, JWTs and passwords in
  URLs or DSNs; with ``guess=True`` also without what merely looks like a credential (bearer values,
  ``token=...`` pairs, long opaque strings), for text written by third parties, such as a publisher's error.

This module imports only :mod:`re`, so anything may use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

__all__ = ["MASK", "redact", "redact_url"]

MASK: Final = "**********"
"""What stands in for a secret everywhere (pydantic's ``SecretStr`` mask)."""

_JWT: Final = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")
_URL_PASSWORD: Final = re.compile(r"(?P<head>://[^:/@\s]*:)[^@\s]*(?=@)")
_DSN_PASSWORD: Final = re.compile(r"(?P<head>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)

_UUID: Final = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_AUTH_VALUE: Final = re.compile(r"(?i)\b(?:bearer|basic|token)\s+[^\s,;'\"]+")
_CREDENTIAL_PAIR: Final = re.compile(
    # name=value / "name": "value" where the name says it is a credential.
    r"(?i)([\w-]*(?:token|secret|password|passwd|api[_-]?key|apikey|signature|credential|auth|code)[\w-]*"
    r"[\"']?\s*[=:]\s*[\"']?)([^\s&,;'\"]+)"
)
_OPAQUE: Final = re.compile(r"[A-Za-z0-9_\-+/]{32,}={0,2}")


def redact_url(url: str) -> str:
    """A database URL or libpq DSN with its password replaced by :data:`MASK`.

    Args:
        url: ``postgresql://user:password@host/db`` or ``host=... password=...``.

    Returns:
        The same text, the password masked; a URL without a password is unchanged.
    """
    url = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, url)
    return _DSN_PASSWORD.sub(lambda m: m["head"] + MASK, url)


def redact(text: str, secrets: Iterable[str] = (), *, guess: bool = False) -> str:
    """``text`` without secrets, each replaced by :data:`MASK`.

    Args:
        text: A message, a log line, an error from elsewhere.
        secrets: Values known to be secret (keys, tokens), removed wherever they appear; the longest
            first, so a secret holding another is removed whole. Empty values are ignored.
        guess: Also remove what looks like a credential without being known: ``Bearer``/``Basic``/``token``
            values, ``name=value`` pairs whose name says credential, and opaque strings of 32 or more
            characters (UUIDs are kept: they are ids worth reading). For text written by third parties.

    Returns:
        The redacted text.
    """
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _JWT.sub(MASK, text)
    text = redact_url(text)
    if not guess:
        return text
    text = _AUTH_VALUE.sub(MASK, text)
    text = _CREDENTIAL_PAIR.sub(lambda m: m.group(1) + MASK, text)
    return _OPAQUE.sub(lambda m: m.group(0) if _UUID.fullmatch(m.group(0)) else MASK, text)

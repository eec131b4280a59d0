"""Derived ids: an imported row without an ``id`` gets one from its content, the same on every run."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any, Final

from nexus_sdk.io._tables import EXPORT_TABLES, spec

__all__ = ["PLACEHOLDER_ID", "derive_id"]

# A fixed namespace, so the same row gets the same id on every machine and every run.
_ID_NAMESPACE: Final = uuid.UUID("5b0f7c8e-2d1a-4f64-9a53-6c1e0e7d4a11")
_NAMESPACE_BYTES: Final = _ID_NAMESPACE.bytes
# What json.dumps(ensure_ascii=False) escapes in a string; a natural key without any of these is written as is.
_JSON_ESCAPED: Final = re.compile(r'[\x00-\x1f"\\]')
# sha1 hex digit 16 -> the same digit with the RFC 4122 variant bits (10xx) set.
_VARIANT_DIGIT: Final = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}

PLACEHOLDER_ID: Final = uuid.UUID(int=0)
"""Stands in for a missing id while a row is validated (the Create model would otherwise draw a random
one, a system call per row); the derived id replaces it before the row goes anywhere."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _canonical_key(values: list[Any]) -> str:
    """``_canonical(values)`` for a natural key, without json.dumps when every value is a plain string."""
    # The escape test runs on the bare values: the '","' separators would always match it.
    if values and all(type(v) is str for v in values) and _JSON_ESCAPED.search("".join(values)) is None:
        return '["' + '","'.join(values) + '"]'
    return _canonical(values)


def _uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(_ID_NAMESPACE, name))``, without building two UUID objects per row."""
    text = hashlib.sha1(_NAMESPACE_BYTES + name.encode(), usedforsecurity=False).hexdigest()
    # Digit 12 becomes the version (5); digit 16 gets the variant bits. The rest is the hash as it is.
    return f"{text[:8]}-{text[8:12]}-5{text[13:16]}-{_VARIANT_DIGIT[text[16]]}{text[17:20]}-{text[20:32]}"


def derive_id(table: str, body: Mapping[str, Any]) -> str:
    """The id an imported row gets when it has none: the same row always gets the same id.

    ``content_adaptations`` and ``platform_connections`` derive it from their natural key (``user_id`` +
    ``idea_hash``, ``user_id`` + ``platform``); the other tables from all of the row's values.

    Args:
        table: The table.
        body: The validated row (as sent: ``user_id`` filled in, defaults applied).

    Returns:
        A UUID (version 5) as text.
    """
    key = spec(table).natural_key if table in EXPORT_TABLES else ()
    if key:
        material = _canonical_key([body.get(c) for c in key])
    else:
        material = _canonical({k: v for k, v in body.items() if k != "id"})
    return _uuid5_text(f"{table}\n{material}")

"""Derived ids: an imported row without an ``id`` gets one from its content, the same on every run."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Final

from nexus_sdk.io._tables import EXPORT_TABLES, spec

__all__ = ["PLACEHOLDER_ID", "derive_id", "id_deriver"]

# A fixed namespace, so the same row gets the same id on every machine and every run.
_ID_NAMESPACE: Final = uuid.UUID("5b0f7c8e-2d1a-4f64-9a53-6c1e0e7d4a11")
_NAMESPACE_BYTES: Final = _ID_NAMESPACE.bytes
_NAMESPACE_HASH: Final = hashlib.sha1(_NAMESPACE_BYTES, usedforsecurity=False)
"""SHA-1 already fed the namespace: a copy of it hashes a name without concatenating the two first."""
# sha1 hex digit 16 -> the same digit with the RFC 4122 variant bits (10xx) set.
_VARIANT_DIGIT: Final = {f"{n:x}": f"{(n & 0x3) | 0x8:x}" for n in range(16)}

PLACEHOLDER_ID: Final = uuid.UUID(int=0)
"""Stands in for a missing id while a row is validated (the Create model would otherwise draw a random
one, a system call per row); the derived id replaces it before the row goes anywhere."""


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _written_as_is(value: Any) -> bool:
    """Whether json.dumps(ensure_ascii=False) writes ``value`` as itself between quotes.

    It escapes only ``"``, ``\\`` and the control characters below U+0020; ``isprintable`` is False
    for all of those (and for some characters json.dumps leaves alone: those simply take the slow path).
    """
    return type(value) is str and value.isprintable() and '"' not in value and "\\" not in value


def _canonical_key(values: list[Any]) -> str:
    """``_canonical(values)`` for a natural key, without json.dumps when every value is a plain string."""
    if values and all(_written_as_is(v) for v in values):
        return '["' + '","'.join(values) + '"]'
    return _canonical(values)


def _uuid5_text(name: str) -> str:
    """``str(uuid.uuid5(_ID_NAMESPACE, name))``, without building two UUID objects per row."""
    digest = _NAMESPACE_HASH.copy()
    digest.update(name.encode())
    text = digest.hexdigest()
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
    return id_deriver(table)(body)


@functools.cache
def id_deriver(table: str) -> Callable[[Mapping[str, Any]], str]:
    """:func:`derive_id` for one table, with what depends only on the table looked up once."""
    key = spec(table).natural_key if table in EXPORT_TABLES else ()
    prefix = f"{table}\n"
    if len(key) == 2:  # content_adaptations, platform_connections: the common case, spelled out
        first, second = key

        def by_pair(body: Mapping[str, Any]) -> str:
            a, b = body.get(first), body.get(second)
            if _written_as_is(a) and _written_as_is(b):
                return _uuid5_text(f'{prefix}["{a}","{b}"]')
            return _uuid5_text(prefix + _canonical([a, b]))

        return by_pair
    if key:
        return lambda body: _uuid5_text(prefix + _canonical_key([body.get(c) for c in key]))
    return lambda body: _uuid5_text(prefix + _canonical({k: v for k, v in body.items() if k != "id"}))

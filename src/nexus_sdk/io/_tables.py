"""Which tables import and export accept, their short names, and what each table's spec says about them.

Natural keys and token columns come from the table's :class:`~nexus_sdk.repositories._core.TableSpec`;
the columns written as JSON text in CSV and the plain-text columns come from its Row model. Nothing here
declares a table's shape a second time.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from functools import cache
from types import UnionType
from typing import Any, Final, Union, get_args, get_origin

from pydantic import BaseModel

from nexus_sdk import _redact
from nexus_sdk.errors import ValidationError
from nexus_sdk.repositories._core import TableSpec

__all__ = [
    "ALIASES",
    "EXPORT_TABLES",
    "IMPORT_TABLES",
    "MASK",
    "SERVER_COLUMNS",
    "boolean_columns",
    "conflict_target",
    "json_columns",
    "known_columns",
    "mask",
    "mask_text",
    "resolve_table",
    "spec",
    "text_columns",
    "timestamp_columns",
    "token_columns",
]

IMPORT_TABLES: Final = ("content_adaptations", "voice_profiles", "published_posts", "platform_connections")
"""Tables :func:`~nexus_sdk.io.import_rows` accepts."""
EXPORT_TABLES: Final = (
    "users",
    "platform_connections",
    "content_adaptations",
    "voice_profiles",
    "published_posts",
    "scheduled_posts",
)
"""Tables :func:`~nexus_sdk.io.export_rows` accepts."""

ALIASES: Final = {
    "adaptations": "content_adaptations",
    "ideas": "content_adaptations",
    "connections": "platform_connections",
    "profiles": "voice_profiles",
    "voices": "voice_profiles",
    "posts": "published_posts",
    "scheduled": "scheduled_posts",
}
"""Short names accepted wherever a table is named (``nexus-sdk import adaptations ideas.jsonl``)."""

MASK: Final = _redact.MASK
"""What a token looks like in an export without ``include_tokens`` and in a rejects file."""

SERVER_COLUMNS: Final = frozenset({"created_at", "updated_at"})
"""Columns the database sets; an export carries them, an import ignores them."""

_SECRET_WORDS: Final = ("token", "secret", "password", "apikey", "api_key")


def resolve_table(name: str, tables: Sequence[str] = EXPORT_TABLES) -> str:
    """The table a name or alias stands for.

    Args:
        name: A table name (``content_adaptations``) or an alias (``adaptations``).
        tables: The tables allowed here.

    Returns:
        The table name.

    Raises:
        ValidationError: Not one of ``tables``.
    """
    table = ALIASES.get(name, name)
    if table in tables:
        return table
    if tables == IMPORT_TABLES and table in _NOT_IMPORTED:
        message = (
            f"{table} cannot be imported: {_NOT_IMPORTED[table]}; import takes one of: {', '.join(tables)}."
        )
        raise ValidationError.at("table", message, "table")
    close = difflib.get_close_matches(name, [*tables, *(a for a, t in ALIASES.items() if t in tables)], n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    message = f"Unknown table {name!r}{hint}; expected one of: {', '.join(tables)}."
    raise ValidationError.at("table", message, "table")


_NOT_IMPORTED: Final = {
    "users": "its rows are made by sign-ups (Supabase Auth; `nexus-sdk local user create` on the local stack)",
    "scheduled_posts": "posts are queued with scheduled_posts.schedule(), which checks them against the platform",
}
"""Why a table that export accepts is not one import accepts."""


@cache
def _specs() -> Mapping[str, TableSpec[Any, Any, Any]]:
    from nexus_sdk.repositories import (
        content_adaptations,
        platform_connections,
        published_posts,
        scheduled_posts,
        users,
        voice_profiles,
    )

    modules = (
        users,
        platform_connections,
        content_adaptations,
        voice_profiles,
        published_posts,
        scheduled_posts,
    )
    return {module.SPEC.table: module.SPEC for module in modules}


def spec(table: str) -> TableSpec[Any, Any, Any]:
    """The spec of one of :data:`EXPORT_TABLES`."""
    return _specs()[table]


def token_columns(table: str) -> tuple[str, ...]:
    """The columns of ``table`` holding OAuth tokens (encrypted at rest)."""
    return spec(table).token_columns


def conflict_target(table: str) -> tuple[str, ...]:
    """The columns an import conflicts on: the natural key if the table has one, else the id."""
    table_spec = spec(table)
    return table_spec.natural_key or (table_spec.primary_key,)


def _plain(annotation: Any) -> tuple[Any, ...]:
    """The types an annotation allows, ``X | None`` and ``Annotated`` unwrapped."""
    args = get_args(annotation)
    if get_origin(annotation) is None or not args:
        return (annotation,)
    if get_origin(annotation) in (Union, UnionType):
        return tuple(t for arg in args for t in _plain(arg) if t is not type(None))
    return (annotation,)


def _is_document(kind: Any) -> bool:
    origin = get_origin(kind) or kind
    return origin in (dict, list) or (isinstance(origin, type) and issubclass(origin, BaseModel))


@cache
def json_columns(table: str) -> frozenset[str]:
    """Columns written as JSON text in CSV files: JSONB documents and arrays."""
    if table not in EXPORT_TABLES:
        return frozenset()
    fields = spec(table).row.model_fields
    return frozenset(
        name for name, info in fields.items() if any(_is_document(k) for k in _plain(info.annotation))
    )


@cache
def text_columns(table: str) -> frozenset[str]:
    """The columns that hold plain text, where a CSV cell ``""`` is an empty string (not NULL)."""
    if table not in EXPORT_TABLES:
        return frozenset()
    fields = spec(table).row.model_fields
    return frozenset(name for name, info in fields.items() if str in _plain(info.annotation))


@cache
def boolean_columns(table: str) -> frozenset[str]:
    """The columns of ``table`` that hold a boolean."""
    fields = spec(table).row.model_fields
    return frozenset(name for name, info in fields.items() if bool in _plain(info.annotation))


@cache
def known_columns(table: str) -> frozenset[str]:
    """The columns a file for ``table`` may have: those a row has (an export's) and those a create takes."""
    table_spec = spec(table)
    return frozenset(table_spec.row.model_fields) | frozenset(table_spec.create.model_fields)


@cache
def timestamp_columns(table: str) -> frozenset[str]:
    """The columns of ``table`` that hold a timestamp with time zone."""
    fields = spec(table).row.model_fields
    return frozenset(
        name
        for name, info in fields.items()
        if any(
            isinstance(k, type) and k.__name__ in ("datetime", "AwareDatetime")
            for k in _plain(info.annotation)
        )
    )


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def mask(row: object) -> dict[str, Any] | None:
    """A copy of ``row`` with every token-like value replaced by :data:`MASK` (None if not a mapping)."""
    if not isinstance(row, Mapping):
        return None
    return {str(k): (MASK if _is_secret_name(str(k)) and v not in (None, "") else v) for k, v in row.items()}


_SECRET_JSON_VALUE: Final = re.compile(
    r'("[^"\\]*(?:token|secret|password|apikey|api_key)[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*"', re.IGNORECASE
)


def mask_text(text: str) -> str:
    """A line as read, with the string value of every token-like JSON key replaced by :data:`MASK`.

    For lines that could not be parsed: the rejects file keeps what was read, without the secrets a
    well-formed part of it shows.
    """
    return _SECRET_JSON_VALUE.sub(lambda m: f'{m[1]}"{MASK}"', text.rstrip("\r\n"))

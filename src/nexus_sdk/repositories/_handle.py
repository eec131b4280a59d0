"""A typed handle on one table's core and sender, for code outside the repositories (``nexus_sdk.io``).

Bulk import and export drive :class:`~nexus_sdk.repositories._core.TableCore` operations with the
repository's own sender, so they share its settings, key ring and connection pool. This is the one place
outside the facades that reads a repository's core and sender, so ``mypy --strict`` checks what
``nexus_sdk.io`` does with them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from nexus_sdk._http import AsyncSender, SyncSender
from nexus_sdk.errors import ConfigurationError, ValidationError
from nexus_sdk.repositories._base import AsyncRepository, SyncRepository
from nexus_sdk.repositories._core import TableCore

__all__ = ["TableHandle", "async_table", "create_bodies", "load_keys", "sync_table"]

SenderT = TypeVar("SenderT", SyncSender, AsyncSender)


@dataclass(frozen=True, slots=True)
class TableHandle(Generic[SenderT]):
    """One table of a client: its I/O-free core, and the sender (sync or async) that runs its operations."""

    core: TableCore[Any, Any, Any]
    """The table's operations; ``core.spec`` names the table, its models, natural key and token columns."""
    sender: SenderT
    """The client's sender: ``sender.run(operation)`` (awaited for an async client)."""


def sync_table(repository: object) -> TableHandle[SyncSender]:
    """The handle of a sync repository (``client.content_adaptations``)."""
    if not isinstance(repository, SyncRepository):
        raise TypeError(f"expected a repository of a NexusClient, got {type(repository).__name__}")
    return TableHandle(repository._core, repository._sender)


def async_table(repository: object) -> TableHandle[AsyncSender]:
    """The handle of an async repository (``async_client.content_adaptations``)."""
    if not isinstance(repository, AsyncRepository):
        raise TypeError(f"expected a repository of an AsyncNexusClient, got {type(repository).__name__}")
    return TableHandle(repository._core, repository._sender)


def load_keys(core: TableCore[Any, Any, Any]) -> None:
    """Load the key ring of a table with token columns now: a missing key fails before any row is read.

    Raises:
        ConfigurationError: The client has no encryption keys.
    """
    if not core.spec.token_columns:
        return
    if core.keys is None:
        raise ConfigurationError(f"{core.spec.table} needs encryption keys (NEXUS_ENCRYPTION_KEYS).")
    core.keys()


def create_bodies(
    core: TableCore[Any, Any, Any], items: Sequence[Any]
) -> list[dict[str, Any] | ValidationError]:
    """Each item's create body as ``create()`` would send it before encryption, or why it is invalid.

    One pydantic call validates a run of valid rows; an invalid run is validated row by row, so every
    error names its own item.
    """
    return core._raw_create_bodies(items)

"""``platform_connections``: connected accounts and their OAuth tokens, encrypted transparently.

``access_token`` and ``refresh_token`` are encrypted with the client's :class:`~nexus_sdk.crypto.KeyRing`
before they are sent and decrypted when rows are read; the associated data names the table, the column
and the row id, so a value copied into another row fails to decrypt. ``upsert`` resolves conflicts on
the unique ``(user_id, platform)`` index.
"""

from __future__ import annotations

import builtins
import json
from typing import Any, Final

from nexus_sdk.errors import ConfigurationError
from nexus_sdk.models import PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate
from nexus_sdk.repositories._base import (
    AsyncCreate,
    AsyncDelete,
    AsyncRead,
    AsyncUpdate,
    AsyncUpsert,
    SyncCreate,
    SyncDelete,
    SyncRead,
    SyncUpdate,
    SyncUpsert,
)
from nexus_sdk.repositories._core import TableCore, TableSpec

__all__ = ["AsyncPlatformConnections", "PlatformConnections", "PlatformConnectionsCore"]

TABLE: Final = "platform_connections"

SPEC = TableSpec(
    TABLE,
    PlatformConnection,
    PlatformConnectionCreate,
    PlatformConnectionUpdate,
    natural_key=("user_id", "platform"),
)


class PlatformConnectionsCore(
    TableCore[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate]
):
    """The shared operations, with token encryption on write and decryption on read."""

    encrypted_columns = ("access_token", "refresh_token")

    def _ring(self) -> Any:
        if self.keys is None:
            raise ConfigurationError("platform_connections needs encryption keys (NEXUS_ENCRYPTION_KEYS).")
        return self.keys()

    def encode_row(self, body: dict[str, Any], row_id: str | None) -> dict[str, Any]:
        """Encrypt the token columns present in ``body`` for the row ``row_id``."""
        present = [column for column in self.encrypted_columns if body.get(column) is not None]
        if not present:
            return body
        from nexus_sdk.crypto import token_aad

        if row_id is None:
            raise ConfigurationError("Tokens can only be written to a row whose id is known.")
        ring = self._ring()
        encoded = dict(body)
        for column in present:
            aad = token_aad(table=TABLE, column=column, row_id=row_id)
            encoded[column] = ring.encrypt(body[column], aad=aad)
        return encoded

    def decode_rows(self, content: bytes) -> builtins.list[PlatformConnection]:
        """Parse rows, decrypting the token columns."""
        if not content:
            return []
        raw_rows = json.loads(content)
        if not any(row.get(column) for row in raw_rows for column in self.encrypted_columns):
            return [PlatformConnection.model_validate(row) for row in raw_rows]
        from nexus_sdk.crypto import token_aad

        ring = self._ring()
        for row in raw_rows:
            for column in self.encrypted_columns:
                if row.get(column) is not None:
                    aad = token_aad(table=TABLE, column=column, row_id=row["id"])
                    row[column] = ring.decrypt(row[column], aad=aad)
        return [PlatformConnection.model_validate(row) for row in raw_rows]


class PlatformConnections(
    SyncRead[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    SyncCreate[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    SyncUpdate[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    SyncDelete[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    SyncUpsert[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
):
    """The ``platform_connections`` table, sync."""

    spec = SPEC
    core_class = PlatformConnectionsCore


class AsyncPlatformConnections(
    AsyncRead[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    AsyncCreate[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    AsyncUpdate[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    AsyncDelete[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
    AsyncUpsert[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate],
):
    """The ``platform_connections`` table, async."""

    spec = SPEC
    core_class = PlatformConnectionsCore

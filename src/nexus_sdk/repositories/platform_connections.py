"""``platform_connections``: connected accounts and their OAuth tokens, encrypted transparently.

``access_token`` and ``refresh_token`` are encrypted with the client's :class:`~nexus_sdk.crypto.KeyRing`
before they are sent and decrypted when rows are read. The associated data names the table, the column
and the row's natural key, ``(user_id, platform)`` (see :func:`~nexus_sdk.crypto.token_aad`): a token
belongs to one user's account on one platform, so a value copied to another user's row, another
platform or the other token column fails to decrypt. Every call is one HTTP request:

- ``create`` inserts with a client-generated id (``ignore-duplicates``, so a retry is a no-op).
- ``upsert`` is one ``POST ?on_conflict=user_id,platform`` with ``resolution=merge-duplicates``: the
  tokens are encrypted for the ``(user_id, platform)`` in the body, whichever row it lands on. The body
  carries neither ``id`` (the existing row keeps it) nor, for a user, ``user_id`` (it defaults to
  ``auth.uid()``; ``authenticated`` may not UPDATE it).
- ``update_tokens(platform, ...)`` stores refreshed tokens: one ``PATCH ?user_id=eq.U&platform=eq.P``,
  the filter being exactly what the tokens are bound to.
- ``update(id, ...)`` is a ``PATCH`` by id of the other columns. It refuses (ValidationError, before
  sending) new tokens, whose binding it cannot know without a read, and a change of ``platform``, under
  which the stored tokens would no longer decrypt: refreshed tokens go through ``update_tokens``, and a
  connection to another platform is a new connection.
- ``expiring(within=...)`` lists the active connections whose access token expires within a window, for
  a token-refresh job.
- ``rotate_keys()`` re-encrypts every stored token under the current key; the rotation itself lives in
  :mod:`nexus_sdk.repositories._token_rotation`.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Unpack, cast, overload

from nexus_sdk._http import Operation, json_rows
from nexus_sdk._results import RowList
from nexus_sdk._types import strip_not_given, uuid_text
from nexus_sdk.crypto import RotationStats
from nexus_sdk.errors import (
    ConfigurationError,
    DecryptionError,
    NotFoundError,
    RowDecryptionError,
    ValidationError,
)
from nexus_sdk.models import PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate
from nexus_sdk.query import F, Filter, row_count
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
from nexus_sdk.repositories._core import DEFAULT_LIST_LIMIT, RowId, TableCore, TableSpec
from nexus_sdk.repositories._fields import (
    PlatformConnectionCreateFields,
    PlatformConnectionOrder,
    PlatformConnectionUpdateFields,
)
from nexus_sdk.repositories._token_rotation import TokenRotation
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = [
    "AsyncPlatformConnections",
    "PlatformConnections",
    "PlatformConnectionsCore",
]

TABLE: Final = "platform_connections"
TOKEN_COLUMNS: Final = ("access_token", "refresh_token")

SPEC = TableSpec(
    TABLE,
    PlatformConnection,
    PlatformConnectionCreate,
    PlatformConnectionUpdate,
    natural_key=("user_id", "platform"),
    token_columns=TOKEN_COLUMNS,
)


class PlatformConnectionsCore(
    TableCore[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate]
):
    """The shared operations, with token encryption on write and decryption on read."""

    encrypted_columns = TOKEN_COLUMNS

    def _ring(self) -> Any:
        if self.keys is None:
            raise ConfigurationError("platform_connections needs encryption keys (NEXUS_ENCRYPTION_KEYS).")
        return self.keys()

    # --- the binding of tokens to (user_id, platform) -------------------------------------------------

    def _acting_user(self) -> str | None:
        """The JWT's ``sub`` when the client acts as a user, else None (the service role)."""
        if self.settings.access_token is None:
            return None
        return self.settings.user_id

    def _encrypt(self, body: dict[str, Any], user_id: Any, platform: Any) -> dict[str, Any]:
        """Encrypt the token columns present (and not null) in ``body`` for ``(user_id, platform)``."""
        present = [column for column in TOKEN_COLUMNS if body.get(column) is not None]
        if not present:
            return body
        from nexus_sdk.crypto import token_aad

        ring = self._ring()
        encoded = dict(body)
        for column in present:
            aad = token_aad(table=TABLE, column=column, user_id=user_id, platform=platform)
            encoded[column] = ring.encrypt(body[column], aad=aad)
        return encoded

    # --- hooks -----------------------------------------------------------------------------------------

    def encode_row(self, body: dict[str, Any]) -> dict[str, Any]:
        """Encrypt the tokens of a create/upsert body for the body's own ``(user_id, platform)``."""
        return self._encrypt(body, body.get("user_id"), body.get("platform"))

    def prepare_update(
        self, row_id: str, body: dict[str, Any]
    ) -> tuple[builtins.list[tuple[str, str]], dict[str, Any]]:
        """Filter and body of a PATCH by id; tokens and platform are refused (see the module docstring)."""
        for column in (*TOKEN_COLUMNS, "platform"):
            # Clearing a token (None) needs no encryption and is allowed.
            if body.get(column) is not None:
                raise ValidationError.at(
                    column,
                    "update() does not change tokens or platform: tokens are encrypted for the connection's "
                    "(user_id, platform), so store refreshed tokens with update_tokens(platform=..., ...) "
                    "(the service role also passes user_id=) or upsert(), and connect another platform as a "
                    "new connection.",
                )
        return [self._by_id(row_id)], body

    def decode_rows(self, content: bytes) -> builtins.list[PlatformConnection]:
        """Parse rows, decrypting the token columns with each row's own binding.

        Every value of the response is tried, so one bad row does not hide others. Tokens are decrypted
        straight into ``SecretStr`` and the raw rows keep their ciphertext, so no local variable of this
        frame holds a token in clear when an error is raised (crash reporters record frame locals).

        Raises:
            RowDecryptionError: Some token did not decrypt; it names every (row id, column, reason).
        """
        if not content:
            return []
        raw_rows = json_rows(content)
        # `is not None`, not truthiness: an empty string is not an encrypted value, and reading it as a
        # token needs the same plaintext opt-in as any other unencrypted value.
        if not any(row.get(column) is not None for row in raw_rows for column in TOKEN_COLUMNS):
            return [PlatformConnection.model_validate(row) for row in raw_rows]
        from nexus_sdk.crypto import token_aad

        ring = self._ring()
        decoded: builtins.list[PlatformConnection] = []
        failures: builtins.list[tuple[str | None, str, str]] = []
        first: DecryptionError | None = None
        for raw in raw_rows:
            row = dict(raw)
            ok = True
            for column in TOKEN_COLUMNS:
                value = raw.get(column)
                if value is None:
                    continue
                aad = token_aad(table=TABLE, column=column, user_id=raw["user_id"], platform=raw["platform"])
                try:
                    row[column] = ring.decrypt_secret(value, aad=aad)
                except DecryptionError as exc:
                    ok = False
                    row_id = raw.get("id")
                    failures.append((None if row_id is None else str(row_id), column, exc.reason))
                    first = first or exc
            if ok:
                decoded.append(PlatformConnection.model_validate(row))
        if first is not None:
            raise RowDecryptionError(TABLE, tuple(failures), first=first.message) from first
        return decoded

    # --- operations --------------------------------------------------------------------------------

    def update_tokens(
        self,
        platform: str,
        fields: dict[str, Any],
        *,
        user_id: uuid.UUID | str | None,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[PlatformConnection]:
        """PATCH the tokens of the connection ``(user_id, platform)``, filtered by exactly that key."""
        model: PlatformConnectionUpdate = self._build(
            PlatformConnectionUpdate, None, {"platform": platform, **fields}
        )
        del fields  # tokens in clear; the model keeps them as SecretStr (see TableCore.create)
        body = model.to_request_json()
        name = body.pop("platform")
        acting = self._acting_user()
        if acting is not None:
            if user_id is not None and uuid_text("user_id", user_id) != uuid_text("user_id", acting):
                raise ValidationError.at(
                    "user_id", "A user can only update their own connections: leave user_id out."
                )
            owner = acting
        elif user_id is not None:
            owner = uuid_text("user_id", user_id)
        else:
            raise ValidationError.at("user_id", "user_id is required unless the client acts as a user.")
        # Replaced by its encryption before anything is sent: no token in clear stays in this frame.
        body = self._encrypt(body, owner, name)
        params = [("user_id", f"eq.{uuid_text('user_id', owner)}"), ("platform", f"eq.{name}")]
        missing = NotFoundError(
            f"No {TABLE} row for platform {name!r} of user {owner} is visible to this client.",
            status_code=404,
        )
        return (yield from self.patch_one(params, body, timeout, missing=missing))


def _expiring(within: timedelta) -> Filter:
    if within < timedelta(0):
        raise ValidationError.at("within", "within must not be negative")
    return (F("is_active") == True) & (F("token_expires_at") <= datetime.now(UTC) + within)  # noqa: E712


def _token_fields(
    access_token: str | NotGiven,
    refresh_token: str | NotGiven | None,
    token_expires_at: datetime | NotGiven | None,
    scope: str | NotGiven | None,
) -> dict[str, Any]:
    fields = strip_not_given(
        {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "token_expires_at": token_expires_at,
            "scope": scope,
        }
    )
    if not any(column in fields for column in TOKEN_COLUMNS):
        raise ValidationError.at("access_token", "update_tokens() needs access_token or refresh_token.")
    return fields


class AsyncPlatformConnections(
    AsyncRead[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    AsyncCreate[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    AsyncUpdate[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    AsyncDelete[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    AsyncUpsert[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
):
    """The ``platform_connections`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        @overload  # type: ignore[override, no-overload-impl]
        async def create(
            self, data: PlatformConnectionCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PlatformConnection: ...

        @overload
        async def create(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionCreateFields],
        ) -> PlatformConnection: ...

        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: PlatformConnectionUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionUpdateFields],
        ) -> PlatformConnection: ...

        @overload  # type: ignore[override, no-overload-impl]
        async def upsert(
            self, data: PlatformConnectionCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PlatformConnection: ...

        @overload
        async def upsert(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionCreateFields],
        ) -> PlatformConnection: ...

    spec = SPEC
    core_class = PlatformConnectionsCore

    async def update_tokens(
        self,
        platform: str,
        *,
        access_token: str | NotGiven = NOT_GIVEN,
        refresh_token: str | NotGiven | None = NOT_GIVEN,
        token_expires_at: datetime | NotGiven | None = NOT_GIVEN,
        scope: str | NotGiven | None = NOT_GIVEN,
        user_id: uuid.UUID | str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PlatformConnection:
        """Store refreshed OAuth tokens for the connection to ``platform``, in one request.

        The connection is found by its natural key, ``(user_id, platform)``, which is also what the
        tokens are encrypted for, so no id and no prior read is needed.

        Args:
            platform: The connection's platform, e.g. ``"linkedin"``.
            access_token: The new access token.
            refresh_token: The new refresh token; ``None`` clears it.
            token_expires_at: When the access token expires (time-zone aware).
            scope: The granted scopes.
            user_id: The owner; required for the service role, implied (the JWT's ``sub``) for a user.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated connection, tokens decrypted.

        Raises:
            ValidationError: No token given, an invalid value, or a missing or foreign ``user_id``.
            NotFoundError: The user has no visible connection to ``platform``.
        """
        fields = _token_fields(access_token, refresh_token, token_expires_at, scope)
        core = cast(PlatformConnectionsCore, self._core)
        operation = core.update_tokens(platform, fields, user_id=user_id, timeout=timeout)
        # The operation encrypts them before sending: no token in clear stays in this frame meanwhile.
        del access_token, refresh_token, fields
        return await self._sender.run(operation)

    async def expiring(
        self,
        within: timedelta,
        *,
        limit: int = DEFAULT_LIST_LIMIT,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PlatformConnection]:
        """Active connections whose access token expires within ``within`` (or has expired), soonest first.

        For a token-refresh job: refresh each and store the result with :meth:`update_tokens`.

        Args:
            within: How far ahead to look, e.g. ``timedelta(minutes=15)``.
            limit: At most this many connections (at most 1000).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The connections, tokens decrypted.
        """
        return await self.list(
            where=_expiring(within), order_by="token_expires_at", limit=limit, timeout=timeout
        )

    async def rotate_keys(
        self,
        *,
        batch_size: int = 200,
        allow_plaintext: bool = False,
        on_progress: Callable[[RotationStats], object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RotationStats:
        """Re-encrypt every stored token under the current key (the first of the key ring).

        Needs the service role (to see every row) and a key ring holding the old keys as well. Pages by id,
        one request per page and one per row to rewrite, each write conditional on the old value, so it
        never overwrites a token refreshed meanwhile. Idempotent and resumable: rows already under the
        current key are only read, so running it again after an interruption finishes the job.

        Args:
            batch_size: Rows per page (at most 1000).
            allow_plaintext: Also encrypt legacy plaintext tokens (otherwise they count as failed).
            on_progress: Called with the running totals after each page (e.g. to drive a progress bar).
            timeout: Overrides the client's timeout for each request.

        Returns:
            The totals: values read, re-encrypted, already current, failed, changed meanwhile. A value
            another writer replaced meanwhile is read again and rotated if it still needs it, so a run
            ending with ``reencrypted == failed == 0`` leaves nothing under an older key.

        Raises:
            ValidationError: ``batch_size`` is out of range, or the client acts as a user.
        """
        rotation = TokenRotation(cast(PlatformConnectionsCore, self._core))
        return await self._sender.run(
            rotation.run(row_count("batch_size", batch_size), allow_plaintext, on_progress, timeout=timeout)
        )


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class PlatformConnections(
    SyncRead[PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder],
    SyncCreate[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    SyncUpdate[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    SyncDelete[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
    SyncUpsert[
        PlatformConnection, PlatformConnectionCreate, PlatformConnectionUpdate, PlatformConnectionOrder
    ],
):
    """The ``platform_connections`` table."""

    if TYPE_CHECKING:

        @overload  # type: ignore[override, no-overload-impl]
        def create(
            self, data: PlatformConnectionCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PlatformConnection: ...

        @overload
        def create(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionCreateFields],
        ) -> PlatformConnection: ...

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: PlatformConnectionUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionUpdateFields],
        ) -> PlatformConnection: ...

        @overload  # type: ignore[override, no-overload-impl]
        def upsert(
            self, data: PlatformConnectionCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> PlatformConnection: ...

        @overload
        def upsert(
            self,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[PlatformConnectionCreateFields],
        ) -> PlatformConnection: ...

    spec = SPEC
    core_class = PlatformConnectionsCore

    def update_tokens(
        self,
        platform: str,
        *,
        access_token: str | NotGiven = NOT_GIVEN,
        refresh_token: str | NotGiven | None = NOT_GIVEN,
        token_expires_at: datetime | NotGiven | None = NOT_GIVEN,
        scope: str | NotGiven | None = NOT_GIVEN,
        user_id: uuid.UUID | str | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> PlatformConnection:
        """Store refreshed OAuth tokens for the connection to ``platform``, in one request.

        The connection is found by its natural key, ``(user_id, platform)``, which is also what the
        tokens are encrypted for, so no id and no prior read is needed.

        Args:
            platform: The connection's platform, e.g. ``"linkedin"``.
            access_token: The new access token.
            refresh_token: The new refresh token; ``None`` clears it.
            token_expires_at: When the access token expires (time-zone aware).
            scope: The granted scopes.
            user_id: The owner; required for the service role, implied (the JWT's ``sub``) for a user.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The updated connection, tokens decrypted.

        Raises:
            ValidationError: No token given, an invalid value, or a missing or foreign ``user_id``.
            NotFoundError: The user has no visible connection to ``platform``.
        """
        fields = _token_fields(access_token, refresh_token, token_expires_at, scope)
        core = cast(PlatformConnectionsCore, self._core)
        operation = core.update_tokens(platform, fields, user_id=user_id, timeout=timeout)
        del access_token, refresh_token, fields
        return self._sender.run(operation)

    def expiring(
        self,
        within: timedelta,
        *,
        limit: int = DEFAULT_LIST_LIMIT,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RowList[PlatformConnection]:
        """Active connections whose access token expires within ``within`` (or has expired), soonest first.

        For a token-refresh job: refresh each and store the result with :meth:`update_tokens`.

        Args:
            within: How far ahead to look, e.g. ``timedelta(minutes=15)``.
            limit: At most this many connections (at most 1000).
            timeout: Overrides the client's timeout for this call.

        Returns:
            The connections, tokens decrypted.
        """
        return self.list(where=_expiring(within), order_by="token_expires_at", limit=limit, timeout=timeout)

    def rotate_keys(
        self,
        *,
        batch_size: int = 200,
        allow_plaintext: bool = False,
        on_progress: Callable[[RotationStats], object] | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> RotationStats:
        """Re-encrypt every stored token under the current key (the first of the key ring).

        Needs the service role (to see every row) and a key ring holding the old keys as well. Pages by id,
        one request per page and one per row to rewrite, each write conditional on the old value, so it
        never overwrites a token refreshed meanwhile. Idempotent and resumable: rows already under the
        current key are only read, so running it again after an interruption finishes the job.

        Args:
            batch_size: Rows per page (at most 1000).
            allow_plaintext: Also encrypt legacy plaintext tokens (otherwise they count as failed).
            on_progress: Called with the running totals after each page (e.g. to drive a progress bar).
            timeout: Overrides the client's timeout for each request.

        Returns:
            The totals: values read, re-encrypted, already current, failed, changed meanwhile. A value
            another writer replaced meanwhile is read again and rotated if it still needs it, so a run
            ending with ``reencrypted == failed == 0`` leaves nothing under an older key.

        Raises:
            ValidationError: ``batch_size`` is out of range, or the client acts as a user.
        """
        rotation = TokenRotation(cast(PlatformConnectionsCore, self._core))
        return self._sender.run(
            rotation.run(row_count("batch_size", batch_size), allow_plaintext, on_progress, timeout=timeout)
        )

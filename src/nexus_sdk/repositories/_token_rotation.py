"""Key rotation over PostgREST: re-encrypting every stored token under the current key, without I/O.

:meth:`PlatformConnections.rotate_keys <nexus_sdk.repositories.PlatformConnections.rotate_keys>` runs
:meth:`TokenRotation.run` with the client's sender. It reads the raw, still-encrypted token columns page by
page (service role: RLS would show a user only their own rows), re-encrypts them in memory with the key ring
(:meth:`nexus_sdk.crypto.KeyRing.rotate_batch`), and writes each row back conditionally on the values it read,
so a token refreshed meanwhile is never overwritten by a re-encryption of its predecessor.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk._http import Operation, call
from nexus_sdk.crypto import RotationFailure, RotationStats
from nexus_sdk.errors import DecryptionError, ValidationError
from nexus_sdk.repositories._core import PageCursor
from nexus_sdk.settings import NotGiven, TimeoutTypes

if TYPE_CHECKING:
    from nexus_sdk.repositories.platform_connections import PlatformConnectionsCore

__all__ = ["TokenRotation"]

_ROTATION_SELECT: Final = "id,user_id,platform,updated_at,access_token,refresh_token"
"""The columns a rotation reads: the id, the tokens' binding, the write condition and the tokens."""
_ROTATION_ATTEMPTS: Final = 5
"""Conditional writes of one row before its remaining values are counted as failed (a rewrite race)."""


class TokenRotation:
    """The I/O-free operations of a key rotation of ``platform_connections``, for one client configuration."""

    def __init__(self, core: PlatformConnectionsCore) -> None:
        self.core = core
        """The table's core: its settings, key ring and request building."""

    def _aad(self, row: dict[str, Any], column: str) -> bytes:
        """The associated data of a raw row's token column."""
        from nexus_sdk.crypto import token_aad

        return token_aad(
            table=self.core.spec.table, column=column, user_id=row["user_id"], platform=row["platform"]
        )

    def _columns(self) -> tuple[str, ...]:
        return self.core.spec.token_columns

    def ciphertext_page(
        self, after: str | None, limit: int, *, timeout: TimeoutTypes | NotGiven
    ) -> Operation[builtins.list[dict[str, Any]]]:
        """One keyset page of the raw, still-encrypted token columns, ordered by id."""
        params = [("select", _ROTATION_SELECT), ("order", "id.asc")]
        if after is not None:
            params.append(("id", f"gt.{after}"))
        params.append(("limit", str(limit)))
        return (yield from self._raw_rows(params, timeout))

    def _raw_rows(
        self, params: builtins.list[tuple[str, str]], timeout: TimeoutTypes | NotGiven
    ) -> Operation[builtins.list[dict[str, Any]]]:
        request = self.core._request("GET", params, retry_safe=True, timeout=timeout)
        response = yield from call(request, self.core.settings)
        return response.rows()

    def run(
        self,
        batch_size: int,
        allow_plaintext: bool,
        on_progress: Callable[[RotationStats], object] | None,
        *,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[RotationStats]:
        """Page through every row by id, re-encrypting and conditionally rewriting what needs it.

        A page shorter than ``batch_size`` does not end the run by itself: the server may cap responses
        below it (Supabase's ``max_rows``), so :class:`PageCursor` decides, as for ``iter()``.

        Raises:
            ValidationError: The client acts as a user (it would see only that user's rows).
        """
        if self.core._acting_user() is not None:
            # RLS would show only the user's own rows, and the counts would pass for a complete run.
            raise ValidationError.at(
                "rotate_keys",
                "rotate_keys() needs the service role: a client acting as a user sees only its own rows.",
            )
        total, cursor = RotationStats(), PageCursor(batch_size)
        while not cursor.done:
            after = None if cursor.last is None else str(cursor.last["id"])
            rows = yield from self.ciphertext_page(after, batch_size, timeout=timeout)
            cursor.advance(rows)
            writes, stats = self.plan(rows, allow_plaintext=allow_plaintext)
            for row, old, new in writes:
                outcome = yield from self.write(row, old, new, allow_plaintext, timeout=timeout)
                # The plan counted these values as re-encrypted; the write says what became of them.
                stats.reencrypted -= len(new)
                stats += outcome
            total += stats
            if on_progress is not None:
                on_progress(total)
        return total

    def plan(
        self, rows: builtins.list[dict[str, Any]], *, allow_plaintext: bool
    ) -> tuple[builtins.list[tuple[dict[str, Any], dict[str, str], dict[str, str]]], RotationStats]:
        """Re-encrypt a page of raw rows in memory: ``(row, old values, new values)`` per row to write."""
        items = [
            ((index, column), row[column], self._aad(row, column))
            for index, row in enumerate(rows)
            for column in self._columns()
        ]
        batch = self.core._ring().rotate_batch(items, allow_plaintext=allow_plaintext)
        for (index, column), error in batch.failures:
            batch.stats.failures.append(RotationFailure(_id_of(rows[index]), column, error.reason))
        writes: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
        for (index, column), old, new in batch.updates:
            old_values, new_values = writes.setdefault(index, ({}, {}))
            old_values[column], new_values[column] = old, new
        return [(rows[index], old, new) for index, (old, new) in writes.items()], batch.stats

    def write(
        self,
        row: dict[str, Any],
        old: dict[str, str],
        new: dict[str, str],
        allow_plaintext: bool,
        *,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[RotationStats]:
        """Write one row's re-encrypted values; on a conflict, re-read the row and rotate what it holds now.

        A conditional write fails as a whole when any of its columns changed, e.g. when the application
        refreshed the access token but not the refresh token. Counting both as "changed meanwhile" would
        leave the untouched one under the old key while the run looks complete, so the row is read again:
        a value now under the current key (or gone) is counted in ``changed_meanwhile``; any other value,
        unchanged or replaced by a writer still on an older key, is re-encrypted from what is stored now
        and written under the same condition. After ``_ROTATION_ATTEMPTS`` conflicts on one row, its
        remaining values are counted as ``failed``, so the run does not pass for complete.

        Returns:
            The outcome of the ``len(new)`` values: ``reencrypted``, ``changed_meanwhile`` or ``failed``.
        """
        ring = self.core._ring()
        outcome = RotationStats()
        for _ in range(_ROTATION_ATTEMPTS):
            written = yield from self.swap_ciphertext(row, old, new, timeout=timeout)
            if written:
                outcome.reencrypted += len(new)
                return outcome
            fresh = yield from self._raw_rows(
                [("select", _ROTATION_SELECT), self.core._by_id(str(row["id"]))], timeout
            )
            if not fresh:
                outcome.changed_meanwhile += len(new)  # deleted meanwhile
                return outcome
            row, retry_old, retry_new = fresh[0], {}, {}
            for column in new:
                value = row.get(column)
                if value is None or not ring.needs_rotation(value):
                    outcome.changed_meanwhile += 1
                    continue
                try:
                    replacement = ring.reencrypt(
                        value, aad=self._aad(row, column), allow_plaintext=allow_plaintext
                    )
                except DecryptionError as exc:
                    outcome.failed += 1
                    outcome.failures.append(RotationFailure(_id_of(row), column, exc.reason))
                    continue
                if replacement is not None:
                    retry_old[column], retry_new[column] = value, replacement
            if not retry_new:
                return outcome
            old, new = retry_old, retry_new
        outcome.failed += len(new)
        outcome.failures += [RotationFailure(_id_of(row), column, "write_conflict") for column in new]
        return outcome

    def swap_ciphertext(
        self,
        row: dict[str, Any],
        old: dict[str, str],
        new: dict[str, str],
        *,
        timeout: TimeoutTypes | NotGiven,
    ) -> Operation[bool]:
        """Replace stored values only where they still hold ``old``; True when the row was written.

        The condition is part of the filter, so a token refreshed meanwhile is never overwritten by a
        re-encryption of its predecessor; and writing the same new values twice is harmless. No stored value
        is put in the URL: a token may be kilobytes long (proxies refuse or log long URLs), and a plaintext
        one is a secret. An encrypted value is recognised by its header and its nonce (``nx1:<key id>:``
        and the first 16 base64 characters, the 12 random bytes drawn afresh for every encryption): a value
        written since, even of the same token under the same key, has another nonce. A legacy plaintext
        value's condition is "still not encrypted". Either way the row's ``updated_at`` (set by a trigger on
        every UPDATE) must also still be the one read.
        """
        from nexus_sdk.crypto import FORMAT_PREFIX, is_encrypted

        conditions = [
            (
                column,
                f"like.{_same_encryption(old[column])}"
                if is_encrypted(old[column])
                else f"not.like.{FORMAT_PREFIX}*",
            )
            for column in new
        ]
        conditions.append(("updated_at", f"eq.{row['updated_at']}"))
        params = [self.core._by_id(str(row["id"])), *conditions, ("select", "id")]
        request = self.core._request(
            "PATCH",
            params,
            headers={"Prefer": "return=representation"},
            body=new,
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.core.settings)
        return bool(response.rows())


_NONCE_CHARS: Final = 16
"""Base64 characters of a 12-byte nonce: they come first in an ``nx1`` payload."""


def _same_encryption(value: str) -> str:
    """A LIKE pattern matching ``value``'s encryption only: its header and nonce, then anything.

    ``_``, ``%`` and ``\\`` are escaped (a key id may hold ``_``); PostgREST reads ``*`` as ``%``.
    """
    head, _, payload = value.rpartition(":")
    prefix = f"{head}:{payload[:_NONCE_CHARS]}"
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "*"


def _id_of(row: dict[str, Any]) -> str | None:
    row_id = row.get("id")
    return None if row_id is None else str(row_id)

"""The local Auth's password check: only the whole password matches, whatever bcrypt version is installed.

bcrypt reads at most 72 bytes. bcrypt 4.x (allowed by the ``local`` extra) silently ignores the rest, so a
longer password whose first 72 bytes equal a stored 72-byte password would match; 5.x raises instead.
"""

from __future__ import annotations

import pytest

pytest.importorskip("bcrypt")

from nexus_sdk.local import _auth_store as store


async def test_a_password_longer_than_72_bytes_never_matches() -> None:
    stored = "p" * 72
    hashed = await store.hash_password(stored)
    assert await store.check_password(stored, hashed)
    assert not await store.check_password(stored + "x", hashed)
    assert not await store.check_password(stored + "\u00e9" * 40, hashed)


async def test_multibyte_characters_count_in_bytes() -> None:
    stored = "\u00e9" * 36  # 72 bytes in UTF-8
    hashed = await store.hash_password(stored)
    assert await store.check_password(stored, hashed)
    assert not await store.check_password(stored + "e", hashed)

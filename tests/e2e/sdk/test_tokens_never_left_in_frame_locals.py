"""A write that fails leaves no token in clear in the SDK's frame locals (what crash reporters collect).

Reads already decrypt straight into ``SecretStr``; these are the writes: the server refuses the request, the
error propagates through the SDK's frames, and none of them may still hold the token it was given.
"""

from __future__ import annotations

import traceback
import uuid
from typing import Any

import pytest

from nexus_sdk import ConflictError, NexusClient, NotFoundError
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]

SECRET = "PLAINSECRET"


def _sdk_locals(error: BaseException) -> list[str]:
    """Every local of every SDK frame the error (and its causes) passed through, as repr text."""
    chain = [error, *(e for e in (error.__cause__, error.__context__) if e is not None)]
    return [
        f"{frame.f_code.co_filename}:{frame.f_code.co_name}: {name}={value!r}"
        for exc in chain
        for frame, _ in traceback.walk_tb(exc.__traceback__)
        if "nexus_sdk" in frame.f_code.co_filename
        for name, value in frame.f_locals.items()
    ]


def _assert_no_plaintext(error: BaseException) -> None:
    leaked = [text for text in _sdk_locals(error) if SECRET in text]
    assert leaked == []
    assert SECRET not in "".join(traceback.format_exception(error))


def test_create_after_a_conflict(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    repo = nexus_user.client.platform_connections
    repo.create(platform="x", platform_user_id="u", access_token="first-token")
    with pytest.raises(ConflictError) as failed:
        # (user_id, platform) is unique: the server refuses the second connection to x.
        repo.create(
            platform="x", platform_user_id="u", access_token=f"{SECRET}-a", refresh_token=f"{SECRET}-r"
        )
    _assert_no_plaintext(failed.value)


def test_update_tokens_after_not_found(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    with pytest.raises(NotFoundError) as failed:
        nexus_user.client.platform_connections.update_tokens(
            "linkedin", access_token=f"{SECRET}-a", refresh_token=f"{SECRET}-r"
        )
    _assert_no_plaintext(failed.value)


def test_upsert_and_create_many_after_a_refusal(
    nexus_clean: NexusTestStack, nexus_service: NexusClient
) -> None:
    repo = nexus_service.platform_connections
    nobody = uuid.uuid4()  # no such user: the foreign key refuses the row
    with pytest.raises(ConflictError) as failed:
        repo.upsert(user_id=nobody, platform="x", platform_user_id="u", access_token=f"{SECRET}-a")
    _assert_no_plaintext(failed.value)
    rows: list[dict[str, Any]] = [
        {"user_id": nobody, "platform": p, "platform_user_id": "u", "access_token": f"{SECRET}-{p}"}
        for p in ("x", "linkedin")
    ]
    with pytest.raises(ConflictError) as failed:
        repo.create_many(rows)
    _assert_no_plaintext(failed.value)


async def test_async_create_and_update_tokens(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    repo = nexus_user.aclient.platform_connections
    await repo.create(platform="x", platform_user_id="u", access_token="first-token")
    with pytest.raises(ConflictError) as failed:
        await repo.create(platform="x", platform_user_id="u", access_token=f"{SECRET}-a")
    _assert_no_plaintext(failed.value)
    with pytest.raises(NotFoundError) as missing:
        await repo.update_tokens("linkedin", access_token=f"{SECRET}-a")
    _assert_no_plaintext(missing.value)

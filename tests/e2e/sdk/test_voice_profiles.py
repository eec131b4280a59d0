"""The default voice profile rules, through the SDK: exactly one default per user who has profiles."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from nexus_sdk.errors import BadRequestError, NotFoundError
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]


async def _defaults(sdk: Any, user: NexusTestUser) -> list[str]:
    rows = await sdk(sdk.of(user).voice_profiles.list(where={"is_default": True}))
    return [row.name for row in rows]


async def test_set_default_voice_profile_switches_atomically(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    pro = await sdk(client.voice_profiles.create(name="Professional"))
    casual = await sdk(client.voice_profiles.create(name="Casual"))
    assert await _defaults(sdk, nexus_user) == ["Professional"]

    result = await sdk(client.rpc("set_default_voice_profile", profile_id=str(casual.id)))
    assert [row["id"] for row in result] == [str(casual.id)]
    assert result[0]["is_default"] is True
    assert await _defaults(sdk, nexus_user) == ["Casual"]
    # Calling it again changes nothing (a retry is harmless).
    await sdk(client.rpc("set_default_voice_profile", {"profile_id": str(casual.id)}, idempotent=True))
    assert await _defaults(sdk, nexus_user) == ["Casual"]
    assert not (await sdk(client.voice_profiles.get(pro.id))).is_default


async def test_creating_a_new_default_takes_over(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    await sdk(client.voice_profiles.create(name="Old"))
    await sdk(client.voice_profiles.create(name="New", is_default=True))
    assert await _defaults(sdk, nexus_user) == ["New"]


async def test_the_default_cannot_be_unset_or_the_last_profile_deleted(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    only = await sdk(client.voice_profiles.create(name="Only"))
    with pytest.raises(BadRequestError) as unset:
        await sdk(client.voice_profiles.update(only.id, is_default=False))
    assert unset.value.code == "23514"
    assert unset.value.hint is not None
    assert "set_default_voice_profile" in unset.value.hint
    with pytest.raises(BadRequestError):
        await sdk(client.voice_profiles.delete(only.id))
    assert await _defaults(sdk, nexus_user) == ["Only"]


async def test_deleting_the_default_promotes_another(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    first = await sdk(client.voice_profiles.create(name="First"))
    await sdk(client.voice_profiles.create(name="Second"))
    await sdk(client.voice_profiles.delete(first.id))
    assert await _defaults(sdk, nexus_user) == ["Second"]


async def test_another_users_profile_cannot_be_made_default(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    theirs = await sdk(sdk.of(nexus_other_user).voice_profiles.create(name="Theirs"))
    mine = sdk.of(nexus_user)
    await sdk(mine.voice_profiles.create(name="Mine"))
    # The function is SECURITY INVOKER: RLS hides the row, so nothing is updated.
    assert await sdk(mine.rpc("set_default_voice_profile", profile_id=str(theirs.id))) == []
    assert await sdk(mine.rpc("set_default_voice_profile", profile_id=str(uuid.uuid4()))) == []
    assert await _defaults(sdk, nexus_user) == ["Mine"]
    assert await _defaults(sdk, nexus_other_user) == ["Theirs"]
    with pytest.raises(NotFoundError):
        await sdk(mine.rpc("no_such_function"))

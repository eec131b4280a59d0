"""OAuth tokens are stored encrypted and read back decrypted; one connection per (user, platform)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from nexus_sdk import NexusClient
from nexus_sdk.crypto import ENV_VAR, KeyRing
from nexus_sdk.errors import DecryptionError
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _stored(stack: NexusTestStack, connection_id: Any) -> tuple[str, str | None]:
    row = (
        stack.sql()
        .execute(
            "SELECT access_token, refresh_token FROM public.platform_connections WHERE id = %s",
            (connection_id,),
        )
        .fetchone()
    )
    assert row is not None
    return row[0], row[1]


async def test_tokens_are_ciphertext_at_rest_and_plaintext_to_the_owner(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).platform_connections
    conn = await sdk(
        repo.create(
            platform="x",
            platform_user_id="42",
            access_token="x-access-SECRET",
            refresh_token="x-refresh-SECRET",
        )
    )
    access, refresh = _stored(nexus_clean, conn.id)
    assert access.startswith("nx1:")
    assert refresh is not None
    assert refresh.startswith("nx1:")
    assert "SECRET" not in access + refresh
    assert access != refresh

    fetched = await sdk(repo.get(conn.id))
    assert fetched.access_token.get_secret_value() == "x-access-SECRET"
    assert fetched.refresh_token is not None
    assert fetched.refresh_token.get_secret_value() == "x-refresh-SECRET"
    listed = await sdk(repo.list())
    assert [c.access_token.get_secret_value() for c in listed] == ["x-access-SECRET"]
    assert "SECRET" not in repr(listed)

    updated = await sdk(repo.update_tokens("x", access_token="x-access-NEW"))
    new_access, _ = _stored(nexus_clean, conn.id)
    assert new_access.startswith("nx1:")
    assert new_access != access
    assert updated.access_token.get_secret_value() == "x-access-NEW"
    # The service role reads the same plaintext (same key ring).
    assert (
        await sdk(sdk.service.platform_connections.get(conn.id))
    ).access_token.get_secret_value() == "x-access-NEW"


def test_the_fixture_key_ring_is_in_the_environment(nexus_encryption_keys: KeyRing) -> None:
    assert KeyRing.from_env().key_ids == nexus_encryption_keys.key_ids
    assert os.environ[ENV_VAR].split(":")[0] == nexus_encryption_keys.current.key_id


def test_a_client_with_another_key_cannot_read_the_tokens(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_encryption_keys: KeyRing
) -> None:
    conn = nexus_user.client.platform_connections.create(
        platform="linkedin", platform_user_id="u", access_token="li"
    )
    from nexus_sdk.crypto import EncryptionKey

    stranger = KeyRing([EncryptionKey.generate("other")])
    with (
        NexusClient(
            nexus_clean.url,
            nexus_clean.anon_key,
            access_token=nexus_user.access_token,
            encryption_keys=stranger,
        ) as client,
        pytest.raises(DecryptionError) as failed,
    ):
        client.platform_connections.get(conn.id)
    assert failed.value.reason == "unknown_key"
    # The message says which key the token needs (a key id, never key material), not only the code.
    assert f"key {nexus_encryption_keys.current.key_id!r}" in str(failed.value)
    assert "(it has other)" in str(failed.value)


def test_a_token_copied_into_another_row_does_not_decrypt(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = nexus_user.client.platform_connections
    linkedin = client.create(platform="linkedin", platform_user_id="u", access_token="li-token")
    x = client.create(platform="x", platform_user_id="u", access_token="x-token")
    nexus_clean.sql().execute(
        "UPDATE public.platform_connections SET access_token = (SELECT access_token FROM public.platform_connections WHERE id = %s) WHERE id = %s",
        (linkedin.id, x.id),
    )
    with pytest.raises(DecryptionError) as failed:
        client.get(x.id)
    assert failed.value.reason == "authentication_failed"
    assert client.get(linkedin.id).access_token.get_secret_value() == "li-token"


async def test_repeated_upserts_keep_one_connection_per_platform(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = sdk.of(nexus_user).platform_connections
    first = await sdk(
        repo.upsert(platform="linkedin", platform_user_id="urn:1", access_token="t-1", scope="r")
    )
    second = await sdk(
        repo.upsert(platform="linkedin", platform_user_id="urn:1", access_token="t-2", scope="r w")
    )
    third = await sdk(repo.upsert(platform="linkedin", platform_user_id="urn:1", access_token="t-3"))
    other = await sdk(repo.upsert(platform="x", platform_user_id="9", access_token="x-1"))

    assert first.id == second.id == third.id
    assert other.id != first.id
    assert third.access_token.get_secret_value() == "t-3"
    assert (await sdk(repo.get(first.id))).access_token.get_secret_value() == "t-3"
    rows = await sdk(repo.list(order_by="platform"))
    assert [(r.platform, r.access_token.get_secret_value()) for r in rows] == [
        ("linkedin", "t-3"),
        ("x", "x-1"),
    ]
    (count,) = nexus_clean.sql().execute("SELECT count(*) FROM public.platform_connections").fetchone() or (
        0,
    )
    assert count == 2
    stored, _ = _stored(nexus_clean, first.id)
    assert stored.startswith("nx1:")


async def test_service_role_upserts_for_a_user(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    one = await sdk(
        sdk.service.platform_connections.upsert(
            user_id=nexus_user.id, platform="x", platform_user_id="1", access_token="a"
        )
    )
    two = await sdk(
        sdk.service.platform_connections.upsert(
            user_id=nexus_user.id, platform="x", platform_user_id="1", access_token="b"
        )
    )
    assert one.id == two.id
    mine = await sdk(sdk.of(nexus_user).platform_connections.list())
    assert [c.access_token.get_secret_value() for c in mine] == ["b"]

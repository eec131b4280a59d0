"""Errors arrive as the typed errors; bad input never leaves the client; a lost response is retried safely."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from nexus_sdk import AsyncNexusClient, F, NexusClient
from nexus_sdk.errors import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.db, pytest.mark.e2e]


async def test_missing_row_is_not_found(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    for table in ("content_adaptations", "voice_profiles", "published_posts", "platform_connections"):
        row_id = uuid.uuid4()
        with pytest.raises(NotFoundError) as missing:
            await sdk(getattr(client, table).get(row_id))
        # The error names the table and the id; its status is its class's, the server's 406 is kept.
        assert missing.value.message == f"No {table} row with id {row_id} is visible to this client."
        assert (missing.value.status_code, missing.value.response_status) == (404, 406)
        assert missing.value.code == "PGRST116"
    row_id = uuid.uuid4()
    with pytest.raises(NotFoundError) as missing:
        await sdk(client.published_posts.update(row_id, content="nobody"))
    assert str(row_id) in missing.value.message
    assert missing.value.status_code == 404


async def test_unique_violation_is_conflict(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    client = sdk.of(nexus_user)
    await sdk(
        client.platform_connections.create(platform="linkedin", platform_user_id="a", access_token="t1")
    )
    with pytest.raises(ConflictError) as conflict:
        await sdk(
            client.platform_connections.create(platform="linkedin", platform_user_id="b", access_token="t2")
        )
    assert conflict.value.status_code == 409
    assert conflict.value.code == "23505"
    assert "t2" not in str(conflict.value)


async def test_check_constraint_is_bad_request(
    sdk: Any, nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    voice = await sdk(sdk.of(nexus_user).voice_profiles.create(name="Only"))
    # The last profile may not be deleted (a trigger raising check_violation: 23514 -> 400).
    with pytest.raises(BadRequestError) as refused:
        await sdk(sdk.of(nexus_user).voice_profiles.delete(voice.id))
    assert refused.value.code == "23514"


@pytest.mark.parametrize("kind", ["expired", "bad signature"])
async def test_bad_tokens_are_authentication_errors(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, kind: str
) -> None:
    if kind == "expired":
        token = nexus_clean.mint_token(nexus_user.id, expires_in=-120)
    else:
        head, payload, _ = nexus_user.access_token.split(".")
        token = f"{head}.{payload}.{'A' * 43}"
    client = NexusClient(nexus_clean.url, nexus_clean.anon_key, access_token=token)
    with client, pytest.raises(AuthenticationError) as refused:
        client.content_adaptations.list()
    assert refused.value.status_code == 401
    assert refused.value.code in {"PGRST301", "PGRST303"}
    assert token not in str(refused.value)
    assert token not in repr(refused.value)
    async with AsyncNexusClient(nexus_clean.url, nexus_clean.anon_key, access_token=token) as aclient:
        with pytest.raises(AuthenticationError):
            await aclient.voice_profiles.count()


def test_a_token_that_is_not_a_jwt_is_refused_before_sending(nexus_clean: NexusTestStack) -> None:
    # The server would answer 401; the SDK says what is wrong before anything travels.
    with pytest.raises(ConfigurationError, match="access token is malformed") as refused:
        NexusClient(nexus_clean.url, nexus_clean.anon_key, access_token="not-a-jwt")
    assert "not-a-jwt" not in str(refused.value)


class _Counting(httpx.BaseTransport):
    """Forwards to the real stack and counts what was sent."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(
            lambda c: c.content_adaptations.list(where=F("no_such_column") == 1), id="unknown column"
        ),
        pytest.param(
            lambda c: c.published_posts.list(where=F("created_at") > "yesterday"), id="bad datetime"
        ),
        pytest.param(
            lambda c: c.voice_profiles.list(where=F("is_default").like("t%")), id="like on a boolean"
        ),
        pytest.param(lambda c: c.content_adaptations.list(order_by="-nope"), id="bad order"),
        pytest.param(lambda c: c.content_adaptations.list(limit=5000), id="limit over the cap"),
        pytest.param(lambda c: c.published_posts.get("not-a-uuid"), id="bad id"),
        pytest.param(lambda c: c.published_posts.create(platform="x", content=""), id="empty content"),
        pytest.param(
            lambda c: c.published_posts.create(platform="Not A Platform!", content="x"), id="bad platform"
        ),
        pytest.param(lambda c: c.scheduled_posts.update(uuid.uuid4(), status="exploded"), id="bad status"),
        pytest.param(
            lambda c: c.platform_connections.update(uuid.uuid4(), access_token=None), id="null not-null"
        ),
        pytest.param(lambda c: c.content_adaptations.update(uuid.uuid4()), id="empty patch"),
        pytest.param(lambda c: c.users.update(uuid.uuid4(), timezone="Mars/Olympus"), id="bad time zone"),
    ],
)
def test_validation_errors_are_raised_before_sending(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser, call: Any
) -> None:
    transport = _Counting()
    with httpx.Client(transport=transport) as http:
        client = NexusClient(
            nexus_stack.url, nexus_stack.anon_key, access_token=nexus_user.access_token, http_client=http
        )
        with pytest.raises(ValidationError) as invalid:
            call(client)
    assert transport.sent == []
    assert isinstance(invalid.value, ValueError)
    assert nexus_user.access_token not in str(invalid.value)


def test_secret_values_are_not_echoed_by_validation_errors(
    nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    with pytest.raises(ValidationError) as invalid:
        nexus_user.client.platform_connections.create(
            platform="x", platform_user_id="", access_token="sekrit-token-value"
        )
    assert "sekrit-token-value" not in str(invalid.value)
    assert "sekrit-token-value" not in repr(invalid.value.errors)


# --- a lost response, against the real server ---------------------------------------------------------------


class _LoseFirstWriteResponse(httpx.BaseTransport):
    """Lets the first POST reach the stack, then drops its response as a broken connection would."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.method)
        response = self.inner.handle_request(request)
        if request.method == "POST" and not self.lost:
            self.lost += 1
            response.read()
            response.close()
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


class _AsyncLoseFirstWriteResponse(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.lost = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method == "POST" and not self.lost:
            self.lost += 1
            await response.aread()
            await response.aclose()
            raise httpx.ReadError("connection reset after the server committed", request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_insert_retried_after_a_lost_response_makes_one_row(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    transport = _LoseFirstWriteResponse()
    with httpx.Client(transport=transport) as http:
        client = NexusClient(
            nexus_clean.url, nexus_clean.anon_key, access_token=nexus_user.access_token, http_client=http
        )
        row = client.content_adaptations.create(original_idea="sent once, answered twice")
    assert transport.lost == 1
    assert transport.sent.count("POST") == 2  # the lost attempt and the retry
    stored = nexus_user.client.content_adaptations.list()
    assert [r.id for r in stored] == [row.id]
    # The server really saw two inserts of the same id: the first one is the row we got back.
    (count,) = nexus_clean.sql().execute("SELECT count(*) FROM public.content_adaptations").fetchone() or (0,)
    assert count == 1


async def test_async_insert_retried_after_a_lost_response_makes_one_row(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    transport = _AsyncLoseFirstWriteResponse()
    async with httpx.AsyncClient(transport=transport) as http:
        client = AsyncNexusClient(
            nexus_clean.url, nexus_clean.anon_key, access_token=nexus_user.access_token, http_client=http
        )
        rows = await client.published_posts.create_many(
            [{"platform": "x", "content": f"post {i}"} for i in range(3)], batch_size=2
        )
    assert transport.lost == 1
    assert [r.content for r in rows] == ["post 0", "post 1", "post 2"]
    assert nexus_user.client.published_posts.count() == 3


def test_a_non_idempotent_rpc_is_not_retried(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    profile = nexus_user.client.voice_profiles.create(name="Only")
    transport = _LoseFirstWriteResponse()
    with httpx.Client(transport=transport) as http:
        client = NexusClient(
            nexus_clean.url, nexus_clean.anon_key, access_token=nexus_user.access_token, http_client=http
        )
        with pytest.raises(APIConnectionError, match="ReadError"):
            client.rpc("set_default_voice_profile", profile_id=str(profile.id))
    # Sent once: a function that may have run is retried only when the caller marks it idempotent.
    assert transport.sent.count("POST") == 1

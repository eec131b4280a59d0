"""The pytest hooks and the ``nexus_*`` fixtures (registered through :mod:`nexus_sdk.testing`)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from nexus_sdk.testing._backend import choose_backend, skip_unless_ci
from nexus_sdk.testing._stack import NexusSupabaseUser, NexusTestStack, NexusTestUser, open_stack

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # pragma: no cover - without pytest-asyncio the async fixtures cannot run anyway
    _async_fixture = pytest.fixture  # type: ignore[assignment]

if TYPE_CHECKING:
    from nexus_sdk.client import AsyncNexusClient, NexusClient
    from nexus_sdk.crypto import KeyRing

__all__ = [
    "nexus_async_service",
    "nexus_clean",
    "nexus_clean_module",
    "nexus_database_prefix",
    "nexus_encryption_keys",
    "nexus_other_user",
    "nexus_seed_sql",
    "nexus_service",
    "nexus_stack",
    "nexus_supabase_user",
    "nexus_user",
    "nexus_user_factory",
    "pytest_report_collectionfinish",
]


def pytest_report_collectionfinish(config: pytest.Config, items: Sequence[pytest.Item]) -> list[str]:
    """Say which backend the ``nexus_*`` fixtures use, only when a collected test uses one of them.

    A project that merely has nexus-sdk installed gets no line; a backend that cannot run here is reported
    as such (e.g. the ``local`` extra is missing), never as the server the fixtures would use.
    """
    if not any(name.startswith("nexus_") for item in items for name in getattr(item, "fixturenames", ())):
        return []
    return [f"nexus-sdk fixtures: {choose_backend().describe()}"]


@pytest.fixture(scope="session")
def nexus_seed_sql() -> Sequence[str]:
    """SQL scripts run as ``postgres`` before the local stack serves; override it to add fixtures."""
    return ()


@pytest.fixture(scope="session")
def nexus_database_prefix() -> str:
    """Name prefix of the database created on ``NEXUS_TEST_DATABASE_URL``'s server; override to change."""
    return "nexus_test_"


@pytest.fixture(scope="session")
def nexus_stack(nexus_seed_sql: Sequence[str], nexus_database_prefix: str) -> Iterator[NexusTestStack]:
    """The backend for this session (see the module docstring for how it is chosen)."""
    with open_stack(
        choose_backend(), seed_sql=nexus_seed_sql, database_prefix=nexus_database_prefix
    ) as stack:
        yield stack


@pytest.fixture
def nexus_clean(nexus_stack: NexusTestStack) -> NexusTestStack:
    """Empty every Nexus table and ``auth.users`` before the test; returns the stack."""
    nexus_stack.reset()
    return nexus_stack


@pytest.fixture(scope="module")
def nexus_clean_module(nexus_stack: NexusTestStack) -> NexusTestStack:
    """Empty every Nexus table and ``auth.users`` once, before the module's first test; returns the stack."""
    nexus_stack.reset()
    return nexus_stack


@pytest.fixture(scope="session")
def nexus_encryption_keys() -> Iterator[KeyRing]:
    """A fresh key ring for the session, also set as ``NEXUS_ENCRYPTION_KEYS`` (restored afterwards)."""
    from nexus_sdk.crypto import ENV_VAR, EncryptionKey, KeyRing

    key = EncryptionKey.generate()
    with pytest.MonkeyPatch.context() as patch:
        # Test data is never encrypted with a real key, even when the environment has one.
        patch.setenv(ENV_VAR, key.export())
        yield KeyRing([key])


@pytest.fixture(scope="session")
def nexus_service(nexus_stack: NexusTestStack, nexus_encryption_keys: KeyRing) -> Iterator[NexusClient]:
    """A service-role :class:`~nexus_sdk.NexusClient` (RLS bypassed), shared by the session."""
    from nexus_sdk.client import NexusClient

    with NexusClient(
        nexus_stack.url,
        nexus_stack.service_role_key,
        anon_key=nexus_stack.anon_key,
        encryption_keys=nexus_encryption_keys,
    ) as client:
        yield client


@_async_fixture
async def nexus_async_service(
    nexus_stack: NexusTestStack, nexus_encryption_keys: KeyRing
) -> AsyncIterator[AsyncNexusClient]:
    """A service-role :class:`~nexus_sdk.AsyncNexusClient`, closed after the test."""
    from nexus_sdk.client import AsyncNexusClient

    async with AsyncNexusClient(
        nexus_stack.url,
        nexus_stack.service_role_key,
        anon_key=nexus_stack.anon_key,
        encryption_keys=nexus_encryption_keys,
    ) as client:
        yield client


@pytest.fixture
def nexus_user_factory(
    nexus_stack: NexusTestStack, nexus_service: NexusClient, nexus_encryption_keys: KeyRing
) -> Callable[..., NexusTestUser]:
    """``factory(email=None, metadata=None)``: sign up a new user; returns a :class:`NexusTestUser`."""

    def make(email: str | None = None, metadata: Mapping[str, Any] | None = None) -> NexusTestUser:
        address = email or f"nexus-test-{secrets.token_hex(6)}@example.com"
        user_id, token = nexus_stack.create_user(address, metadata=metadata)
        return NexusTestUser(
            id=user_id,
            email=address,
            access_token=token,
            client=nexus_service.as_user(token),
            stack=nexus_stack,
            keys=nexus_encryption_keys,
        )

    return make


@pytest.fixture
def nexus_user(nexus_user_factory: Callable[..., NexusTestUser]) -> NexusTestUser:
    """A new user (see :func:`nexus_user_factory`)."""
    return nexus_user_factory()


@pytest.fixture
def nexus_other_user(nexus_user_factory: Callable[..., NexusTestUser]) -> NexusTestUser:
    """Another new user, distinct from ``nexus_user``."""
    return nexus_user_factory()


@pytest.fixture
def nexus_supabase_user(
    nexus_stack: NexusTestStack, nexus_encryption_keys: KeyRing
) -> Iterator[NexusSupabaseUser]:
    """A new user signed in with supabase-py through ``/auth/v1`` (``.supabase``), and a
    :class:`~nexus_sdk.NexusClient` following that session (``.client``); needs the ``supabase`` package."""
    try:
        import supabase
    except ImportError:
        skip_unless_ci("nexus_supabase_user needs supabase-py: pip install supabase")
    import httpx

    from nexus_sdk.client import NexusClient

    email = f"nexus-test-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)
    user_id, _ = nexus_stack.create_user(email, password=password)
    # supabase-py's sync client has no close(): its connections live in this pool, closed after the test.
    with httpx.Client(timeout=30) as http:
        options = supabase.ClientOptions(httpx_client=http, auto_refresh_token=False)
        client = supabase.create_client(nexus_stack.url, nexus_stack.anon_key, options)
        client.auth.sign_in_with_password({"email": email, "password": password})
        with NexusClient.from_supabase(client, encryption_keys=nexus_encryption_keys) as nexus:
            yield NexusSupabaseUser(id=user_id, email=email, password=password, supabase=client, client=nexus)

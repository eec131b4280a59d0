"""Fixtures the SDK's end-to-end tests share."""

from __future__ import annotations

import pytest

from nexus_sdk.testing import NexusTestStack, NexusTestUser


@pytest.fixture
def user_cli_env(nexus_stack: NexusTestStack, nexus_user: NexusTestUser) -> dict[str, str]:
    """The environment ``nexus-sdk`` reads, acting as ``nexus_user`` on the local stack."""
    return {
        "SUPABASE_URL": nexus_stack.url,
        "SUPABASE_ANON_KEY": nexus_stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": "",
        "NEXUS_ACCESS_TOKEN": nexus_user.access_token,
    }

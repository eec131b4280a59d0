"""A client made with ``from_supabase`` says whom it acts as now: the signed-in user, then anon after the
supabase client signs out (its requests already go as anon; its ``repr`` and ``auth_mode`` said "user")."""

from __future__ import annotations

import uuid

import httpx
import pytest
import supabase

from nexus_sdk import NexusClient
from nexus_sdk.testing import NexusTestStack

pytestmark = [pytest.mark.e2e]


def test_auth_mode_follows_the_supabase_session(
    nexus_clean: NexusTestStack, nexus_stack: NexusTestStack
) -> None:
    with httpx.Client(timeout=30) as http:
        options = supabase.ClientOptions(auto_refresh_token=False, httpx_client=http)
        sb = supabase.create_client(nexus_stack.url, nexus_stack.anon_key, options)
        sb.auth.sign_up({"email": f"mode-{uuid.uuid4().hex[:8]}@example.com", "password": "correct horse"})
        with NexusClient.from_supabase(sb) as nx:
            assert nx.auth_mode == "user"
            assert "auth_mode='user'" in repr(nx)
            sb.auth.sign_out()
            assert nx.auth_mode == "anon"
            assert "auth_mode='anon'" in repr(nx)
            assert nx.settings.user_id is None

"""The supabase-py example of docs/client.md, run as written against the local stack: the row it creates is
the signed-in user's."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import supabase

from nexus_sdk.testing import NexusTestStack, skip_unless_ci

pytestmark = [pytest.mark.e2e]

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "client.md"


def _example() -> str:
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL) if "from_supabase" in b
    ]
    return block


def test_the_guides_from_supabase_example_acts_as_the_signed_in_user(
    nexus_clean: NexusTestStack, nexus_stack: NexusTestStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    http = httpx.Client(timeout=30)
    original = supabase.create_client

    def create_client(url: str, key: str) -> Any:
        # The example's client, on a pool this test closes (sync supabase clients have no close()).
        options = supabase.ClientOptions(auto_refresh_token=False, httpx_client=http)
        return original(url, key, options)

    monkeypatch.setattr(supabase, "create_client", create_client)
    if nexus_stack.local is None:
        skip_unless_ci("needs the local stack (the example signs in a user created on it)")
    email = f"guide-{uuid.uuid4().hex[:8]}@example.com"
    ada, _ = nexus_stack.local.create_user(email, password="correct horse")
    namespace = {"url": nexus_stack.url, "anon_key": nexus_stack.anon_key}
    exec(compile(_example().replace("ada@example.com", email), str(GUIDE), "exec"), namespace)  # noqa: S102
    me = namespace["me"]
    try:
        (profile,) = me.voice_profiles.list()
        assert (profile.name, profile.user_id) == ("Casual", ada)
    finally:
        me.close()
        http.close()

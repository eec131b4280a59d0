"""The README's Python examples run as written against the local stack: "Use it" in a fresh namespace, as a
reader would run it after the README's second-shell lines (`eval "$(nexus-sdk local status)"`, `eval "$(nexus-sdk
local user create ...)"` and `NEXUS_ENCRYPTION_KEYS`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexus_sdk.crypto import KeyRing
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.e2e]

README = Path(__file__).resolve().parents[3] / "README.md"


def _section_example(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"## {heading}\n") :]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"README's {heading!r} has no python example"
    return match.group(1)


def test_use_it_runs_as_written(
    nexus_clean: NexusTestStack,
    nexus_stack: NexusTestStack,
    nexus_user: NexusTestUser,
    nexus_encryption_keys: KeyRing,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What `eval "$(nexus-sdk local status)"` puts in a reader's shell, and nothing that would outrank it.
    for name in ("SUPABASE_SECRET_KEYS", "SUPABASE_SECRET_KEY", "SUPABASE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SUPABASE_URL", nexus_stack.url)
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", nexus_stack.service_role_key)
    monkeypatch.setenv("SUPABASE_ANON_KEY", nexus_stack.anon_key)
    # What `eval "$(nexus-sdk local user create ...)"` adds; the example reads it itself (nothing is given to
    # it: a reader's copy has no other name defined).
    monkeypatch.setenv("NEXUS_ACCESS_TOKEN", nexus_user.access_token)
    namespace: dict[str, object] = {}
    exec(compile(_section_example("Use it"), str(README), "exec"), namespace)  # noqa: S102
    nx = namespace["nx"]
    try:
        ideas = nexus_user.client.content_adaptations.list()
        assert [i.original_idea for i in ideas] == ["Ship small, ship often"]
        (post,) = nexus_user.client.scheduled_posts.list()
        assert post.platform_connection_id == namespace["conn"].id
    finally:
        nx.close()

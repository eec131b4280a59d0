"""``nexus-sdk import`` as the service role, of rows without ``user_id``: the rejection says which option to use,
and with ``--user-id`` the same file imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.testing import NexusTestStack, NexusTestUser

pytestmark = [pytest.mark.e2e]


def test_rows_without_user_id_name_the_options_that_import_them(
    nexus_clean: NexusTestStack, nexus_stack: NexusTestStack, nexus_user: NexusTestUser, tmp_path: Path
) -> None:
    source = tmp_path / "ideas.jsonl"
    source.write_text('{"original_idea": "no owner"}\n', encoding="utf-8")
    env = {
        "SUPABASE_URL": nexus_stack.url,
        "SUPABASE_SERVICE_ROLE_KEY": nexus_stack.service_role_key,
        "SUPABASE_ANON_KEY": nexus_stack.anon_key,
        "NEXUS_ACCESS_TOKEN": "",
    }
    runner = CliRunner()
    rejected = runner.invoke(main, ["import", "adaptations", str(source), "--no-checkpoint"], env=env)
    assert rejected.exit_code == 3, rejected.output
    assert "--user-id" in rejected.stderr
    assert "--access-token" in rejected.stderr

    imported = runner.invoke(
        main,
        ["import", "adaptations", str(source), "--no-checkpoint", "--user-id", str(nexus_user.id)],
        env=env,
    )
    assert imported.exit_code == 0, imported.output
    assert "--user-id" not in imported.stderr
    assert [r.original_idea for r in nexus_user.client.content_adaptations.list()] == ["no owner"]

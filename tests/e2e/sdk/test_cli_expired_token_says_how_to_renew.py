"""An hour after the README's `eval "$(nexus-sdk local user create ...)"`, its token has expired: the CLI's
error says how to get a new one for the same user."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nexus_sdk.cli import main
from nexus_sdk.crypto import EncryptionKey
from nexus_sdk.testing import NexusTestStack, skip_unless_ci

pytestmark = [pytest.mark.e2e]


@pytest.mark.parametrize("command", [["export", "adaptations"], ["export", "adaptations", "--json"]])
def test_an_expired_token_on_the_local_stack_points_at_local_user_token(
    nexus_clean: NexusTestStack, command: list[str]
) -> None:
    if nexus_clean.local is None:
        skip_unless_ci("the hint is for the local stack (a URL on this machine)")
    user_id, _ = nexus_clean.create_user()
    expired = nexus_clean.mint_token(user_id, expires_in=-120)  # past PostgREST's 30 s of clock skew
    env = {
        "SUPABASE_URL": nexus_clean.url,
        "SUPABASE_SERVICE_ROLE_KEY": nexus_clean.service_role_key,
        "SUPABASE_ANON_KEY": nexus_clean.anon_key,
        "NEXUS_ACCESS_TOKEN": expired,
        "NEXUS_ENCRYPTION_KEYS": EncryptionKey.generate().export(),
    }

    result = CliRunner().invoke(main, command, env=env)

    assert result.exit_code == 1
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert line == (
        'Error: 401 PGRST303: JWT expired. A new token for the same user: eval "$(nexus-sdk local user token EMAIL)".'
    )
    assert expired not in result.output

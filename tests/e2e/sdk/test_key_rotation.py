"""Key rotation over the API: `nexus-sdk keys rotate` re-encrypts every stored token, losing nothing."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from nexus_sdk import NexusClient
from nexus_sdk.cli import main
from nexus_sdk.crypto import ENV_VAR, EncryptionKey, KeyRing
from nexus_sdk.testing import NexusTestStack


def _service(stack: NexusTestStack, ring: KeyRing) -> NexusClient:
    return NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key, encryption_keys=ring)


def _stored(stack: NexusTestStack) -> dict[str, tuple[str, str | None]]:
    rows = (
        stack.sql()
        .execute("SELECT id, access_token, refresh_token FROM public.platform_connections")
        .fetchall()
    )
    return {str(r[0]): (r[1], r[2]) for r in rows}


def _rotate(stack: NexusTestStack, ring_entries: str, *args: str) -> Any:
    env = {
        "SUPABASE_URL": stack.url,
        "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
        ENV_VAR: ring_entries,
    }
    return CliRunner().invoke(main, ["keys", "rotate", "--json", "--batch-size", "3", *args], env=env)


def test_rotation_reencrypts_old_tokens_keeps_current_ones_and_is_idempotent(
    nexus_clean: NexusTestStack,
) -> None:
    old, new = EncryptionKey.generate("old-key"), EncryptionKey.generate("new-key")
    users = [nexus_clean.create_user()[0] for _ in range(4)]
    expected: dict[tuple[str, str], tuple[str, str | None]] = {}
    with _service(nexus_clean, KeyRing([old])) as before:
        for i, user in enumerate(users):
            for platform in ("x", "linkedin"):
                refresh = None if i == 0 else f"refresh-{user}-{platform}"
                before.platform_connections.create(
                    user_id=user,
                    platform=platform,
                    platform_user_id=f"{platform}-{i}",
                    access_token=f"access-{user}-{platform}",
                    refresh_token=refresh,
                )
                expected[(user, platform)] = (f"access-{user}-{platform}", refresh)
    late_user = nexus_clean.create_user()[0]
    with _service(nexus_clean, KeyRing([new])) as already:
        already.platform_connections.create(
            user_id=late_user, platform="x", platform_user_id="late", access_token="late-access"
        )
    expected[(late_user, "x")] = ("late-access", None)
    old_values = _stored(nexus_clean)

    first = _rotate(nexus_clean, f"{new.export()},{old.export()}")

    assert first.exit_code == 0, first.output
    counts = json.loads(first.output)
    # 8 old-key connections: 8 access tokens + 6 refresh tokens; the late one: 1 access token, current.
    assert counts == {
        "current_key": "new-key",
        "read": 15,
        "reencrypted": 14,
        "already_current": 1,
        "changed_meanwhile": 0,
        "failed": 0,
        "failures": [],
    }
    stored = _stored(nexus_clean)
    values = [v for pair in stored.values() for v in pair if v is not None]
    assert all(v.startswith("nx1:new-key:") for v in values)
    # Only the token already under the current key kept its stored value.
    assert sum(v in {x for pair in old_values.values() for x in pair} for v in values) == 1
    # Nothing lost: the new key alone decrypts every token to what was stored.
    with _service(nexus_clean, KeyRing([new])) as after:
        rows = list(after.platform_connections.iter())
    got = {
        (r.user_id, r.platform): (
            r.access_token.get_secret_value(),
            r.refresh_token.get_secret_value() if r.refresh_token else None,
        )
        for r in rows
    }
    assert got == expected

    second = _rotate(nexus_clean, f"{new.export()},{old.export()}")

    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["reencrypted"] == 0
    assert json.loads(second.output)["already_current"] == 15
    assert _stored(nexus_clean) == stored


def test_undecryptable_tokens_are_reported_left_alone_and_fail_the_command(
    nexus_clean: NexusTestStack,
) -> None:
    lost, old, new = (
        EncryptionKey.generate("lost"),
        EncryptionKey.generate("old"),
        EncryptionKey.generate("new"),
    )
    user = nexus_clean.create_user()[0]
    with _service(nexus_clean, KeyRing([lost])) as c:
        gone = c.platform_connections.create(
            user_id=user, platform="x", platform_user_id="1", access_token="gone"
        )
    with _service(nexus_clean, KeyRing([old])) as c:
        c.platform_connections.create(
            user_id=user, platform="linkedin", platform_user_id="2", access_token="ok"
        )
    before = _stored(nexus_clean)

    result = _rotate(nexus_clean, f"{new.export()},{old.export()}")

    assert result.exit_code == 1
    counts = json.loads(result.output.splitlines()[0])
    assert (counts["read"], counts["reencrypted"], counts["failed"]) == (2, 1, 1)
    # The failure is named: which row, which column, why; never the value.
    assert counts["failures"] == [{"id": str(gone.id), "column": "access_token", "reason": "unknown_key"}]
    env = {
        "SUPABASE_URL": nexus_clean.url,
        "SUPABASE_SERVICE_ROLE_KEY": nexus_clean.service_role_key,
        ENV_VAR: f"{new.export()},{old.export()}",
    }
    text = CliRunner().invoke(main, ["keys", "rotate"], env=env)
    assert text.exit_code == 1
    assert f"failed: row {gone.id} access_token: unknown_key" in text.output
    # What to do about it, and no progress bar in a log (stderr is not a terminal here).
    assert "keep the old keys after the new one" in text.stderr
    assert "rotating" not in text.stderr
    after = _stored(nexus_clean)
    unchanged = [row_id for row_id in before if after[row_id] == before[row_id]]
    assert len(unchanged) == 1
    assert after[unchanged[0]][0].startswith("nx1:lost:")
    assert "gone" not in result.output


def test_rotate_refuses_a_user_token(nexus_clean: NexusTestStack) -> None:
    _, token = nexus_clean.create_user()
    result = CliRunner().invoke(
        main,
        ["keys", "rotate", "--url", nexus_clean.url, "--key", nexus_clean.anon_key, "--access-token", token],
        env={ENV_VAR: EncryptionKey.generate().export()},
    )
    assert result.exit_code == 2
    assert "service-role" in result.output
    assert token not in result.output


def test_legacy_plaintext_tokens_are_encrypted_only_on_request_and_never_sent_in_a_url(
    nexus_clean: NexusTestStack,
) -> None:
    key = EncryptionKey.generate("k1")
    user = nexus_clean.create_user()[0]
    sql = nexus_clean.sql()
    with sql.transaction():
        # A row written before the database refused plaintext tokens (docs/schema.md, decision 26).
        sql.execute("SET LOCAL session_replication_role = replica")
        sql.execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, 'x', 'legacy', 'legacy-plain-SECRET')",
            (user,),
        )
    refused = _rotate(nexus_clean, key.export())
    assert refused.exit_code == 1
    assert json.loads(refused.output.splitlines()[0])["failed"] == 1
    assert next(iter(_stored(nexus_clean).values()))[0] == "legacy-plain-SECRET"

    urls: list[str] = []
    with _service(nexus_clean, KeyRing([key])) as nx:
        nx._http.event_hooks["request"].append(lambda request: urls.append(str(request.url)))
        stats = nx.platform_connections.rotate_keys(allow_plaintext=True)
        (row,) = nx.platform_connections.list()

    assert (stats.read, stats.reencrypted, stats.failed) == (1, 1, 0)
    assert row.access_token.get_secret_value() == "legacy-plain-SECRET"
    assert next(iter(_stored(nexus_clean).values()))[0].startswith("nx1:k1:")
    assert urls
    assert not any("SECRET" in url for url in urls)


def test_rotation_never_puts_ciphertext_in_a_url_whatever_the_token_size(nexus_clean: NexusTestStack) -> None:
    # Two 10 KB tokens: a compare-and-swap on the whole values made a 29 KB URL, which proxies refuse.
    old, new = EncryptionKey.generate("old"), EncryptionKey.generate("new")
    user = nexus_clean.create_user()[0]
    access, refresh = "a" * 10_000, "r" * 10_000
    with _service(nexus_clean, KeyRing([old])) as c:
        c.platform_connections.create(
            user_id=user, platform="x", platform_user_id="1", access_token=access, refresh_token=refresh
        )
    stored_before = next(iter(_stored(nexus_clean).values()))

    urls: list[str] = []
    with _service(nexus_clean, KeyRing([new, old])) as nx:
        nx._http.event_hooks["request"].append(lambda request: urls.append(str(request.url)))
        stats = nx.platform_connections.rotate_keys()
        (row,) = nx.platform_connections.list()

    assert (stats.read, stats.reencrypted, stats.failed) == (2, 2, 0)
    assert row.access_token.get_secret_value() == access
    assert row.refresh_token is not None
    assert row.refresh_token.get_secret_value() == refresh
    assert max(len(url) for url in urls) < 1024
    for value in stored_before:
        assert value is not None
        assert value.rpartition(":")[2][40:80] not in "".join(urls)


def test_rotate_in_the_readme_shell_ignores_the_user_token_it_leaves(nexus_clean: NexusTestStack) -> None:
    """After `eval "$(nexus-sdk local status)"` and `eval "$(nexus-sdk local user create ...)"`, as the README
    has it: NEXUS_ACCESS_TOKEN is set, and `keys rotate` still rotates every user's tokens."""
    old, new = EncryptionKey.generate("old-key"), EncryptionKey.generate("new-key")
    user, token = nexus_clean.create_user()
    other = nexus_clean.create_user()[0]
    with _service(nexus_clean, KeyRing([old])) as before:
        for owner in (user, other):
            before.platform_connections.create(
                user_id=owner, platform="x", platform_user_id=str(owner), access_token=f"access-{owner}"
            )
    env = {
        "SUPABASE_URL": nexus_clean.url,
        "SUPABASE_SERVICE_ROLE_KEY": nexus_clean.service_role_key,
        "SUPABASE_ANON_KEY": nexus_clean.anon_key,
        "NEXUS_ACCESS_TOKEN": token,
        ENV_VAR: f"{new.export()},{old.export()}",
    }

    result = CliRunner().invoke(main, ["keys", "rotate", "--json"], env=env)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reencrypted"] == 2  # both users' tokens, not only the token's user
    assert "NEXUS_ACCESS_TOKEN ignored" in result.stderr
    assert token not in result.output
    assert all(value.startswith("nx1:new-key:") for value, _ in _stored(nexus_clean).values())


def test_rotate_with_only_the_anon_key_is_refused_rather_than_rotating_nothing(
    nexus_clean: NexusTestStack,
) -> None:
    env = {
        "SUPABASE_URL": nexus_clean.url,
        "SUPABASE_SERVICE_ROLE_KEY": "",
        "SUPABASE_ANON_KEY": nexus_clean.anon_key,
        ENV_VAR: EncryptionKey.generate().export(),
    }
    result = CliRunner().invoke(main, ["keys", "rotate"], env=env)
    assert result.exit_code == 2
    assert "SUPABASE_SERVICE_ROLE_KEY" in result.stderr

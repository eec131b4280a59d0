"""`nexus-sdk keys`: the printed key parses back into a working KeyRing; nothing secret leaks."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from nexus_sdk.cli._keys import keys
from nexus_sdk.crypto import ENV_VAR, KeyRing, token_aad

AAD = token_aad(
    table="platform_connections",
    column="access_token",
    user_id="00000000-0000-4000-8000-000000000007",
    platform="linkedin",
)


def test_new_prints_an_entry_that_parses_back() -> None:
    result = CliRunner().invoke(keys, ["new"])
    assert result.exit_code == 0, result.output
    entry = result.stdout.strip()
    assert "\n" not in entry  # the key alone on stdout: safe to pipe into a secret store
    ring = KeyRing.parse(entry)
    assert re.fullmatch(r"k\d{8}-[0-9a-f]{6}", ring.current.key_id)
    assert ring.decrypt(ring.encrypt("tok", aad=AAD), aad=AAD) == "tok"
    # The instructions went to stderr and do not repeat the key.
    assert ENV_VAR in result.stderr
    assert entry.split(":")[1] not in result.stderr


def test_new_with_id_prepends_to_an_existing_ring() -> None:
    runner = CliRunner()
    old = runner.invoke(keys, ["new", "--id", "k2025"]).stdout.strip()
    new = runner.invoke(keys, ["new", "--id", "k2026"]).stdout.strip()
    assert old.startswith("k2025:")
    assert new.startswith("k2026:")
    assert old.split(":")[1] != new.split(":")[1]
    value = KeyRing.parse(old).encrypt("tok", aad=AAD)
    ring = KeyRing.parse(f"{new},{old}")
    assert ring.decrypt(value, aad=AAD) == "tok"
    assert ring.needs_rotation(value)


def test_new_json() -> None:
    result = CliRunner().invoke(keys, ["new", "--json", "--id", "kjson"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["key_id"] == "kjson"
    assert data["env_var"] == ENV_VAR
    assert data["entry"] == f"kjson:{data['key']}"
    assert KeyRing.parse(data["entry"]).key_ids == ("kjson",)


def test_new_rejects_a_bad_id() -> None:
    result = CliRunner().invoke(keys, ["new", "--id", "has:colon"])
    assert result.exit_code == 2
    assert "key id is invalid" in result.output


def test_check_lists_ids_but_never_keys() -> None:
    runner = CliRunner()
    first = runner.invoke(keys, ["new", "--id", "ka"]).stdout.strip()
    second = runner.invoke(keys, ["new", "--id", "kb"]).stdout.strip()
    result = runner.invoke(keys, ["check"], env={ENV_VAR: f"{second},{first}"})
    assert result.exit_code == 0, result.output
    assert "'kb'" in result.output
    assert "ka" in result.output
    as_json = runner.invoke(keys, ["check", "--json"], env={ENV_VAR: f"{second},{first}"})
    assert json.loads(as_json.stdout) == {"env_var": ENV_VAR, "current": "kb", "key_ids": ["kb", "ka"]}
    for output in (result.output, as_json.output):
        assert first.split(":")[1] not in output
        assert second.split(":")[1] not in output


def test_check_fails_clearly_on_a_bad_ring() -> None:
    good = CliRunner().invoke(keys, ["new", "--id", "ka"]).stdout.strip()
    material = good.split(":")[1]
    result = CliRunner().invoke(keys, ["check"], env={ENV_VAR: f"{good},kb:{material[:20]}"})
    assert result.exit_code == 1
    assert "entry 2" in result.output
    assert "32 bytes" in result.output
    assert material[:20] not in result.output
    empty = CliRunner().invoke(keys, ["check"], env={ENV_VAR: ""})
    assert empty.exit_code == 1
    assert "empty" in empty.output


def test_new_advises_rotation_only_when_a_key_ring_is_already_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    first = CliRunner().invoke(keys, ["new"])
    assert first.exit_code == 0, first.output
    # A first key: where to put it, not "keep the old keys" and `keys rotate` (there is nothing to rotate).
    assert f'export {ENV_VAR}="$(nexus-sdk keys new)"' in first.stderr
    assert "rotate" not in first.stderr
    assert "old" not in first.stderr

    monkeypatch.setenv(ENV_VAR, first.stdout.strip())
    another = CliRunner().invoke(keys, ["new", "--id", "k2027"])
    assert another.exit_code == 0, another.output
    assert "keep the old keys" in another.stderr
    assert "nexus-sdk keys rotate" in another.stderr
    assert first.stdout.strip().split(":")[1] not in another.stderr


def test_an_unset_key_ring_says_how_to_set_a_first_key_and_to_keep_existing_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    result = CliRunner().invoke(keys, ["check"])
    assert result.exit_code == 1
    assert f'export {ENV_VAR}="$(nexus-sdk keys new)"' in result.stderr
    # A user with stored tokens must not be told to replace their keys with a new one.
    assert "stored tokens were encrypted with" in result.stderr

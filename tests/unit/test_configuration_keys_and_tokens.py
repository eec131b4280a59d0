"""Which key the client uses, from which variable, and tokens that cannot be a user's: clear errors, early."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from nexus_sdk import ConfigurationError, NexusClient
from nexus_sdk.settings import ANON_KEY_VARS, KEY_VARS, resolve_settings

URL = "https://proj.supabase.co"
SECRET = "sb_secret_NEWSECRETNEWSECRETNEWSECRET"
PUBLISHABLE = "sb_publishable_NEWPUBLICNEWPUBLIC"


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2lnbmF0dXJl"


SERVICE_JWT = _jwt({"role": "service_role"})
ANON_JWT = _jwt({"role": "anon"})
USER_TOKEN = _jwt({"role": "authenticated", "sub": "8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e"})


def _resolve(env: dict[str, str], **kwargs: object) -> tuple[str, str | None]:
    settings = resolve_settings(env={"SUPABASE_URL": URL, **env}, **kwargs)  # type: ignore[arg-type]
    anon = settings.anon_key.get_secret_value() if settings.anon_key is not None else None
    return settings.key.get_secret_value(), anon


def test_supabase_py_users_supabase_key_is_read() -> None:
    assert _resolve({"SUPABASE_KEY": ANON_JWT}) == (ANON_JWT, ANON_JWT)
    assert _resolve({"SUPABASE_KEY": SERVICE_JWT}) == (SERVICE_JWT, None)


def test_newer_secret_and_publishable_keys_are_read() -> None:
    assert _resolve({"SUPABASE_SECRET_KEY": SECRET, "SUPABASE_PUBLISHABLE_KEY": PUBLISHABLE}) == (
        SECRET,
        PUBLISHABLE,
    )
    assert _resolve({"SUPABASE_PUBLISHABLE_KEY": PUBLISHABLE}) == (PUBLISHABLE, PUBLISHABLE)


def test_the_json_forms_supabase_provisions_are_read() -> None:
    env = {
        "SUPABASE_SECRET_KEYS": json.dumps({"default": SECRET, "other": "sb_secret_OTHER"}),
        "SUPABASE_PUBLISHABLE_KEYS": json.dumps({"web": PUBLISHABLE}),
    }
    assert _resolve(env) == (SECRET, PUBLISHABLE)


def test_the_order_is_secret_keys_then_supabase_key_then_public_keys() -> None:
    assert KEY_VARS == (
        "SUPABASE_SECRET_KEYS",
        "SUPABASE_SECRET_KEY",
        "SUPABASE_SERVICE_ROLE_KEY",
        "SUPABASE_KEY",
        "SUPABASE_PUBLISHABLE_KEYS",
        "SUPABASE_PUBLISHABLE_KEY",
        "SUPABASE_ANON_KEY",
    )
    assert ANON_KEY_VARS[-1] == "SUPABASE_KEY"
    every = {
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_JWT,
        "SUPABASE_KEY": ANON_JWT,
        "SUPABASE_ANON_KEY": ANON_JWT,
    }
    assert _resolve({**every, "SUPABASE_SECRET_KEY": SECRET})[0] == SECRET
    assert _resolve(every)[0] == SERVICE_JWT
    # An explicit argument wins, and a variable it overrides is not even looked at.
    assert _resolve({"SUPABASE_SECRET_KEYS": "not json"}, key=ANON_JWT)[0] == ANON_JWT


def test_no_key_names_every_variable_in_order() -> None:
    with pytest.raises(ConfigurationError) as caught:
        _resolve({})
    assert ", ".join(KEY_VARS) in caught.value.message


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SUPABASE_ANON_KEY": SERVICE_JWT}, "SUPABASE_ANON_KEY holds a secret"),
        ({"SUPABASE_PUBLISHABLE_KEY": SECRET}, "SUPABASE_PUBLISHABLE_KEY holds a secret"),
        ({"SUPABASE_SECRET_KEY": PUBLISHABLE}, "SUPABASE_SECRET_KEY holds a public"),
        ({"SUPABASE_SERVICE_ROLE_KEY": ANON_JWT}, "SUPABASE_SERVICE_ROLE_KEY holds a public"),
        ({"SUPABASE_SECRET_KEYS": "{not json " + SECRET}, "SUPABASE_SECRET_KEYS must be a JSON object"),
        ({"SUPABASE_SECRET_KEYS": json.dumps({"a": SECRET, "b": SECRET})}, "no key named 'default'"),
    ],
)
def test_a_variable_holding_the_wrong_kind_of_key_is_named_never_quoted(
    env: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        _resolve(env)
    assert names in caught.value.message
    for value in env.values():
        assert value not in caught.value.message


def test_a_secret_key_passed_as_anon_key_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="bypass row-level security"):
        _resolve({}, key=SERVICE_JWT, anon_key=SECRET)


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJ.eyJ.x", USER_TOKEN.replace(".", "", 1)])
def test_a_malformed_access_token_is_reported_as_malformed_before_anything_is_sent(token: str) -> None:
    # Port 9 on loopback: nothing answers; the error must come before any request.
    with (
        NexusClient("http://127.0.0.1:9", SERVICE_JWT, anon_key=ANON_JWT) as nx,
        pytest.raises(ConfigurationError, match="access token is malformed") as caught,
    ):
        nx.as_user(token)
    assert token not in caught.value.message
    with pytest.raises(ConfigurationError, match="access token is malformed"):
        NexusClient("http://127.0.0.1:9", ANON_JWT, access_token=token)


def test_an_api_key_passed_as_the_access_token_is_reported_as_naming_no_user() -> None:
    with NexusClient("http://127.0.0.1:9", ANON_JWT) as nx:
        with pytest.raises(ConfigurationError, match="names no user"):
            nx.as_user(SERVICE_JWT)
        with pytest.raises(ConfigurationError, match="names no user"):
            nx.with_options(access_token=ANON_JWT)
    with NexusClient("http://127.0.0.1:9", ANON_JWT) as nx:
        assert nx.as_user(USER_TOKEN).auth_mode == "user"


def test_cli_import_with_a_malformed_token_says_so_once_and_sends_nothing(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from nexus_sdk.cli._transfer import import_command

    source = tmp_path / "ideas.jsonl"
    source.write_text("".join(json.dumps({"original_idea": f"idea {n}"}) + "\n" for n in range(3)))
    env = dict.fromkeys(KEY_VARS, "") | {"SUPABASE_KEY": ANON_JWT, "NEXUS_ACCESS_TOKEN": "not-a-jwt"}
    argv = ["adaptations", str(source), "--url", "http://127.0.0.1:9"]
    result = CliRunner().invoke(import_command, argv, env=env)
    assert result.exit_code == 2, result.output
    assert result.output.count("access token is malformed") == 1
    assert "user_id is required" not in result.output
    assert "not-a-jwt" not in result.output


def test_the_cli_reads_the_keys_in_the_librarys_order() -> None:
    from click.testing import CliRunner

    from nexus_sdk.cli._transfer import export_command

    from ._loopback import respond, serve

    # Both set: the library (and so the CLI) takes the newer secret key first.
    env = dict.fromkeys(KEY_VARS, "") | {
        "SUPABASE_SECRET_KEY": SECRET,
        "SUPABASE_SERVICE_ROLE_KEY": SERVICE_JWT,
    }
    with serve(respond("200 OK", b"[]", {"Content-Type": "application/json"})) as api:
        result = CliRunner().invoke(export_command, ["users", "--url", api.url], env=env)
    assert result.exit_code == 0, result.output
    assert b"apikey: " + SECRET.encode() in api.received[0]

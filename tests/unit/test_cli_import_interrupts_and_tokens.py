"""``nexus-sdk import``: Ctrl-C always exits 130 with the resume hint; a malformed access token is said once.

No server is needed: the interrupt lands while the first batch is prepared, and a malformed token is
refused before a row is read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pydantic_core import to_json

from nexus_sdk import NexusClient
from nexus_sdk.cli import main
from nexus_sdk.io import _plan, import_rows

NO_SERVER = {
    "SUPABASE_URL": "http://127.0.0.1:9",
    "SUPABASE_SERVICE_ROLE_KEY": "service-role-key-do-not-print",
    "SUPABASE_ANON_KEY": "anon-key-do-not-print",
    "NEXUS_ACCESS_TOKEN": "",
}
USER = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"


def invoke(args: list[str], env: dict[str, str]) -> Result:
    return CliRunner().invoke(main, args, env=env)


def interrupted_serializer(value: object) -> bytes:
    """What a Ctrl-C that lands inside pydantic-core's serializer looks like to the caller."""

    def interrupt(_: object) -> object:
        raise KeyboardInterrupt

    return to_json(object(), fallback=interrupt)


def ideas(tmp_path: Path) -> Path:
    path = tmp_path / "ideas.jsonl"
    path.write_text("".join(json.dumps({"original_idea": f"idea {i}"}) + "\n" for i in range(20)), "utf-8")
    return path


def test_ctrl_c_inside_the_serializer_exits_130_with_the_resume_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plan, "encode_json", interrupted_serializer)

    result = invoke(["import", "adaptations", str(ideas(tmp_path)), "--user-id", USER], NO_SERVER)

    assert result.exit_code == 130, result.output
    assert "Error: interrupted" in result.stderr
    assert "Interrupted: run the same command again to finish the import." in result.stderr
    assert "PydanticSerializationError" not in result.output


def test_ctrl_c_inside_the_serializer_is_a_keyboard_interrupt_for_library_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_plan, "encode_json", interrupted_serializer)

    with (
        NexusClient(NO_SERVER["SUPABASE_URL"], "service-role-key") as client,
        pytest.raises(KeyboardInterrupt),
    ):
        import_rows(client, "adaptations", [{"original_idea": "x"}], user_id=USER)


def test_ctrl_c_inside_encode_json_is_not_taken_for_a_bad_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # encode_json re-raises pydantic's serialization error as a ValueError, which is how a bad row fails.
    import pydantic_core

    monkeypatch.setattr(pydantic_core, "to_json", interrupted_serializer)

    with (
        NexusClient(NO_SERVER["SUPABASE_URL"], "service-role-key") as client,
        pytest.raises(KeyboardInterrupt),
    ):
        import_rows(client, "adaptations", [{"original_idea": "x"}], user_id=USER)


def test_ctrl_c_with_json_is_one_json_line_and_exit_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plan, "encode_json", interrupted_serializer)

    result = invoke(["import", "adaptations", str(ideas(tmp_path)), "--user-id", USER, "--json"], NO_SERVER)

    assert result.exit_code == 130
    [line] = result.stdout.splitlines()
    assert json.loads(line)["message"] == "interrupted"


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.sig"])
def test_a_malformed_access_token_is_reported_once_before_reading_rows(tmp_path: Path, token: str) -> None:
    source = ideas(tmp_path)

    result = invoke(["import", "adaptations", str(source), "--access-token", token], NO_SERVER)

    assert result.exit_code == 2, result.output
    # The client refuses the token when it is made (one message), before the file is read.
    assert result.stderr.lower().count("the access token is malformed") == 1
    assert "user_id is required" not in result.output
    assert token not in result.output
    assert not Path(f"{source}.rejects.jsonl").exists()

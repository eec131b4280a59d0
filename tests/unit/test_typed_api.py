"""What mypy knows about user code: precise row types, typed keyword fields, and checked column names."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import textwrap
from typing import Any, get_args

import pytest

from nexus_sdk import models
from nexus_sdk.repositories import _fields

ROOT = pathlib.Path(__file__).resolve().parents[2]

TABLES = {
    "User": models.User,
    "PlatformConnection": models.PlatformConnection,
    "ContentAdaptation": models.ContentAdaptation,
    "VoiceProfile": models.VoiceProfile,
    "PublishedPost": models.PublishedPost,
    "ScheduledPost": models.ScheduledPost,
}


@pytest.mark.parametrize("name", list(TABLES))
def test_the_declarations_follow_the_models(name: str) -> None:
    row: Any = TABLES[name]
    columns = tuple(row.model_fields)
    assert get_args(getattr(_fields, f"{name}Column")) == columns
    assert set(get_args(getattr(_fields, f"{name}Order"))) == {*columns, *(f"-{c}" for c in columns)}
    for kind in ("Create", "Update"):
        declared = getattr(_fields, f"{name}{kind}Fields", None)
        if declared is None:
            continue  # users rows are made by the sign-up trigger: no create()
        model: Any = getattr(models, f"{name}{kind}")
        assert set(declared.__annotations__) == set(model.model_fields)
        required = {field for field, info in model.model_fields.items() if info.is_required()}
        assert declared.__required_keys__ == required


SAMPLE = """
from nexus_sdk import AsyncNexusClient, F, NexusClient
from nexus_sdk.models import VoiceProfileCreate

nx = NexusClient("http://localhost:54321", "key")
reveal_type(nx.voice_profiles.create(name="Calm", sample_posts=["one"]))
reveal_type(nx.voice_profiles.create(VoiceProfileCreate(name="Calm")))
reveal_type(nx.published_posts.list(where=F("platform") == "x", order_by="-published_at"))
reveal_type(nx.published_posts.top(5))
reveal_type(nx.scheduled_posts.iter(order_by="scheduled_for"))
reveal_type(nx.platform_connections.upsert(platform="x", platform_user_id="u", access_token="t"))
reveal_type(nx.users.update("0b5e9a55-7a5d-4e39-9d1e-1f3c9a0e6b21", full_name="Ada"))


async def main(client: AsyncNexusClient) -> None:
    reveal_type(await client.scheduled_posts.claim_due())
    reveal_type(await client.content_adaptations.create(original_idea="idea"))
    async for post in client.published_posts.iter(order_by="-created_at"):
        reveal_type(post)


nx.published_posts.list(order_by="-publishd_at")  # E: a misspelt column
nx.voice_profiles.create(nme="Calm")  # E: a misspelt field
nx.voice_profiles.update("0b5e9a55-7a5d-4e39-9d1e-1f3c9a0e6b21", is_default="yes")  # E: a wrong type
nx.content_adaptations.create(tone="calm")  # E: a required field left out
"""


def test_mypy_sees_precise_types_refuses_misspelt_columns_and_fields_and_passes_the_examples(
    tmp_path: pathlib.Path,
) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(textwrap.dedent(SAMPLE))
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--hide-error-context",
            "--cache-dir",
            str(ROOT / ".mypy_cache" / "typed_api"),
            str(sample),
            # The examples are user code too: they must type-check as they are.
            *sorted(str(path) for path in (ROOT / "examples").glob("*.py")),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
    )
    output = result.stdout
    revealed = re.findall(r'Revealed type is "([^"]+)"', output)
    assert revealed == [
        "nexus_sdk.models.voice_profiles.VoiceProfile",
        "nexus_sdk.models.voice_profiles.VoiceProfile",
        "nexus_sdk._results.RowList[nexus_sdk.models.published_posts.PublishedPost]",
        "nexus_sdk._results.RowList[nexus_sdk.models.published_posts.PublishedPost]",
        "typing.Iterator[nexus_sdk.models.scheduled_posts.ScheduledPost]",
        "nexus_sdk.models.platform_connections.PlatformConnection",
        "nexus_sdk.models.users.User",
        "nexus_sdk._results.RowList[nexus_sdk.models.publishing.ClaimedPost]",
        "nexus_sdk.models.content_adaptations.ContentAdaptation",
        "nexus_sdk.models.published_posts.PublishedPost",
    ], output
    lines = textwrap.dedent(SAMPLE).splitlines()
    expected = {number for number, line in enumerate(lines, 1) if "# E:" in line}
    errors = {int(m) for m in re.findall(r"sample\.py:(\d+): error:", output)}
    assert errors == expected, output
    assert "examples" not in output, output
    assert '"-publishd_at"' in output or "'-publishd_at'" in output
    assert 'did you mean "name"' in output

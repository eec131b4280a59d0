"""``nexus-sdk export`` then ``nexus-sdk import`` into a fresh database: the same rows come back.

The source is the session's stack (the ``nexus_*`` fixtures); the target is a second, empty local stack
in which the same user is signed up. Everything goes through the real command line (``nexus_sdk.cli.main``)
and the real HTTP API. The rows are chosen to be hard to carry: emoji, right-to-left text, quotes, commas
and newlines inside text, a text of 300,000 characters (over the csv module's default field limit), an
empty string next to a NULL, JSONB documents with nested values, timestamps given with offsets and
microseconds, and text a spreadsheet would run as a formula (``=1+2``, ``- item``, an OAuth token starting
with ``=``), also after an apostrophe (``'=``, ``''=``): ``--excel`` writes those with an apostrophe in front
and the import takes it off. The target caps responses at 5 rows, so the exports read back from it page past a server
cap that is smaller than ``--page-size``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from nexus_sdk import NexusClient, local
from nexus_sdk.cli import main
from nexus_sdk.crypto import KeyRing
from nexus_sdk.io import MASK
from nexus_sdk.testing import NexusTestStack, NexusTestUser, skip_unless_ci

# Foreign keys decide the import order.
ORDER = ("platform_connections", "content_adaptations", "voice_profiles", "published_posts")
SECRET = "ya29.roundtrip-access-token-😀"
LONG = "long text ✓ " * 25_000  # 300,000 characters
TRICKY = 'comma, "quotes", a\nnewline, a\r\nCRLF, a tab\t, emoji 😀👩🏽‍💻, Arabic مرحبا بالعالم, Hebrew שלום'
TARGET_MAX_ROWS = 5
FORMULAS = ("=1+2", "'=quoted", "''=twice")


@pytest.fixture(scope="module")
def target(nexus_stack: NexusTestStack) -> Iterator[local.LocalStack]:
    """A second, empty local stack: the fresh database the exports are imported into."""
    if nexus_stack.local is None:
        skip_unless_ci("the round trip needs a second local stack as its fresh database")
    with local.start(port=0, max_rows=TARGET_MAX_ROWS) as stack:
        yield stack


def seed(user: NexusTestUser) -> None:
    """Rows in every importable table that are hard to carry through a file."""
    client = user.client
    linkedin = client.platform_connections.create(
        platform="linkedin",
        platform_user_id="urn:li:person:7 «ada»",
        access_token=SECRET,
        refresh_token=SECRET + "-refresh",
        token_expires_at="2031-06-30T23:59:59.123456+05:30",
        scope="",  # an empty string, not NULL
        profile_data={
            "name": "Ada 😀",
            "bio": TRICKY,
            "followers": 12,
            "ratio": 0.125,
            "tags": [],
            "x": None,
        },
        is_active=False,
        last_sync_at="2025-01-01T00:00:00-08:00",
    )
    client.platform_connections.create(
        platform="x", platform_user_id="@42", access_token="=cmd|' /C calc'!A0", scope=None, profile_data=None
    )
    idea_rows: list[dict[str, Any]] = [
        {
            "original_idea": TRICKY,
            "adaptations": {"x": {"text": "x 😀 مرحبا"}, "linkedin": {"text": 'li "q"\nline'}},
            "tone": "",
            "target_audience": "  padded  ",
            "last_used_at": "2024-02-29T12:34:56.000001+14:00",
        },
        {"original_idea": LONG, "adaptations": {}, "tone": None, "target_audience": None},
        {"original_idea": "מה קורה", "adaptations": {"linkedin": {"text": "x" * 2000}}, "tone": "NULL"},
    ]
    idea_rows += [
        {"original_idea": text, "tone": "@casual", "target_audience": "- devs"} for text in FORMULAS
    ]
    idea_rows += [{"original_idea": f"idea {i}", "tone": "casual"} for i in range(6)]
    ideas = client.content_adaptations.create_many(idea_rows)
    client.voice_profiles.create(
        name="Pro «π»",
        characteristics={"style": "concise\nand dry", "formality_level": 7, "custom": {"deep": [1, "😀"]}},
        sample_posts=["", "one, two", 'say "hi"\r\nbye', LONG[:5000]],
        last_used_at="2025-05-05T05:05:05+02:00",
    )
    client.voice_profiles.create(name="Casual", is_default=True, sample_posts=None)
    client.published_posts.create_many(
        [
            {
                "platform": "my_blog" if i == 1 else "linkedin",  # no length limit on an unknown platform
                "content": TRICKY if i == 0 else (LONG if i == 1 else f"{'- ' if i == 2 else ''}post {i}"),
                "status": "published" if i % 2 else "failed",
                "adaptation_id": str(ideas[i].id) if i < 3 else None,
                "platform_connection_id": str(linkedin.id) if i in (0, 2) else None,
                "platform_post_id": "" if i == 0 else (None if i == 1 else f"urn:{i}"),
                "metrics": {"views": i * 10, "likes": i, "engagement_rate": 0.0625, "extra": "kept 😀"},
                "metadata": {"k": i, "nested": {"rtl": "שלום", "list": [None, True, 1.5]}} if i else None,
                "scheduled_for": "2025-12-31T23:30:00.5-03:30",
                "published_at": f"2025-02-{i + 1:02d}T12:00:00+00:00" if i % 2 else None,
            }
            for i in range(8)
        ]
    )


def snapshot(client: NexusClient) -> dict[str, list[dict[str, Any]]]:
    """Every row of the user's importable tables, tokens revealed, without the database's timestamps."""
    from nexus_sdk.models._fields import REVEAL_KEY

    result = {}
    for table in ORDER:
        # Pages no larger than the target's cap: iter() stops at the first short page.
        rows = getattr(client, table).iter(order_by="id", page_size=TARGET_MAX_ROWS)
        result[table] = [
            r.model_dump(mode="json", exclude={"created_at", "updated_at"}, context={REVEAL_KEY: True})
            for r in rows
        ]
    return result


def env_for(url: str, anon_key: str, token: str) -> dict[str, str]:
    """The environment of a shell acting as a user (``eval "$(nexus-sdk local user create ...)"``)."""
    return {
        "SUPABASE_URL": url,
        "SUPABASE_ANON_KEY": anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": "",
        "NEXUS_ACCESS_TOKEN": token,
    }


def run(args: list[str], env: dict[str, str]) -> Any:
    """Run ``nexus-sdk ARGS``, fail the test with its output if it does not exit 0."""
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result


@pytest.fixture
def fresh(
    target: local.LocalStack, nexus_user: NexusTestUser, nexus_encryption_keys: KeyRing
) -> Iterator[NexusClient]:
    """The same user, signed up in the empty target database; deleted (with their rows) afterwards."""
    local.create_auth_user(target.database_url, nexus_user.email, user_id=nexus_user.id)
    client = NexusClient(
        target.url,
        target.anon_key,
        anon_key=target.anon_key,
        access_token=target.mint_token(nexus_user.id),
        encryption_keys=nexus_encryption_keys,
    )
    try:
        yield client
    finally:
        client.close()
        import psycopg

        with psycopg.connect(target.database_url, autocommit=True) as conn:
            conn.execute("DELETE FROM auth.users WHERE id = %s", (nexus_user.id,))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "excel"])
def test_cli_round_trip_into_a_fresh_database(
    fmt: str,
    tmp_path: Path,
    nexus_stack: NexusTestStack,
    nexus_user: NexusTestUser,
    target: local.LocalStack,
    fresh: NexusClient,
) -> None:
    seed(nexus_user)
    before = snapshot(nexus_user.client)
    assert {t: len(rows) for t, rows in before.items()} == {
        "platform_connections": 2, "content_adaptations": 12, "voice_profiles": 2, "published_posts": 8
    }  # fmt: skip
    source = env_for(nexus_stack.url, nexus_stack.anon_key, nexus_user.access_token)
    dest = env_for(target.url, target.anon_key, target.mint_token(nexus_user.id))

    for table in ORDER:
        path = tmp_path / f"{table}.{'csv' if fmt == 'excel' else fmt}"
        args = ["export", table, "-o", str(path), "--json", "--page-size", "5"]
        if fmt == "excel":  # a byte-order mark, CRLF and ';' as a comma-decimal locale's spreadsheet wants
            args += ["--excel", "--delimiter", ";"]
        exported = run([*args, "--include-tokens"] if table == "platform_connections" else args, source)
        assert json.loads(exported.stdout)["rows"] == len(before[table])
        if fmt == "excel":  # no cell a spreadsheet would run as a formula
            with path.open(encoding="utf-8-sig", newline="") as handle:
                starts = {cell[:1] for record in csv.reader(handle, delimiter=";") for cell in record}
            assert starts.isdisjoint("=+-@"), starts
        imported = run(["import", table, str(path), "--json", "--batch-size", "3"], dest)
        report = json.loads(imported.stdout)
        assert (report["inserted"], report["rejected"]) == (len(before[table]), 0), report

    after = snapshot(fresh)
    for table in ORDER:
        assert after[table] == before[table], table


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_pages_past_a_server_cap_smaller_than_the_page_size(
    fmt: str, target: local.LocalStack, fresh: NexusClient, nexus_user: NexusTestUser
) -> None:
    # The target answers at most 5 rows per request, like a Supabase project with max_rows = 5.
    fresh.content_adaptations.create_many([{"original_idea": f"capped {i}"} for i in range(12)])
    dest = env_for(target.url, target.anon_key, target.mint_token(nexus_user.id))

    result = run(["export", "adaptations", "--format", fmt, "--page-size", "1000"], dest)

    lines = result.stdout.splitlines()
    assert len(lines) == 12 + (fmt == "csv")


def test_csv_keeps_null_and_empty_string_apart(
    nexus_user: NexusTestUser, nexus_stack: NexusTestStack
) -> None:
    nexus_user.client.content_adaptations.create_many(
        [{"original_idea": "empty", "tone": ""}, {"original_idea": "null", "tone": None}]
    )
    env = env_for(nexus_stack.url, nexus_stack.anon_key, nexus_user.access_token)

    text = run(["export", "adaptations", "--format", "csv"], env).stdout

    # PostgreSQL's COPY convention: an empty string is a quoted "", NULL an empty unquoted cell.
    rows = list(csv.DictReader(text.splitlines()))
    assert sorted(r["tone"] for r in rows) == ["", ""]
    body = {line.split(",")[2]: line for line in text.splitlines()[1:]}
    assert ',"",' in body["empty"]
    assert ',"",' not in body["null"]


def test_tokens_masked_by_default_and_masked_rows_refused_on_import(
    tmp_path: Path, nexus_stack: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    seed(nexus_user)
    env = env_for(nexus_stack.url, nexus_stack.anon_key, nexus_user.access_token)
    path = tmp_path / "connections.csv"

    exported = run(["export", "connections", "-o", str(path)], env)

    assert SECRET not in path.read_text(encoding="utf-8")
    assert MASK in path.read_text(encoding="utf-8")
    assert "Warning" not in exported.stderr
    revealed = run(["export", "connections", "--include-tokens"], env)
    assert SECRET in revealed.stdout
    assert "clear text" in revealed.stderr

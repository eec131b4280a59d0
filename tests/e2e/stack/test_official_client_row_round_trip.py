"""supabase-py, unmodified, does what its users do every day on the Nexus tables: read a row as its owner,
change a field, ``upsert`` (or ``update``) the whole row back. It succeeds, and what the row's owner may not
change stays refused (docs/schema.md, decision 28)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from postgrest.exceptions import APIError
from supabase import Client, create_client

from nexus_sdk import local

pytestmark = [
    pytest.mark.db,
    pytest.mark.e2e,
    # supabase-py itself passes these deprecated arguments to its postgrest client; not ours to fix.
    pytest.mark.filterwarnings("ignore:The 'timeout' parameter is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The 'verify' parameter is deprecated:DeprecationWarning"),
]

TOKEN = "nx1:no-such-key:" + "A" * 48  # the stored token format (the database refuses plaintext)
CHANGES = {
    "users": ("full_name", "Renamed"),
    "platform_connections": ("scope", "w_member_social"),
    "content_adaptations": ("tone", "casual"),
    "voice_profiles": ("name", "Renamed"),
    "published_posts": ("content", "edited"),
    "scheduled_posts": ("content", "edited"),
}


@pytest.fixture
def owner(stack: local.LocalStack, db: psycopg.Connection[Any]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A signed-up user with one row in every table: ``(user_id, access token, {table: row id})``."""
    uid, token = stack.create_user(f"round-trip-{time.time_ns()}@example.com")
    row = db.execute(
        """
        WITH c AS (
          INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)
          VALUES (%(u)s, 'linkedin', 'me', %(t)s) RETURNING id
        ), a AS (
          INSERT INTO public.content_adaptations (user_id, original_idea, adaptations)
          VALUES (%(u)s, 'idea', '{}') RETURNING id
        ), v AS (
          INSERT INTO public.voice_profiles (user_id, name, characteristics) VALUES (%(u)s, 'Mine', '{}') RETURNING id
        ), p AS (
          INSERT INTO public.published_posts (user_id, platform, content) VALUES (%(u)s, 'linkedin', 'post')
          RETURNING id
        ), s AS (
          INSERT INTO public.scheduled_posts (user_id, platform_connection_id, platform, content, scheduled_for)
          SELECT %(u)s, c.id, 'linkedin', 'later', now() + interval '1 day' FROM c RETURNING id
        )
        SELECT c.id, a.id, v.id, p.id, s.id FROM c, a, v, p, s
        """,
        {"u": uid, "t": TOKEN},
    ).fetchone()
    assert row is not None
    ids = dict(zip(list(CHANGES)[1:], (str(r) for r in row), strict=True)) | {"users": uid}
    yield uid, token, ids
    db.execute("DELETE FROM auth.users WHERE id = %s", (uid,))


@pytest.fixture
def client(stack: local.LocalStack, owner: tuple[str, str, dict[str, str]]) -> Iterator[Client]:
    sb = create_client(stack.url, stack.anon_key)
    sb.postgrest.auth(owner[1])
    yield sb
    sb.postgrest.session.close()


@pytest.mark.parametrize("table", list(CHANGES))
@pytest.mark.parametrize("how", ["upsert", "update"])
def test_the_owner_changes_a_field_and_sends_the_whole_row_back(
    client: Client, owner: tuple[str, str, dict[str, str]], table: str, how: str
) -> None:
    row_id = owner[2][table]
    row = client.table(table).select("*").eq("id", row_id).single().execute().data
    column, value = CHANGES[table]
    sent = {**row, column: value}
    if how == "upsert":
        result = client.table(table).upsert(sent).execute()
    else:
        result = client.table(table).update(sent).eq("id", row_id).execute()
    [back] = result.data
    assert back[column] == value
    assert (back["id"], back["created_at"]) == (row["id"], row["created_at"])


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("content_adaptations", "user_id", None),  # filled with the other user's id below
        ("voice_profiles", "id", "00000000-0000-4000-8000-000000000001"),
        ("users", "email", "taken@example.com"),
        ("scheduled_posts", "retry_count", 9),
    ],
)
def test_what_the_owner_may_not_change_stays_refused(
    stack: local.LocalStack,
    client: Client,
    owner: tuple[str, str, dict[str, str]],
    table: str,
    column: str,
    value: Any,
) -> None:
    row_id = owner[2][table]
    if column == "user_id":
        value = stack.create_user(f"other-{time.time_ns()}@example.com")[0]
    row = client.table(table).select("*").eq("id", row_id).single().execute().data
    with pytest.raises(APIError) as refused:
        client.table(table).update({**row, column: value}).eq("id", row_id).execute()
    assert refused.value.code == "42501"
    assert client.table(table).select(column).eq("id", row_id).single().execute().data[column] == row[column]

"""Review findings on token encryption, against the real local stack (PostgreSQL with RLS behind the API).

- A key rotation racing an application write never leaves a token under the old key while reporting
  success, and never overwrites a fresher token (encrypted or legacy plaintext) with a stale one.
- A rotation reads every row even when the server caps responses below ``--batch-size``.
- One connection whose token does not decrypt makes ``list()`` fail with a typed error naming that row
  (and column and reason), never the value, and leaves no token of the other rows in the traceback.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator

import httpx
import pytest
from click.testing import CliRunner

from nexus_sdk import NexusClient, local
from nexus_sdk.cli import main
from nexus_sdk.crypto import ENV_VAR, EncryptionKey, KeyRing
from nexus_sdk.errors import DecryptionError, RowDecryptionError, ValidationError
from nexus_sdk.testing import NexusTestStack, NexusTestUser, skip_unless_ci

pytestmark = [pytest.mark.db, pytest.mark.e2e]

OLD = EncryptionKey.generate("old-key")
NEW = EncryptionKey.generate("new-key")


def _client(stack: NexusTestStack | local.LocalStack, ring: KeyRing) -> NexusClient:
    return NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key, encryption_keys=ring)


def _stored(stack: NexusTestStack) -> dict[str, tuple[str, str | None]]:
    rows = stack.sql().execute("SELECT id, access_token, refresh_token FROM public.platform_connections")
    return {str(r[0]): (r[1], r[2]) for r in rows.fetchall()}


def _after_first_page(client: NexusClient, action: Callable[[], object]) -> None:
    """Run ``action`` once, right after the rotation has read its first page and before it writes."""
    done: list[bool] = []

    def hook(response: httpx.Response) -> None:
        if not done and response.request.method == "GET" and "platform_connections" in response.url.path:
            done.append(True)
            action()

    client._http.event_hooks["response"].append(hook)


def test_a_concurrent_refresh_of_one_token_does_not_leave_the_other_under_the_old_key(
    nexus_clean: NexusTestStack,
) -> None:
    user = nexus_clean.create_user()[0]
    with _client(nexus_clean, KeyRing([OLD])) as before:
        conn = before.platform_connections.create(
            user_id=user, platform="x", platform_user_id="1", access_token="a-0", refresh_token="r-0"
        )
    both = KeyRing([NEW, OLD])
    with _client(nexus_clean, both) as app, _client(nexus_clean, both) as rotator:
        # The application (already deployed with the new ring) refreshes the access token only.
        _after_first_page(
            rotator,
            lambda: app.platform_connections.update_tokens("x", access_token="a-1", user_id=user),
        )
        stats = rotator.platform_connections.rotate_keys()

    access, refresh = _stored(nexus_clean)[str(conn.id)]
    assert access.startswith("nx1:new-key:")
    assert refresh is not None
    # The refresh token was not touched by the application: the rotation must still re-encrypt it.
    assert refresh.startswith("nx1:new-key:")
    with _client(nexus_clean, KeyRing([NEW])) as after:
        row = after.platform_connections.get(conn.id)
    assert row.access_token.get_secret_value() == "a-1"
    assert row.refresh_token is not None
    assert row.refresh_token.get_secret_value() == "r-0"
    assert (stats.read, stats.reencrypted, stats.changed_meanwhile, stats.failed) == (2, 1, 1, 0)


def test_a_legacy_plaintext_token_replaced_during_rotation_is_not_overwritten_by_the_stale_one(
    nexus_clean: NexusTestStack,
) -> None:
    user = nexus_clean.create_user()[0]
    sql = nexus_clean.sql()

    def before_the_rule(statement: str) -> None:
        # Writes made before the database refused plaintext tokens (docs/schema.md, decision 26); with
        # triggers off, the update sets updated_at itself, as update_updated_at_column did.
        with sql.transaction():
            sql.execute("SET LOCAL session_replication_role = replica")
            sql.execute(statement, (user,))

    before_the_rule(
        "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
        " VALUES (%s, 'x', 'legacy', 'legacy-STALE')"
    )
    with _client(nexus_clean, KeyRing([NEW])) as rotator:
        # A writer that predates encryption stores a refreshed plaintext token meanwhile.
        _after_first_page(
            rotator,
            lambda: before_the_rule(
                "UPDATE public.platform_connections SET access_token = 'legacy-FRESH', updated_at = now()"
                " WHERE user_id = %s"
            ),
        )
        stats = rotator.platform_connections.rotate_keys(allow_plaintext=True)
        (row,) = rotator.platform_connections.list()

    assert row.access_token.get_secret_value() == "legacy-FRESH"
    (access, _), *_ = _stored(nexus_clean).values()
    assert access.startswith("nx1:new-key:")
    assert (stats.read, stats.reencrypted, stats.failed) == (1, 1, 0)


CAP = 2
"""The lowered ``max_rows`` of a second API in front of the session's database."""


@pytest.fixture(scope="module")
def capped(nexus_stack: NexusTestStack) -> Iterator[local.LocalStack]:
    """A second API on the session's database, answering at most CAP rows per response."""
    if nexus_stack.local is None or nexus_stack.database_url is None or nexus_stack.jwt_secret is None:
        skip_unless_ci("a second, capped API needs the local stack")
    with local.start(
        port=0,
        database_url=nexus_stack.database_url,
        jwt_secret=nexus_stack.jwt_secret,
        apply_schema=False,
        max_rows=CAP,
    ) as running:
        yield running


def test_rotation_reads_every_row_when_the_server_caps_below_the_batch_size(
    nexus_clean: NexusTestStack, capped: local.LocalStack
) -> None:
    users = [nexus_clean.create_user()[0] for _ in range(7)]
    with _client(nexus_clean, KeyRing([OLD])) as before:
        for i, user in enumerate(users):
            before.platform_connections.create(
                user_id=user, platform="x", platform_user_id=str(i), access_token=f"t-{i}"
            )
    env = {"SUPABASE_URL": capped.url, "SUPABASE_SERVICE_ROLE_KEY": capped.service_role_key}
    env[ENV_VAR] = f"{NEW.export()},{OLD.export()}"

    result = CliRunner().invoke(main, ["keys", "rotate", "--json", "--batch-size", "5"], env=env)

    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert (counts["read"], counts["reencrypted"], counts["failed"]) == (7, 7, 0)
    assert all(access.startswith("nx1:new-key:") for access, _ in _stored(nexus_clean).values())


def test_one_undecryptable_row_names_itself_in_a_typed_error_without_leaking_tokens(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = nexus_user.client.platform_connections
    good = [
        repo.create(
            platform=p,
            platform_user_id="u",
            access_token=f"{p}-GOODSECRET",
            refresh_token=f"{p}-REFRESHSECRET",
        )
        for p in ("linkedin", "x", "substack")
    ]
    bad = repo.create(platform="mastodon", platform_user_id="u", access_token="m-BADSECRET")
    # Moved from another connection: it authenticates for that one only.
    nexus_clean.sql().execute(
        "UPDATE public.platform_connections SET access_token = (SELECT access_token FROM"
        " public.platform_connections WHERE id = %s) WHERE id = %s",
        (good[0].id, bad.id),
    )
    stored_bad = _stored(nexus_clean)[str(bad.id)][0]

    with pytest.raises(RowDecryptionError) as failed:
        repo.list(order_by="platform")

    error = failed.value
    assert isinstance(error, DecryptionError)
    assert error.reason == "authentication_failed"
    assert (error.table, error.row_id, error.column) == ("platform_connections", str(bad.id), "access_token")
    assert error.failures == ((str(bad.id), "access_token", "authentication_failed"),)
    assert str(bad.id) in str(error)
    messages = "".join(traceback.format_exception(error)) + repr(error)
    assert stored_bad.rsplit(":", 1)[1] not in messages
    # What a crash reporter collects: the messages, the chained causes, and every frame's local variables.
    chain = [error, *(e for e in (error.__cause__, error.__context__) if e is not None)]
    local_values = [
        f"{name}={value!r}"
        for exc in chain
        for frame, _ in traceback.walk_tb(exc.__traceback__)
        for name, value in frame.f_locals.items()
    ]
    for secret in ("GOODSECRET", "BADSECRET", "REFRESHSECRET"):
        assert secret not in messages
        assert not [text for text in local_values if secret in text]
    # The other connections stay readable, one by one or by excluding the bad row.
    assert repo.get(good[1].id).access_token.get_secret_value() == "x-GOODSECRET"


def test_an_empty_token_is_not_silently_read_as_plaintext(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    sql = nexus_clean.sql()
    with sql.transaction():
        # A row written before the database refused plaintext tokens (docs/schema.md, decision 26).
        sql.execute("SET LOCAL session_replication_role = replica")
        sql.execute(
            "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
            " VALUES (%s, 'x', 'legacy', '')",
            (nexus_user.id,),
        )
    with pytest.raises(DecryptionError) as failed:
        nexus_user.client.platform_connections.list()
    assert failed.value.reason == "plaintext"


def test_rotate_keys_refuses_a_client_acting_as_a_user(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser, nexus_other_user: NexusTestUser
) -> None:
    """RLS would show a user only their own rows, and the counts would pass for a complete rotation."""
    for who in (nexus_user, nexus_other_user):
        who.client.platform_connections.create(platform="x", platform_user_id="1", access_token="t")
    before = _stored(nexus_clean)

    with pytest.raises(ValidationError, match="service role"):
        nexus_user.client.platform_connections.rotate_keys()

    assert _stored(nexus_clean) == before

"""supabase-py, unmodified, sync and async, against the local stack's /auth/v1: the flows apps use, the admin
API, and a signed-in session reading and writing Nexus rows under RLS."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import psycopg
import pytest
from supabase import AsyncClientOptions, ClientOptions, acreate_client, create_client
from supabase_auth.errors import AuthApiError, AuthWeakPasswordError

from nexus_sdk import AsyncNexusClient, NexusClient, local
from nexus_sdk.errors import AuthenticationError

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _email(tag: str) -> str:
    return f"{tag}-{time.time_ns()}@example.com"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """The connection pool of the test's sync supabase clients, closed after it (they have no close())."""
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
async def ahttp() -> AsyncIterator[httpx.AsyncClient]:
    """The same for async supabase clients."""
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.fixture
def clients(stack: local.LocalStack, http: httpx.Client) -> Callable[..., Any]:
    """``clients(key=None)``: a new sync supabase client (anon key by default) on the test's pool."""

    def make(key: str | None = None) -> Any:
        options = ClientOptions(auto_refresh_token=False, httpx_client=http)
        return create_client(stack.url, key or stack.anon_key, options)

    return make


@pytest.fixture
def aclients(stack: local.LocalStack, ahttp: httpx.AsyncClient) -> Callable[..., Awaitable[Any]]:
    """``await aclients(key=None)``: a new async supabase client on the test's pool."""

    async def make(key: str | None = None) -> Any:
        options = AsyncClientOptions(auto_refresh_token=False, httpx_client=ahttp)
        return await acreate_client(stack.url, key or stack.anon_key, options)

    return make


def test_sync_sign_up_sign_in_user_refresh_sign_out(
    clients: Callable[..., Any], stack: local.LocalStack, db: psycopg.Connection[Any]
) -> None:
    sb = clients()
    email = _email("py-sync")
    signed_up = sb.auth.sign_up(
        {
            "email": email,
            "password": "secret-1",
            "options": {"data": {"full_name": "Ada", "avatar_url": "https://img.example/ada.png"}},
        }
    )
    # Confirmations are off: the sign-up is confirmed and signed in at once.
    assert signed_up.session is not None
    assert signed_up.user is not None
    assert signed_up.user.email_confirmed_at is not None
    assert signed_up.user.user_metadata["full_name"] == "Ada"
    user_id = signed_up.user.id
    # The schema's signup trigger made the public.users row from the metadata.
    row = db.execute("SELECT email, full_name, avatar_url FROM public.users WHERE id = %s", (user_id,))
    assert row.fetchone() == (email, "Ada", "https://img.example/ada.png")

    with pytest.raises(AuthApiError) as taken:
        clients().auth.sign_up({"email": email, "password": "secret-1"})
    assert (taken.value.status, taken.value.code) == (422, "user_already_exists")
    with pytest.raises(AuthApiError) as wrong:
        clients().auth.sign_in_with_password({"email": email, "password": "not-it"})
    assert (wrong.value.status, wrong.value.code, wrong.value.message) == (
        400,
        "invalid_credentials",
        "Invalid login credentials",
    )

    signed_in = sb.auth.sign_in_with_password({"email": email, "password": "secret-1"})
    assert signed_in.user is not None
    assert signed_in.user.id == user_id
    got = sb.auth.get_user()
    assert got is not None
    assert got.user.email == email
    updated = sb.auth.update_user({"data": {"plan": "pro"}})
    assert updated.user.user_metadata["plan"] == "pro"
    assert updated.user.user_metadata["full_name"] == "Ada"  # merged, not replaced

    old_refresh = signed_in.session.refresh_token if signed_in.session else ""
    refreshed = sb.auth.refresh_session()
    assert refreshed.session is not None
    assert refreshed.session.refresh_token != old_refresh
    assert refreshed.session.access_token != signed_in.session.access_token  # type: ignore[union-attr]

    # A password change takes effect: the old one no longer signs in.
    sb.auth.update_user({"password": "secret-2"})
    with pytest.raises(AuthApiError):
        clients().auth.sign_in_with_password({"email": email, "password": "secret-1"})
    assert clients().auth.sign_in_with_password({"email": email, "password": "secret-2"}).session

    current = sb.auth.get_session()
    assert current is not None
    sb.auth.sign_out()
    assert sb.auth.get_session() is None
    with pytest.raises(AuthApiError) as after:
        clients().auth.refresh_session(current.refresh_token)
    assert after.value.code == "refresh_token_not_found"


async def test_async_sign_up_sign_in_user_refresh_sign_out(
    aclients: Callable[..., Awaitable[Any]], stack: local.LocalStack
) -> None:
    sb = await aclients()
    email = _email("py-async")
    signed_up = await sb.auth.sign_up({"email": email, "password": "secret-1"})
    assert signed_up.session is not None
    with pytest.raises(AuthWeakPasswordError) as weak:
        await (await aclients()).auth.sign_up({"email": _email("weak"), "password": "12345"})
    assert (weak.value.status, weak.value.reasons) == (422, ["length"])

    signed_in = await sb.auth.sign_in_with_password({"email": email, "password": "secret-1"})
    assert signed_in.session is not None
    got = await sb.auth.get_user()
    assert got is not None
    assert got.user.id == signed_up.user.id
    updated = await sb.auth.update_user({"data": {"plan": "team"}})
    assert updated.user.user_metadata["plan"] == "team"
    refreshed = await sb.auth.refresh_session()
    assert refreshed.session is not None
    assert refreshed.session.refresh_token != signed_in.session.refresh_token

    current = refreshed.session.refresh_token
    await sb.auth.sign_out()
    with pytest.raises(AuthApiError) as after:
        await (await aclients()).auth.refresh_session(current)
    assert after.value.code == "refresh_token_not_found"


async def test_async_anonymous_sign_in(
    aclients: Callable[..., Awaitable[Any]], stack: local.LocalStack, db: psycopg.Connection[Any]
) -> None:
    sb = await aclients()
    anonymous = await sb.auth.sign_in_anonymously()
    assert anonymous.user is not None
    assert anonymous.user.is_anonymous
    assert anonymous.session is not None
    claims = _claims(anonymous.session.access_token)
    assert claims["is_anonymous"] is True
    assert claims["amr"][0]["method"] == "anonymous"
    # No email yet, so no public.users row (its email is NOT NULL).
    assert db.execute("SELECT count(*) FROM public.users WHERE id = %s", (anonymous.user.id,)).fetchone() == (
        0,
    )


def test_sync_admin_api(
    clients: Callable[..., Any], stack: local.LocalStack, db: psycopg.Connection[Any]
) -> None:
    admin = clients(stack.service_role_key).auth.admin
    email = _email("admin")
    created = admin.create_user(
        {
            "email": email,
            "password": "admin-secret",
            "email_confirm": True,
            "user_metadata": {"full_name": "Made"},
            "app_metadata": {"plan": "team"},
        }
    ).user
    assert created.email_confirmed_at is not None
    assert created.app_metadata == {"provider": "email", "providers": ["email"], "plan": "team"}
    # The created user signs in, and their token carries the app metadata.
    session = clients().auth.sign_in_with_password({"email": email, "password": "admin-secret"}).session
    assert session is not None
    assert _claims(session.access_token)["app_metadata"]["plan"] == "team"

    with pytest.raises(AuthApiError) as taken:
        admin.create_user({"email": email, "password": "admin-secret"})
    assert (taken.value.status, taken.value.code) == (422, "email_exists")
    unconfirmed = _email("unconfirmed")
    admin.create_user({"email": unconfirmed, "password": "admin-secret"})
    with pytest.raises(AuthApiError) as not_confirmed:
        clients().auth.sign_in_with_password({"email": unconfirmed, "password": "admin-secret"})
    assert not_confirmed.value.code == "email_not_confirmed"

    total = db.execute("SELECT count(*) FROM auth.users").fetchone()[0]  # type: ignore[index]
    pages = [admin.list_users(page=p, per_page=2) for p in range(1, total // 2 + 3)]
    assert all(len(page) <= 2 for page in pages)
    listed = [u.id for page in pages for u in page]
    assert len(listed) == len(set(listed)) == total
    assert created.id in listed

    assert admin.get_user_by_id(created.id).user.email == email
    renamed = admin.update_user_by_id(created.id, {"user_metadata": {"full_name": "Renamed"}}).user
    assert renamed.user_metadata["full_name"] == "Renamed"

    with pytest.raises(AuthApiError) as not_admin:
        clients().auth.admin.get_user_by_id(created.id)
    assert (not_admin.value.status, not_admin.value.code) == (403, "not_admin")


async def test_async_admin_delete_cascades_to_every_nexus_row(
    aclients: Callable[..., Awaitable[Any]], stack: local.LocalStack, db: psycopg.Connection[Any]
) -> None:
    admin = (await aclients(stack.service_role_key)).auth.admin
    email = _email("doomed")
    user = (await admin.create_user({"email": email, "password": "doomed-1", "email_confirm": True})).user
    sb = await aclients()
    await sb.auth.sign_in_with_password({"email": email, "password": "doomed-1"})
    await sb.table("content_adaptations").insert({"original_idea": "bye", "adaptations": {}}).execute()
    await sb.table("voice_profiles").insert({"name": "v", "characteristics": {}}).execute()
    owned = (
        "SELECT (SELECT count(*) FROM public.users WHERE id = %(u)s) + (SELECT count(*) FROM "
        "public.content_adaptations WHERE user_id = %(u)s) + (SELECT count(*) FROM public.voice_profiles "
        "WHERE user_id = %(u)s) + (SELECT count(*) FROM auth.sessions WHERE user_id = %(u)s) + "
        "(SELECT count(*) FROM auth.identities WHERE user_id = %(u)s)"
    )
    assert db.execute(owned, {"u": user.id}).fetchone()[0] == 5  # type: ignore[index]

    await admin.delete_user(user.id)
    assert db.execute(owned, {"u": user.id}).fetchone()[0] == 0  # type: ignore[index]
    with pytest.raises(AuthApiError) as gone:
        await admin.get_user_by_id(user.id)
    assert (gone.value.status, gone.value.code) == (404, "user_not_found")


def test_sync_session_reads_and_writes_nexus_rows_under_rls(
    clients: Callable[..., Any], stack: local.LocalStack
) -> None:
    ada, bob = clients(), clients()
    ada_id = ada.auth.sign_up({"email": _email("ada"), "password": "secret-1"}).user.id
    bob.auth.sign_up({"email": _email("bob"), "password": "secret-1"})

    written = ada.table("content_adaptations").insert({"original_idea": "mine", "adaptations": {}}).execute()
    assert written.data[0]["user_id"] == ada_id  # the column default is auth.uid()
    assert [r["original_idea"] for r in ada.table("content_adaptations").select("*").execute().data] == [
        "mine"
    ]
    assert bob.table("content_adaptations").select("*").execute().data == []

    # The SDK acting through the supabase client's session sees the same rows, with typed ids.
    with NexusClient.from_supabase(ada) as nx:
        assert nx.auth_mode == "user"
        rows = nx.content_adaptations.list()
        assert [(r.user_id, r.original_idea) for r in rows] == [(uuid.UUID(ada_id), "mine")]
        nx.content_adaptations.create(original_idea="from the SDK")
    assert len(ada.table("content_adaptations").select("id").execute().data) == 2
    with NexusClient.from_supabase(bob) as nx:
        assert nx.content_adaptations.list() == []


async def test_async_session_reads_and_writes_nexus_rows_under_rls(
    aclients: Callable[..., Awaitable[Any]], stack: local.LocalStack
) -> None:
    sb = await aclients()
    await sb.auth.sign_up({"email": _email("async-rls"), "password": "secret-1"})
    async with AsyncNexusClient.from_supabase(sb) as nx:
        created = await nx.voice_profiles.create(name="Casual")
        assert [p.id for p in await nx.voice_profiles.list()] == [created.id]
    stored = await sb.table("voice_profiles").select("id").execute()
    assert [r["id"] for r in stored.data] == [str(created.id)]


def _claims(token: str) -> dict[str, Any]:
    import jwt

    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_from_supabase_follows_the_supabase_clients_session(clients: Callable[..., Any]) -> None:
    ada_email, bob_email = _email("follow-ada"), _email("follow-bob")
    bob = clients()
    bob_session = bob.auth.sign_up({"email": bob_email, "password": "secret-1"}).session
    bob.table("content_adaptations").insert({"original_idea": "bob's", "adaptations": {}}).execute()

    sb = clients()
    sb.auth.sign_up({"email": ada_email, "password": "secret-1"})
    with NexusClient.from_supabase(sb) as nx:
        nx.content_adaptations.create(original_idea="ada's")
        assert [r.original_idea for r in nx.content_adaptations.list()] == ["ada's"]

        # A refresh (after a metadata change, so the new token differs): the SDK sends the new token.
        first = nx.settings.access_token.get_secret_value()  # type: ignore[union-attr]
        sb.auth.update_user({"data": {"plan": "pro"}})
        refreshed = sb.auth.refresh_session().session
        assert refreshed is not None
        now = nx.settings.access_token.get_secret_value()  # type: ignore[union-attr]
        # Compared as booleans, so a failure prints no token.
        assert (now == refreshed.access_token, now == first) == (True, False)

        # postgrest.auth(token): the SDK acts as whoever the supabase client's requests act as.
        sb.postgrest.auth(bob_session.access_token)  # type: ignore[union-attr]
        assert [r.original_idea for r in nx.content_adaptations.list()] == ["bob's"]

        # Another sign-in on the same supabase client: the SDK follows it.
        sb.auth.sign_in_with_password({"email": ada_email, "password": "secret-1"})
        assert [r.original_idea for r in nx.content_adaptations.list()] == ["ada's"]
        assert str(nx.settings.user_id) == sb.auth.get_user().user.id

        # Signed out: the SDK acts as anon, which may not read the table.
        sb.auth.sign_out()
        with pytest.raises(AuthenticationError) as anon:
            nx.content_adaptations.list()
        assert anon.value.status_code == 401


def test_from_supabase_after_postgrest_auth_without_a_session(
    clients: Callable[..., Any], stack: local.LocalStack
) -> None:
    user_id, token = stack.create_user(_email("pgauth"))
    sb = clients()
    sb.postgrest.auth(token)
    with NexusClient.from_supabase(sb) as nx:
        assert nx.auth_mode == "user"
        assert [u.id for u in nx.users.list()] == [user_id]

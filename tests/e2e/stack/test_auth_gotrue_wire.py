"""The local stack's /auth/v1 on the wire: GoTrue's error answers, token claims, refresh-token rotation and
reuse detection, sign-out scopes, refused features, storage in the auth schema, and no secret in any log."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import psycopg
import pytest
from click.testing import CliRunner

from nexus_sdk import local, schema
from nexus_sdk.cli import main

pytestmark = [pytest.mark.db, pytest.mark.e2e]

VERSIONED = {"X-Supabase-Api-Version": "2024-01-01"}


@pytest.fixture
def auth(stack: local.LocalStack) -> Iterator[httpx.Client]:
    """An HTTP client on /auth/v1 with the anon key."""
    with httpx.Client(base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}, timeout=30) as c:
        yield c


def _email(tag: str) -> str:
    return f"{tag}-{time.time_ns()}@example.com"


def _sign_up(auth: httpx.Client, email: str | None = None, password: str | None = None) -> dict[str, Any]:
    password = password or "secret-1"
    r = auth.post(
        "/signup", json={"email": email or _email("wire"), "password": password, "data": {"full_name": "W"}}
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _refresh(auth: httpx.Client, token: str) -> httpx.Response:
    return auth.post("/token", params={"grant_type": "refresh_token"}, json={"refresh_token": token})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# --- errors ---------------------------------------------------------------------------------------------------


def test_error_bodies_have_both_of_gotrues_shapes(auth: httpx.Client) -> None:
    email = _email("taken")
    _sign_up(auth, email)
    legacy = auth.post("/signup", json={"email": email, "password": "secret-1"})
    assert (legacy.status_code, legacy.json()) == (
        422,
        {"code": 422, "error_code": "user_already_exists", "msg": "User already registered"},
    )
    versioned = auth.post("/signup", json={"email": email, "password": "secret-1"}, headers=VERSIONED)
    assert (versioned.status_code, versioned.json()) == (
        422,
        {"code": "user_already_exists", "message": "User already registered"},
    )
    assert versioned.headers["X-Supabase-Api-Version"] == "2024-01-01"


def test_weak_password_invalid_credentials_and_bad_input(auth: httpx.Client) -> None:
    weak = auth.post("/signup", json={"email": _email("weak"), "password": "12345"})
    assert (weak.status_code, weak.json()) == (
        422,
        {
            "code": 422,
            "error_code": "weak_password",
            "msg": "Password should be at least 6 characters.",
            "weak_password": {"reasons": ["length"]},
        },
    )
    email = _email("creds")
    _sign_up(auth, email)
    for body in (
        {"email": email, "password": "wrong-one"},
        {"email": _email("nobody"), "password": "secret-1"},
    ):
        r = auth.post("/token", params={"grant_type": "password"}, json=body)
        assert (r.status_code, r.json()["error_code"], r.json()["msg"]) == (
            400,
            "invalid_credentials",
            "Invalid login credentials",
        )
    bad_email = auth.post("/signup", json={"email": "not-an-email", "password": "secret-1"})
    assert (bad_email.status_code, bad_email.json()["error_code"]) == (400, "validation_failed")
    not_json = auth.post("/signup", content=b"{", headers={"Content-Type": "application/json"})
    assert (not_json.status_code, not_json.json()["error_code"]) == (400, "bad_json")
    grant = auth.post("/token", params={"grant_type": "magic"}, json={})
    assert grant.status_code == 400


def test_missing_or_wrong_apikey_is_the_gateways_401(stack: local.LocalStack) -> None:
    none = httpx.get(f"{stack.url}/auth/v1/settings")
    assert (none.status_code, none.json()["message"]) == (401, "No API key found in request")
    forged = jwt.encode({"role": "anon"}, "x" * 40, algorithm="HS256")
    wrong = httpx.get(f"{stack.url}/auth/v1/settings", headers={"apikey": forged})
    assert (wrong.status_code, wrong.json()["message"]) == (401, "Invalid API key")


def test_bad_tokens_are_refused_as_gotrue_refuses_them(stack: local.LocalStack, auth: httpx.Client) -> None:
    user_id, _ = stack.create_user(_email("expired"))
    expired = stack.mint_token(user_id, expires_in=-60)
    r = auth.get("/user", headers=_bearer(expired))
    assert (r.status_code, r.json()["error_code"]) == (403, "bad_jwt")
    assert r.json()["msg"].endswith("token has invalid claims: token is expired")
    malformed = auth.get("/user", headers=_bearer("not-a-jwt"))
    assert (malformed.status_code, malformed.json()["error_code"]) == (403, "bad_jwt")
    forged = jwt.encode({"sub": str(user_id), "role": "authenticated"}, "y" * 40, algorithm="HS256")
    assert auth.get("/user", headers=_bearer(forged)).status_code == 403
    # Without a bearer the anon key is the token, and it names no user.
    anon = auth.get("/user")
    assert (anon.status_code, anon.json()["msg"]) == (403, "invalid claim: missing sub claim")
    # A user's token is no admin's.
    session = _sign_up(auth)
    admin = auth.get("/admin/users", headers=_bearer(session["access_token"]))
    assert (admin.status_code, admin.json()["error_code"]) == (403, "not_admin")


# --- tokens ---------------------------------------------------------------------------------------------------


def test_access_token_claims_are_supabase_auths(stack: local.LocalStack, auth: httpx.Client) -> None:
    email = _email("claims")
    session = _sign_up(auth, email)
    claims = jwt.decode(
        session["access_token"], stack.jwt_secret, algorithms=["HS256"], audience="authenticated"
    )
    user = session["user"]
    assert claims["iss"] == f"{stack.url}/auth/v1"
    assert (claims["sub"], claims["aud"], claims["role"], claims["email"], claims["phone"]) == (
        user["id"],
        "authenticated",
        "authenticated",
        email,
        "",
    )
    assert claims["app_metadata"] == {"provider": "email", "providers": ["email"]}
    assert claims["user_metadata"]["full_name"] == "W"
    assert (claims["aal"], claims["is_anonymous"]) == ("aal1", False)
    assert [a["method"] for a in claims["amr"]] == ["password"]
    assert uuid.UUID(claims["session_id"])
    assert claims["exp"] - claims["iat"] == session["expires_in"] == 3600
    assert session["expires_at"] == claims["exp"]
    assert session["token_type"] == "bearer"
    # The token works on /rest/v1 with RLS: the user sees their own public.users row.
    rest = httpx.get(
        f"{stack.rest_url}/users", headers={"apikey": stack.anon_key, **_bearer(session["access_token"])}
    )
    assert [row["id"] for row in rest.json()] == [user["id"]]


def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_family(
    auth: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    session = _sign_up(auth)
    first = session["refresh_token"]
    second = _refresh(auth, first).json()["refresh_token"]
    third = _refresh(auth, second).json()["refresh_token"]
    assert len({first, second, third}) == 3
    session_id = jwt.decode(session["access_token"], options={"verify_signature": False})["session_id"]

    def age_tokens() -> None:
        # Past GoTrue's 10 s reuse interval, without waiting for it.
        db.execute(
            "UPDATE auth.refresh_tokens SET updated_at = now() - interval '1 minute' WHERE session_id = %s",
            (session_id,),
        )

    age_tokens()
    # One step behind the active token: a client that lost the answer to its last refresh may retry.
    assert _refresh(auth, second).status_code == 200
    age_tokens()
    # Two steps behind, past the interval: refused, and the session's whole family is revoked.
    reused = _refresh(auth, first)
    assert (reused.status_code, reused.json()) == (
        400,
        {
            "code": 400,
            "error_code": "refresh_token_already_used",
            "msg": "Invalid Refresh Token: Already Used",
        },
    )
    age_tokens()
    assert db.execute(
        "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = %s AND NOT revoked", (session_id,)
    ).fetchone() == (0,)
    for token in (second, third):
        assert _refresh(auth, token).json()["error_code"] == "refresh_token_already_used"


def test_a_refresh_within_the_reuse_interval_is_answered(auth: httpx.Client) -> None:
    # Two tabs refreshing with the same token at once both get a working session.
    token = _sign_up(auth)["refresh_token"]
    one, two = _refresh(auth, token), _refresh(auth, token)
    assert (one.status_code, two.status_code) == (200, 200)
    assert _refresh(auth, two.json()["refresh_token"]).status_code == 200


def test_unknown_refresh_token(auth: httpx.Client) -> None:
    r = _refresh(auth, "no-such-token")
    assert (r.status_code, r.json()["error_code"]) == (400, "refresh_token_not_found")


@pytest.mark.parametrize(
    ("scope", "this_one_works", "other_one_works"),
    [("local", False, True), ("global", False, False), ("others", True, False)],
)
def test_sign_out_scopes(auth: httpx.Client, scope: str, this_one_works: bool, other_one_works: bool) -> None:
    email = _email(f"logout-{scope}")
    this = _sign_up(auth, email)
    other = auth.post(
        "/token", params={"grant_type": "password"}, json={"email": email, "password": "secret-1"}
    )
    r = auth.post("/logout", params={"scope": scope}, headers=_bearer(this["access_token"]))
    assert (r.status_code, r.content) == (204, b"")
    assert (_refresh(auth, this["refresh_token"]).status_code == 200) is this_one_works
    assert (_refresh(auth, other.json()["refresh_token"]).status_code == 200) is other_one_works
    if not this_one_works:
        gone = auth.get("/user", headers=_bearer(this["access_token"]))
        assert (gone.status_code, gone.json()["error_code"]) == (403, "session_not_found")


# --- the rest of the surface ------------------------------------------------------------------------------------


def test_settings_and_health(auth: httpx.Client) -> None:
    settings = auth.get("/settings").json()
    assert settings["external"]["email"] is True
    assert settings["external"]["anonymous_users"] is True
    assert settings["external"]["google"] is False
    assert (settings["disable_signup"], settings["mailer_autoconfirm"]) == (False, True)
    assert auth.get("/health").json()["name"] == "GoTrue"


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/authorize", {"provider": "github"}, None),
        ("POST", "/otp", None, {"email": "a@example.com"}),
        ("POST", "/recover", None, {"email": "a@example.com"}),
        ("POST", "/factors", None, {"factor_type": "totp"}),
        ("POST", "/sso", None, {"domain": "example.com"}),
        ("POST", "/signup", None, {"phone": "+15555550100", "password": "secret-1"}),
        ("POST", "/token", {"grant_type": "id_token"}, {"provider": "google", "id_token": "x"}),
        ("POST", "/admin/generate_link", None, {"type": "magiclink", "email": "a@example.com"}),
    ],
)
def test_refused_features_say_so(
    stack: local.LocalStack, method: str, path: str, params: dict[str, str] | None, body: Any
) -> None:
    headers = {"apikey": stack.service_role_key, "Authorization": f"Bearer {stack.service_role_key}"}
    r = httpx.request(method, f"{stack.url}/auth/v1{path}", params=params, json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert "not supported by the nexus-sdk local stack" in r.json()["msg"]


def test_unknown_route_is_404(auth: httpx.Client) -> None:
    assert auth.get("/no-such-thing").status_code == 404


def test_admin_soft_delete_is_refused_and_the_user_kept(stack: local.LocalStack) -> None:
    user_id, _ = stack.create_user(_email("soft"))
    headers = {"apikey": stack.service_role_key, "Authorization": f"Bearer {stack.service_role_key}"}
    url = f"{stack.url}/auth/v1/admin/users/{user_id}"
    r = httpx.request("DELETE", url, json={"should_soft_delete": True}, headers=headers)
    assert r.status_code == 400
    assert httpx.get(url, headers=headers).status_code == 200


def test_admin_list_pages_with_gotrues_headers(stack: local.LocalStack, auth: httpx.Client) -> None:
    for _ in range(3):
        stack.create_user(_email("page"))
    headers = {"Authorization": f"Bearer {stack.service_role_key}"}
    first = auth.get("/admin/users", params={"page": 1, "per_page": 2}, headers=headers)
    total = int(first.headers["X-Total-Count"])
    assert total >= 3
    assert len(first.json()["users"]) == 2
    assert 'rel="next"' in first.headers["Link"]
    assert 'rel="last"' in first.headers["Link"]
    bad = auth.get("/admin/users", params={"page": "0"}, headers=headers)
    assert bad.status_code == 400


# --- storage and secrets --------------------------------------------------------------------------------------


def test_storage_is_supabase_shaped_and_holds_no_usable_secret(
    auth: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    session = _sign_up(auth, password="stored-secret")
    user_id = session["user"]["id"]
    hashed = db.execute("SELECT encrypted_password FROM auth.users WHERE id = %s", (user_id,)).fetchone()
    assert hashed is not None
    assert hashed[0].startswith("$2")
    assert "stored-secret" not in hashed[0]
    tokens = [
        r[0] for r in db.execute("SELECT token FROM auth.refresh_tokens WHERE user_id = %s", (user_id,))
    ]
    assert len(tokens) == 1
    assert session["refresh_token"] not in tokens
    assert db.execute("SELECT provider FROM auth.identities WHERE user_id = %s", (user_id,)).fetchall() == [
        ("email",)
    ]
    assert db.execute("SELECT aal::text FROM auth.sessions WHERE user_id = %s", (user_id,)).fetchall() == [
        ("aal1",)
    ]
    # The auth tables belong to GoTrue's role, as on Supabase; the API roles get nothing on them.
    for table in ("users", "identities", "sessions", "refresh_tokens", "mfa_amr_claims"):
        owner, anon_select = db.execute(
            "SELECT tableowner, has_table_privilege('anon', format('auth.%%I', tablename), 'SELECT') "
            "FROM pg_tables WHERE schemaname = 'auth' AND tablename = %s",
            (table,),
        ).fetchone()  # type: ignore[misc]
        assert (owner, anon_select) == ("supabase_auth_admin", False), table


def test_the_auth_tables_come_from_the_plain_postgresql_bootstrap_only() -> None:
    bootstrap, files = schema.bundled_files()
    names = [f.name for f in bootstrap]
    # It runs after the bootstrap that creates the auth schema and auth.users.
    assert names.index("bootstrap/supabase_compat_auth.sql") > names.index("bootstrap/supabase_compat.sql")
    assert not any("auth.sessions" in f.text or "auth.refresh_tokens" in f.text for f in files)
    assert "auth.refresh_tokens" not in schema.migration_sql()


def test_nothing_logs_a_password_or_token(
    stack: local.LocalStack, auth: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "never-logged-1"
    session = _sign_up(auth, password=password)
    auth.post(
        "/token", params={"grant_type": "password"}, json={"email": "x@example.com", "password": password}
    )
    _refresh(auth, session["refresh_token"])
    _refresh(auth, "never-logged-token")
    auth.post(
        "/signup", content=b'{"password": "never-logged-1"', headers={"Content-Type": "application/json"}
    )
    auth.put("/user", json={"password": "x"}, headers=_bearer(session["access_token"]))
    text = caplog.text
    for secret in (password, session["access_token"], session["refresh_token"], "never-logged-token"):
        assert secret not in text


def test_cli_user_create_makes_a_user_who_signs_in(tmp_path: Any, stack: local.LocalStack) -> None:
    # A second server on the session stack's database, publishing its state for the CLI.
    with local.start(
        port=0, data_dir=tmp_path, database_url=stack.database_url, apply_schema=False, write_state=True
    ) as stack:
        runner = CliRunner()
        email = _email("cli")
        args = ["local", "user", "create", email, "--password", "cli-secret", "--data-dir", str(tmp_path)]
        made = runner.invoke(main, [*args, "--metadata", '{"full_name": "Cli"}'])
        assert made.exit_code == 0, made.output
        exported = dict(line.removeprefix("export ").split("=", 1) for line in made.output.splitlines())
        assert set(exported) == {"NEXUS_USER_ID", "NEXUS_ACCESS_TOKEN", "NEXUS_REFRESH_TOKEN"}
        signed_in = httpx.post(
            f"{stack.url}/auth/v1/token",
            params={"grant_type": "password"},
            json={"email": email, "password": "cli-secret"},
            headers={"apikey": stack.anon_key},
        )
        assert signed_in.json()["user"]["id"] == exported["NEXUS_USER_ID"]
        assert signed_in.json()["user"]["user_metadata"]["full_name"] == "Cli"
        refreshed = httpx.post(
            f"{stack.url}/auth/v1/token",
            params={"grant_type": "refresh_token"},
            json={"refresh_token": exported["NEXUS_REFRESH_TOKEN"]},
            headers={"apikey": stack.anon_key},
        )
        assert refreshed.status_code == 200
        again = runner.invoke(main, args)
        assert again.exit_code == 1
        assert "already been registered" in again.output
        weak = runner.invoke(
            main, ["local", "user", "create", _email("w"), "--password", "123", "--data-dir", str(tmp_path)]
        )
        assert weak.exit_code == 1
        assert "at least 6 characters" in weak.output


def test_a_database_bootstrapped_before_auth_gets_its_tables_at_start(stack: local.LocalStack) -> None:
    from psycopg import sql

    from nexus_sdk.local._embedded import with_database

    name = f"auth_upgrade_{time.time_ns()}"
    with psycopg.connect(stack.database_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(stack.database_url, name)
    try:
        schema.apply(url)
        with psycopg.connect(url, autocommit=True) as db:
            # What an older nexus-sdk's bootstrap left: an auth schema without the Auth tables.
            db.execute(
                "DROP TABLE auth.mfa_amr_claims, auth.refresh_tokens, auth.sessions, auth.identities;"
                "DROP TYPE auth.aal_level"
            )
        with local.start(port=0, database_url=url) as upgraded:
            r = httpx.post(
                f"{upgraded.url}/auth/v1/signup",
                json={"email": _email("upgraded"), "password": "secret-1"},
                headers={"apikey": upgraded.anon_key},
            )
            assert r.status_code == 200, r.text
    finally:
        with psycopg.connect(stack.database_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

"""Clients: configuration order, auth modes, derived clients sharing the pool, closing, and parity."""

from __future__ import annotations

import base64
import inspect
import json
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import respx

from nexus_sdk import AsyncNexusClient, ConfigurationError, NexusClient
from nexus_sdk.settings import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, Secret, key_role, resolve_settings

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(claims)}.c2ln"


SERVICE_KEY = _jwt({"role": "service_role", "iss": "supabase"})
ANON_KEY = _jwt({"role": "anon", "iss": "supabase"})
USER_ID = "11111111-2222-4333-8444-555555555555"
USER_TOKEN = _jwt({"sub": USER_ID, "role": "authenticated"})
SECRETS = (SERVICE_KEY, ANON_KEY, USER_TOKEN)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _auth_headers(client: NexusClient) -> tuple[str, str]:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(200, json=[])
        client.users.list()
    request = route.calls.last.request
    return request.headers["apikey"], request.headers["authorization"]


# --- settings ----------------------------------------------------------------------------------


def test_explicit_arguments_win_over_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("SUPABASE_URL", "https://env.supabase.co")
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_KEY)
    settings = resolve_settings(URL + "/", ANON_KEY, timeout=3.0, max_retries=0)
    assert settings.url == URL
    assert settings.base_url == URL + "/rest/v1"
    assert settings.key.get_secret_value() == ANON_KEY
    assert (settings.timeout, settings.max_retries) == (3.0, 0)


def test_environment_then_defaults(env: pytest.MonkeyPatch) -> None:
    env.setenv("SUPABASE_URL", URL + "/rest/v1")
    env.setenv("SUPABASE_ANON_KEY", ANON_KEY)
    settings = resolve_settings()
    assert settings.url == URL
    assert settings.key.get_secret_value() == ANON_KEY
    assert settings.key_role == "anon"
    assert (settings.timeout, settings.max_retries) == (DEFAULT_TIMEOUT, DEFAULT_MAX_RETRIES)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_KEY)
    settings = resolve_settings()
    assert settings.key_role == "service_role"
    assert settings.anon_key is not None
    assert settings.anon_key.get_secret_value() == ANON_KEY


@pytest.mark.parametrize(
    ("variables", "missing"),
    [({}, "SUPABASE_URL"), ({"SUPABASE_URL": URL}, "SUPABASE_SERVICE_ROLE_KEY")],
)
def test_missing_settings_name_the_variable(
    env: pytest.MonkeyPatch, variables: dict[str, str], missing: str
) -> None:
    for name, value in variables.items():
        env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=missing):
        NexusClient.from_env()


def test_bad_url_and_negative_retries(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        resolve_settings("proj.supabase.co", ANON_KEY)
    with pytest.raises(ConfigurationError):
        resolve_settings(URL, ANON_KEY, max_retries=-1)


def test_key_roles() -> None:
    assert key_role(SERVICE_KEY) == "service_role"
    assert key_role(ANON_KEY) == "anon"
    assert key_role("sb_secret_abc") == "service_role"
    assert key_role("sb_publishable_abc") == "anon"
    assert key_role("opaque") == "unknown"
    assert key_role("a.%%%.c") == "unknown"


def test_secrets_never_appear_in_reprs() -> None:
    nx = NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY, access_token=USER_TOKEN)
    texts = [repr(nx), str(nx), repr(nx.settings), repr(nx.settings.key), str(nx.settings.access_token)]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text
    assert repr(nx) == f"NexusClient(url='{URL}', auth_mode='user')"
    assert Secret("a") == Secret("a")
    assert Secret("a") != Secret("b")
    nx.close()


# --- auth modes ----------------------------------------------------------------------------------


def test_service_role_and_anon_headers(env: pytest.MonkeyPatch) -> None:
    with NexusClient(URL, SERVICE_KEY) as nx:
        assert nx.auth_mode == "service_role"
        assert _auth_headers(nx) == (SERVICE_KEY, f"Bearer {SERVICE_KEY}")
    with NexusClient(URL, ANON_KEY) as nx:
        assert nx.auth_mode == "anon"
        assert _auth_headers(nx) == (ANON_KEY, f"Bearer {ANON_KEY}")


def test_as_user_on_service_role_uses_the_anon_key_and_leaves_the_original_alone(
    env: pytest.MonkeyPatch,
) -> None:
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY) as nx:
        me = nx.as_user(USER_TOKEN)
        assert me.auth_mode == "user"
        assert me.settings.user_id == USER_ID
        assert _auth_headers(me) == (ANON_KEY, f"Bearer {USER_TOKEN}")
        assert _auth_headers(nx) == (SERVICE_KEY, f"Bearer {SERVICE_KEY}")
        assert me._http is nx._http  # one connection pool


def test_as_user_on_service_role_without_anon_key_is_refused(env: pytest.MonkeyPatch) -> None:
    with NexusClient(URL, SERVICE_KEY) as nx, pytest.raises(ConfigurationError, match="SUPABASE_ANON_KEY"):
        nx.as_user(USER_TOKEN)


def test_as_user_on_anon_client_keeps_the_key(env: pytest.MonkeyPatch) -> None:
    with NexusClient(URL, ANON_KEY) as nx:
        assert _auth_headers(nx.as_user(USER_TOKEN)) == (ANON_KEY, f"Bearer {USER_TOKEN}")


def test_with_options_returns_a_modified_copy_sharing_the_pool(env: pytest.MonkeyPatch) -> None:
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY, timeout=5.0) as nx:
        fast = nx.with_options(timeout=1.0, max_retries=0)
        assert (fast.settings.timeout, fast.settings.max_retries) == (1.0, 0)
        assert (nx.settings.timeout, nx.settings.max_retries) == (5.0, DEFAULT_MAX_RETRIES)
        assert fast._http is nx._http
        user = nx.with_options(access_token=USER_TOKEN)
        assert _auth_headers(user) == (ANON_KEY, f"Bearer {USER_TOKEN}")
        back = user.with_options(access_token=None)
        assert back.auth_mode == "anon"


def test_from_env(env: pytest.MonkeyPatch) -> None:
    env.setenv("SUPABASE_URL", URL)
    env.setenv("SUPABASE_ANON_KEY", ANON_KEY)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_KEY)
    with NexusClient.from_env(max_retries=1) as nx:
        assert nx.auth_mode == "service_role"
        assert nx.settings.max_retries == 1
        assert _auth_headers(nx.as_user(USER_TOKEN))[0] == ANON_KEY


def test_from_supabase_takes_url_key_and_session_token(env: pytest.MonkeyPatch) -> None:
    from supabase import create_client

    sb = create_client(URL, ANON_KEY)
    with NexusClient.from_supabase(sb) as nx:
        assert nx.auth_mode == "anon"
        assert nx.settings.url == URL
    # What supabase-py does on sign-in: the session's token becomes the bearer.
    sb._listen_to_auth_events("SIGNED_IN", SimpleNamespace(access_token=USER_TOKEN))  # type: ignore[arg-type]
    with NexusClient.from_supabase(sb) as nx:
        assert nx.auth_mode == "user"
        assert _auth_headers(nx) == (ANON_KEY, f"Bearer {USER_TOKEN}")
    with pytest.raises(ConfigurationError):
        NexusClient.from_supabase(object())


# --- the connection pool -------------------------------------------------------------------------


def test_context_manager_closes_its_own_pool_but_not_a_derived_ones() -> None:
    nx = NexusClient(URL, ANON_KEY)
    derived = nx.with_options(timeout=1.0)
    derived.close()
    assert not nx._http.is_closed
    with nx:
        pass
    assert nx._http.is_closed


def test_a_caller_supplied_http_client_is_never_closed() -> None:
    http = httpx.Client()
    with NexusClient(URL, ANON_KEY, http_client=http) as nx:
        assert nx._http is http
    assert not http.is_closed
    http.close()


async def test_async_client_closes_only_what_it_owns() -> None:
    http = httpx.AsyncClient()
    async with AsyncNexusClient(URL, ANON_KEY, http_client=http):
        pass
    assert not http.is_closed
    await http.aclose()
    async with AsyncNexusClient(URL, ANON_KEY) as nx:
        me = nx.as_user(USER_TOKEN)
        await me.close()
        assert not nx._http.is_closed
    assert nx._http.is_closed


async def test_async_rpc_and_repository_share_the_wire_format() -> None:
    async with AsyncNexusClient(URL, ANON_KEY, access_token=USER_TOKEN) as nx:
        with respx.mock(base_url=REST) as mock:
            route = mock.post("/rpc/set_default_voice_profile").respond(200, json=None)
            assert await nx.rpc("set_default_voice_profile", {"profile_id": "p"}, idempotent=True) is None
    request = route.calls.last.request
    assert json.loads(request.content) == {"profile_id": "p"}
    assert request.headers["authorization"] == f"Bearer {USER_TOKEN}"


def test_rpc_rejects_bad_function_names() -> None:
    from nexus_sdk import ValidationError

    with NexusClient(URL, ANON_KEY) as nx, pytest.raises(ValidationError):
        nx.rpc("../users")


# --- parity --------------------------------------------------------------------------------------


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls) if not name.startswith("_")}


def _signature(member: Any) -> str:
    function: Any = member.fget if isinstance(member, property) else getattr(member, "func", member)
    if isinstance(member, property | __import__("functools").cached_property):
        return "property -> " + str(inspect.signature(function).return_annotation).removeprefix("Async")
    # "modulo async": the sync and async names of the same types, and httpx.Client vs AsyncClient.
    return (
        str(inspect.signature(function)).replace("AsyncClient", "Client").replace("AsyncIterator", "Iterator")
    )


def _compare(sync_cls: type, async_cls: type) -> None:
    sync_members, async_members = _public(sync_cls), _public(async_cls)
    assert sorted(sync_members) == sorted(async_members)
    for name, member in sync_members.items():
        other = async_members[name]
        if callable(member) or isinstance(member, property):
            assert _signature(member) == _signature(other), name
            if inspect.iscoroutinefunction(other):
                assert not inspect.iscoroutinefunction(member), name


def test_sync_and_async_clients_have_the_same_surface() -> None:
    _compare(NexusClient, AsyncNexusClient)
    async_methods = {n for n, m in _public(AsyncNexusClient).items() if inspect.iscoroutinefunction(m)}
    assert async_methods == {"close", "rpc"}


def test_sync_and_async_repositories_have_the_same_surface() -> None:
    from nexus_sdk import repositories

    for name in repositories.__all__:
        if name.startswith("Async"):
            _compare(getattr(repositories, name.removeprefix("Async")), getattr(repositories, name))


def test_access_token_in_the_constructor_travels_with_the_anon_key(env: pytest.MonkeyPatch) -> None:
    # The same rule as as_user(): a user-scoped client never carries the service-role key.
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY, access_token=USER_TOKEN) as nx:
        assert nx.auth_mode == "user"
        assert _auth_headers(nx) == (ANON_KEY, f"Bearer {USER_TOKEN}")
    env.setenv("SUPABASE_ANON_KEY", ANON_KEY)
    with NexusClient(URL, SERVICE_KEY, access_token=USER_TOKEN) as nx:
        assert _auth_headers(nx) == (ANON_KEY, f"Bearer {USER_TOKEN}")
    env.delenv("SUPABASE_ANON_KEY")
    with pytest.raises(ConfigurationError, match="SUPABASE_ANON_KEY") as info:
        NexusClient(URL, SERVICE_KEY, access_token=USER_TOKEN)
    for secret in SECRETS:
        assert secret not in str(info.value)
    settings = resolve_settings(URL, ANON_KEY, access_token=USER_TOKEN)
    assert settings.key.get_secret_value() == ANON_KEY
    assert settings.user_id == USER_ID


# --- keys and URLs as they come out of .env files and secret stores -------------------------------


def test_surrounding_whitespace_of_keys_tokens_and_url_is_dropped(env: pytest.MonkeyPatch) -> None:
    # A .env file or `$(cat key)` leaves a trailing newline; sent as is, httpx refuses the header and
    # its error quotes the header value, i.e. the key.
    env.setenv("SUPABASE_URL", URL + "\n")
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", SERVICE_KEY + "\n")
    env.setenv("SUPABASE_ANON_KEY", f" {ANON_KEY}\r\n")
    with NexusClient.from_env() as nx:
        assert nx.settings.url == URL
        assert nx.auth_mode == "service_role"
        assert _auth_headers(nx) == (SERVICE_KEY, f"Bearer {SERVICE_KEY}")
        me = nx.as_user(USER_TOKEN + "\n")
        assert me.settings.user_id == USER_ID
        assert _auth_headers(me) == (ANON_KEY, f"Bearer {USER_TOKEN}")
        other = nx.with_options(access_token=f"\t{USER_TOKEN} ")
        assert _auth_headers(other) == (ANON_KEY, f"Bearer {USER_TOKEN}")
    with NexusClient(f" {URL}/ ", f"{ANON_KEY}\n", access_token=f"{USER_TOKEN}\n") as nx:
        assert _auth_headers(nx) == (ANON_KEY, f"Bearer {USER_TOKEN}")
    settings = resolve_settings(URL, Secret(ANON_KEY + "\n")).with_changes(access_token=USER_TOKEN + " ")
    assert settings.headers() == {"apikey": ANON_KEY, "Authorization": f"Bearer {USER_TOKEN}"}


@pytest.mark.parametrize(
    "broken",
    [
        SERVICE_KEY[:20] + "\n" + SERVICE_KEY[20:],
        SERVICE_KEY[:20] + " " + SERVICE_KEY[20:],
        SERVICE_KEY + "é",
    ],
    ids=["inner newline", "inner space", "non-ascii"],
)
def test_a_key_that_cannot_be_a_header_is_refused_without_quoting_it(
    env: pytest.MonkeyPatch, broken: str
) -> None:
    env.setenv("SUPABASE_URL", URL)
    env.setenv("SUPABASE_SERVICE_ROLE_KEY", broken)
    with pytest.raises(ConfigurationError, match="SUPABASE_SERVICE_ROLE_KEY") as info:
        NexusClient.from_env()
    text = f"{info.value} {info.value!r}"
    assert SERVICE_KEY[:20] not in text
    assert SERVICE_KEY[20:] not in text
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY) as nx:
        with pytest.raises(ConfigurationError, match="access token") as info:
            nx.as_user(broken)
        assert SERVICE_KEY[20:] not in str(info.value)
    # A variable that explicit arguments override is never looked at.
    env.setenv("SUPABASE_ANON_KEY", broken)
    with NexusClient(URL, SERVICE_KEY, anon_key=ANON_KEY) as nx:
        assert _auth_headers(nx.as_user(USER_TOKEN)) == (ANON_KEY, f"Bearer {USER_TOKEN}")


def test_a_key_with_a_newline_reaches_a_real_server_intact(env: pytest.MonkeyPatch) -> None:
    # Over a real socket (not a mock): before the fix, h11 refused the header and the chained
    # exception's message carried the whole key.
    import http.server
    import threading

    seen: list[str | None] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("apikey"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with NexusClient(url, SERVICE_KEY + "\n", max_retries=0) as nx:
            assert nx.users.list() == []
    finally:
        server.shutdown()
        server.server_close()
    assert seen == [SERVICE_KEY]

"""What the SDK tells about its requests: who calls (User-Agent), a request log, answers of the wrong shape."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import httpx
import pytest
import respx

from nexus_sdk import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncNexusClient,
    F,
    NexusClient,
    NexusError,
    NotFoundError,
    _http,
)
from nexus_sdk._version import __version__

from ._loopback import respond, serve

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
KEY = "sb_secret_SERVICEKEYSERVICEKEYSERVICEKEY"
ANON = "sb_publishable_ANONKEYANONKEYANONKEY"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4ZjE0ZTQ1Zi1jZWVhLTQ2N2YtYTBlNi0xZDhmOWEwYzFiMmUifQ.c2ln"
ROW_ID = "8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e"
HTML = b"<html><body>Please sign in to the proxy. session=eyJhbGciOiJIUzI1NiJ9.eyJ4Ijox.c2ln</body></html>"


def test_every_request_says_who_is_calling() -> None:
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY) as nx:
        route = mock.get("/users").respond(200, json=[])
        nx.users.list()
    headers = route.calls[0].request.headers
    assert headers["user-agent"] == f"nexus-sdk/{__version__}"
    assert headers["x-client-info"] == f"nexus-sdk/{__version__}"


async def test_async_requests_say_who_is_calling_too() -> None:
    async with AsyncNexusClient(URL, KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            route = mock.post("/rpc/f").respond(200, json=1)
            await nx.rpc("f")
    assert route.calls[0].request.headers["user-agent"] == f"nexus-sdk/{__version__}"


@pytest.fixture
def request_log(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    logger = logging.getLogger("nexus_sdk")
    level, handlers = logger.level, list(logger.handlers)
    _http.configure_logging({"NEXUS_LOG": "debug"})
    try:
        yield capsys
    finally:
        logger.handlers[:] = handlers
        logger.setLevel(level)


def test_nexus_log_logs_each_attempt_without_keys_tokens_or_filter_values(
    request_log: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY, anon_key=ANON) as nx:
        mock.get("/users").mock(
            side_effect=[
                httpx.Response(503, headers={"sb-request-id": "req-1"}),
                httpx.Response(200, json=[], headers={"sb-request-id": "req-2", "content-range": "*/0"}),
            ]
        )
        from nexus_sdk import F

        nx.as_user(TOKEN).users.list(where=F("email") == "private@example.com")
    err = request_log.readouterr().err
    assert "HTTP GET /rest/v1/users -> 503 Service Unavailable" in err
    assert "request id req-1, retry 0 of 2" in err
    assert "HTTP GET /rest/v1/users -> 200 OK" in err
    assert "request id req-2, retry 1 of 2" in err
    assert "params email,limit" in err  # debug: parameter names, never their values
    assert "content-range */0" in err
    for secret in (KEY, ANON, TOKEN, "private@example.com"):
        assert secret not in err


def test_nexus_log_with_an_unknown_level_warns_and_configures_nothing() -> None:
    logger = logging.getLogger("nexus_sdk")
    handlers = list(logger.handlers)
    with pytest.warns(UserWarning, match="NEXUS_LOG"):
        _http.configure_logging({"NEXUS_LOG": "verbose"})
    assert logger.handlers == handlers


def test_connection_errors_name_the_host() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    with (
        NexusClient(f"http://127.0.0.1:{port}", KEY, max_retries=0) as nx,
        pytest.raises(APIConnectionError) as caught,
    ):
        nx.users.list()
    assert f"could not connect to 127.0.0.1:{port}" in caught.value.message


def test_a_404_that_is_not_the_apis_says_which_request_and_to_check_the_url() -> None:
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY) as nx:
        mock.get("/users").respond(404, content=HTML, headers={"Content-Type": "text/html"})
        with pytest.raises(NotFoundError) as caught:
            nx.users.list(where=F("email") == "secret-filter-value")
    text = str(caught.value)
    assert "GET /rest/v1/users at proj.supabase.co is not an API answer" in text
    assert "SUPABASE_URL" in text
    assert "secret-filter-value" not in text  # no query string
    assert "session=" not in text  # no body


def test_a_404_of_the_api_is_reported_as_the_api_says() -> None:
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY) as nx:
        body = {"code": "PGRST205", "message": "Could not find the table 'public.users' in the schema cache"}
        mock.get("/users").respond(404, json=body)
        with pytest.raises(NexusError) as caught:
            nx.users.list()
    assert str(caught.value) == "404 PGRST205: Could not find the table 'public.users' in the schema cache"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", HTML), ("application/json", b'{"unexpected": "object"}'), ("application/json", b"[1, 2]")],
)
def test_a_2xx_body_of_the_wrong_shape_is_a_nexus_error_that_never_quotes_it(
    content_type: str, body: bytes
) -> None:
    # A real server: the proxy page is what a real misconfigured gateway answers.
    with (
        serve(respond("200 OK", body, {"Content-Type": content_type})) as proxy,
        NexusClient(proxy.url, KEY) as nx,
        pytest.raises(NexusError) as caught,
    ):
        nx.users.list()
    error = caught.value
    assert isinstance(error, APIResponseValidationError)
    assert error.status_code == 200
    assert content_type in error.message
    assert "proxy" in error.message
    assert error.__cause__ is None
    assert error.__suppress_context__
    for text in (str(error), repr(error), str(error.errors)):
        assert "eyJ" not in text
        assert '"unexpected"' not in text


async def test_async_a_2xx_body_of_the_wrong_shape_is_a_nexus_error() -> None:
    async with AsyncNexusClient(URL, KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            mock.get("/users").respond(200, content=HTML, headers={"Content-Type": "text/html"})
            with pytest.raises(APIResponseValidationError):
                await nx.users.get(ROW_ID)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/html", HTML), ("application/json", b'{"unexpected": "object"}'), ("application/json", b"[1, 2]")],
)
def test_platform_connections_wrong_shape_is_a_nexus_error_too(content_type: str, body: bytes) -> None:
    # Its rows are parsed by hand (tokens are decrypted before the model is built): same guarantee.
    from nexus_sdk.crypto import EncryptionKey, KeyRing

    ring = KeyRing([EncryptionKey.generate("k1")])
    with respx.mock(base_url=REST) as mock, NexusClient(URL, KEY, encryption_keys=ring) as nx:
        mock.get("/platform_connections").respond(200, content=body, headers={"Content-Type": content_type})
        with pytest.raises(APIResponseValidationError) as caught:
            nx.platform_connections.list()
        with pytest.raises(APIResponseValidationError):
            nx.platform_connections.rotate_keys()
    assert "unexpected" not in caught.value.message


def test_export_of_a_wrong_shaped_answer_says_so_instead_of_crashing() -> None:
    from click.testing import CliRunner

    from nexus_sdk.cli._transfer import export_command

    body = b'{"unexpected": "object"}'
    with serve(respond("200 OK", body, {"Content-Type": "application/json"})) as proxy:
        result = CliRunner().invoke(export_command, ["users", "--url", proxy.url, "--key", KEY])
    assert result.exit_code == 1, result.output
    assert "not what the API returns" in result.output
    assert "Traceback" not in result.output

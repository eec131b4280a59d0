"""The HTTP core: error mapping, the retry policy and its faults (timeouts, resets, 5xx, Retry-After)."""

from __future__ import annotations

import email.utils
import json
import logging
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import respx

from nexus_sdk import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncNexusClient,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NexusClient,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ValidationError,
    _http,
)
from nexus_sdk._http import APIRequest, retry_delay

URL = "https://proj.supabase.co"
REST = URL + "/rest/v1"
KEY = "sk-test-service-key-SECRET"
ROW_ID = "8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e"


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep the real policy (jitter, doubling) but on a millisecond scale.
    monkeypatch.setattr(_http, "INITIAL_RETRY_DELAY", 0.001)
    monkeypatch.setattr(_http, "MAX_RETRY_DELAY", 0.004)


@pytest.fixture
def nx() -> Iterator[NexusClient]:
    with NexusClient(URL, KEY, max_retries=2) as client:
        yield client


def _user_row() -> dict[str, object]:
    return {
        "id": ROW_ID,
        "email": "a@example.com",
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2025-01-01T00:00:00Z",
        "timezone": "UTC",
        "is_active": True,
    }


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"code": "22P02", "message": "invalid input syntax for type uuid"}, BadRequestError),
        (401, {"code": "PGRST301", "message": "JWT expired"}, AuthenticationError),
        (403, {"code": "42501", "message": "permission denied for table users"}, PermissionDeniedError),
        (404, {"code": "42P01", "message": "relation does not exist"}, NotFoundError),
        (
            406,
            {
                "code": "PGRST116",
                "message": "Cannot coerce the result",
                "details": "The result contains 0 rows",
            },
            NotFoundError,
        ),
        (
            406,
            {"code": "PGRST116", "message": "Cannot coerce", "details": "The result contains 2 rows"},
            NotAcceptableError,
        ),
        (
            409,
            {
                "code": "23505",
                "message": "duplicate key",
                "details": "Key (email)=(a) already exists.",
                "hint": None,
            },
            ConflictError,
        ),
        (500, {"code": "40001", "message": "could not serialize access"}, InternalServerError),
        (418, {"message": "teapot"}, APIStatusError),
    ],
)
def test_error_mapping(
    nx: NexusClient, status: int, body: dict[str, object], error: type[APIStatusError]
) -> None:
    with respx.mock(base_url=REST) as mock:
        mock.get("/users").respond(status, json=body)
        with pytest.raises(error) as info:
            nx.users.get(ROW_ID)
    exc = info.value
    assert type(exc) is error
    # Class and status agree: a 406 "no row" is a NotFoundError with status 404 (the server's is kept).
    assert exc.status_code == (404 if error is NotFoundError else status)
    assert exc.response_status == status
    assert exc.code == body.get("code")
    if body.get("code") == "PGRST116" and error is NotFoundError:
        assert exc.message == f"No users row with id {ROW_ID} is visible to this client."
    else:
        assert exc.message == body["message"]
    assert exc.details == body.get("details")
    assert KEY not in str(exc)
    assert KEY not in repr(exc)


def test_error_without_json_body_uses_reason_phrase_and_request_id(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        mock.get("/users").respond(502, text="<html>bad gateway</html>", headers={"sb-request-id": "req-1"})
        with pytest.raises(InternalServerError) as info:
            nx.with_options(max_retries=0).users.get(ROW_ID)
    assert info.value.message == "Bad Gateway"
    assert info.value.request_id == "req-1"


def test_reads_retry_on_503_then_succeed_and_log_without_secrets(
    nx: NexusClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="nexus_sdk")
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users")
        route.side_effect = [
            httpx.Response(503, json={"message": "busy"}),
            httpx.Response(200, json=_user_row()),
        ]
        user = nx.users.get(ROW_ID)
    assert str(user.id) == ROW_ID
    assert route.call_count == 2
    assert "Retrying GET /users" in caplog.text
    assert KEY not in caplog.text
    assert ROW_ID not in caplog.text  # the query string stays out of logs


def test_retries_stop_at_max_retries(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(503, json={"message": "busy"})
        with pytest.raises(InternalServerError):
            nx.users.get(ROW_ID)
    assert route.call_count == 3  # the first attempt and max_retries=2 retries


def test_a_statement_cancelled_at_its_timeout_is_not_sent_again(nx: NexusClient) -> None:
    # PostgREST answers a statement stopped by statement_timeout with a 500 and code 57014: a second try
    # would run the same slow query for the whole timeout again.
    timed_out = {"code": "57014", "message": "canceling statement due to statement timeout"}
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(500, json=timed_out)
        with pytest.raises(InternalServerError) as info:
            nx.users.get(ROW_ID)
    assert route.call_count == 1
    assert info.value.code == "57014"
    with respx.mock(base_url=REST) as mock:  # any other 500 still is retried
        route = mock.get("/users").respond(500, json={"code": "XX000", "message": "internal"})
        with pytest.raises(InternalServerError):
            nx.users.get(ROW_ID)
    assert route.call_count == 3


def test_501_is_not_retried(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(501, json={"message": "not implemented"})
        with pytest.raises(InternalServerError):
            nx.users.get(ROW_ID)
    assert route.call_count == 1


def test_timeout_becomes_api_timeout_error_from_httpx(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(APITimeoutError) as info:
            nx.users.get(ROW_ID)
    assert route.call_count == 3
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert isinstance(info.value, APIConnectionError)


def test_connection_reset_then_success(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users")
        route.side_effect = [
            httpx.ReadError("connection reset by peer"),
            httpx.Response(200, json=_user_row()),
        ]
        assert str(nx.users.get(ROW_ID).id) == ROW_ID
    assert route.call_count == 2


def test_transport_error_message_has_no_url_or_secret(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        mock.get("/users").mock(side_effect=httpx.ReadError(f"boom {REST}/users?apikey={KEY}"))
        with pytest.raises(APIConnectionError) as info:
            nx.with_options(max_retries=0).users.get(ROW_ID)
    assert type(info.value) is APIConnectionError
    assert KEY not in str(info.value)
    assert "ReadError" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ReadError)


def test_non_idempotent_rpc_is_not_retried_but_idempotent_one_is(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/rpc/claim_due_posts").respond(503, json={"message": "busy"})
        with pytest.raises(InternalServerError):
            nx.rpc("claim_due_posts", limit=5)
        assert route.call_count == 1
        route.side_effect = [httpx.Response(503), httpx.Response(200, json=[1, 2])]
        assert nx.rpc("claim_due_posts", limit=5, idempotent=True) == [1, 2]
        assert route.call_count == 3


def test_connect_error_is_retried_even_for_unsafe_requests(nx: NexusClient) -> None:
    # The request never left, so repeating it cannot run the function twice.
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/rpc/f")
        route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, json=7)]
        assert nx.rpc("f") == 7
    assert route.call_count == 2


def test_rate_limit_retried_honouring_retry_after_seconds(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/rpc/f")
        route.side_effect = [
            httpx.Response(429, headers={"Retry-After": "0.05"}, json={"message": "slow down"}),
            httpx.Response(200, json="ok"),
        ]
        started = time.monotonic()
        assert nx.rpc("f") == "ok"
        assert time.monotonic() - started >= 0.05
    assert route.call_count == 2


def test_retry_after_longer_than_the_timeout_is_not_waited_for() -> None:
    with NexusClient(URL, KEY, timeout=5.0) as nx, respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(429, headers={"Retry-After": "120"}, json={"message": "later"})
        with pytest.raises(RateLimitError):
            nx.users.get(ROW_ID)
    assert route.call_count == 1


def test_retry_delay_policy() -> None:
    get = APIRequest("GET", "/users", retry_safe=True)
    post = APIRequest("POST", "/rpc/f")
    busy = httpx.Response(503)
    assert retry_delay(get, busy, 2, 2, 10.0) is None  # out of retries
    assert retry_delay(post, busy, 0, 2, 10.0) is None  # unsafe write
    assert retry_delay(get, httpx.Response(404), 0, 2, 10.0) is None
    for attempt in range(6):
        delay = retry_delay(get, busy, attempt, 10, 10.0)
        assert delay is not None
        assert 0 <= delay <= min(_http.MAX_RETRY_DELAY, _http.INITIAL_RETRY_DELAY * 2**attempt)
    date = email.utils.format_datetime(
        email.utils.localtime().__class__.now(tz=__import__("datetime").UTC), usegmt=True
    )
    in_past = retry_delay(get, httpx.Response(503, headers={"Retry-After": date}), 0, 2, 10.0)
    assert in_past is not None
    assert in_past <= 1.0
    assert retry_delay(post, httpx.Response(429, headers={"Retry-After": "3"}), 0, 2, 10.0) == 3.0
    assert retry_delay(post, httpx.ConnectError("x"), 0, 2, 10.0) is not None
    assert retry_delay(post, httpx.ReadError("x"), 0, 2, 10.0) is None


def test_per_call_timeout_overrides_client_timeout(nx: NexusClient) -> None:
    with respx.mock(base_url=REST) as mock:
        route = mock.get("/users").respond(200, json=_user_row())
        nx.users.get(ROW_ID, timeout=1.5)
        nx.users.get(ROW_ID)
    first, second = (call.request.extensions["timeout"] for call in route.calls)
    # Each network wait is bounded by what is left of the attempt's deadline: a hair under the timeout.
    assert set(first) == {"connect", "read", "write", "pool"}
    assert all(1.4 < value <= 1.5 for value in first.values())
    assert 29.9 < second["read"] <= 30.0


async def test_async_client_retries_the_same_way() -> None:
    async with AsyncNexusClient(URL, KEY) as nx:
        with respx.mock(base_url=REST) as mock:
            route = mock.get("/users")
            route.side_effect = [
                httpx.ReadTimeout("t"),
                httpx.Response(503),
                httpx.Response(200, json=_user_row()),
            ]
            user = await nx.users.get(ROW_ID)
    assert str(user.id) == ROW_ID
    assert route.call_count == 3


def _gzip_garbage(request: httpx.Request) -> httpx.Response:
    # A raw stream, so the body is decoded (and fails) when the client reads it, not here.
    return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"not gzip"))


def test_undecodable_body_becomes_api_connection_error_from_httpx(nx: NexusClient) -> None:
    # A gzip header over bytes that are not gzip: httpx raises DecodingError, which is not a
    # TransportError; it must still leave the SDK as one of ours, chained, with no secret in it.
    with respx.mock(base_url=REST) as mock:
        mock.get("/users").mock(side_effect=_gzip_garbage)
        with pytest.raises(APIConnectionError) as info:
            nx.with_options(max_retries=0).users.get(ROW_ID)
    assert isinstance(info.value.__cause__, httpx.DecodingError)
    assert "DecodingError" in str(info.value)
    assert KEY not in str(info.value)


async def test_async_undecodable_body_becomes_api_connection_error() -> None:
    async with AsyncNexusClient(URL, KEY, max_retries=0) as client:
        with respx.mock(base_url=REST) as mock:
            mock.get("/users").mock(side_effect=_gzip_garbage)
            with pytest.raises(APIConnectionError) as info:
                await client.users.get(ROW_ID)
    assert isinstance(info.value.__cause__, httpx.DecodingError)


# --- pre-encoded bodies -------------------------------------------------------------------------------


def test_encode_json_is_compact_utf8_json() -> None:
    value = [{"id": ROW_ID, "text": "café ✓", "n": 1.5, "tags": ["a", None, True]}]
    body = _http.encode_json(value)
    assert json.loads(body) == value
    assert body == json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_encode_json_refuses_non_finite_floats_like_httpx(bad: float) -> None:
    with pytest.raises(ValueError, match="JSON"):
        _http.encode_json([{"score": bad}])


def test_encode_json_keeps_strings_that_merely_spell_nan() -> None:
    value = {"text": "NaN and -Infinity are words here"}
    assert json.loads(_http.encode_json(value)) == value


def test_request_takes_json_or_content_not_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        APIRequest("POST", "/rows", json=[1], content=b"[1]")


def test_encoded_content_is_sent_byte_for_byte_as_json(nx: NexusClient) -> None:
    content = _http.encode_json([{"id": ROW_ID, "text": "café"}])
    request = APIRequest("POST", "/rows", content=content)
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/rows").respond(201, json=[])
        nx._sender.run(_http.call(request, nx._settings))
    sent = route.calls.last.request
    assert sent.content == content
    assert sent.headers["content-type"] == "application/json"
    assert KEY in sent.headers["apikey"]  # the client's headers still travel with it


def test_encoded_content_keeps_a_content_type_the_request_sets(nx: NexusClient) -> None:
    request = APIRequest(
        "POST", "/rows", {}, {"content-type": "application/json; charset=utf-8"}, content=b"{}"
    )
    with respx.mock(base_url=REST) as mock:
        route = mock.post("/rows").respond(201, json=[])
        nx._sender.run(_http.call(request, nx._settings))
    assert route.calls.last.request.headers.get_list("content-type") == ["application/json; charset=utf-8"]


# --- redirects -------------------------------------------------------------------------------------
# A proxy or a custom domain answering http:// with a redirect to https:// is a fault a local stack does
# not produce on demand: the wire is mocked.


def test_a_redirect_is_an_error_not_an_empty_success(nx: NexusClient) -> None:
    target = "https://proj.supabase.co/rest/v1/users?token=abc"
    with respx.mock(base_url=REST) as mock:
        mock.route().respond(301, headers={"Location": target})
        with pytest.raises(APIStatusError) as listed:
            nx.users.list()  # was: [] as if the table were empty
        with pytest.raises(APIStatusError) as got:
            nx.users.get(ROW_ID)  # was: IndexError
        with pytest.raises(APIStatusError) as created:
            nx.voice_profiles.create(name="v", user_id=ROW_ID)  # was: ConflictError "already exists"
        with pytest.raises(APIStatusError):
            nx.users.count()
        # Nothing was retried: a redirect does not go away on a second try.
        assert len(mock.calls) == 4
    for info in (listed, got, created):
        exc = info.value
        assert type(exc) is APIStatusError
        assert exc.status_code == 301
        assert "https://proj.supabase.co/rest/v1/users" in exc.message
        assert "token=abc" not in str(exc)  # the query string stays out of messages and logs
        assert KEY not in str(exc)


async def test_async_redirect_is_an_error_too() -> None:
    async with AsyncNexusClient(URL, KEY) as client:
        with respx.mock(base_url=REST) as mock:
            mock.get("/users").respond(308)
            with pytest.raises(APIStatusError) as info:
                await client.users.list()
    assert info.value.status_code == 308


def test_encode_json_refuses_nul_where_it_is_and_never_quotes_the_value() -> None:
    with pytest.raises(ValidationError) as info:
        _http.encode_json([{"content": "ok"}, {"adaptations": {"x": {"text": "tok-SECRET\x00"}}}])
    assert info.value.errors[0]["loc"] == (1, "adaptations", "x", "text")
    assert "SECRET" not in str(info.value)
    with pytest.raises(ValidationError) as key_info:
        _http.encode_json({"metadata": {"a\x00b": 1}})
    assert key_info.value.errors[0]["loc"] == ("metadata", "a\x00b")


def test_encode_json_keeps_text_that_merely_spells_the_nul_escape() -> None:
    value = {"content": "write \\u0000 to see it refused"}
    assert json.loads(_http.encode_json(value)) == value


def test_a_json_body_with_nul_is_refused_before_anything_is_sent(nx: NexusClient) -> None:
    with respx.mock(base_url=REST, assert_all_called=False) as mock:
        route = mock.post("/published_posts")
        with pytest.raises(ValidationError, match="content contains a NUL character"):
            nx.published_posts.create(user_id=uuid.uuid4(), platform="x", content="a\x00b")
    assert not route.called

"""No key or token leaves for a host other than the configured one, whatever ``http_client`` is given."""

from __future__ import annotations

import httpx
import pytest

from nexus_sdk import APIStatusError, AsyncNexusClient, NexusClient

from ._loopback import respond, serve

KEY = "sb_secret_SERVICEKEYSERVICEKEYSERVICEKEY"
ANON = "sb_publishable_ANONKEYANONKEYANONKEY"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4ZjE0ZTQ1Zi1jZWVhLTQ2N2YtYTBlNi0xZDhmOWEwYzFiMmUifQ.c2ln"


@pytest.mark.parametrize("status", ["307 Temporary Redirect", "308 Permanent Redirect", "302 Found"])
def test_a_redirect_to_another_host_never_receives_the_keys(status: str) -> None:
    # 127.0.0.2 is another host to httpx (it strips Authorization there), but a real one here.
    with serve(respond("200 OK", b"[]"), host="127.0.0.2") as elsewhere:
        redirect = respond(status, headers={"Location": elsewhere.url + "/rest/v1/users?x=1"})
        with serve(redirect) as api:
            http = httpx.Client(follow_redirects=True)
            with NexusClient(api.url, KEY, anon_key=ANON, http_client=http) as nx:
                me = nx.as_user(TOKEN)
                with pytest.raises(APIStatusError) as caught:
                    me.users.list()
            http.close()
    assert elsewhere.received == []
    assert caught.value.status_code == int(status[:3])
    assert "127.0.0.2" in caught.value.message  # the error says where it was sent
    # The configured host did get the keys: the request went where it was meant to.
    assert b"apikey: " + ANON.encode() in api.received[0]


async def test_async_a_redirect_to_another_host_never_receives_the_keys() -> None:
    with serve(respond("200 OK", b"[]"), host="127.0.0.2") as elsewhere:
        redirect = respond("307 Temporary Redirect", headers={"Location": elsewhere.url + "/rest/v1/users"})
        with serve(redirect) as api:
            http = httpx.AsyncClient(follow_redirects=True)
            async with http, AsyncNexusClient(api.url, KEY, http_client=http) as nx:
                with pytest.raises(APIStatusError):
                    await nx.users.list()
    assert elsewhere.received == []

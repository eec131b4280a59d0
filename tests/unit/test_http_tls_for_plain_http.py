"""Default clients verify TLS with httpx's authorities for an https API; for a plain-http API (the local
stack) they build no CA bundle and would refuse any handshake: fail closed, never open."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient
from nexus_sdk._http import tls_verify

from ._loopback import self_signed, serve

KEY = "k" * 40


def _context_of(client: object) -> ssl.SSLContext:
    # httpx keeps the context on its connection pool (private); a layout change makes this test say so.
    transport = getattr(client, "_transport", None)
    context = getattr(getattr(transport, "_pool", None), "_ssl_context", None)
    assert isinstance(context, ssl.SSLContext), "httpx no longer keeps the context where this test looks"
    return context


def test_an_https_api_is_verified_against_the_usual_authorities() -> None:
    assert tls_verify("https://abc.supabase.co") is True
    with NexusClient("https://abc.supabase.co", KEY) as nx:
        context = _context_of(nx._http)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] > 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:54321", "http://localhost:1"])
def test_a_plain_http_api_gets_a_context_that_trusts_nothing(url: str) -> None:
    with NexusClient(url, KEY) as nx:
        context = _context_of(nx._http)
    assert context is tls_verify(url)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0


async def test_the_async_client_does_the_same() -> None:
    async with AsyncNexusClient("http://127.0.0.1:54321", KEY) as nx:
        assert _context_of(nx._http) is tls_verify("http://127.0.0.1:54321")
    async with AsyncNexusClient("https://abc.supabase.co", KEY) as nx:
        assert _context_of(nx._http).cert_store_stats()["x509_ca"] > 0


def test_a_handshake_with_that_context_fails_whatever_certificate_the_server_shows(tmp_path: Path) -> None:
    # A TLS server whose certificate a client told to trust it accepts: ours refuses it, as it would refuse
    # any, since it trusts no authority at all.
    with serve(lambda conn, request: None, tls=self_signed(tmp_path)) as server:
        trusting = ssl.create_default_context(cafile=tmp_path / "cert.pem")
        with socket.create_connection((server.host, server.port)) as raw:
            trusting.wrap_socket(raw, server_hostname=server.host).close()
        ours = tls_verify(server.url)
        assert isinstance(ours, ssl.SSLContext)
        with (
            socket.create_connection((server.host, server.port)) as raw,
            pytest.raises(ssl.SSLCertVerificationError),
        ):
            ours.wrap_socket(raw, server_hostname=server.host)

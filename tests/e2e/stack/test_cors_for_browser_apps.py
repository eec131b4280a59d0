"""CORS as Supabase's gateway answers it, so supabase-js in a page on another origin can call the stack:
preflights answered before any API key is asked for, and the response headers a page needs to read."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

ORIGIN = "http://localhost:5173"
# What supabase-js's fetch asks for before a count=exact read and a sign-in.
REST_REQUESTED = "apikey,authorization,content-type,prefer,range,accept-profile,x-client-info"
AUTH_REQUESTED = "apikey,authorization,content-type,x-client-info,x-supabase-api-version"


def _listed(value: str) -> set[str]:
    return {part.strip().lower() for part in value.split(",") if part.strip()}


@pytest.mark.parametrize(
    ("path", "method", "requested"),
    [
        ("/rest/v1/cf_publishers?select=*", "GET", REST_REQUESTED),
        ("/rest/v1/cf_publishers", "PATCH", REST_REQUESTED + ",content-profile"),
        ("/rest/v1/rpc/cf_inc", "POST", REST_REQUESTED),
        ("/auth/v1/token?grant_type=password", "POST", AUTH_REQUESTED),
        ("/auth/v1/user", "PUT", AUTH_REQUESTED),
    ],
)
def test_preflight_is_answered_without_an_api_key(
    stack: local.LocalStack, path: str, method: str, requested: str
) -> None:
    r = httpx.options(
        f"{stack.url}{path}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": requested,
        },
        timeout=30,
    )
    assert r.status_code in (200, 204), r.text
    assert r.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert method.lower() in _listed(r.headers["access-control-allow-methods"])
    assert _listed(requested) <= _listed(r.headers["access-control-allow-headers"])
    assert r.content == b""


def test_preflight_allows_what_supabase_clients_send_even_unasked(stack: local.LocalStack) -> None:
    r = httpx.options(
        f"{stack.url}/rest/v1/cf_publishers",
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert r.status_code in (200, 204)
    expected = {
        "apikey",
        "authorization",
        "content-type",
        "prefer",
        "range",
        "accept-profile",
        "content-profile",
        "x-client-info",
        "x-supabase-api-version",
    }
    assert expected <= _listed(r.headers["access-control-allow-headers"])


def test_a_read_from_another_origin_exposes_content_range(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    r = httpx.get(
        f"{stack.rest_url}/cf_publishers",
        params={"select": "id"},
        headers={"apikey": stack.service_role_key, "Origin": ORIGIN, "Prefer": "count=exact"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.headers["access-control-allow-origin"] in ("*", ORIGIN)
    exposed = _listed(r.headers["access-control-expose-headers"])
    assert {"content-range", "content-location", "location"} <= exposed


def test_errors_from_another_origin_are_readable(stack: local.LocalStack) -> None:
    # A page must see why it was refused (a missing key, a wrong password), not a CORS failure.
    for url in (f"{stack.rest_url}/cf_publishers", f"{stack.url}/auth/v1/user"):
        r = httpx.get(url, headers={"Origin": ORIGIN}, timeout=30)
        assert r.status_code == 401
        assert r.headers["access-control-allow-origin"] in ("*", ORIGIN)


def test_auth_responses_from_another_origin_carry_cors_headers(stack: local.LocalStack) -> None:
    r = httpx.get(
        f"{stack.url}/auth/v1/settings", headers={"apikey": stack.anon_key, "Origin": ORIGIN}, timeout=30
    )
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] in ("*", ORIGIN)
    assert "x-total-count" in _listed(r.headers["access-control-expose-headers"])


def test_requests_without_an_origin_get_no_cors_headers(stack: local.LocalStack) -> None:
    r = httpx.get(f"{stack.url}/auth/v1/settings", headers={"apikey": stack.anon_key}, timeout=30)
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers

"""Guessing passwords or refresh tokens at ``/auth/v1/token`` ends in 429, as on Supabase.

GoTrue allows a client address 30 ``/token`` attempts at once, regained at 150 per 5 minutes, then answers
429 ``over_request_rate_limit``. The local stack spends an attempt on every grant that fails, so a guesser
is stopped after 30 tries while successful sign-ins and refreshes are never throttled. Each test speaks
from a loopback address of its own (127.x.y.z), so the rest of the suite (127.0.0.1) is not affected.
"""

from __future__ import annotations

import concurrent.futures
import random
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from nexus_sdk import local

_BURST = 30


def _client(stack: local.LocalStack, address: str | None = None) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address) if address else httpx.HTTPTransport()
    return httpx.Client(
        base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}, transport=transport, timeout=30
    )


@pytest.fixture
def guesser(stack: local.LocalStack) -> Iterator[httpx.Client]:
    """A client speaking from a fresh loopback address, whose allowance no other test has spent."""
    address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(1, 254)}"
    with _client(stack, address) as client:
        yield client


@pytest.fixture
def account(stack: local.LocalStack) -> tuple[str, str]:
    email = f"guessed-{uuid.uuid4().hex[:10]}@example.com"
    password = "right-password-1"
    stack.create_user(email, password)
    return email, password


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(
        "/token", params={"grant_type": "password"}, json={"email": email, "password": password}
    )


def test_wrong_passwords_end_in_429_even_for_the_right_one(
    stack: local.LocalStack, guesser: httpx.Client, account: tuple[str, str]
) -> None:
    email, password = account
    statuses = [_sign_in(guesser, email, f"guess-{i:04d}").status_code for i in range(_BURST)]
    assert statuses == [400] * _BURST
    # The allowance comes back at one attempt per 2 s: a few more bcrypt-paced guesses use up what returned.
    for i in range(10):
        refused = _sign_in(guesser, email, f"more-{i:04d}")
        if refused.status_code == 429:
            break
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 429,
        "error_code": "over_request_rate_limit",
        "msg": "Request rate limit reached",
    }
    # The guesser cannot tell a right password from a wrong one any more.
    assert _sign_in(guesser, email, password).status_code == 429
    # Another client (another address) signs in to the same account as usual.
    with _client(stack) as other:
        assert _sign_in(other, email, password).status_code == 200


def test_successful_sign_ins_are_not_throttled(guesser: httpx.Client, account: tuple[str, str]) -> None:
    email, password = account
    responses = [_sign_in(guesser, email, password) for _ in range(_BURST + 5)]
    assert [r.status_code for r in responses] == [200] * (_BURST + 5)
    refresh_token = responses[-1].json()["refresh_token"]
    for _ in range(_BURST + 5):
        refreshed = guesser.post(
            "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": refresh_token}
        )
        assert refreshed.status_code == 200
        refresh_token = refreshed.json()["refresh_token"]


def test_concurrent_refresh_token_guesses_get_at_most_the_burst(guesser: httpx.Client) -> None:
    def guess(i: int) -> Any:
        return guesser.post(
            "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": f"guess{i:06d}xxxxxxx"}
        ).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(guess, range(_BURST + 20)))
    # Attempts are taken before the grant is checked, so guesses in flight together cannot all pass.
    assert statuses.count(400) <= _BURST + 1  # one attempt may come back while they run
    assert statuses.count(429) >= 19
    assert set(statuses) == {400, 429}

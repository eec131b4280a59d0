"""The ``/auth/v1/token`` throttle: a bucket per client address, refunds for grants that succeed, bounded memory."""

from __future__ import annotations

from nexus_sdk.local._auth_app import _THROTTLE_MAX_CLIENTS, Throttle


def test_a_client_gets_its_burst_then_nothing_until_a_grant_succeeds() -> None:
    throttle = Throttle(burst=3, per_second=0.0)
    assert [throttle.take("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert throttle.take("10.0.0.2")  # another address has its own allowance
    throttle.give_back("10.0.0.1")
    assert throttle.take("10.0.0.1")
    assert not throttle.take("10.0.0.1")


def test_refunds_never_raise_the_allowance_past_the_burst() -> None:
    throttle = Throttle(burst=2, per_second=0.0)
    for _ in range(5):
        throttle.give_back("10.0.0.1")
    assert [throttle.take("10.0.0.1") for _ in range(3)] == [True, True, False]


def _address(i: int) -> str:
    return f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"


def test_guesses_from_ever_more_addresses_keep_memory_bounded() -> None:
    throttle = Throttle(burst=5, per_second=0.0)
    for i in range(_THROTTLE_MAX_CLIENTS + 1000):
        assert throttle.take(_address(i))
    assert len(throttle._buckets) <= _THROTTLE_MAX_CLIENTS
    # The addresses seen last are still tracked: their spent attempts are not forgotten.
    last = _address(_THROTTLE_MAX_CLIENTS + 999)
    assert [throttle.take(last) for _ in range(5)] == [True, True, True, True, False]

"""``Prefer: max-affected=`` beyond 64 bits: PostgREST reads it with Haskell's ``read`` into an Int64, which
wraps around, and applies (and reports) the wrapped value; the stack answers the same."""

from __future__ import annotations

from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local
from nexus_sdk.local._negotiate import parse_prefs

pytestmark = [pytest.mark.db, pytest.mark.e2e]

WRAPS_POSITIVE = "1" + "0" * 39  # 10**39 mod 2**64 = 6873995514006732800
WRAPS_NEGATIVE = "9" * 40  # wraps to -5047021154770878465


@pytest.fixture
def rest(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> Any:
    key = stack.service_role_key
    with httpx.Client(base_url=stack.rest_url, headers={"apikey": key}, timeout=30) as client:
        yield client


def _delete_nothing(rest: httpx.Client, max_affected: str) -> httpx.Response:
    prefer = f"handling=strict, max-affected={max_affected}"
    return rest.delete("/cf_counters", params={"id": "eq.-1"}, headers={"Prefer": prefer})


def test_forty_digits_are_applied_wrapped_to_64_bits(rest: httpx.Client) -> None:
    r = _delete_nothing(rest, WRAPS_POSITIVE)
    assert r.status_code == 204, r.text
    assert r.headers["Preference-Applied"] == "handling=strict, max-affected=6873995514006732800"


def test_forty_digits_wrapping_negative_refuse_even_no_rows(rest: httpx.Client) -> None:
    r = _delete_nothing(rest, WRAPS_NEGATIVE)
    assert r.status_code == 400, r.text
    assert (r.json()["code"], r.json()["details"]) == ("PGRST124", "The query affects 0 rows")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10", 10),
        ("007", 7),
        ("-3", -3),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", -(2**63)),
        ("10000000000000000000", -8446744073709551616),
        ("0x10", 16),
        ("0o17", 15),
        ("1e3", None),
        ("ten", None),
        ("", None),
        ("9" * 5000, None),
    ],
)
def test_max_affected_is_read_as_postgrest_reads_it(value: str, expected: int | None) -> None:
    assert parse_prefs([f"handling=strict, max-affected={value}"]).max_affected == expected


def test_only_the_first_max_affected_counts() -> None:
    assert parse_prefs(["max-affected=abc, max-affected=5"]).max_affected is None
    assert parse_prefs(["max-affected=4", "max-affected=5"]).max_affected == 4

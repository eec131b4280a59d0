"""The local stack reads a query string's parameters as PostgREST does (http-types' ``parseQuery``): split on
``&`` and ``;``, a parameter without ``=`` left out, keys and values unescaped as ``parse_qsl`` unescapes them."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qsl

import pytest

from nexus_sdk.local._request import query_items

PIECES = ("a", "id", "=", "&", "eq.1", "%", "%41", "%e9", "%3B", "+", ";", " ", "\u00e9", "*")


class _Request:
    def __init__(self, query_string: bytes) -> None:
        self.scope: dict[str, Any] = {"type": "http", "query_string": query_string}


def _every_query(longest: int) -> list[str]:
    return ["".join(parts) for n in range(longest + 1) for parts in itertools.product(PIECES, repeat=n)]


def _postgrest_pairs(text: str) -> tuple[tuple[str, str], ...]:
    # Each parameter on its own, as parseQuery splits them; parse_qsl only unescapes one "k=v" here.
    parameters = text.replace(";", "&").split("&")
    return tuple(
        pair for part in parameters if "=" in part for pair in parse_qsl(part, keep_blank_values=True)
    )


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4])
def test_every_short_query_string_gives_postgrests_pairs(length: int) -> None:
    for text in _every_query(length):
        raw = text.encode()
        assert query_items(_Request(raw)) == _postgrest_pairs(raw.decode("latin-1")), text


@pytest.mark.parametrize(
    ("query", "pairs"),
    [
        (b"select=id;name=eq.apple", (("select", "id"), ("name", "eq.apple"))),
        (b"id&select=id", (("select", "id"),)),
        (b"id=&select=id", (("id", ""), ("select", "id"))),
        (b"a=1&&;b=2", (("a", "1"), ("b", "2"))),
        (b"note=eq.a%3Bb", (("note", "eq.a;b"),)),
        (b"note=eq.a+b%2Bc", (("note", "eq.a b+c"),)),
        (b"k=%Q", (("k", "%Q"),)),
    ],
)
def test_separators_and_valueless_parameters(query: bytes, pairs: tuple[tuple[str, str], ...]) -> None:
    assert query_items(_Request(query)) == pairs


def test_a_missing_query_string_has_no_pairs() -> None:
    request = _Request(b"")
    del request.scope["query_string"]
    assert query_items(request) == ()

"""The local stack reads a query string's pairs exactly as Starlette's ``request.query_params`` would
(``parse_qsl`` with blank values kept), also where it only splits a string that has nothing to unescape."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import parse_qsl

import pytest

from nexus_sdk.local._request import query_items

PIECES = ("a", "id", "=", "&", "eq.1", "%", "%41", "%e9", "+", ";", " ", "\u00e9", "*")


class _Request:
    def __init__(self, query_string: bytes) -> None:
        self.scope: dict[str, Any] = {"type": "http", "query_string": query_string}


def _every_query(longest: int) -> list[str]:
    return ["".join(parts) for n in range(longest + 1) for parts in itertools.product(PIECES, repeat=n)]


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4])
def test_every_short_query_string_gives_parse_qsls_pairs(length: int) -> None:
    for text in _every_query(length):
        raw = text.encode()
        expected = tuple(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
        assert query_items(_Request(raw)) == expected, text


def test_a_missing_query_string_has_no_pairs() -> None:
    request = _Request(b"")
    del request.scope["query_string"]
    assert query_items(request) == ()

"""A raw query string reaches the stack's planner as PostgREST reads it: ``;`` separates parameters as ``&``
does, and a parameter without ``=`` is left out (it is not a filter with an empty value)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _get(client: httpx.Client, query: str) -> httpx.Response:
    # The query string as written: httpx would escape a ';' given in params.
    return client.get(f"/stack_items?{query}")


def test_a_semicolon_separates_parameters(anon: httpx.Client, items: list[dict[str, Any]]) -> None:
    response = _get(anon, "select=name;name=eq.apple")
    assert response.status_code == 200, response.text
    assert response.json() == [{"name": "apple"}]


def test_an_escaped_semicolon_is_part_of_the_value(anon: httpx.Client, items: list[dict[str, Any]]) -> None:
    response = _get(anon, "select=name&name=eq.apple%3Bbanana")
    assert response.status_code == 200, response.text
    assert response.json() == []


def test_a_parameter_without_a_value_is_left_out(anon: httpx.Client, items: list[dict[str, Any]]) -> None:
    response = _get(anon, "name&select=name&order=id&limit")
    assert response.status_code == 200, response.text
    assert [row["name"] for row in response.json()] == [item["name"] for item in items]

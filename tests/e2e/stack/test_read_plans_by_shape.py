"""Reads that differ only in filter values share one plan (values bound as parameters), and each still
answers its own rows."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def test_reads_of_one_shape_answer_their_own_rows(anon: httpx.Client, items: list[dict[str, Any]]) -> None:
    for _ in range(3):
        for item in items:
            r = anon.get(f"/stack_items?id=eq.{item['id']}&select=name")
            assert r.json() == [{"name": item["name"]}]
            r = anon.get(f"/stack_items?id=neq.{item['id']}&qty=gte.0&select=name&order=id")
            assert item["name"] not in [row["name"] for row in r.json()]


@pytest.mark.usefixtures("items")
def test_values_that_are_rewritten_or_look_like_slots_are_read_exactly(anon: httpx.Client) -> None:
    for pattern, names in [("*ana*", ["banana"]), ("*err*", ["cherry"]), ("a*", ["apple"])]:
        assert [r["name"] for r in anon.get(f"/stack_items?name=like.{pattern}&select=name").json()] == names
    # A value holding the characters the plan cache uses for its slots is just a value.
    assert anon.get("/stack_items?name=eq.\ue0000\ue001&select=name").json() == []
    assert anon.get("/stack_items?name=eq.apple&note=eq.\ue0000\ue001").json() == []
    r = anon.get("/stack_items", params={"name": "in.(apple,cherry)", "qty": "gt.6", "select": "name"})
    assert r.json() == [{"name": "cherry"}]

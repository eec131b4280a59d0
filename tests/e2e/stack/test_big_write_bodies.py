"""Bulk writes with bodies over a megabyte (decoded element by element, sharing the event loop) are read
whole and exactly, and refused whole when malformed anywhere."""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk.local import _request

pytestmark = [pytest.mark.db, pytest.mark.e2e]

JSON = {"content-type": "application/json", "prefer": "return=minimal"}


def _rows(count: int) -> list[dict[str, Any]]:
    return [
        {"name": f"bulk-{n}", "qty": n, "data": {"n": n, "tags": ["a", "b"]}, "note": "x" * 200}
        for n in range(count)
    ]


def _count(db: psycopg.Connection[Any]) -> int:
    row = db.execute("SELECT count(*) FROM public.stack_items WHERE name LIKE 'bulk-%'").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.usefixtures("items")
def test_a_bulk_insert_over_a_megabyte_stores_every_row(
    service: httpx.Client, db: psycopg.Connection[Any]
) -> None:
    rows = _rows(6000)
    body = json.dumps(rows)
    assert len(body) > _request._BIG_BODY_CHARS
    response = service.post("/stack_items", content=body, headers=JSON)
    assert response.status_code == 201, response.text
    stored = db.execute(
        "SELECT name, qty, data, note FROM public.stack_items WHERE name LIKE 'bulk-%' ORDER BY qty"
    ).fetchall()
    assert [{"name": n, "qty": q, "data": d, "note": t} for n, q, d, t in stored] == rows


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize(
    "damage", ["trailing comma", "missing bracket", "text after", "bad element at the end"]
)
def test_a_big_body_malformed_anywhere_is_400_and_writes_nothing(
    service: httpx.Client, db: psycopg.Connection[Any], damage: str
) -> None:
    body = json.dumps(_rows(6000))
    body = {
        "trailing comma": body[:-1] + ",]",
        "missing bracket": body[:-1],
        "text after": body + " x",
        "bad element at the end": body[:-1] + ", {'name': 1}]",
    }[damage]
    response = service.post("/stack_items", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "PGRST102"
    assert _count(db) == 0

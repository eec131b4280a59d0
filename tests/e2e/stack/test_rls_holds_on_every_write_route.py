"""User A reaches none of user B's rows through any route of ``/rest/v1``, and no answer tells A about them.

Reads with ``Prefer: count=exact`` (GET and HEAD), a ``PATCH`` or ``DELETE`` whose filter matches every row,
upserts (``merge-duplicates`` and ``ignore-duplicates``) and a ``PUT`` aimed at B's primary key, and an
insert reusing it: each leaves B's row as it was, and a unique violation names no key (PostgreSQL leaves the
detail out where RLS applies).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local


@pytest.fixture
def two_users(
    stack: local.LocalStack, db: psycopg.Connection[Any]
) -> Iterator[tuple[httpx.Client, uuid.UUID]]:
    """A client signed in as A, and the id of B's note (B also exists, with one note)."""
    _, token_a = stack.create_user(f"rls-a-{uuid.uuid4().hex[:8]}@example.com")
    b_id, _ = stack.create_user(f"rls-b-{uuid.uuid4().hex[:8]}@example.com")
    note = uuid.uuid4()
    db.execute("INSERT INTO public.stack_notes (id, user_id, body) VALUES (%s, %s, 'B only')", (note, b_id))
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token_a}"}
    with httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30) as client:
        yield client, note


def _b_note(db: psycopg.Connection[Any], note: uuid.UUID) -> Any:
    return db.execute("SELECT body FROM public.stack_notes WHERE id = %s", (note,)).fetchall()


def test_reads_and_counts_see_only_your_rows(two_users: tuple[httpx.Client, uuid.UUID]) -> None:
    a, note = two_users
    a.post("/stack_notes", json={"body": "A's"})
    r = a.get("/stack_notes", headers={"Prefer": "count=exact"})
    assert [row["body"] for row in r.json()] == ["A's"]
    assert r.headers["content-range"] == "0-0/1"
    assert a.head("/stack_notes", headers={"Prefer": "count=exact"}).headers["content-range"] == "0-0/1"
    assert a.get("/stack_notes", params={"id": f"eq.{note}"}).json() == []


def test_wide_patch_and_delete_leave_others_rows(
    two_users: tuple[httpx.Client, uuid.UUID], db: psycopg.Connection[Any]
) -> None:
    a, note = two_users
    changed = a.patch(
        "/stack_notes",
        params={"body": "neq.x"},
        json={"body": "pwned"},
        headers={"Prefer": "return=representation"},
    )
    assert changed.status_code == 200
    assert changed.json() == []
    deleted = a.delete(
        "/stack_notes", params={"id": f"eq.{note}"}, headers={"Prefer": "return=representation"}
    )
    assert deleted.json() == []
    assert _b_note(db, note) == [("B only",)]


@pytest.mark.parametrize("resolution", ["merge-duplicates", "ignore-duplicates"])
def test_an_upsert_on_others_key_changes_nothing(
    two_users: tuple[httpx.Client, uuid.UUID], db: psycopg.Connection[Any], resolution: str
) -> None:
    a, note = two_users
    r = a.post(
        "/stack_notes",
        params={"on_conflict": "id"},
        json={"id": str(note), "body": "pwned"},
        headers={"Prefer": f"resolution={resolution},return=representation"},
    )
    if resolution == "merge-duplicates":
        assert (r.status_code, r.json()["code"]) == (403, "42501")
    else:
        assert r.json() == []
    assert "B only" not in r.text
    assert _b_note(db, note) == [("B only",)]


def test_put_and_insert_on_others_key_change_nothing_and_name_no_key(
    two_users: tuple[httpx.Client, uuid.UUID], db: psycopg.Connection[Any]
) -> None:
    a, note = two_users
    put = a.put("/stack_notes", params={"id": f"eq.{note}"}, json={"id": str(note), "body": "pwned"})
    assert put.status_code == 403
    dup = a.post("/stack_notes", json={"id": str(note), "body": "pwned"})
    assert (dup.status_code, dup.json()["code"], dup.json()["details"]) == (409, "23505", None)
    assert str(note) not in dup.text
    assert _b_note(db, note) == [("B only",)]

"""Fixtures for SQL-level tests: superuser connections, signed-up users, and PostgREST-style role switching."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
import pytest


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection (autocommit) to a fresh database with the schema applied."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        yield connection


MakeUser = Callable[..., uuid.UUID]


@pytest.fixture
def make_user() -> MakeUser:
    """``make_user(conn, email=None, meta=None) -> UUID``: sign a user up by inserting into ``auth.users``.

    The signup trigger creates the matching ``public.users`` row.
    """

    def _make_user(
        connection: psycopg.Connection[Any], email: str | None = None, meta: dict[str, Any] | None = None
    ) -> uuid.UUID:
        user_id = uuid.uuid4()
        connection.execute(
            "insert into auth.users (id, email, raw_user_meta_data) values (%s, %s, %s::jsonb)",
            (user_id, email or f"{user_id.hex[:10]}@example.test", json.dumps(meta or {})),
        )
        return user_id

    return _make_user


AsRole = Callable[..., AbstractContextManager[psycopg.Cursor[Any]]]


@pytest.fixture
def as_role() -> AsRole:
    """``with as_role(conn, role, sub=None) as cur:`` runs statements the way PostgREST runs a request.

    One transaction; ``set_config`` of ``role``, ``request.jwt.claims``, ``request.method`` and ``request.path``
    (all transaction-local); then the caller's statements; then ROLLBACK, so every cell of a matrix starts from
    the same data. A statement that fails aborts the block with its psycopg error.
    """

    @contextmanager
    def _as_role(
        connection: psycopg.Connection[Any],
        role: str,
        sub: uuid.UUID | str | None = None,
        *,
        method: str = "POST",
        path: str = "/",
    ) -> Iterator[psycopg.Cursor[Any]]:
        claims: dict[str, Any] = {"role": role}
        if sub is not None:
            claims.update(sub=str(sub), aud="authenticated")
        with connection.transaction(force_rollback=True), connection.cursor() as cur:
            cur.execute(
                "select set_config('role', %s, true), set_config('request.jwt.claims', %s, true),"
                " set_config('request.method', %s, true), set_config('request.path', %s, true)",
                (role, json.dumps(claims), method, path),
            )
            yield cur

    return _as_role

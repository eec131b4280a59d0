"""The local stack answers as PostgREST 14 does: every case of postgrest_cases.CASES, against the stack.

The schema (conformance_schema.sql) is created once per session database; the rows
(conformance_seed.sql) are restored before each case, so cases that write do not leak into others.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local

from .conftest import CONFORMANCE_SEED as SEED
from .postgrest_cases import ALICE, BOB, CASES, Case

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def _client(stack: local.LocalStack, role: str) -> httpx.Client:
    headers = {"apikey": stack.anon_key}
    if role == "service":
        headers["Authorization"] = f"Bearer {stack.service_role_key}"
    elif role in ("alice", "bob"):
        headers["Authorization"] = f"Bearer {stack.mint_token(ALICE if role == 'alice' else BOB)}"
    return httpx.Client(base_url=stack.rest_url, headers=headers, timeout=30)


def send(stack: local.LocalStack, case: Case) -> httpx.Response:
    """The case's request, sent as written (its path is not re-encoded)."""
    with _client(stack, case.role) as client:
        headers = dict(case.request_headers)
        content = None
        if case.content is not None:
            content = case.content.encode()
        elif case.has_body:
            content = json.dumps(case.body).encode()
            headers.setdefault("Content-Type", "application/json")
        return client.request(case.method, case.path, headers=headers, content=content)


def check(case: Case, r: httpx.Response) -> None:
    """Assert PostgREST's answer: status, body, headers."""
    assert r.status_code == case.status, r.text
    if case.has_json:
        assert r.json() == case.json
    if case.error is not None:
        body = r.json()
        assert set(body) == {"code", "details", "hint", "message"}, body
        for key, value in case.error.items():
            assert body[key] == value, (key, body)
    if case.text is not None:
        assert r.text == case.text
    for name, value in case.headers.items():
        assert r.headers.get(name) == value, (name, dict(r.headers))
    for name in case.absent:
        assert name not in r.headers, (name, dict(r.headers))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_answers_as_postgrest(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any], case: Case
) -> None:
    conformance_db.execute(SEED)
    check(case, send(stack, case))


def test_max_affected_rolls_back(stack: local.LocalStack, conformance_db: psycopg.Connection[Any]) -> None:
    conformance_db.execute(SEED)
    for case in CASES:
        if case.feature == "prefer" and case.name.startswith("max-affected") and case.status == 400:
            check(case, send(stack, case))
            assert conformance_db.execute("SELECT count(*), sum(n) FROM public.cf_counters").fetchone() == (
                3,
                14,
            )


def test_planned_count_is_the_planners_estimate(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    conformance_db.execute(SEED)
    # Rows the statistics do not know yet: the planner's estimate differs from the exact count.
    conformance_db.execute("INSERT INTO public.cf_log SELECT 'k' || i, i FROM generate_series(1, 500) i")
    plan = conformance_db.execute(
        "EXPLAIN (FORMAT JSON) SELECT 1 FROM public.cf_log WHERE v > 100"
    ).fetchone()
    assert plan is not None
    estimate = plan[0][0]["Plan"]["Plan Rows"]
    with _client(stack, "anon") as client:
        planned = client.get("/cf_log?v=gt.100&limit=1", headers={"Prefer": "count=planned"})
        exact = client.get("/cf_log?v=gt.100&limit=1", headers={"Prefer": "count=exact"})
    assert planned.headers["Content-Range"] == f"0-0/{estimate}"
    assert exact.headers["Content-Range"] == "0-0/400"
    assert estimate != 400


def test_estimated_count_beyond_max_rows_is_the_planners(
    stack: local.LocalStack, conformance_db: psycopg.Connection[Any]
) -> None:
    conformance_db.execute(SEED)
    max_rows = 1000
    conformance_db.execute(
        "INSERT INTO public.cf_log SELECT 'k' || i, i FROM generate_series(1, %s) i", [max_rows + 500]
    )
    plan = conformance_db.execute("EXPLAIN (FORMAT JSON) SELECT 1 FROM public.cf_log").fetchone()
    assert plan is not None
    estimate = plan[0][0]["Plan"]["Plan Rows"]
    with _client(stack, "anon") as client:
        r = client.get("/cf_log?limit=1", headers={"Prefer": "count=estimated"})
    assert r.headers["Content-Range"] == f"0-0/{estimate}"

"""The local stack answers as PostgREST 14 does: every case of postgrest_cases.CASES, against the stack.

The schema (conformance_schema.sql) is created once per session database; the rows
(conformance_seed.sql) are restored before each case, so cases that write do not leak into others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from nexus_sdk import local

from .conftest import CONFORMANCE_SEED as SEED
from .postgrest_cases import CASES, Case, check, client_as, send

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_answers_as_postgrest(case: Case, answers_as_postgrest: Callable[[Case], None]) -> None:
    answers_as_postgrest(case)


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
    with client_as(stack, "anon") as client:
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
    with client_as(stack, "anon") as client:
        r = client.get("/cf_log?limit=1", headers={"Prefer": "count=estimated"})
    assert r.headers["Content-Range"] == f"0-0/{estimate}"

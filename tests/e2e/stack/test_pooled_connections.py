"""A failed request never leaves its pooled connection unusable for the requests that follow it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.db, pytest.mark.e2e]


@pytest.mark.usefixtures("items")
def test_requests_with_a_role_that_does_not_exist_leave_the_pool_healthy(
    stack: Any, anon: httpx.Client
) -> None:
    bogus = stack.mint_token("00000000-0000-0000-0000-000000000009", role="no_such_role")
    for _ in range(60):
        # Other users' requests of the same shape run between the failures, as they do on a live stack.
        assert anon.get("/stack_items?id=eq.3").status_code == 200
        r = anon.get("/stack_items?id=eq.1", headers={"Authorization": f"Bearer {bogus}"})
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "22023"
    # Every connection of the pool has served some of the failures above; each must work now.
    for _ in range(60):
        r = anon.get("/stack_items?id=eq.1")
        assert r.status_code == 200, r.text
        assert [row["name"] for row in r.json()] == ["apple"]


@pytest.mark.usefixtures("items")
def test_failures_at_every_step_of_the_transaction_leave_the_pool_healthy(
    stack: Any, anon: httpx.Client
) -> None:
    bogus = stack.mint_token("00000000-0000-0000-0000-000000000009", role="no_such_role")
    singular = {"Accept": "application/vnd.pgrst.object+json"}
    for _ in range(30):
        r = anon.get("/stack_items?id=eq.2")
        assert r.status_code == 200, r.text
        r = anon.post("/rpc/add_them", json={"a": 1})
        assert r.status_code == 200, r.text
        # the settings fail; the statement fails; the row count fails a singular request (rolled back)
        assert (
            anon.get("/stack_items?id=eq.1", headers={"Authorization": f"Bearer {bogus}"}).status_code == 401
        )
        assert anon.post("/rpc/fail_with", json={"code": "P0001"}).status_code == 400
        assert anon.get("/stack_items", headers=singular).status_code == 406
        assert anon.get("/stack_items?id=eq.1", headers=singular).status_code == 200
    for _ in range(40):
        r = anon.get("/stack_items?id=eq.2")
        assert r.status_code == 200, r.text
        r = anon.post("/rpc/add_them", json={"a": 1})
        assert (r.status_code, r.json()) == (200, 11)

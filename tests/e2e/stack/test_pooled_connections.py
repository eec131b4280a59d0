"""A failed request never leaves its pooled connection unusable for the requests that follow it."""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
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


async def test_a_one_connection_pool_serves_requests_failures_reloads_and_overlapping_requests(
    stack: Any, one_connection_app: Any
) -> None:
    # The connection a request leaves for the next one still counts as the pool's: with a pool of one,
    # a schema reload and requests that overlap must all get it, and closing the app gives it back.
    app = one_connection_app(5.0)
    await app.open()
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://stack") as client:
            headers = {"apikey": stack.anon_key}
            for _ in range(3):
                r = await client.get("/rest/v1/stack_items?select=id&limit=1", headers=headers)
                assert r.status_code == 200, r.text
            # Writes commit and failures roll back on the same connection, between reads of one prepared shape.
            for n in range(8):
                r = await client.post(
                    "/rest/v1/stack_items", headers=headers, json={"name": f"pool {n}", "qty": n}
                )
                assert r.status_code == 201, r.text
            bogus = stack.mint_token("00000000-0000-0000-0000-000000000009", role="no_such_role")
            for _ in range(12):
                r = await client.get(
                    "/rest/v1/stack_items?select=id&limit=1",
                    headers={**headers, "Authorization": f"Bearer {bogus}"},
                )
                assert r.status_code == 401, r.text
                r = await client.get("/rest/v1/stack_items?select=id&limit=1", headers=headers)
                assert r.status_code == 200, r.text
            await asyncio.wait_for(app.reload(), 5.0)
            together = await asyncio.gather(
                *(client.get("/rest/v1/stack_items?select=id&limit=1", headers=headers) for _ in range(6))
            )
            assert [r.status_code for r in together] == [200] * 6
    finally:
        await asyncio.wait_for(app.close(), 10.0)
    assert app._pool.closed


@pytest.mark.usefixtures("items")
def test_clients_that_disconnect_before_their_answer_leave_the_stack_healthy(
    stack: Any, anon: httpx.Client
) -> None:
    # A browser tab closed, a client timing out: the request reached the stack and nobody reads the answer.
    # Each such request still runs its transaction on a pooled connection; none may be left holding one,
    # inside a transaction, or with prepared statements the stack no longer knows about.
    url = httpx.URL(stack.rest_url)
    assert url.host
    assert url.port
    paths = ["/stack_items?id=eq.1", "/stack_items?select=*,stack_children(*)", "/stack_items?id=eq.nope"]
    failures: list[str] = []
    rng = random.Random(16)

    def vanish(path: str, delay: float) -> None:
        with socket.create_connection((url.host, url.port)) as sock:
            request = f"GET {url.path}{path} HTTP/1.1\r\nHost: {url.host}\r\napikey: {stack.anon_key}\r\n\r\n"
            sock.sendall(request.encode())
            if delay:
                threading.Event().wait(delay)
            # An abortive close (RST), as a killed process leaves it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def read_while_others_vanish() -> None:
        for _ in range(20):
            r = anon.get("/stack_items?id=eq.1")
            if r.status_code != 200 or [row["name"] for row in r.json()] != ["apple"]:
                failures.append(f"{r.status_code} {r.text}")

    threads = [threading.Thread(target=read_while_others_vanish)]
    threads += [
        threading.Thread(target=vanish, args=(rng.choice(paths), rng.choice([0, 0, 0.0005, 0.002])))
        for _ in range(120)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures[:3]
    # Every connection the vanished requests used serves the next requests, of every shape, correctly.
    for _ in range(40):
        r = anon.get("/stack_items?id=eq.1")
        assert (r.status_code, [row["name"] for row in r.json()]) == (200, ["apple"]), r.text
        r = anon.get("/stack_items?select=id,stack_children(id)&id=eq.2")
        assert r.status_code == 200, r.text
        assert anon.get("/stack_items?id=eq.nope").status_code == 400

"""/auth/v1 answers a request that waited too long for a database connection as GoTrue answers a timeout:
504 ``request_timeout``, which supabase-js and supabase-py retry, never a 500."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import psycopg
import pytest

from nexus_sdk import local
from nexus_sdk.local._auth_app import AuthApp

pytestmark = [pytest.mark.db, pytest.mark.e2e]


async def test_a_request_that_cannot_get_a_connection_is_504(stack: local.LocalStack) -> None:
    email = f"busy-pool-{time.time_ns()}@example.com"
    user_id, _ = stack.create_user(email, password="secret-1")
    app = AuthApp(
        database_url=stack.database_url,
        jwt_secret=stack.jwt_secret,
        anon_key=stack.anon_key,
        service_role_key=stack.service_role_key,
        pool_min=1,
        pool_max=1,
        pool_timeout=0.5,
    )
    await app.open()
    transport = httpx.ASGITransport(app=app)
    credentials: dict[str, Any] = {"email": email, "password": "secret-1"}
    try:
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://local", headers={"apikey": stack.anon_key}
            ) as c,
            await psycopg.AsyncConnection.connect(stack.database_url) as locker,
        ):
            # The user's row is locked: a sign-in (which records last_sign_in_at) waits on it holding the
            # pool's only connection, so the next request finds none.
            await locker.execute("SELECT 1 FROM auth.users WHERE id = %s FOR UPDATE", (user_id,))
            first = asyncio.create_task(c.post("/auth/v1/token?grant_type=password", json=credentials))
            await asyncio.sleep(0.3)
            second = await c.post("/auth/v1/token?grant_type=password", json=credentials)
            await locker.rollback()
            assert (await first).status_code == 200
        assert second.status_code == 504
        assert second.json()["error_code"] == "request_timeout"
    finally:
        await app.close()

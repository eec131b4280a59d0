"""Refreshing one refresh token many times at once (two tabs, a retry storm) never forks its session: every
answer belongs to the same session, and the session keeps exactly one active refresh token."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import jwt
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


async def test_concurrent_refreshes_of_one_token_stay_in_one_session(stack: local.LocalStack) -> None:
    async with httpx.AsyncClient(
        base_url=f"{stack.url}/auth/v1", headers={"apikey": stack.anon_key}, timeout=30
    ) as auth:
        signed_up = await auth.post(
            "/signup", json={"email": f"refresh-race-{time.time_ns()}@example.com", "password": "secret-1"}
        )
        session: dict[str, Any] = signed_up.json()
        answers = await asyncio.gather(
            *(
                auth.post(
                    "/token",
                    params={"grant_type": "refresh_token"},
                    json={"refresh_token": session["refresh_token"]},
                )
                for _ in range(8)
            )
        )
    # Within GoTrue's reuse interval every caller is answered, all in the session the token belongs to.
    assert [r.status_code for r in answers] == [200] * 8
    first_session = jwt.decode(session["access_token"], options={"verify_signature": False})["session_id"]
    sessions = {
        jwt.decode(r.json()["access_token"], options={"verify_signature": False})["session_id"]
        for r in answers
    }
    assert sessions == {first_session}
    with psycopg.connect(stack.database_url) as db:
        active = db.execute(
            "SELECT count(*) FROM auth.refresh_tokens WHERE session_id = %s AND NOT revoked",
            (uuid.UUID(first_session),),
        ).fetchone()
        opened = db.execute(
            "SELECT count(*) FROM auth.sessions WHERE user_id = %s", (uuid.UUID(session["user"]["id"]),)
        ).fetchone()
    assert active == (1,)
    assert opened == (1,)

"""supabase-js (``@supabase/supabase-js`` from ``tests/js``, installed by ``make test`` with ``npm ci``),
unmodified, against the local stack's /auth/v1 and /rest/v1: the script ``tests/js/auth_flow.mjs`` runs the
flows and prints what it saw; this test checks it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from nexus_sdk import local
from nexus_sdk.testing import skip_unless_ci

pytestmark = [pytest.mark.db, pytest.mark.e2e]

JS_DIR = Path(__file__).resolve().parents[2] / "js"


def test_supabase_js_runs_the_auth_flows_and_rls(stack: local.LocalStack) -> None:
    node = shutil.which("node")
    if node is None or not (JS_DIR / "node_modules" / "@supabase" / "supabase-js").is_dir():
        skip_unless_ci("supabase-js is not installed: run `make test` (or `npm ci` in tests/js)")
    email = f"js-{time.time_ns()}@example.com"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "SUPABASE_URL": stack.url,
        "SUPABASE_ANON_KEY": stack.anon_key,
        "SUPABASE_SERVICE_ROLE_KEY": stack.service_role_key,
        "NEXUS_TEST_EMAIL": email,
    }
    done = subprocess.run(
        [node, "auth_flow.mjs"], cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])

    user_id = seen["signUp"]["id"]
    assert seen["signUp"]["hasSession"] is True
    assert seen["signUp"]["meta"]["full_name"] == "Js Ada"
    assert seen["weak"] == {"status": 422, "code": "weak_password", "name": "AuthWeakPasswordError"}
    assert seen["again"] == {"status": 422, "code": "user_already_exists"}
    assert seen["wrong"] == {
        "status": 400,
        "code": "invalid_credentials",
        "message": "Invalid login credentials",
    }
    assert seen["signIn"] == {"id": user_id, "expiresIn": 3600}
    assert seen["getUser"] == email
    assert seen["updateUser"] == "pro"
    # The signed-in session wrote a Nexus row as its user (RLS, auth.uid() default) and reads it back.
    assert seen["insertedOwner"] == user_id
    assert seen["refresh"] == {"rotated": True, "id": user_id}
    assert seen["rowsAfterRefresh"] == 1
    assert seen["afterSignOut"] == {"status": 400, "code": "refresh_token_not_found"}
    assert seen["anonymous"] == {"isAnonymous": True, "hasSession": True}
    assert seen["adminCreate"] == {
        "confirmed": True,
        "app": {"provider": "email", "providers": ["email"], "plan": "team"},
    }
    assert seen["adminList"]["count"] == 2
    assert seen["adminList"]["total"] >= 3
    assert seen["adminGet"] == f"admin-{email}"
    assert seen["adminUpdate"] == "Renamed"
    assert seen["adminGone"] == {"status": 404, "code": "user_not_found"}

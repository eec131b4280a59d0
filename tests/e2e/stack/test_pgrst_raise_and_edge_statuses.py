"""Error responses that PostgREST shapes specially: RAISE SQLSTATE 'PGRST', edge SQLSTATEs, bad bodies."""

from __future__ import annotations

import json

import httpx
import psycopg
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]

FUNCTIONS = """
CREATE OR REPLACE FUNCTION public.review_raise(msg text, det text DEFAULT NULL) RETURNS void
  LANGUAGE plpgsql AS $f$
BEGIN
  IF det IS NULL THEN
    RAISE SQLSTATE 'PGRST' USING MESSAGE = msg;
  END IF;
  RAISE SQLSTATE 'PGRST' USING MESSAGE = msg, DETAIL = det;
END $f$;
CREATE OR REPLACE FUNCTION public.review_two_rows() RETURNS integer
  LANGUAGE sql STABLE AS 'SELECT (SELECT g FROM generate_series(1, 2) g)';
GRANT EXECUTE ON FUNCTION public.review_raise(text, text), public.review_two_rows()
  TO anon, authenticated, service_role;
"""


@pytest.fixture(scope="module", autouse=True)
def _functions(stack: local.LocalStack) -> None:
    with psycopg.connect(stack.database_url, autocommit=True) as conn:
        conn.execute(FUNCTIONS.encode())
    stack.reload_schema()


def test_raise_pgrst_controls_status_headers_and_body(anon: httpx.Client) -> None:
    message = {"code": "123", "message": "Payment Required", "details": "Quota exceeded", "hint": "Upgrade"}
    detail = {"status": 402, "headers": {"X-Powered-By": "Nerd Rage", "Retry-After": "30"}}
    r = anon.post("/rpc/review_raise", json={"msg": json.dumps(message), "det": json.dumps(detail)})

    assert r.status_code == 402, r.text
    assert r.json() == message
    assert r.headers["x-powered-by"] == "Nerd Rage"
    assert r.headers["retry-after"] == "30"
    assert r.headers["content-type"].startswith("application/json")


def test_raise_pgrst_optional_keys_default_to_null(anon: httpx.Client) -> None:
    message = {"code": "rate_limited", "message": "Slow down"}
    detail = {"status": 429, "status_text": "Too Many Requests", "headers": {}}
    r = anon.get("/rpc/review_raise", params={"msg": json.dumps(message), "det": json.dumps(detail)})

    assert r.status_code == 429, r.text
    assert r.json() == {"code": "rate_limited", "details": None, "hint": None, "message": "Slow down"}


@pytest.mark.parametrize(
    ("msg", "det", "details", "hint_start"),
    [
        (
            "not json",
            '{"status": 400, "headers": {}}',
            "Invalid JSON value for MESSAGE: 'not json'",
            "MESSAGE",
        ),
        ('{"message": "no code"}', '{"status": 400, "headers": {}}', None, "MESSAGE"),
        ('{"code": "1", "message": "m"}', None, "DETAIL is missing in the RAISE statement", "DETAIL"),
        ('{"code": "1", "message": "m"}', '{"status": 400}', None, "DETAIL"),
        ('{"code": "1", "message": "m"}', '{"status": "x", "headers": {}}', None, "DETAIL"),
    ],
)
def test_raise_pgrst_that_cannot_be_parsed_is_pgrst121(
    anon: httpx.Client, msg: str, det: str | None, details: str | None, hint_start: str
) -> None:
    args = {"msg": msg} if det is None else {"msg": msg, "det": det}
    r = anon.post("/rpc/review_raise", json=args)

    assert r.status_code == 500, r.text
    body = r.json()
    assert body["code"] == "PGRST121"
    assert body["message"] == "Could not parse JSON in the \"RAISE SQLSTATE 'PGRST'\" error"
    if details is not None:
        assert body["details"] == details
    assert body["hint"].startswith(hint_start)


@pytest.mark.parametrize(
    ("sqlstate", "status"),
    [("57P01", 503), ("PTABC", 500)],
)
def test_sqlstates_postgrest_special_cases(anon: httpx.Client, sqlstate: str, status: int) -> None:
    r = anon.post("/rpc/fail_with", json={"code": sqlstate, "msg": f"failed {sqlstate}"})

    assert r.status_code == status, r.text
    assert r.json()["code"] == sqlstate


def test_cardinality_violation_outside_safeupdate_is_a_server_error(anon: httpx.Client) -> None:
    # 21000 is a client error only for pg-safeupdate's "... requires a WHERE clause"; a view or function
    # whose scalar subquery returns two rows is the server's fault, as in PostgREST.
    r = anon.get("/rpc/review_two_rows")

    assert r.status_code == 500, r.text
    assert r.json()["code"] == "21000"
    r = anon.delete("/stack_items")
    assert (r.status_code, r.json()["code"]) == (400, "21000")


def test_jwt_role_that_does_not_exist_is_401(stack: local.LocalStack, anon: httpx.Client) -> None:
    token = stack.mint_token("00000000-0000-0000-0000-00000000000b", role="review_no_such_role")
    r = anon.get("/stack_items", headers={"Authorization": f"Bearer {token}"})

    assert r.status_code == 401, r.text
    assert r.json()["code"] == "22023"
    assert r.headers["www-authenticate"] == "Bearer"
    assert token not in r.text


def test_permission_denied_for_anon_asks_for_a_bearer_token(anon: httpx.Client) -> None:
    r = anon.get("/stack_secret")

    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.usefixtures("items")
@pytest.mark.parametrize("path", ["/stack_items", "/rpc/add_them"])
def test_body_that_is_not_utf8_is_400_pgrst102(anon: httpx.Client, path: str) -> None:
    r = anon.post(path, content=b'{"name": "\xff\xfe"}', headers={"Content-Type": "application/json"})

    assert r.status_code == 400, r.text
    assert r.json()["code"] == "PGRST102"
    r = anon.patch(
        "/stack_items",
        params={"id": "eq.1"},
        content=b'{"name": "\xc3"}',
        headers={"Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "PGRST102")

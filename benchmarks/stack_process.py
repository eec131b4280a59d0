"""A local stack in a process of its own, for benchmarks that must not count the client's cost as the server's.

Run by ``bench_stack.py``: prints one JSON line (url, keys, database URL), then answers commands on stdin:
``capture`` starts recording the statements the stack sends (each pipeline's steps), ``dump PATH`` writes
the recorded calls (query text and parameters) to PATH as JSON and stops recording, ``cpu`` prints the CPU
seconds the process has used, ``floor PATH`` starts the floor server (below) on the transaction recorded
in PATH and prints its port. End of input stops the stack.

The floor server is the least an HTTP server in Python can do for the same request: asyncio (uvloop) and
httptools parsing the request, the same one-round-trip pipeline the stack sends (``_pipeline.execute``:
BEGIN READ ONLY, the settings, the statement with the id from the URL, the response settings, COMMIT) on
one connection, the body written with a fixed head. No routing, keys, JWT, negotiation, pool or
framework: what is left when all of those cost nothing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
import urllib.parse
import warnings
from typing import Any

import httptools
import psycopg
import uvloop

from nexus_sdk import local
from nexus_sdk.local import _pipeline

warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")


def _as_text(query: bytes) -> str:
    return query.decode()


class _FloorProtocol(asyncio.Protocol):
    def __init__(self, conn: psycopg.AsyncConnection[Any], steps: list[tuple[bytes, Any]], slot: str) -> None:
        self.conn = conn
        self.steps = steps
        self.slot = slot
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's, not an asyncio.Transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_message_complete(self) -> None:
        asyncio.get_running_loop().create_task(self.answer(self.url))

    async def answer(self, url: bytes) -> None:
        query = urllib.parse.parse_qs(url.partition(b"?")[2].decode())
        row_id = query["id"][0].removeprefix("eq.")
        steps = []
        for text, params in self.steps:
            if params is not None and self.slot in params:
                params = {**params, self.slot: row_id}
            steps.append(_pipeline.Step(text, params, prepare=not text.startswith((b"BEGIN", b"COMMIT"))))
        results = await _pipeline.execute(self.conn, steps)
        row = _pipeline.first_row(self.conn, results[2])
        assert row is not None
        assert self.transport is not None
        body = row[2].encode()
        self.transport.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/vnd.pgrst.object+json; charset=utf-8\r\n"
            b"content-length: %d\r\n\r\n%s" % (len(body), body)
        )


def _start_floor(conninfo: str, calls: list[tuple[str, Any]]) -> int:
    """Serve the floor on a free port from a thread of its own; return the port."""
    steps = [(text.encode(), params) for text, params in calls]
    statement_params = calls[2][1]
    slot = next(iter(statement_params))
    started = threading.Event()
    port: list[int] = []

    async def serve() -> None:
        conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
        server = await asyncio.get_running_loop().create_server(
            lambda: _FloorProtocol(conn, steps, slot), "127.0.0.1", 0
        )
        port.append(server.sockets[0].getsockname()[1])
        started.set()
        await server.serve_forever()

    threading.Thread(target=uvloop.run, args=(serve(),), daemon=True).start()
    started.wait(30)
    return port[0]


def main() -> None:
    calls: list[tuple[str, Any]] = []
    original = _pipeline.execute

    async def spy(conn: Any, steps: Any) -> Any:
        calls.extend((_as_text(step.query), step.params) for step in steps)
        return await original(conn, steps)

    with local.start(port=0) as stack:
        state = {
            "url": stack.url,
            "anon_key": stack.anon_key,
            "jwt_secret": stack.jwt_secret,
            "database_url": stack.database_url,
        }
        print(json.dumps(state), flush=True)
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "capture":
                calls.clear()
                _pipeline.execute = spy  # type: ignore[assignment]  # only while capturing: no cost otherwise
            elif command == "cpu":
                print(f"{time.process_time()}", flush=True)  # nanoseconds, where os.times() ticks by 10 ms
            elif command == "dump":
                _pipeline.execute = original  # type: ignore[assignment]
                with open(arg, "w") as fh:
                    json.dump(calls, fh)
            elif command == "floor":
                with open(arg) as fh:
                    recorded = json.load(fh)
                print(_start_floor(stack._thread.app._conninfo, recorded), flush=True)
            print("ok", flush=True)


if __name__ == "__main__":
    main()

"""A local stack in a process of its own, for benchmarks that must not count the client's cost as the server's.

Run by ``bench_stack.py``: prints one JSON line (url, keys, database URL), then answers commands on stdin:
``capture`` starts recording the statements the stack's driver runs, ``dump PATH`` writes the recorded
calls (query bytes and parameters) to PATH as JSON and stops recording, ``cpu`` prints the CPU seconds the
process has used. End of input stops the stack.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import psycopg
from psycopg import sql

from nexus_sdk import local

warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")


def _as_bytes(query: Any) -> str:
    if isinstance(query, bytes):
        return query.decode()
    if isinstance(query, str):
        return query
    if isinstance(query, sql.Composable):
        return query.as_string(None)
    raise TypeError(type(query))


def main() -> None:
    calls: list[tuple[str, Any]] = []
    recording = False
    original = psycopg.AsyncConnection.execute

    async def spy(conn: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        if recording:
            calls.append((_as_bytes(query), params))
        return await original(conn, query, params, **kwargs)

    psycopg.AsyncConnection.execute = spy  # type: ignore[method-assign,assignment]
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
                recording = True
            elif command == "cpu":
                times = os.times()
                print(f"{times.user + times.system}", flush=True)
            elif command == "dump":
                recording = False
                with open(arg, "w") as fh:
                    json.dump(calls, fh)
            print("ok", flush=True)


if __name__ == "__main__":
    main()

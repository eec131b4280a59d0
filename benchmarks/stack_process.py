"""A local stack in a process of its own, for benchmarks that must not count the client's cost as the server's.

Run by ``bench_stack.py``: prints one JSON line (url, keys, database URL), then answers commands on stdin:
``capture`` starts recording the statements the stack sends (each pipeline's steps), ``dump PATH`` writes the recorded
calls (query bytes and parameters) to PATH as JSON and stops recording, ``cpu`` prints the CPU seconds the
process has used. End of input stops the stack.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

from psycopg import sql

from nexus_sdk import local
from nexus_sdk.local import _pipeline

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
    original = _pipeline.execute

    async def spy(conn: Any, steps: Any) -> Any:
        if recording:
            calls.extend((_as_bytes(step.query), step.params) for step in steps)
        return await original(conn, steps)

    _pipeline.execute = spy  # type: ignore[assignment]
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

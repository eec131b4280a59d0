"""Read 1000 published_posts rows: nexus-sdk into typed models vs the official postgrest client into dicts.

Both clients talk to the same in-process transport (httpx.MockTransport) returning the same JSON body, so
the difference is the client-side cost: building the request, parsing and (for us) validating rows.

Two comparisons, each timed call by call with the sides interleaved (the order alternates every round, so
a burst of load on the machine hits both alike), the garbage collector left on as users have it:

- ``list``: the call alone.
- ``list + read``: the call, then every row's ``id``, ``status``, ``content`` and ``metrics.views`` read,
  so a result that defers its work to first access cannot look faster than it is.

Printed: the median (typical call) and the mean (which includes the collector's pauses, the cost of the
objects a result leaves behind) of each side, their ratios, and the targets beside them.
Run: ``PYTHONPATH=src python benchmarks/bench_read.py [rounds]`` (default 300).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx

URL = "https://bench.supabase.co"
REST = URL + "/rest/v1"
KEY = "bench-anon-key"
ROWS = 1000
ROUNDS = 300
TARGET_MEDIAN = 1.25
TARGET_MEAN = 1.4


def make_body() -> bytes:
    user_id = str(uuid.uuid4())
    now = dt.datetime(2025, 2, 10, 12, 0, tzinfo=dt.UTC)
    rows = [
        {
            "id": str(uuid.uuid4()),
            "user_id": user_id,
            "adaptation_id": str(uuid.uuid4()),
            "platform_connection_id": str(uuid.uuid4()),
            "platform": ("linkedin", "x", "substack")[i % 3],
            "platform_post_id": f"post-{i}",
            "status": "published",
            "content": f"Post number {i}: " + "lorem ipsum " * 20,
            "metadata": {"thread": i % 2 == 0, "source": "bench"},
            "metrics": {
                "views": i * 10,
                "likes": i,
                "comments": i % 7,
                "shares": i % 3,
                "engagement_rate": 0.04,
            },
            "scheduled_for": None,
            "published_at": (now + dt.timedelta(minutes=i)).isoformat(),
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        for i in range(ROWS)
    ]
    return json.dumps(rows).encode()


def interleaved(sides: dict[str, Callable[[], Any]], rounds: int) -> dict[str, list[float]]:
    """Each side's call durations, the sides called in turn (rotating the order) ``rounds`` times."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for index in range(rounds):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            result = sides[name]()
            samples[name].append(time.perf_counter() - started)
            del result  # dropped before the next call, as a caller that moves on would
    return samples


def main() -> None:
    from postgrest import SyncPostgrestClient

    from nexus_sdk import NexusClient

    body = make_body()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    ours_http = httpx.Client(transport=httpx.MockTransport(handler))
    theirs_http = httpx.Client(transport=httpx.MockTransport(handler), base_url=REST)
    nx = NexusClient(URL, KEY, http_client=ours_http)
    official = SyncPostgrestClient(REST, headers={"apikey": KEY}, http_client=theirs_http)

    def ours() -> Any:
        rows = nx.published_posts.list(limit=ROWS)
        assert len(rows) == ROWS
        return rows

    def theirs() -> Any:
        rows = official.from_("published_posts").select("*").limit(ROWS).execute().data
        assert len(rows) == ROWS
        return rows

    def ours_read() -> Any:
        rows = ours()
        views = 0
        for row in rows:
            _ = (row.id, row.status, row.content)
            views += row.metrics.views
        return rows

    def theirs_read() -> Any:
        rows = theirs()
        views = 0
        for row in rows:
            _ = (row["id"], row["status"], row["content"])
            views += row["metrics"]["views"]
        return rows

    sides = {"ours": ours, "theirs": theirs, "ours_read": ours_read, "theirs_read": theirs_read}
    interleaved(sides, 10)  # warm up: imports, schema building, caches
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS
    samples = interleaved(sides, rounds)
    ours_http.close()
    theirs_http.close()

    print(f"{ROWS} rows, {rounds} interleaved rounds, garbage collector on")
    print(f"{'':34} {'median':>9} {'mean':>9}")
    for label, ours_key, theirs_key in (
        ("list", "ours", "theirs"),
        ("list + read id/status/content/views", "ours_read", "theirs_read"),
    ):
        mine, other = samples[ours_key], samples[theirs_key]
        print(f"{label}:")
        for name, values in (("  nexus-sdk (typed models)", mine), ("  postgrest (dicts)", other)):
            print(
                f"{name:34} {statistics.median(values) * 1e3:7.2f}ms {statistics.mean(values) * 1e3:7.2f}ms"
            )
        median_ratio = statistics.median(mine) / statistics.median(other)
        mean_ratio = statistics.mean(mine) / statistics.mean(other)
        print(
            f"{'  ratio':34} {median_ratio:8.2f}x {mean_ratio:8.2f}x"
            f"   (targets: median <= {TARGET_MEDIAN}x, mean <= {TARGET_MEAN}x)"
        )


if __name__ == "__main__":
    main()

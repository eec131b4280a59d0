"""Read 1000 published_posts rows: nexus-sdk into typed models vs the official postgrest client into dicts.

Both clients talk to the same in-process transport (httpx.MockTransport) returning the same JSON body, so
the difference is the client-side cost: building the request, parsing and (for us) validating rows.
Target: at most 1.25x. Run: `.venv/bin/python benchmarks/bench_read.py`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable

import httpx

URL = "https://bench.supabase.co"
REST = URL + "/rest/v1"
KEY = "bench-anon-key"
ROWS = 1000
REPEAT = 30


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


def timed(fn: Callable[[], int]) -> float:
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        count = fn()
        samples.append(time.perf_counter() - started)
        assert count == ROWS
    # The minimum is the least disturbed run (the timeit convention); noise only ever adds time.
    return min(samples)


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

    def read_ours() -> int:
        return len(nx.published_posts.list(limit=ROWS))

    def read_theirs() -> int:
        return len(official.from_("published_posts").select("*").limit(ROWS).execute().data)

    for fn in (read_ours, read_theirs):  # warm up: imports, schema building, caches
        fn()
    # Alternate the two so a burst of load on the machine hits both alike.
    ours = theirs = float("inf")
    for _ in range(3):
        ours, theirs = min(ours, timed(read_ours)), min(theirs, timed(read_theirs))
    print(f"nexus-sdk (typed models): {ours * 1000:8.2f} ms  (best of {REPEAT})")
    print(f"postgrest (dicts):        {theirs * 1000:8.2f} ms  (best of {REPEAT})")
    print(f"ratio: {ours / theirs:.2f}x  (target <= 1.25x)")
    ours_http.close()
    theirs_http.close()


if __name__ == "__main__":
    main()

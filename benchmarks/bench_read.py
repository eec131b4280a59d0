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
Run: ``PYTHONPATH=src python benchmarks/bench_read.py [rounds] [--breakdown]`` (default 300 rounds).
``--breakdown`` also times the same call with rows built as models that each give up one thing (the nested
metrics model, UUID ids, every typed column), to show what each costs and where the floor is.
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


def _variants() -> dict[str, Any]:
    """Row models that give up one thing each: what that thing costs, and the floor without all of them."""
    from pydantic import ConfigDict, create_model

    from nexus_sdk.models import PublishedPost

    def variant(name: str, **types: Any) -> Any:
        fields: dict[str, Any] = {}
        for field, info in PublishedPost.model_fields.items():
            annotation = types.get(field, info.annotation)
            fields[field] = (annotation, ... if info.is_required() else None)
        return create_model(name, __config__=ConfigDict(frozen=True, extra="ignore"), **fields)

    ids = {"id": str, "user_id": str, "adaptation_id": str | None, "platform_connection_id": str | None}
    times = dict.fromkeys(("scheduled_for", "published_at", "created_at", "updated_at"), str | None)
    return {
        "metrics as a dict (no nested model)": variant("NoDocument", metrics=dict[str, Any] | None),
        "ids as str (no UUID objects)": variant("StrIds", **ids),
        "every column str, metrics a dict (floor)": variant(
            "AllStr", metrics=dict[str, Any] | None, status=str, **ids, **times
        ),
    }


def main() -> None:
    from postgrest import SyncPostgrestClient

    from nexus_sdk import NexusClient
    from nexus_sdk.models._base import validate_rows

    arguments = [argument for argument in sys.argv[1:] if not argument.startswith("--")]
    breakdown = "--breakdown" in sys.argv[1:]
    rounds = int(arguments[0]) if arguments else ROUNDS
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

    sides: dict[str, Callable[[], Any]] = {
        "ours": ours,
        "theirs": theirs,
        "ours_read": ours_read,
        "theirs_read": theirs_read,
    }
    clients = []
    if breakdown:
        # The same client and request, the rows built as another model (a private hook, benchmark only).
        for label, model in _variants().items():
            client = NexusClient(URL, KEY, http_client=httpx.Client(transport=httpx.MockTransport(handler)))
            client.published_posts._core.decode_rows = (  # type: ignore[method-assign]
                lambda content, model=model: validate_rows(model, content)
            )
            clients.append(client)
            sides[label] = lambda client=client: client.published_posts.list(limit=ROWS)
    interleaved(sides, 10)  # warm up: imports, schema building, caches
    samples = interleaved(sides, rounds)
    ours_http.close()
    theirs_http.close()
    for client in clients:
        client.close()

    print(f"{ROWS} rows, {rounds} interleaved rounds, garbage collector on")
    print(f"{'':40} {'median':>9} {'mean':>9}")
    for label, ours_key, theirs_key in (
        ("list", "ours", "theirs"),
        ("list + read id/status/content/views", "ours_read", "theirs_read"),
    ):
        mine, other = samples[ours_key], samples[theirs_key]
        print(f"{label}:")
        for name, values in (("  nexus-sdk (typed models)", mine), ("  postgrest (dicts)", other)):
            print(
                f"{name:40} {statistics.median(values) * 1e3:7.2f}ms {statistics.mean(values) * 1e3:7.2f}ms"
            )
        median_ratio = statistics.median(mine) / statistics.median(other)
        mean_ratio = statistics.mean(mine) / statistics.mean(other)
        print(
            f"{'  ratio':40} {median_ratio:8.2f}x {mean_ratio:8.2f}x"
            f"   (targets: median <= {TARGET_MEDIAN}x, mean <= {TARGET_MEAN}x)"
        )
    if breakdown:
        print("where it goes: list with rows built as other models, ratio to postgrest (median, mean)")
        other = samples["theirs"]
        for label in _variants():
            mine = samples[label]
            print(
                f"  {label:38} {statistics.median(mine) / statistics.median(other):8.2f}x"
                f" {statistics.mean(mine) / statistics.mean(other):8.2f}x"
            )


if __name__ == "__main__":
    main()

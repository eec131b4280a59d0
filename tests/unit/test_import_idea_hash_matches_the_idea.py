"""An imported idea's ``idea_hash`` must be its ``original_idea``'s: a stale hash (the idea edited after an
export) is refused with the way out, before anything is sent. (The rows that pass, through the local stack:
``tests/e2e/sdk/test_import_idea_hash.py``.)

No server: refused rows are never sent (an unreachable URL proves it).
"""

from __future__ import annotations

import json
from pathlib import Path

from nexus_sdk import NexusClient
from nexus_sdk.io import import_file
from nexus_sdk.models._fields import sha256_hex

NO_SERVER = "http://127.0.0.1:9"
USER = "8d3490d0-0393-4c4c-b6f3-b5c7dd1e4572"


def test_an_idea_edited_after_export_is_refused_with_the_way_out(tmp_path: Path) -> None:
    path = tmp_path / "ideas.jsonl"
    rows = [
        {
            "original_idea": "Ship small, ship often (edited)",
            "idea_hash": sha256_hex("Ship small, ship often"),
        },
        {"original_idea": "Write the test first", "idea_hash": "0" * 64},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    with NexusClient(NO_SERVER, "service-role-key") as client:
        report = import_file(
            client, "content_adaptations", path, user_id=USER, rejects_path=None, checkpoint=None
        )

    assert [r.line for r in report.rejects] == [1, 2]
    assert all("leave idea_hash empty" in r.reason for r in report.rejects)
    assert report.inserted == 0

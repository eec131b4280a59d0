"""Rows and list() results show in Jupyter as HTML tables: readable ids and times, escaped, secrets masked."""

from __future__ import annotations

import datetime as dt
import html.parser
import uuid
from typing import Any

import httpx

from nexus_sdk import NexusClient
from nexus_sdk._results import RowList
from nexus_sdk.models import PlatformConnection, PublishedPost
from nexus_sdk.models._html import MAX_ROWS, MAX_TEXT

POST_ID = uuid.UUID("3f2b8c1e-4a5d-4e6f-8a7b-9c0d1e2f3a4b")
USER_ID = uuid.UUID("11111111-2222-4333-8444-555555555555")


class _Table(html.parser.HTMLParser):
    """The header and the cells of the first table, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.header: list[str] = []
        self.rows: list[list[str]] = []
        self.tail = ""
        self._cell: str | None = None
        self._in_p = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "p":
            self._in_p = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            (self.header if tag == "th" else self.rows[-1]).append(self._cell)
            self._cell = None
        elif tag == "p":
            self._in_p = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell += data
        elif self._in_p:
            self.tail += data


def _parse(text: str) -> _Table:
    table = _Table()
    table.feed(text)
    table.rows = [row for row in table.rows if row]
    return table


def _post(index: int = 0, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": str(POST_ID),
        "user_id": str(USER_ID),
        "platform": "linkedin",
        "status": "published",
        "content": f"post {index}",
        "metrics": {"views": 12, "engagement_rate": 0.5},
        "published_at": "2025-02-10T12:30:05+00:00",
        "scheduled_for": "2025-02-10T14:30:05+02:00",
        "created_at": "2025-02-10T12:00:00+00:00",
        "updated_at": "2025-02-10T12:00:00+00:00",
    }
    row.update(overrides)
    return row


def test_a_row_shows_readable_ids_times_enums_and_documents() -> None:
    post = PublishedPost.model_validate(_post())
    table = _parse(post._repr_html_())
    assert table.header == list(PublishedPost.model_fields)
    cells = dict(zip(table.header, table.rows[0], strict=True))
    assert cells["id"] == str(POST_ID)
    assert cells["status"] == "published"
    assert cells["published_at"] == "2025-02-10 12:30:05 UTC"
    assert cells["scheduled_for"] == "2025-02-10 14:30:05+02:00"
    assert cells["metrics"] == '{"views": 12, "engagement_rate": 0.5}'
    assert cells["adaptation_id"] == ""  # None shows as an empty cell
    assert table.tail == "1 PublishedPost row"


def test_values_are_escaped_and_long_text_is_cut() -> None:
    post = PublishedPost.model_validate(_post(content="<script>alert(1)</script>" + "x" * 200))
    text = post._repr_html_()
    assert "<script>" not in text
    content = dict(zip(_parse(text).header, _parse(text).rows[0], strict=True))["content"]
    assert content.startswith("<script>alert(1)</script>xx")  # the parser unescapes: shown as typed
    assert len(content) == MAX_TEXT
    assert content.endswith("…")


def test_secrets_are_masked() -> None:
    connection = PlatformConnection.model_validate(
        {
            "id": str(uuid.uuid4()),
            "user_id": str(USER_ID),
            "platform": "x",
            "platform_user_id": "42",
            "access_token": "tok-very-secret",
            "refresh_token": "refresh-very-secret",
            "is_active": True,
            "created_at": "2025-02-10T12:00:00+00:00",
            "updated_at": "2025-02-10T12:00:00+00:00",
        }
    )
    text = connection._repr_html_()
    assert "very-secret" not in text
    assert "**********" in text


def test_a_long_list_shows_its_first_and_last_rows_and_the_count() -> None:
    rows = RowList([PublishedPost.model_validate(_post(i)) for i in range(50)], PublishedPost)
    table = _parse(rows._repr_html_())
    contents = [row[table.header.index("content")] for row in table.rows]
    half = MAX_ROWS // 2
    assert contents == [f"post {i}" for i in range(half)] + ["…"] + [
        f"post {i}" for i in range(50 - half, 50)
    ]
    assert table.tail == "50 PublishedPost rows"


def test_an_empty_list_still_shows_its_columns() -> None:
    table = _parse(RowList([], PublishedPost)._repr_html_())
    assert table.header == list(PublishedPost.model_fields)
    assert table.rows == []
    assert table.tail == "0 PublishedPost rows"


def test_list_results_from_the_client_display_as_a_table() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[_post(0), _post(1)])

    with NexusClient(
        "https://nexus.test", "anon-key", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as nx:
        rows = nx.published_posts.list(limit=2)
    table = _parse(rows._repr_html_())
    assert [row[table.header.index("content")] for row in table.rows] == ["post 0", "post 1"]
    assert table.tail == "2 PublishedPost rows"
    assert dt.datetime(2025, 2, 10, 12, 30, 5, tzinfo=dt.UTC) == rows[0].published_at

"""A big JSON body is decoded without holding the local stack's other clients: same result as json.loads."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nexus_sdk.local import _request

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


def _outcome(parse: Any, text: str) -> tuple[str, Any]:
    try:
        return "ok", parse(text)
    except ValueError:
        return "refused", None


@pytest.fixture
def every_body_is_big(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_request, "_BIG_BODY_CHARS", 0)


@pytest.mark.usefixtures("every_body_is_big")
@given(st.lists(_json_values, max_size=6), st.sampled_from(["", " ", "\n\t", "\r\n  "]))
def test_an_array_decodes_as_json_loads_decodes_it(items: list[Any], space: str) -> None:
    text = space + "[" + space + ("," + space).join(json.dumps(item) for item in items) + space + "]" + space
    assert asyncio.run(_request._loads_sharing_the_loop(text)) == json.loads(text)


@pytest.mark.usefixtures("every_body_is_big")
@pytest.mark.parametrize(
    "text",
    [
        "[",
        "[1",
        "[1,]",
        "[,1]",
        "[1 2]",
        "[1]x",
        "[ ]]",
        "[1,\n]",
        '[{"a":1},',
        "[1]]",
        "[]",
        " [ ] ",
        '"[x"',
        "{}",
    ],
)
def test_malformed_arrays_are_refused_as_json_loads_refuses_them(text: str) -> None:
    def ours(body: str) -> Any:
        return asyncio.run(_request._loads_sharing_the_loop(body))

    assert _outcome(ours, text) == _outcome(json.loads, text)


def test_other_requests_run_while_a_big_array_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_request, "_BIG_BODY_CHARS", 0)
    monkeypatch.setattr(_request, "_PARSE_SLICE_SECONDS", 0.0)  # a turn for the others after every element
    text = json.dumps([{"n": n} for n in range(50)])
    turns = 0

    async def other_client() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def main() -> Any:
        other = asyncio.create_task(other_client())
        await asyncio.sleep(0)  # the other task is running
        before = turns
        decoded = await _request._loads_sharing_the_loop(text)
        during = turns - before
        other.cancel()
        return decoded, during

    decoded, during = asyncio.run(main())
    assert decoded == json.loads(text)
    assert during >= 49  # one turn between each two elements

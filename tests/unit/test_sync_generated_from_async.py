"""The sync facades are generated from the async ones (tools/async_to_sync.py), and a stale copy fails lint."""

from __future__ import annotations

import importlib.util
import inspect
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

from nexus_sdk import AsyncNexusClient, NexusClient, repositories

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "async_to_sync.py"
BASE = ROOT / "src" / "nexus_sdk" / "repositories" / "_base.py"
MARKER = "# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line."


def check(*files: pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOL), "--check", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_every_generated_part_is_current() -> None:
    result = check()
    assert result.returncode == 0, result.stderr


def test_a_hand_edited_generated_part_fails_the_check(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "_base.py"
    shutil.copy(BASE, module)
    text = module.read_text()
    head, _, generated = text.partition(MARKER)
    edited = generated.replace(
        "return self._sender.run(self._core.get(id, timeout=timeout))", "return None", 1
    )
    assert edited != generated
    module.write_text(head + MARKER + edited)
    result = check(module)
    assert result.returncode == 1
    assert str(module) in result.stderr
    assert check(module).returncode == 1  # --check never writes


def test_an_async_change_not_regenerated_fails_the_check(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "_base.py"
    text = BASE.read_text()
    head, _, generated = text.partition(MARKER)
    changed = head.replace("Fetch one row by its id.", "Fetch a row by its id.", 1)
    assert changed != head
    module.write_text(changed + MARKER + generated)
    assert check(module).returncode == 1
    # Regenerating carries the change to the sync side, and the check passes again.
    subprocess.run([sys.executable, str(TOOL), str(module)], check=True, capture_output=True, cwd=ROOT)
    assert "Fetch a row by its id." in module.read_text().partition(MARKER)[2]
    assert check(module).returncode == 0


FACADES = [
    (AsyncNexusClient, NexusClient),
    *[
        (getattr(repositories, name), getattr(repositories, name.removeprefix("Async")))
        for name in repositories.__all__
        if name.startswith("Async")
    ],
]


@pytest.mark.parametrize(("async_class", "sync_class"), FACADES, ids=lambda c: c.__name__)
def test_both_sides_have_the_same_methods_and_full_docstrings(async_class: type, sync_class: type) -> None:
    public = {name for name in dir(async_class) if not name.startswith("_")}
    assert public == {name for name in dir(sync_class) if not name.startswith("_")}
    for name in public:
        async_member, sync_member = getattr(async_class, name), getattr(sync_class, name)
        if not callable(async_member) or isinstance(async_member, type):
            continue
        assert inspect.iscoroutinefunction(sync_member) is False, name
        doc = inspect.getdoc(async_member) or ""
        assert doc, f"{async_class.__name__}.{name} has no docstring"
        parameters = [p for p in inspect.signature(async_member).parameters if p not in {"self", "cls"}]
        if parameters:
            assert "Args:" in doc, f"{async_class.__name__}.{name}"
            assert "Args:" in (inspect.getdoc(sync_member) or ""), f"{sync_class.__name__}.{name}"


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("async_to_sync", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SMALL = '''
class AsyncRead:
    """Reads with ``AsyncRead``: ``async for row in AsyncRead().rows()``."""

    limit: int = 3
    """How many rows, at most."""

    async def rows(self) -> AsyncIterator[int]:  # type: ignore[misc]
        async with self._lock:
            for row in await self._sender.run(1):
                yield row

    async def close(self) -> None:
        await self._http.aclose()
'''


def test_the_transform_works_on_the_syntax_tree() -> None:
    generated = _tool().generate(SMALL, "small.py").partition(MARKER)[2]
    generated = generated[generated.index("class SyncRead") :]
    assert "class SyncRead:" in generated
    assert '"""Reads with ``SyncRead``: ``for row in SyncRead().rows()``."""' in generated
    assert '"""How many rows, at most."""' in generated
    assert "def rows(self) -> Iterator[int]:  # type: ignore[misc]" in generated
    assert "with self._lock:" in generated
    assert "yield from self._sender.run(1)" in generated
    assert "self._http.close()" in generated
    assert "async " not in generated
    assert "await " not in generated

"""The public API is exactly ``nexus_sdk.__all__``: sorted, complete, and light to import."""

from __future__ import annotations

import pickle
import subprocess
import sys
import types

import nexus_sdk


def test_all_is_sorted_and_unique() -> None:
    assert nexus_sdk.__all__ == sorted(nexus_sdk.__all__)
    assert len(set(nexus_sdk.__all__)) == len(nexus_sdk.__all__)


def test_all_matches_the_public_names() -> None:
    lazy = set(nexus_sdk._LAZY)
    public = {
        name
        for name, value in vars(nexus_sdk).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name not in {"annotations", "TYPE_CHECKING", "Any", "Final"}
    }
    assert lazy <= set(nexus_sdk.__all__)
    assert public | lazy == set(nexus_sdk.__all__) - {"__version__"}
    for name in nexus_sdk.__all__:
        assert getattr(nexus_sdk, name) is not None


def test_exported_classes_report_the_public_module() -> None:
    # Checked in a fresh interpreter, so the lazily exported names load through __getattr__ as a user's do.
    code = (
        "import nexus_sdk\n"
        "for name in nexus_sdk.__all__:\n"
        "    value = getattr(nexus_sdk, name)\n"
        "    if isinstance(value, type):\n"
        "        print(name, value.__module__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    reported = dict(line.split() for line in result.stdout.splitlines())
    assert {"NexusClient", "RowList", "NotGiven", "NotFoundError", "PublishError"} <= set(reported)
    assert {name: module for name, module in reported.items() if module != "nexus_sdk"} == {}


def test_the_names_in_public_signatures_are_exported() -> None:
    from nexus_sdk import NOT_GIVEN, NotGiven, RowList

    assert isinstance(NOT_GIVEN, NotGiven)
    assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN  # noqa: S301  # our own bytes
    assert pickle.loads(pickle.dumps(nexus_sdk.NotFoundError)) is nexus_sdk.NotFoundError  # noqa: S301
    rows = RowList([], None)
    assert rows == []


def test_import_does_not_load_httpx_or_pydantic() -> None:
    # Clients load them on construction; a bare import (CLIs, --help) stays fast.
    code = "import sys, nexus_sdk; print(sorted(m for m in ('httpx', 'pydantic') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

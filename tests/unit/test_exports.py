"""The public API is exactly ``nexus_sdk.__all__``: sorted, complete, and light to import."""

from __future__ import annotations

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


def test_exported_classes_say_they_live_in_nexus_sdk() -> None:
    for name in nexus_sdk.__all__:
        value = getattr(nexus_sdk, name)
        if isinstance(value, type):
            assert value.__module__.startswith("nexus_sdk."), name


def test_import_does_not_load_httpx_or_pydantic() -> None:
    # Clients load them on construction; a bare import (CLIs, --help) stays fast.
    code = "import sys, nexus_sdk; print(sorted(m for m in ('httpx', 'pydantic') if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

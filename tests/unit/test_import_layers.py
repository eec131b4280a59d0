"""The package's layers: an import never points up (the import-linter contract in pyproject.toml)."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

import grimp

import nexus_sdk

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = pathlib.Path(nexus_sdk.__file__).parent
LINT_IMPORTS = pathlib.Path(sys.executable).with_name("lint-imports")


def lint_imports(source_root: pathlib.Path, cwd: pathlib.Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env=env,
    )


def test_the_layers_contract_is_kept(tmp_path: pathlib.Path) -> None:
    result = lint_imports(PACKAGE.parent, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_contract(tmp_path: pathlib.Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "nexus_sdk", ignore=shutil.ignore_patterns("__pycache__"))
    errors = copy / "nexus_sdk" / "errors.py"
    # Even a lazy import inside a function counts: errors sits at the bottom, the client far above it.
    errors.write_text(
        errors.read_text()
        + "\n\ndef _client() -> object:\n    import nexus_sdk.client\n\n    return nexus_sdk.client\n"
    )
    result = lint_imports(copy, tmp_path)
    assert result.returncode == 1
    assert "nexus_sdk.errors -> nexus_sdk.client" in result.stdout


def test_no_module_imports_the_facade() -> None:
    # `nexus_sdk/__init__.py` is the top layer: the container cannot be a layer of itself, so this is checked
    # here. `from nexus_sdk import errors` imports the submodule, not the facade, and is fine.
    graph = grimp.build_graph("nexus_sdk", cache_dir=None)
    assert graph.find_modules_that_directly_import("nexus_sdk") == set()

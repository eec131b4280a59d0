"""``import nexus_sdk`` stays light: no installed-metadata lookup (importlib.metadata, email, zipfile, csv)."""

from __future__ import annotations

import subprocess
import sys

import nexus_sdk


def test_import_loads_no_package_metadata_machinery() -> None:
    code = (
        "import sys, nexus_sdk; "
        "print(sorted(m for m in ('importlib.metadata', 'email', 'zipfile', 'csv') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_version_is_a_release_string() -> None:
    # The wheel's metadata carries the same value: tests/unit/test_packaging.py builds one and compares.
    assert nexus_sdk.__version__[0].isdigit()
    assert nexus_sdk.__version__ != "0.0.0+unknown"

"""The package's version: the one place it is written (pyproject.toml reads it from here at build time).

A literal rather than ``importlib.metadata.version()``: that module and what it imports (email, zipfile,
csv, pathlib) were 40% of ``import nexus_sdk``, and a source checkout needs no installed metadata.
"""

__version__ = "0.1.0.dev0"

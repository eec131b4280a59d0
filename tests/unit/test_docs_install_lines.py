"""The documentation site's front page offers the same installs as the README: every extra it names."""

from __future__ import annotations

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
INSTALL = re.compile(r"^pip install .*$", re.MULTILINE)


def test_the_site_front_page_lists_the_readmes_install_lines() -> None:
    readme = INSTALL.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    index = INSTALL.findall((ROOT / "docs" / "index.md").read_text(encoding="utf-8"))
    assert readme
    assert index == readme


def test_the_install_lines_name_every_extra_a_user_installs() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    offered = set(re.findall(r"nexus-sdk\[(\w+)\]", (ROOT / "README.md").read_text(encoding="utf-8")))
    # docs and dev are the checkout's (make docs, make test), not a user's.
    assert offered == set(extras) - {"docs", "dev"}

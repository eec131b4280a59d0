"""The documentation site builds offline in strict mode, and a broken API reference fails the build."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _build(project: pathlib.Path, site: pathlib.Path) -> subprocess.CompletedProcess[str]:
    # Any download would go to a proxy that is not there and fail the build: nothing is fetched.
    dead = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": dead, "HTTPS_PROXY": dead, "http_proxy": dead, "https_proxy": dead}
    env.pop("NO_PROXY", None)
    env.pop("no_proxy", None)
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


def _copy_project(tmp_path: pathlib.Path) -> pathlib.Path:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(ROOT / "docs", project / "docs")
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return project


def test_the_site_builds_with_the_api_reference(tmp_path: pathlib.Path) -> None:
    result = _build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    client_page = (tmp_path / "site" / "reference" / "client" / "index.html").read_text(encoding="utf-8")
    # Classes and the methods every table has, with their docstrings.
    assert 'id="nexus_sdk.client.NexusClient"' in client_page
    assert 'id="nexus_sdk.repositories._base.SyncRead.list"' in client_page
    models_page = (tmp_path / "site" / "reference" / "models" / "index.html").read_text(encoding="utf-8")
    assert 'id="nexus_sdk.models.PublishedPost"' in models_page


def test_a_broken_reference_fails_the_build(tmp_path: pathlib.Path) -> None:
    project = _copy_project(tmp_path)
    page = project / "docs" / "reference" / "models.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\n::: nexus_sdk.models.NoSuchModel\n", encoding="utf-8"
    )
    result = _build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "NoSuchModel" in result.stderr


def test_a_broken_link_in_a_guide_fails_the_build(tmp_path: pathlib.Path) -> None:
    project = _copy_project(tmp_path)
    page = project / "docs" / "index.md"
    page.write_text(
        page.read_text(encoding="utf-8") + "\nSee [the missing page](missing.md).\n", encoding="utf-8"
    )
    result = _build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "missing.md" in result.stderr

"""The sdist and the wheel as the package index gets them: license, version, project URLs, a README whose
links resolve there (absolute, into the repository, to files that exist)."""

from __future__ import annotations

import email.parser
import pathlib
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile

import pytest

import nexus_sdk

ROOT = pathlib.Path(__file__).resolve().parents[2]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-d", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = out.glob("*.whl")
    (sdist,) = out.glob("*.tar.gz")
    return wheel, sdist


def _metadata(wheel: pathlib.Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def test_license_is_in_the_wheel_and_the_sdist(built: tuple[pathlib.Path, pathlib.Path]) -> None:
    wheel, sdist = built
    expected = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert expected.startswith("MIT License")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(name).decode() == expected
    with tarfile.open(sdist) as archive:
        (member,) = [m for m in archive.getmembers() if m.name.endswith("/LICENSE")]
        handle = archive.extractfile(member)
        assert handle is not None
        assert handle.read().decode() == expected
    metadata = _metadata(wheel)
    assert metadata["License-Expression"] == "MIT"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_the_wheel_carries_the_packages_version(built: tuple[pathlib.Path, pathlib.Path]) -> None:
    wheel, _ = built
    assert _metadata(wheel)["Version"] == nexus_sdk.__version__
    assert wheel.name.startswith(f"nexus_sdk-{nexus_sdk.__version__}-")


def test_project_urls_are_published(built: tuple[pathlib.Path, pathlib.Path]) -> None:
    wheel, _ = built
    urls = dict(entry.split(", ", 1) for entry in _metadata(wheel).get_all("Project-URL") or [])
    assert set(urls) >= {"Homepage", "Repository", "Documentation", "Changelog", "Issues"}
    assert all(url.startswith("https://") for url in urls.values())


def test_readme_links_resolve_on_the_package_index(built: tuple[pathlib.Path, pathlib.Path]) -> None:
    wheel, _ = built
    readme = _metadata(wheel).get_payload()
    assert isinstance(readme, str)
    assert readme.strip() == (ROOT / "README.md").read_text(encoding="utf-8").strip()
    repository = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"][
        "Repository"
    ]
    links = LINK.findall(readme)
    assert links, "the README links the guides"
    for target in links:
        # A relative link would point into the package index's own site, where it does not exist.
        assert target.startswith("https://"), f"relative link in README: {target}"
        for prefix in (f"{repository}/blob/main/", f"{repository}/tree/main/"):
            if target.startswith(prefix):
                path = target[len(prefix) :].split("#", 1)[0]
                assert (ROOT / path).exists(), f"README links a file the repository does not have: {path}"


def test_readme_says_make_targets_belong_to_the_checkout() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("make demo") - 600 : readme.index("make demo")]
    assert "checkout" in section
    assert "git clone" in readme

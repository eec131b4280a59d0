"""One mask and one redaction for every secret the SDK hides; one module naming every environment variable."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from pydantic import SecretStr

import nexus_sdk
from nexus_sdk import _env
from nexus_sdk._redact import MASK, redact, redact_url
from nexus_sdk.cli._common import redact as cli_redact
from nexus_sdk.schema import redact_url as schema_redact_url
from nexus_sdk.settings import Secret
from nexus_sdk.worker import redact as worker_redact

SRC = pathlib.Path(nexus_sdk.__file__).parent
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"


def test_the_mask_is_pydantics() -> None:
    assert str(SecretStr("x")) == MASK
    assert str(Secret("x")) == MASK
    assert MASK in repr(Secret("x"))


@pytest.mark.parametrize(
    ("url", "password"),
    [
        ("postgresql://postgres:hunter2hunter2@db:5432/x", "hunter2hunter2"),
        ("host=db password=hunter2hunter2 user=postgres", "hunter2hunter2"),
        ("host=db password='hunter2 hunter2' user=postgres", "hunter2 hunter2"),
    ],
)
def test_redact_url_masks_the_password_and_keeps_the_rest(url: str, password: str) -> None:
    for clean in (redact_url(url), schema_redact_url(url), redact(url), cli_redact(url), worker_redact(url)):
        assert password not in clean
        assert MASK in clean
        assert "db" in clean


def test_redact_masks_known_secrets_longest_first_and_jwts() -> None:
    text = f"key abcdefgh-long and abcdefgh; token {JWT}"
    assert redact(text, ["abcdefgh", "abcdefgh-long"]) == f"key {MASK} and {MASK}; token {MASK}"


def test_guessing_is_only_for_third_party_text() -> None:
    text = "refused: access_token=s3cr3tvalue123 for 0b5e9a55-7a5d-4e39-9d1e-1f3c9a0e6b21"
    assert redact(text) == text
    guessed = redact(text, guess=True)
    assert "s3cr3tvalue123" not in guessed
    assert "0b5e9a55-7a5d-4e39-9d1e-1f3c9a0e6b21" in guessed


def test_no_module_defines_another_mask() -> None:
    masks = re.compile(r"\[redacted\]|\*\*\*")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "_redact.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        offenders += [
            f"{path.relative_to(SRC)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and masks.search(node.value)
        ]
    assert offenders == []


def _literal_reads(tree: ast.AST) -> list[str]:
    """Variable names written as string literals where the environment is read (``_env`` names them)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        target = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
        reads_env = isinstance(func, ast.Attribute) and (
            (func.attr in {"get", "pop"} and ("environ" in target or target == "env"))
            or (func.attr == "getenv" and target == "os")
        )
        arguments = list(node.args[:1]) if reads_env else []
        arguments += [keyword.value for keyword in node.keywords if keyword.arg == "envvar"]
        for argument in arguments:
            found += [
                const.value
                for const in ast.walk(argument)
                if isinstance(const, ast.Constant) and isinstance(const.value, str)
            ]
    return found


def test_every_environment_variable_read_is_named_in_env() -> None:
    literal = {
        f"{path.relative_to(SRC)}: {name}"
        for path in SRC.rglob("*.py")
        if path.name != "_env.py"
        for name in _literal_reads(ast.parse(path.read_text()))
    }
    assert literal == set()


def test_env_lists_are_consistent() -> None:
    assert len(set(_env.ALL_VARS)) == len(_env.ALL_VARS)
    assert set(_env.SECRET_VARS) <= set(_env.ALL_VARS)
    for name in _env.ALL_VARS:
        assert getattr(_env, name) == name

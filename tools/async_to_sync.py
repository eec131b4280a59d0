#!/usr/bin/env python3
"""Generate the sync facades from the async ones: one source for each sync/async pair.

The async classes (``AsyncNexusClient``, ``AsyncRead``, ``AsyncScheduledPosts`` ...) are written by hand. Below
them, in the same module, a marker comment opens the generated part: the same classes, converted on the syntax
tree (never by editing text) and formatted by ruff:

- ``async def`` becomes ``def``, ``async for`` / ``async with`` become ``for`` / ``with``, ``await x`` becomes ``x``;
- every name in :data:`RENAMES` (a class, a function, an attribute, an imported name) becomes its sync
  counterpart, and nothing else is renamed;
- ``for x in xs: yield x`` (all an async generator can say) becomes ``yield from xs``;
- docstrings carry over with the same renames, and ``await`` / ``async`` dropped from their examples.

Comments inside the async methods do not carry over (the syntax tree has none): the async source is the place
to read them. Two things are carried over by hand: a ``# type: ignore[...]`` on a ``def`` line (or on its first
decorator's), which mypy needs on both sides, and attribute docstrings, kept as the literals written.

Usage::

    python tools/async_to_sync.py            # regenerate every module in TARGETS
    python tools/async_to_sync.py --check    # exit 1, naming the modules, when a generated part is stale
    python tools/async_to_sync.py FILE ...   # only these modules
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent

TARGETS: Final = (
    "src/nexus_sdk/client.py",
    "src/nexus_sdk/repositories/_base.py",
    "src/nexus_sdk/repositories/content_adaptations.py",
    "src/nexus_sdk/repositories/platform_connections.py",
    "src/nexus_sdk/repositories/published_posts.py",
    "src/nexus_sdk/repositories/scheduled_posts.py",
    "src/nexus_sdk/repositories/users.py",
    "src/nexus_sdk/repositories/voice_profiles.py",
)
"""The modules holding async facades, relative to the repository root."""

RENAMES: Final = {
    # The facades: each async class above the marker is generated below it under this name.
    "AsyncNexusClient": "NexusClient",
    "AsyncRepository": "SyncRepository",
    "AsyncRead": "SyncRead",
    "AsyncCreate": "SyncCreate",
    "AsyncUpdate": "SyncUpdate",
    "AsyncDelete": "SyncDelete",
    "AsyncUpsert": "SyncUpsert",
    "AsyncUsers": "Users",
    "AsyncPlatformConnections": "PlatformConnections",
    "AsyncContentAdaptations": "ContentAdaptations",
    "AsyncVoiceProfiles": "VoiceProfiles",
    "AsyncPublishedPosts": "PublishedPosts",
    "AsyncScheduledPosts": "ScheduledPosts",
    # What the async code uses, and what the sync code uses instead.
    "AsyncSender": "SyncSender",
    "AsyncIterator": "Iterator",
    "AsyncClient": "Client",  # httpx.AsyncClient
    "default_async_client": "default_client",  # the client made when none is given (_http.py)
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
}
"""Every name that differs between the two sides: async name -> sync name. Nothing else is renamed."""

MARKER: Final = (
    "# " + "-" * 107 + "\n"
    "# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.\n"
    "# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.\n"
    "# " + "-" * 107
)
"""Opens the generated part of a module; everything below it is rewritten."""

_FIRST_MARKER_LINE: Final = MARKER.splitlines()[1]
_RENAMED_WORD: Final = re.compile(r"\b(" + "|".join(re.escape(name) for name in RENAMES) + r")\b")
_AWAIT: Final = re.compile(r"\bawait\s+")
_ASYNC_KEYWORD: Final = re.compile(r"\basync\s+(?=(?:for|with|def)\b)")
_TYPE_IGNORE: Final = re.compile(r"#\s*type:\s*ignore(?:\[[\w\-, ]*\])?")


class GenerationError(Exception):
    """A module cannot be generated (no marker, no async class)."""


def sync_docstring(text: str) -> str:
    """The sync side's docstring: renamed names, examples without ``await`` / ``async``."""
    text = _RENAMED_WORD.sub(lambda match: RENAMES[match.group(0)], text)
    text = _AWAIT.sub("", text)
    return _ASYNC_KEYWORD.sub("", text)


class AsyncToSync(ast.NodeTransformer):
    """Turns an async class into its sync twin, on the syntax tree."""

    def _rename(self, name: str) -> str:
        return RENAMES.get(name, name)

    def _docstring(self, node: ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        first = node.body[0] if node.body else None
        if (
            isinstance(first, ast.Expr)
            and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)
        ):
            first.value.value = sync_docstring(first.value.value)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self._docstring(node)
        node.name = self._rename(node.name)
        self.generic_visit(node)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self._docstring(node)
        node.name = self._rename(node.name)
        self.generic_visit(node)
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        self._docstring(node)
        sync = ast.FunctionDef(
            name=self._rename(node.name),
            args=node.args,
            body=node.body,
            decorator_list=node.decorator_list,
            returns=node.returns,
            type_comment=node.type_comment,
        )
        ast.copy_location(sync, node)
        self.generic_visit(sync)
        return sync

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        sync = ast.For(
            target=node.target, iter=node.iter, body=node.body, orelse=node.orelse, type_comment=None
        )
        ast.copy_location(sync, node)
        self.generic_visit(sync)
        return sync

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        # An async generator must spell out `for row in rows: yield row`; a sync one says `yield from rows`.
        only = node.body[0] if len(node.body) == 1 else None
        if (
            not node.orelse
            and isinstance(node.target, ast.Name)
            and isinstance(only, ast.Expr)
            and isinstance(only.value, ast.Yield)
            and isinstance(only.value.value, ast.Name)
            and only.value.value.id == node.target.id
        ):
            return ast.copy_location(ast.Expr(ast.YieldFrom(node.iter)), node)
        return node

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        sync = ast.With(items=node.items, body=node.body, type_comment=None)
        ast.copy_location(sync, node)
        self.generic_visit(sync)
        return sync

    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._rename(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        node.attr = self._rename(node.attr)
        self.generic_visit(node)
        return node

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.name = self._rename(node.name)
        return node


def split(source: str, path: str) -> str:
    """The hand-written part of ``source``: everything above the marker (the whole module if it has none)."""
    lines = source.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.rstrip("\n") == _FIRST_MARKER_LINE:
            # The marker's first line is the dashed rule just above this one.
            return "".join(lines[: max(index - 1, 0)]).rstrip() + "\n"
    return source.rstrip() + "\n"


def generate(source: str, path: str) -> str:
    """The module ``source`` with its generated part rebuilt from its async classes, formatted by ruff.

    Raises:
        GenerationError: The module defines no async class named in :data:`RENAMES`.
    """
    hand_written = split(source, path)
    tree = ast.parse(hand_written, filename=path)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name in RENAMES]
    if not classes:
        raise GenerationError(f"{path}: no async class of the rename map to generate from")
    ignores = type_ignores(classes, hand_written.splitlines())
    attribute_docs = hold_attribute_docstrings(classes, hand_written)
    transformer = AsyncToSync()
    generated = [transformer.visit(node) for node in classes]
    body = "\n\n\n".join(ast.unparse(ast.fix_missing_locations(node)) for node in generated)
    for placeholder, literal in attribute_docs.items():
        body = body.replace(placeholder, literal, 1)
    text = format_source(f"{hand_written}\n\n{MARKER}\n\n\n{body}\n", path)
    if ignores:
        text = format_source(restore_type_ignores(text, ignores), path)
    return text


def hold_attribute_docstrings(classes: list[ast.ClassDef], source: str) -> dict[str, str]:
    """Swap each attribute docstring of ``classes`` for a placeholder name; return placeholder -> literal.

    ``ast.unparse`` writes a string statement that is not a body's first as a one-line quoted string;
    putting back the literal as written in the async source keeps the generated side's docstrings alike.
    """
    held: dict[str, str] = {}
    for cls in classes:
        for node in ast.walk(cls):
            body = getattr(node, "body", None)
            if not isinstance(body, list):
                continue
            for statement in body[1:]:
                if (
                    isinstance(statement, ast.Expr)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                ):
                    literal = ast.get_source_segment(source, statement.value)
                    if literal is None:
                        continue
                    placeholder = f"__async_to_sync_docstring_{len(held)}__"
                    held[placeholder] = sync_docstring(literal)
                    statement.value = ast.Name(id=placeholder, ctx=ast.Load())
    return held


def type_ignores(classes: list[ast.ClassDef], lines: list[str]) -> dict[tuple[str, str], list[str | None]]:
    """The ``# type: ignore[...]`` comments of the async classes' definitions, by (sync class, method).

    One entry per definition of that name, in order (overloads define a name several times). The syntax tree
    has no comments, so these are carried over by hand: mypy needs the same one on both sides.
    """
    found: dict[tuple[str, str], list[str | None]] = {}
    for cls in classes:
        for node in ast.walk(cls):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                match = _TYPE_IGNORE.search(lines[_first_line(node) - 1])
                key = (RENAMES[cls.name], RENAMES.get(node.name, node.name))
                found.setdefault(key, []).append(match.group(0) if match else None)
    return {key: comments for key, comments in found.items() if any(comments)}


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Where mypy reports a definition's errors: its first decorator, else its ``def``."""
    return node.decorator_list[0].lineno if node.decorator_list else node.lineno


def restore_type_ignores(text: str, ignores: dict[tuple[str, str], list[str | None]]) -> str:
    """``text`` with each comment of :func:`type_ignores` put back on its generated definition."""
    lines = text.splitlines()
    start = lines.index(_FIRST_MARKER_LINE)
    for cls in ast.parse(text).body:
        if not isinstance(cls, ast.ClassDef) or cls.lineno <= start:
            continue
        seen: dict[str, int] = {}
        for node in ast.walk(cls):
            if not isinstance(node, ast.FunctionDef) or (cls.name, node.name) not in ignores:
                continue
            index = seen[node.name] = seen.get(node.name, -1) + 1
            comment = ignores[(cls.name, node.name)][index]
            line = _first_line(node) - 1
            if comment and comment not in lines[line]:
                lines[line] = f"{lines[line]}  {comment}"
    return "\n".join(lines) + "\n"


def format_source(source: str, path: str) -> str:
    """``source`` as ``ruff format`` writes it, with the project's settings."""
    # The command is fixed: this interpreter's ruff, on text passed through stdin.
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--config",
            str(ROOT / "pyproject.toml"),
            "--stdin-filename",
            path,
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise GenerationError(f"{path}: ruff format failed: {result.stderr.strip()}")
    return result.stdout


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or with ``--check`` only compare) the generated parts; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when a generated part is stale")
    parser.add_argument("files", nargs="*", help="modules to process (default: every target)")
    options = parser.parse_args(argv)
    paths = [Path(name) for name in options.files] or [ROOT / name for name in TARGETS]
    stale: list[str] = []
    for path in paths:
        current = path.read_text(encoding="utf-8")
        try:
            expected = generate(current, str(path))
        except GenerationError as exc:
            print(exc, file=sys.stderr)
            return 2
        if expected == current:
            continue
        if options.check:
            stale.append(str(path))
        else:
            path.write_text(expected, encoding="utf-8")
            print(f"regenerated {path}")
    if stale:
        print(
            "The generated sync code is stale in: "
            + ", ".join(stale)
            + ". Run `python tools/async_to_sync.py` (edit the async classes, never the generated part).",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

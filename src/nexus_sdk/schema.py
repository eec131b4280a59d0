"""Apply the bundled Nexus schema (the ``sql/`` files shipped in the wheel) to a PostgreSQL database.

``apply(url)`` is idempotent, transactional and safe to run concurrently:

* everything happens in one transaction, so a failure leaves the database exactly as it was;
* a transaction-scoped advisory lock serialises concurrent appliers on the same database;
* the version and a SHA-256 checksum of the bundled SQL are recorded in ``nexus_sdk.schema_migrations``, with a
  digest of every object in ``public`` (and of the triggers on ``auth.users``) as the SQL left it. When the
  recorded checksum equals the bundled one and none of those objects was dropped or altered since, there is
  nothing to do and nothing is touched; when one was (an index or a policy dropped by hand, a grant revoked),
  the SQL runs again and repairs it (:attr:`ApplyResult.drift`);
* an older nexus-sdk refuses to run its SQL over a schema recorded by a newer one (``force`` overrides);
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
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from nexus_sdk import _env, _redact
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
    drift: tuple[str, ...] = field(default=())
    """Objects (e.g. ``index public.idx_x``, ``policy public.users.users_select_own``) that were missing or
    altered since the last apply although the recorded checksum matched: the reason this run re-applied."""
    unrepaired: tuple[str, ...] = field(default=())
    """Drifted objects the SQL could not restore (e.g. a column default changed by hand: tables are created
    only if missing). They need a manual fix; the next apply takes their current state as the baseline."""

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
        if self.drift:
            lines.append(f"Re-applied because {len(self.drift)} object(s) were dropped or altered by hand:")
            lines.extend(f"  {name}" for name in self.drift)
        if self.unrepaired:
            lines.append(f"{len(self.unrepaired)} of them were not repaired by the SQL; fix them by hand:")
            lines.extend(f"  {name}" for name in self.unrepaired)
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


def redact_url(url: str) -> str:
    """``url`` with any password replaced by the mask, for messages and logs (see :mod:`nexus_sdk._redact`)."""
    return _redact.redact_url(url)


_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _ambiguous_credentials(url: str) -> bool:
    """True when a URL's password holds an unencoded ``@`` or ``/``.

    libpq splits the authority at the first ``@`` or ``/``, so the rest of such a password becomes the host,
    the port or the database name, and reappears in its error messages, where no redaction can tell it
    from a host name.
    """
    match = _URL_SCHEME.match(url)
    if not match:
        return False
    head = url[match.end() :].split("?", 1)[0]
    if head.count("@") > 1:
        return True
    return "@" in head and "@" not in head.split("/", 1)[0]


def _scrub(message: str, password: str | None) -> str:
    """``message`` without the password libpq parsed from the URL, should a message ever echo it."""
    return message.replace(password, _redact.MASK) if password else message


def _resolve_url(database_url: str | None) -> str:
    url = database_url or os.environ.get(_env.DATABASE_URL)
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


# One row per object the bundled SQL manages, with a digest of everything about it a re-run would restore:
# definitions, ACLs, RLS flags, validity. Scoped to `public` (plus the triggers on auth.users); run under
# search_path = pg_catalog so every name in the output is schema-qualified the same way on every run.
_STATE_QUERY: Final = """
select format('table %I.%I', n.nspname, c.relname),
       md5(concat_ws('|', c.relkind, c.relrowsecurity, c.relforcerowsecurity, coalesce(c.relacl::text, ''),
                     -- the policy names too: a policy added by hand (say, anon may read) alters the table
                     array(select p.polname::text from pg_policy p where p.polrelid = c.oid order by 1)::text))
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'S')
union all
select format('index %I.%I', n.nspname, c.relname), md5(concat_ws('|', pg_get_indexdef(c.oid), i.indisvalid))
from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public'
union all
select format('column %I.%I.%I', n.nspname, c.relname, a.attname),
       md5(concat_ws('|', format_type(a.atttypid, a.atttypmod), a.attnotnull,
                     coalesce(pg_get_expr(d.adbin, d.adrelid), ''), coalesce(a.attacl::text, '')))
from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
where n.nspname = 'public' and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
union all
select format('constraint %I.%I.%I', n.nspname, c.relname, k.conname),
       md5(concat_ws('|', pg_get_constraintdef(k.oid), k.convalidated))
from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public'
union all
select format('policy %I.%I.%I', n.nspname, c.relname, p.polname),
       md5(concat_ws('|', p.polcmd, p.polpermissive, p.polroles::regrole[]::text,
                     coalesce(pg_get_expr(p.polqual, p.polrelid), ''),
                     coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')))
from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
where n.nspname = 'public'
union all
select format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),
       md5(concat_ws('|', pg_get_functiondef(p.oid), coalesce(p.proacl::text, '')))
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'public' and p.prokind in ('f', 'p')
union all
select format('trigger %I.%I.%I', n.nspname, c.relname, t.tgname), md5(concat_ws('|', pg_get_triggerdef(t.oid), t.tgenabled))
from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
where not t.tgisinternal and (n.nspname = 'public' or (n.nspname = 'auth' and c.relname = 'users'))
union all
select 'schema public', md5(coalesce(nspacl::text, '')) from pg_namespace where nspname = 'public'
"""


def _catalog_state(cur: psycopg.Cursor[tuple[str, str]]) -> dict[str, str]:
    """``{object: digest}`` for every object :data:`_STATE_QUERY` covers, as the database has them now."""
    cur.execute("select current_setting('search_path'), set_config('search_path', 'pg_catalog', true)")
    row = cur.fetchone()
    saved = row[0] if row else ""
    try:
        cur.execute(_STATE_QUERY)
        return dict(cur.fetchall())
    finally:
        cur.execute("select '', set_config('search_path', %s, true)", (saved,))


def _drift(recorded: dict[str, str], current: dict[str, str]) -> tuple[str, ...]:
    """The recorded objects that are now missing or different. Objects added since are not drift."""
    return tuple(sorted(name for name, digest in recorded.items() if current.get(name) != digest))


def _release(version: str | None) -> tuple[int, ...]:
    """The release segment of a PEP 440 version (``1.2.0rc1`` -> ``(1, 2, 0)``), zeros trimmed; ``()`` if none."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", version or "")
    parts = [int(p) for p in match.group(1).split(".")] if match else []
    while parts and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


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
    if not parsed or _ambiguous_credentials(url):
        # libpq quotes the piece it could not parse, which may be the password (an unescaped '%' in it,
        # say), and redaction cannot find a password in a string it cannot parse either; a password with an
        # unencoded '@' or '/' parses, but its tail becomes the host or database name in libpq's messages.
        # The message names no part of the URL, and it is raised outside the handler so that libpq's error
        # is neither its cause nor its context, and no traceback shows it.
        raise ConfigurationError(
            "the database URL is not a valid libpq URL or key=value string "
            "(percent-encode special characters in the password, e.g. '@' as %40 and '/' as %2F)"
        )
    password = conninfo_to_dict(url).get("password")

    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        detail = _scrub(str(exc.diag.message_primary or exc), None if password is None else str(password))
        raise SchemaError(f"cannot connect to {redact_url(url)}: {detail}") from exc

    drift: tuple[str, ...] = ()
    unrepaired: tuple[str, ...] = ()
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
                    " applied_at timestamptz not null default now(), applied_by text not null default current_user,"
                    " catalog_state jsonb);"
                    # Bookkeeping of an older nexus-sdk: add the column it lacks (no-op when present).
                    "alter table nexus_sdk.schema_migrations add column if not exists catalog_state jsonb"
                )
                cur.execute(
                    "select version, checksum, catalog_state from nexus_sdk.schema_migrations"
                    " order by id desc limit 1"
                )
                last = cur.fetchone()
            except psycopg.Error as exc:
                raise SchemaError(
                    f"could not prepare the schema bookkeeping: [{exc.diag.sqlstate}] {exc.diag.message_primary}"
                ) from exc

            previous_version = last[0] if last else None
            recorded: dict[str, str] | None = last[2] if last else None
            if (
                last is not None
                and last[1] != checksum
                and not force
                and _release(__version__)
                and _release(previous_version) > _release(__version__)
            ):
                raise SchemaError(
                    f"the database holds Nexus schema {previous_version}, newer than this nexus-sdk "
                    f"({__version__}); running this older SQL would downgrade its policies and functions. "
                    "Upgrade nexus-sdk, or pass force=True (--force) to apply it anyway"
                )
            state_before = _catalog_state(cur)
            if last is not None and last[1] == checksum and not force:
                if recorded is not None:
                    drift = _drift(recorded, state_before)
                if recorded is not None and not drift:
                    logger.info("Nexus schema %s already applied; nothing to do", previous_version)
                    return ApplyResult(
                        version=previous_version or __version__,
                        checksum=checksum,
                        applied=False,
                        bootstrapped=False,
                    )
                if drift:
                    logger.warning(
                        "Nexus schema %s: %d object(s) dropped or altered by hand, re-applying: %s",
                        previous_version,
                        len(drift),
                        ", ".join(drift),
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
            state = _catalog_state(cur)
            if drift and recorded is not None:
                unrepaired = _drift({name: recorded[name] for name in drift}, state)
            # Track what the bundle manages: what its runs created, and what was tracked before and still
            # exists. Objects a team adds to `public` (before or after) are not ours to report. Without a
            # recorded state (bookkeeping of an older nexus-sdk), everything present is tracked.
            if recorded is not None:
                managed = (set(recorded) | (set(state) - set(state_before))) & set(state)
                state = {name: state[name] for name in managed}
                if unrepaired:
                    logger.warning(
                        "Nexus schema: the SQL did not repair %s; fix by hand", ", ".join(unrepaired)
                    )
            cur.execute(
                "insert into nexus_sdk.schema_migrations (version, checksum, catalog_state)"
                " values (%s, %s, %s::jsonb)",
                (__version__, checksum, json.dumps(state, sort_keys=True)),
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
        drift=drift,
        unrepaired=unrepaired,
    )
    logger.info("applied Nexus schema %s: %d new objects", __version__, len(created))
    return result

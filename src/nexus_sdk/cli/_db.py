"""``nexus-sdk db``: apply the bundled schema, or print it as one migration file."""

from __future__ import annotations

import json
import sys

import click

from nexus_sdk import _env
from nexus_sdk.errors import NexusError


@click.group(name="db")
def db() -> None:
    """Apply or print the Nexus schema.

    \b
    Examples:
      $ nexus-sdk db apply --database-url "$DATABASE_URL"
      $ nexus-sdk db sql > supabase/migrations/20250101000000_nexus.sql
    """


@db.command(name="apply")
@click.option(
    "--database-url",
    envvar=_env.DATABASE_URL,
    show_envvar=True,
    help="libpq URL of the database (connect as the migration role, e.g. postgres on Supabase).",
)
@click.option("--force", is_flag=True, help="Run the SQL even if this exact version is recorded as applied.")
@click.option(
    "--lock-timeout", type=float, default=60.0, show_default=True, help="Seconds to wait for locks."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def apply_command(database_url: str | None, force: bool, lock_timeout: float, as_json: bool) -> None:
    """Apply the bundled schema: idempotent, transactional, safe to run concurrently.

    Exit 2 without a database URL, 1 if it cannot be applied (the database is left unchanged).

    \b
    Example:
      $ export DATABASE_URL='postgresql://postgres:...@db.example.supabase.co:5432/postgres'
      $ nexus-sdk db apply
    """
    from nexus_sdk import schema

    if not database_url:
        raise click.UsageError("no database URL: pass --database-url or set DATABASE_URL")
    try:
        result = schema.apply(database_url, force=force, lock_timeout=lock_timeout)
    except NexusError as exc:
        raise click.ClickException(exc.message) from exc
    if as_json:
        payload = {
            "version": result.version,
            "checksum": result.checksum,
            "applied": result.applied,
            "bootstrapped": result.bootstrapped,
            "previous_version": result.previous_version,
            "created": [{"kind": o.kind, "name": o.name} for o in result.created],
        }
        click.echo(json.dumps(payload))
    else:
        click.echo(result.summary())


@db.command(name="sql")
@click.option(
    "--include-bootstrap",
    is_flag=True,
    help="Also include the plain-PostgreSQL bootstrap (roles, auth schema). Never use it on Supabase.",
)
def sql_command(include_bootstrap: bool) -> None:
    """Print the bundled schema as one migration file (e.g. for supabase/migrations/).

    \b
    Example:
      $ nexus-sdk db sql > supabase/migrations/20250101000000_nexus.sql
    """
    from nexus_sdk import schema

    sys.stdout.write(schema.migration_sql(include_bootstrap=include_bootstrap))

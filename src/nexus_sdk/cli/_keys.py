"""``nexus-sdk keys``: make encryption keys and check the ``NEXUS_ENCRYPTION_KEYS`` key ring."""

from __future__ import annotations

import json

import click

from nexus_sdk.errors import ConfigurationError


@click.group(name="keys")
def keys() -> None:
    """Manage the keys that encrypt OAuth tokens (NEXUS_ENCRYPTION_KEYS)."""


@keys.command(name="new")
@click.option("--id", "key_id", metavar="ID", help="The key id (default: k<UTC date>-<6 random hex digits>).")
@click.option("--json", "as_json", is_flag=True, help="Print the key as JSON.")
def new_command(key_id: str | None, as_json: bool) -> None:
    """Print a fresh random AES-256 key as a NEXUS_ENCRYPTION_KEYS entry.

    The key goes to standard output only, so it can be piped straight into a secret store; the
    instructions go to standard error.
    """
    from nexus_sdk.crypto import ENV_VAR, EncryptionKey

    try:
        key = EncryptionKey.generate(key_id)
    except ConfigurationError as exc:
        raise click.BadParameter(exc.message, param_hint="'--id'") from exc
    entry = key.export()
    if as_json:
        material = entry.partition(":")[2]
        click.echo(json.dumps({"key_id": key.key_id, "key": material, "entry": entry, "env_var": ENV_VAR}))
        return
    click.echo(entry)
    click.echo(
        f"Put this entry first in {ENV_VAR} and keep the old keys after it, e.g.\n"
        f'  {ENV_VAR}="{key.key_id}:...,<old entries>"\n'
        "then re-encrypt stored tokens with `nexus-sdk keys rotate`.",
        err=True,
    )


@keys.command(name="check")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check_command(as_json: bool) -> None:
    """Check that NEXUS_ENCRYPTION_KEYS parses, and list its key ids (never the keys)."""
    from nexus_sdk.crypto import ENV_VAR, KeyRing

    try:
        ring = KeyRing.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(exc.message) from exc
    if as_json:
        click.echo(json.dumps({"env_var": ENV_VAR, "current": ring.current.key_id, "key_ids": ring.key_ids}))
        return
    click.echo(f"{ENV_VAR}: {len(ring)} key(s); new tokens are encrypted with {ring.current.key_id!r}.")
    for key_id in ring.key_ids:
        click.echo(f"  {key_id}")

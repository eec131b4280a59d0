"""``nexus-sdk keys``: make encryption keys and check the ``NEXUS_ENCRYPTION_KEYS`` key ring."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from nexus_sdk import _env
from nexus_sdk.cli._common import connection_options, make_client
from nexus_sdk.errors import ConfigurationError


@click.group(name="keys")
def keys() -> None:
    """Manage the keys that encrypt OAuth tokens (NEXUS_ENCRYPTION_KEYS).

    \b
    Examples:
      $ export NEXUS_ENCRYPTION_KEYS="$(nexus-sdk keys new)"
      $ nexus-sdk keys check
    """


@keys.command(name="new")
@click.option("--id", "key_id", metavar="ID", help="The key id (default: k<UTC date>-<6 random hex digits>).")
@click.option("--json", "as_json", is_flag=True, help="Print the key as JSON.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the key to this file (created 0600; an existing file is never made more readable).",
)
def new_command(key_id: str | None, as_json: bool, output: Path | None) -> None:
    """Print a fresh random AES-256 key as a NEXUS_ENCRYPTION_KEYS entry.

    The key goes to standard output only (or to --output, a file only its owner can read), so it can be
    piped straight into a secret store; the instructions go to standard error.

    \b
    Examples:
      $ export NEXUS_ENCRYPTION_KEYS="$(nexus-sdk keys new --id k2025),$NEXUS_ENCRYPTION_KEYS"
      $ nexus-sdk keys new -o ~/.config/nexus/key
    """
    from nexus_sdk.crypto import ENV_VAR, EncryptionKey

    try:
        key = EncryptionKey.generate(key_id)
    except ConfigurationError as exc:
        raise click.BadParameter(exc.message, param_hint="'--id'") from exc
    entry = key.export()
    if as_json:
        material = entry.partition(":")[2]
        text = json.dumps({"key_id": key.key_id, "key": material, "entry": entry, "env_var": ENV_VAR})
    else:
        text = entry
    if output is not None:
        from nexus_sdk.io._files import open_for_writing

        with open_for_writing(output, private=True) as handle:
            handle.write(text + "\n")
    else:
        click.echo(text)
    if as_json:
        return
    if os.environ.get(_env.NEXUS_ENCRYPTION_KEYS):
        hint = (
            f"Put this entry first in {ENV_VAR} and keep the old keys after it, e.g.\n"
            f'  {ENV_VAR}="{key.key_id}:...,<old entries>"\n'
            "then re-encrypt stored tokens with `nexus-sdk keys rotate`."
        )
    else:
        # A first key: there is nothing to rotate yet, only where to put it.
        hint = f'Set it as {ENV_VAR}, e.g. export {ENV_VAR}="$(nexus-sdk keys new)"'
    click.echo(hint, err=True)


@keys.command(name="check")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check_command(as_json: bool) -> None:
    """Check that NEXUS_ENCRYPTION_KEYS parses, and list its key ids (never the keys). Exit 1 if not.

    \b
    Example:
      $ nexus-sdk keys check --json
    """
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


@keys.command(name="rotate")
@connection_options
@click.option(
    "--batch-size", type=click.IntRange(1, 1000), default=200, show_default=True, help="Rows per page."
)
@click.option(
    "--allow-plaintext",
    is_flag=True,
    help="Also encrypt legacy plaintext tokens (otherwise they are reported as failed and left alone).",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar. Default: when stderr is a terminal."
)
@click.option("--json", "as_json", is_flag=True, help="Print the final counts as JSON.")
def rotate_command(
    url: str | None,
    key: str | None,
    anon_key: str | None,
    access_token: str | None,
    batch_size: int,
    allow_plaintext: bool,
    progress: bool | None,
    as_json: bool,
) -> None:
    """Re-encrypt every stored OAuth token under the current key (the first in NEXUS_ENCRYPTION_KEYS).

    Run it with the service-role key after putting a new key first in NEXUS_ENCRYPTION_KEYS, keeping the
    old keys after it. Idempotent and resumable: tokens already under the current key are left alone, so
    re-running after an interruption finishes the job. Exits 1 if any token could not be decrypted.

    \b
    Example:
      $ export NEXUS_ENCRYPTION_KEYS="$(nexus-sdk keys new),$NEXUS_ENCRYPTION_KEYS"
      $ nexus-sdk keys rotate
    """
    from tqdm.auto import tqdm

    from nexus_sdk.crypto import KeyRing, RotationStats
    from nexus_sdk.errors import NexusError

    if access_token:
        source = click.get_current_context().get_parameter_source("access_token")
        if source is not click.core.ParameterSource.ENVIRONMENT:
            raise click.UsageError(
                "keys rotate needs the service-role key (every user's rows), not a user token: "
                "drop --access-token"
            )
        # Left in the shell by `eval "$(nexus-sdk local user create ...)"`: it says whom import and export
        # act as; rotation is every user's rows, so it runs as the service role whatever that variable says.
        click.echo(f"# {_env.NEXUS_ACCESS_TOKEN} ignored: keys rotate acts as the service role", err=True)
    try:
        ring = KeyRing.from_env()
    except ConfigurationError as exc:
        raise click.ClickException(exc.message) from exc
    client = make_client(url, key, anon_key, None, encryption_keys=ring)
    if client.auth_mode == "anon":
        # Under RLS the anon key sees no one's connections: it would "rotate" nothing and report success.
        client.close()
        raise click.UsageError(
            "keys rotate needs the service-role key (every user's rows), not the anon key: "
            "pass --key or set SUPABASE_SERVICE_ROLE_KEY"
        )
    if progress is None:
        progress = sys.stderr.isatty()  # no carriage-return bar lines in logs, as import and export
    bar = tqdm(unit=" tokens", desc="rotating", disable=not progress or as_json, leave=False)

    def report(totals: RotationStats) -> None:
        bar.update(totals.read - bar.n)
        bar.set_postfix(reencrypted=totals.reencrypted, failed=totals.failed)

    try:
        with client:
            stats = client.platform_connections.rotate_keys(
                batch_size=batch_size, allow_plaintext=allow_plaintext, on_progress=report
            )
    except NexusError as exc:
        raise click.ClickException(exc.message) from exc
    finally:
        bar.close()
    counts = {
        "current_key": ring.current.key_id,
        "read": stats.read,
        "reencrypted": stats.reencrypted,
        "already_current": stats.already_current,
        "changed_meanwhile": stats.changed_meanwhile,
        "failed": stats.failed,
        # Which values failed and why, never the values: row id, column, reason.
        "failures": [
            {"id": failure.row_id, "column": failure.column, "reason": failure.reason}
            for failure in stats.failures
        ],
    }
    if as_json:
        click.echo(json.dumps(counts))
    else:
        click.echo(
            f"Tokens read: {stats.read}; re-encrypted under {ring.current.key_id!r}: {stats.reencrypted}; "
            f"already current: {stats.already_current}; changed meanwhile: {stats.changed_meanwhile}; "
            f"failed: {stats.failed}."
        )
        for failure in stats.failures:
            click.echo(f"  failed: {failure}")
        if stats.failed > len(stats.failures):
            click.echo(f"  ... and {stats.failed - len(stats.failures)} more")
        if any(failure.reason == "unknown_key" for failure in stats.failures):
            click.echo(
                "unknown_key: those tokens were encrypted with a key that is not in NEXUS_ENCRYPTION_KEYS; "
                'keep the old keys after the new one (NEXUS_ENCRYPTION_KEYS="NEW,OLD") and run it again.',
                err=True,
            )
    if stats.failed:
        raise SystemExit(1)

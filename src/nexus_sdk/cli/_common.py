"""What the commands that talk to the API share: the connection options and the client they build."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nexus_sdk.errors import ConfigurationError

if TYPE_CHECKING:
    from nexus_sdk.client import NexusClient
    from nexus_sdk.crypto import KeyRing

__all__ = ["connection_options", "make_client"]

F = TypeVar("F", bound=Callable[..., Any])


def connection_options(command: F) -> F:
    """The options every command talking to the API shares: URL, key, user token."""
    options = [
        click.option(
            "--url", envvar="SUPABASE_URL", show_envvar=True, help="The Supabase project URL (no /rest/v1)."
        ),
        click.option(
            "--key",
            envvar=["SUPABASE_SERVICE_ROLE_KEY", "SUPABASE_ANON_KEY"],
            show_envvar=True,
            help="The API key: the service-role key (every user's rows) or the anon key (with --access-token).",
        ),
        click.option(
            "--anon-key",
            envvar="SUPABASE_ANON_KEY",
            show_envvar=True,
            help="The anon key, sent with --access-token when --key is the service-role key.",
        ),
        click.option(
            "--access-token",
            envvar="NEXUS_ACCESS_TOKEN",
            show_envvar=True,
            help="A user's JWT: act as that user (RLS applies; rows belong to them).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_client(
    url: str | None,
    key: str | None,
    anon_key: str | None,
    access_token: str | None,
    *,
    encryption_keys: KeyRing | None = None,
) -> NexusClient:
    """A client from the connection options; a missing URL or key is a usage error (exit 2)."""
    from nexus_sdk.client import NexusClient

    if not url:
        raise click.UsageError("no API URL: pass --url or set SUPABASE_URL")
    if not key and not anon_key:
        raise click.UsageError(
            "no API key: pass --key or set SUPABASE_SERVICE_ROLE_KEY (or SUPABASE_ANON_KEY with --access-token)"
        )
    try:
        if access_token:
            # A user's token travels with the anon key, never with the service role's (see as_user()).
            return NexusClient(
                url,
                anon_key or key,
                anon_key=anon_key,
                access_token=access_token,
                encryption_keys=encryption_keys,
            )
        return NexusClient(url, key or anon_key, anon_key=anon_key, encryption_keys=encryption_keys)
    except ConfigurationError as exc:
        raise click.UsageError(exc.message) from exc

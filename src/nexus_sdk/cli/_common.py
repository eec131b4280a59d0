"""What the commands share: the connection options, the client they build, and how errors are reported."""

from __future__ import annotations

import gc
import json
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from nexus_sdk import _env, _redact
from nexus_sdk.errors import ConfigurationError, NexusError

if TYPE_CHECKING:
    from nexus_sdk.client import NexusClient
    from nexus_sdk.crypto import KeyRing

__all__ = [
    "EXIT_INTERRUPTED",
    "Main",
    "connection_options",
    "current_argv",
    "make_client",
    "next_step",
    "one_line",
    "redact",
    "with_next_step",
]

F = TypeVar("F", bound=Callable[..., Any])


def connection_options(command: F) -> F:
    """The options every command talking to the API shares: URL, key, user token."""
    options = [
        click.option(
            "--url",
            envvar=_env.SUPABASE_URL,
            show_envvar=True,
            help="The Supabase project URL (no /rest/v1).",
        ),
        # No envvar= for the keys: the library reads the key variables itself, in one documented order
        # (SUPABASE_SECRET_KEYS ... SUPABASE_ANON_KEY, docs/client.md), so the CLI cannot pick another.
        click.option(
            "--key",
            help="The API key: a secret/service-role key (every user's rows) or a publishable/anon key (with "
            "--access-token). Default: SUPABASE_SECRET_KEY(S), SUPABASE_SERVICE_ROLE_KEY, SUPABASE_KEY, "
            "SUPABASE_PUBLISHABLE_KEY(S), SUPABASE_ANON_KEY, the first set.",
        ),
        click.option(
            "--anon-key",
            help="The anon (publishable) key, sent with --access-token when the key is a secret one. "
            "Default: SUPABASE_PUBLISHABLE_KEY(S), SUPABASE_ANON_KEY, the first set.",
        ),
        click.option(
            "--access-token",
            envvar=_env.NEXUS_ACCESS_TOKEN,
            show_envvar=True,
            help="A user's JWT: act as that user (RLS applies; rows belong to them).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


_LOCAL_HINT: Final = ' (for the local stack: eval "$(nexus-sdk local status)")'
"""What a newcomer who started ``nexus-sdk local start`` but not set its variables in this shell needs."""
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0"})  # noqa: S104 - hosts compared


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
        raise click.UsageError(f"no API URL: pass --url or set SUPABASE_URL{_LOCAL_HINT}")
    from nexus_sdk.settings import KEY_VARS

    if not key and not anon_key and not any((os.environ.get(name) or "").strip() for name in KEY_VARS):
        # The library reads the other key variables (SUPABASE_KEY, the newer sb_ keys) in its own order.
        raise click.UsageError(f"no API key: pass --key or set one of {', '.join(KEY_VARS)}{_LOCAL_HINT}")
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().meta["nexus.url"] = url  # for the hint when nothing answers there (Main.invoke)
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


# --- errors: one line, no secret, no traceback ------------------------------------------------------------

SECRET_ENV_VARS: Final = _env.SECRET_VARS
"""Environment variables whose values never appear in what the CLI prints."""
SECRET_OPTIONS: Final = ("--key", "--anon-key", "--access-token", "--password", "--database-url")
"""Options whose values never appear in what the CLI prints."""
REDACTED: Final = _redact.MASK


def _secret_values(argv: list[str]) -> list[str]:
    """The secrets this run was given: in the environment, or as the values of secret options."""
    found: list[str] = []
    for name in SECRET_ENV_VARS:
        value = os.environ.get(name, "")
        found.append(value)
        found += [part.partition(":")[2] for part in value.split(",")]  # key ring entries: id:key
    for index, arg in enumerate(argv):
        for option in SECRET_OPTIONS:
            if arg == option and index + 1 < len(argv):
                found.append(argv[index + 1])
            elif arg.startswith(option + "="):
                found.append(arg.partition("=")[2])
    # Longest first, so a secret that contains another is replaced whole; short values are not secrets
    # worth hiding and would mangle the message.
    return sorted({v for v in found if len(v) >= 6}, key=len, reverse=True)


def redact(text: str, argv: list[str] | None = None) -> str:
    """``text`` with keys, JWTs, tokens and database passwords replaced by the mask (:mod:`nexus_sdk._redact`)."""
    return _redact.redact(text, _secret_values(argv or []))


def one_line(text: str) -> str:
    """A message on one line: its lines joined with ``; ``, blank ones dropped."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


EXIT_INTERRUPTED: Final = 130
"""Ctrl-C (128 + SIGINT), as shells report it."""


class Main(click.Group):
    """The ``nexus-sdk`` group: every failure becomes one line on stderr, never a traceback or a secret.

    Commands report the errors they expect themselves; this catches the rest (an unwritable file, a
    database error, a port in use). ``ClickException`` messages are made one line and redacted too, and
    with ``--json`` a failure is also printed as ``{"error", "message"}`` on stdout. Ctrl-C exits 130.
    """

    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> Any:
        """Run the command line; as the process's own command (arguments from ``sys.argv``), end it quickly.

        The process ends right after: everything the command made is left to the operating system, not
        scanned once more by the garbage collector while the interpreter shuts down (``gc.freeze``),
        which took ~50 ms of every run (a fifth of ``nexus-sdk --help``). Called with arguments (tests,
        ``CliRunner``), the caller's process goes on: the collector is left alone.
        """
        try:
            return super().main(args, *rest, **options)
        finally:
            if args is None:
                gc.freeze()

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Remember the arguments, to know which secrets to keep out of error messages."""
        ctx.meta["nexus.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn unexpected exceptions into a one-line ``Error:`` and exit 1."""
        argv: list[str] = ctx.meta.get("nexus.argv", [])
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            text = exc.format_message()
            if redact(text, argv) == text:
                raise
            raise click.UsageError(one_line(redact(text, argv)), ctx=exc.ctx) from None
        except click.ClickException as exc:
            message = with_next_step(one_line(redact(exc.format_message(), argv)), exc.__cause__)
            _json_error(argv, type(exc.__cause__ or exc).__name__, message)
            if message == exc.format_message():
                raise
            raise click.ClickException(message) from None
        except (click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except NexusError as exc:
            # Our own errors say what is wrong and what to do (e.g. which extra to install); the class
            # name in front of that adds nothing for a reader (it is in the --json line).
            message = with_next_step(one_line(redact(str(exc), argv)), exc)
            _json_error(argv, type(exc).__name__, message)
            raise click.ClickException(message) from None
        except Exception as exc:
            message = one_line(redact(f"{type(exc).__name__}: {exc}", argv))
            _json_error(argv, type(exc).__name__, message)
            raise click.ClickException(message) from None


def with_next_step(message: str, exc: BaseException | None) -> str:
    """``message``, and after it what to do next where :func:`next_step` knows."""
    hint = next_step(exc)
    if not hint:
        return message
    return f"{message} {hint}" if message.endswith((".", "!", "?")) else f"{message}. {hint}"


def next_step(exc: BaseException | None) -> str:
    """What to do after ``exc`` against the local stack (a URL on this machine); empty when nothing is known.

    A refused connection: is the stack running? An expired access token (``local user create``'s last
    an hour): how to get a new one.
    """
    from urllib.parse import urlsplit

    from nexus_sdk.errors import APIConnectionError, APITimeoutError, AuthenticationError

    ctx = click.get_current_context(silent=True)
    url = ctx.find_root().meta.get("nexus.url") if ctx is not None else None
    if not url or (urlsplit(str(url)).hostname or "") not in _LOOPBACK:
        return ""
    if isinstance(exc, APIConnectionError) and not isinstance(exc, APITimeoutError):
        return "Is the local stack running? `nexus-sdk local status` says; `nexus-sdk local start` starts it."
    if isinstance(exc, AuthenticationError) and exc.code == "PGRST303":
        return 'A new token for the same user: eval "$(nexus-sdk local user token EMAIL)".'
    return ""


def _json_error(argv: list[str], error: str, message: str) -> None:
    """With ``--json`` (and no data on stdout), the error as one JSON object on stdout."""
    if "--json" in argv and argv[:1] not in (["import"], ["export"]):
        click.echo(json.dumps({"error": error, "message": message}))


def current_argv() -> list[str]:
    """The arguments of this run of ``nexus-sdk`` (empty outside :class:`Main`), for :func:`redact`."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return []
    argv: list[str] = ctx.find_root().meta.get("nexus.argv", [])
    return argv

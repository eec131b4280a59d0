"""``nexus-sdk local``: run the local stack and create users on it.

The heavy imports (embedded PostgreSQL, uvicorn, psycopg) happen inside the commands, so the group can be
attached to the main command without slowing down ``nexus-sdk --help``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

import click

from nexus_sdk import _env

if TYPE_CHECKING:
    from nexus_sdk.local import StackState

__all__ = ["local"]


def _export_lines(env: dict[str, str]) -> str:
    return "\n".join(f"export {k}={shlex.quote(v)}" for k, v in env.items())


# The option of every command that finds a running stack by its state file.
_running_stack_dir = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The stack's data directory [default: the one at $NEXUS_LOCAL_DIR or ~/.cache/nexus-sdk/local, "
    "else the only stack `local start` serves elsewhere].",
)


def _registry() -> Path:
    """Where `local start` notes the data dir of each stack it serves, whatever that dir is.

    Always the user cache (never ``$NEXUS_LOCAL_DIR``), so a stack started with ``--data-dir`` or another
    ``NEXUS_LOCAL_DIR`` is found by `status`, `stop` and `user create` run without them.
    """
    cache = os.environ.get(_env.XDG_CACHE_HOME) or str(Path.home() / ".cache")
    return Path(cache) / "nexus-sdk" / "running"


_STARTING_FOR_AT_MOST: Final = 120.0
"""Seconds a stack may take to start (a first run creates its database: seconds); an older note without a
state file is a leftover whose process id was reused, not a stack starting."""


def _register(data_dir: Path) -> Path | None:
    """Note ``data_dir`` as this process's stack; the note's path (to remove at the end), None if unwritable.

    Written before the stack starts, so that a lookup meanwhile says it is starting rather than absent.
    """
    import hashlib

    resolved = data_dir.expanduser().resolve()
    # One note per process: a second `local start` refused on the same data dir removes its own only.
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    entry = _registry() / f"{digest}-{os.getpid()}.json"
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        entry.write_text(json.dumps({"data_dir": str(resolved), "pid": os.getpid()}) + "\n", encoding="utf-8")
    except OSError:
        return None  # only the lookup without --data-dir is lost; the stack itself is fine
    return entry


def _notes() -> list[tuple[Path, int, float]]:
    """``(data dir, pid, age in seconds)`` of each note whose process runs; the others are removed."""
    import time

    from nexus_sdk.local._embedded import _pid_alive

    found: list[tuple[Path, int, float]] = []
    with contextlib.suppress(OSError):
        for entry in sorted(_registry().glob("*.json")):
            try:
                note = json.loads(entry.read_text(encoding="utf-8"))
                path, pid = Path(note["data_dir"]), int(note["pid"])
                age = time.time() - entry.stat().st_mtime
            except (OSError, ValueError, TypeError, KeyError):
                continue  # being written, or not ours
            if _pid_alive(pid):
                found.append((path, pid, age))
            else:
                entry.unlink(missing_ok=True)  # its `local start` was killed before removing it
    return found


def _find_stack(data_dir: Path | None) -> StackState:
    """The running stack: in ``data_dir`` if given; else in the default data dir; else the only other one.

    Every command that needs a running stack finds it this way (docs/cli.md, "Which stack"). A stack that
    is still starting is said to be, rather than not found.
    """
    from nexus_sdk import local as local_stack
    from nexus_sdk.errors import ConfigurationError

    def still_starting(paths: list[Path]) -> click.ClickException | None:
        wanted = {path.expanduser().resolve() for path in paths}
        for path, pid, age in notes:
            if path in wanted and age < _STARTING_FOR_AT_MOST and path not in running:
                return click.ClickException(
                    f"the local stack in {path} (process {pid}) is still starting; run this again in a few "
                    "seconds (`nexus-sdk local start` prints `# serving ...` once it serves)"
                )
        return None

    notes = _notes()
    running: dict[Path, StackState] = {}
    if data_dir is not None:
        try:
            return local_stack.read_state(data_dir)
        except ConfigurationError as exc:
            raise still_starting([data_dir]) or click.ClickException(exc.message) from exc
    default = local_stack.default_data_dir()
    try:
        return local_stack.read_state(default)
    except ConfigurationError as exc:
        not_default = exc
    for path, _, _ in notes:
        with contextlib.suppress(ConfigurationError, OSError, ValueError, TypeError):
            running[path] = local_stack.read_state(path)
    running.pop(default.expanduser().resolve(), None)
    if len(running) == 1:
        ((path, state),) = running.items()
        click.echo(f"# the local stack serving {state.url} from {path}", err=True)
        return state
    if running:
        listed = "; ".join(f"{state.url} from {path}" for path, state in running.items())
        raise click.ClickException(
            f"{len(running)} local stacks are running ({listed}); pick one with --data-dir DIR"
        )
    raise still_starting([default, *(path for path, _, _ in notes)]) or click.ClickException(
        not_default.message
    ) from None


@click.group(name="local")
def local() -> None:
    """Run Nexus locally: PostgreSQL behind PostgREST- and Supabase Auth-compatible APIs (like `supabase start`).

    \b
    Examples:
      $ nexus-sdk local start                    # in one terminal
      $ eval "$(nexus-sdk local status)"         # in another
      $ eval "$(nexus-sdk local user create ada@example.com)"
      $ eval "$(nexus-sdk local user token ada@example.com)"   # an hour later: a new token
      $ nexus-sdk local stop                     # or Ctrl-C in the first
    """


@local.command("start")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=54321,
    show_default=True,
    help="API port (0 picks a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the database and state live [default: $NEXUS_LOCAL_DIR or ~/.cache/nexus-sdk/local].",
)
@click.option(
    "--database-url",
    envvar=_env.NEXUS_LOCAL_DATABASE_URL,
    default=None,
    help="Use this existing PostgreSQL database instead of the embedded server.",
)
@click.option(
    "--max-rows", type=click.IntRange(min=1), default=1000, show_default=True, help="Row cap per response."
)
def start_command(
    port: int, host: str, data_dir: Path | None, database_url: str | None, max_rows: int
) -> None:
    """Start the stack, print its settings as `export` lines, and serve until Ctrl-C or SIGTERM.

    \b
    Example:
      $ nexus-sdk local start --port 0 --data-dir ./.nexus
    """
    from nexus_sdk import local as local_stack
    from nexus_sdk.errors import NexusError

    base = data_dir or local_stack.default_data_dir()
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    entry = _register(base)
    try:
        # Seconds go by before the settings (more on a first run, which creates the database): say so.
        click.echo(f"# starting the local stack in {base} ...", err=True)
        try:
            running = local_stack.start(
                port=port,
                host=host,
                data_dir=base,
                database_url=database_url,
                max_rows=max_rows,
                write_state=True,
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            hint = " (is a stack already running? `--port 0` picks a free port)" if port else ""
            raise click.ClickException(
                f"cannot start the local stack on {host}:{port}: {reason}{hint}"
            ) from exc
        except NexusError as exc:
            # The missing extra, a stack already running from this data dir, a failed schema.
            raise click.ClickException(f"cannot start the local stack: {exc.message}") from exc
        with running as stack:
            click.echo(_export_lines(stack.state().env()))
            click.echo(
                f"# serving {stack.rest_url} and {stack.url}/auth/v1 (state in {base}); Ctrl-C to stop",
                err=True,
            )
            try:
                # A timed wait keeps the main thread responsive to Ctrl-C.
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
            click.echo("# stopping", err=True)
    finally:
        if entry is not None:
            entry.unlink(missing_ok=True)
        signal.signal(signal.SIGTERM, previous)


@local.command("status")
@_running_stack_dir
def status_command(data_dir: Path | None) -> None:
    """Print the running stack's settings as `export` lines (exit 1 if no stack is running).

    \b
    Example:
      $ eval "$(nexus-sdk local status)"
    """
    click.echo(_export_lines(_find_stack(data_dir).env()))


@local.command("stop")
@_running_stack_dir
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for it to stop.",
)
def stop_command(data_dir: Path | None, timeout: float) -> None:
    """Stop the stack `nexus-sdk local start` serves (as Ctrl-C does; its database is kept).

    Exit 1 if no stack is running or it did not stop in time.

    \b
    Example:
      $ nexus-sdk local start > /dev/null &      # in the background
      $ nexus-sdk local stop
    """
    import time

    state = _find_stack(data_dir)
    from nexus_sdk.local._embedded import _pid_alive

    # `local start` stops cleanly on SIGTERM: the server, its state file, then the database; its process
    # ends last, so waiting for it means the data dir is free for the next `local start`.
    with contextlib.suppress(ProcessLookupError):
        os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while True:
        if not _pid_alive(state.pid):
            click.echo(f"# stopped the local stack (process {state.pid})", err=True)
            return
        if time.monotonic() >= deadline:
            raise click.ClickException(
                f"the local stack (process {state.pid}) did not stop within {timeout:g} s"
            )
        time.sleep(0.2)


# The lifetime of the access token `user create` and `user token` print.
_expires_in = click.option(
    "--expires-in",
    type=click.IntRange(min=1),
    default=3600,
    show_default=True,
    help="Token lifetime in seconds.",
)


@local.group("user")
def user() -> None:
    """Manage auth users on the running local stack.

    \b
    Example:
      $ eval "$(nexus-sdk local user create ada@example.com)"
    """


@user.command("create")
@click.argument("email")
@click.option(
    "--password",
    default=None,
    help="A password (at least 6 characters) to sign in with through /auth/v1 later; none by default.",
)
@click.option("--metadata", default=None, help='User metadata as JSON, e.g. \'{"full_name": "Ada"}\'.')
@_expires_in
@_running_stack_dir
def user_create_command(
    email: str, password: str | None, metadata: str | None, expires_in: int, data_dir: Path | None
) -> None:
    """Create a confirmed user on the running stack and print its id and a session's tokens.

    The same code as the stack's `POST /auth/v1/admin/users` followed by a sign-in: the signup trigger
    creates the `public.users` row, and the access token belongs to a real session (refreshable with
    NEXUS_REFRESH_TOKEN through /auth/v1).

    \b
    Example:
      $ eval "$(nexus-sdk local user create ada@example.com --metadata '{"full_name": "Ada"}')"
    """
    from nexus_sdk import local as local_stack

    state = _find_stack(data_dir)
    meta: dict[str, Any] | None = None
    if metadata is not None:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            raise click.BadParameter("must be a JSON object", param_hint="--metadata") from exc
        if not isinstance(meta, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--metadata")
    import psycopg

    try:
        user, session = local_stack.create_user(
            state.database_url,
            state.jwt_secret,
            email,
            password=password,
            metadata=meta,
            issuer=f"{state.url}/auth/v1",
            expires_in=expires_in,
        )
    except local_stack.AuthRefusal as exc:
        # GoTrue's message: "A user with this email address has already been registered", a weak password.
        hint = ""
        if exc.error_code == "email_exists":
            # Typically the README's lines run a second time, on the database the stack kept.
            hint = f'; a new token for them: eval "$(nexus-sdk local user token {shlex.quote(email)})"'
        raise click.ClickException(f"cannot create the user: {exc.msg}{hint}") from None
    except psycopg.Error as exc:
        # Never the connection string: it can hold the database password.
        raise click.ClickException(f"cannot create the user: {type(exc).__name__}: {exc}") from None
    _print_session(user.id, session)


def _print_session(user_id: object, session: dict[str, Any]) -> None:
    click.echo(
        _export_lines(
            {
                "NEXUS_USER_ID": str(user_id),
                "NEXUS_ACCESS_TOKEN": str(session["access_token"]),
                "NEXUS_REFRESH_TOKEN": str(session["refresh_token"]),
            }
        )
    )


@user.command("token")
@click.argument("email")
@_expires_in
@_running_stack_dir
def user_token_command(email: str, expires_in: int, data_dir: Path | None) -> None:
    """Open a new session for an existing user and print its tokens (when the last ones have expired).

    No password needed: as `user create`, it works on the stack's database directly. Exit 1 if there is
    no such user or the user is banned.

    \b
    Example:
      $ eval "$(nexus-sdk local user token ada@example.com)"
    """
    state = _find_stack(data_dir)
    import psycopg

    from nexus_sdk.local import _auth_service, _auth_store, _users

    async def work() -> tuple[object, dict[str, Any]] | str:
        async with await psycopg.AsyncConnection.connect(state.database_url) as conn:
            await _auth_service.act_as_auth_server(conn)
            found = await _auth_store.user_by_email(conn, email.strip())
            if found is None:
                return f"no user {email!r} on this stack: `nexus-sdk local user create {email}` makes one"
            if found.banned:
                return f"{email!r} is banned"
            grant = await _auth_service.open_session(conn, found, method="password")
            await conn.commit()
        session = _users.session_body(
            state.jwt_secret, found, grant, issuer=f"{state.url}/auth/v1", expires_in=expires_in
        )
        return found.id, session

    try:
        outcome = _users._run(work)
    except psycopg.Error as exc:
        # Never the connection string: it can hold the database password.
        raise click.ClickException(f"cannot open a session: {type(exc).__name__}: {exc}") from None
    if isinstance(outcome, str):
        raise click.ClickException(outcome)
    _print_session(*outcome)

"""``nexus-sdk import`` and ``nexus-sdk export``: move rows in and out of Nexus as JSONL or CSV.

Exit codes (documented in ``docs/cli.md``): 0 done; 1 an error (network, server, authentication) or an
import that stopped part-way (re-run it to resume); 2 a usage error (bad option, unknown table, missing
URL or key); 3 the import finished but some rows were rejected (they are in the rejects file); 130
interrupted by Ctrl-C (an import can be resumed by re-running it).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final, TextIO

import click

from nexus_sdk.cli._common import (
    EXIT_INTERRUPTED,
    connection_options,
    current_argv,
    make_client,
    one_line,
    redact,
    with_next_step,
)
from nexus_sdk.errors import NexusError, ValidationError

if TYPE_CHECKING:
    from nexus_sdk.io import RejectedRow

__all__ = ["EXIT_INTERRUPTED", "EXIT_REJECTED", "export_command", "import_command"]

EXIT_REJECTED: Final = 3
"""The import finished, but some rows were rejected."""


def _table(name: str, tables: tuple[str, ...]) -> str:
    from nexus_sdk.io import resolve_table

    try:
        return resolve_table(name, tables)
    except ValidationError as exc:
        raise click.BadParameter(exc.message, param_hint="TABLE") from exc


def _user_id(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--user-id`` as canonical UUID text; anything else is a usage error (exit 2) before any request."""
    if not value:
        return None
    from nexus_sdk._types import uuid_text

    try:
        return uuid_text("user_id", value)
    except ValidationError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param=param) from None


_IMPORT_OPTIONS: Final = {
    "delimiter": "--delimiter",
    "encoding": "--encoding",
    "timezone": "--timezone",
    "date_order": "--date-order",
    "sheet": "--sheet",
}
"""The import options whose values the reader checks: a bad one is a usage error (exit 2), as in export."""


def _bad_option(exc: ValidationError) -> str | None:
    """The option a reader's ``ValidationError`` is about (``'--timezone'`` ...), if it is about one."""
    locations = [tuple(error.get("loc", ())) for error in exc.errors]
    if len(locations) == 1 and len(locations[0]) == 1 and locations[0][0] in _IMPORT_OPTIONS:
        return _IMPORT_OPTIONS[str(locations[0][0])]
    return None


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C, also when it arrived wrapped (pydantic's serializer wraps it in a ValueError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if (
            isinstance(current, KeyboardInterrupt)
            or "KeyboardInterrupt" in f"{type(current).__name__}: {current}"
        ):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _fail(exc: BaseException, as_json: bool, *, json_to_stderr: bool = False) -> None:
    """Report a failure: for people on stderr, and with ``--json`` as one JSON line.

    The JSON line goes to stdout, like every ``--json`` result, except when stdout carries data (an export
    to stdout), which it must not corrupt: then it goes to stderr.
    """
    argv = current_argv()
    notes = [one_line(redact(str(n), argv)) for n in getattr(exc, "__notes__", ())]
    message = exc.message if isinstance(exc, NexusError) else str(exc)
    if isinstance(exc, NexusError) and hasattr(exc, "status_code"):
        message = str(exc)
    if _interrupted(exc):
        message = "interrupted"
    message = with_next_step(one_line(redact(message, argv)), exc)
    if as_json:
        line = json.dumps({"error": type(exc).__name__, "message": message, "notes": notes})
        click.echo(line, err=json_to_stderr)
    click.echo(f"Error: {message}", err=True)
    for note in notes:
        click.echo(note, err=True)


def _check_writable(output: Path) -> None:
    """A usage error (exit 2) up front when ``output`` cannot be written, before any request."""
    folder = output.parent
    if not folder.is_dir():
        raise click.BadParameter(f"no such directory: {folder}", param_hint="'-o' / '--output'")
    if not os.access(folder, os.W_OK) or (output.exists() and not os.access(output, os.W_OK)):
        raise click.BadParameter(f"cannot write {output}: permission denied", param_hint="'-o' / '--output'")


@contextlib.contextmanager
def _destination(output: Path | None, *, private: bool, newline: str) -> Iterator[TextIO]:
    """Where an export writes: stdout, or ``FILE.part`` renamed to ``FILE`` once every row is written.

    So an export that fails part-way never leaves a file that looks complete (nor clobbers a good one).
    A FILE that exists and is not a regular file (``/dev/stdout``, a FIFO) is written directly. With
    ``private`` (decrypted tokens) ``FILE.part`` is created 0600, and FILE ends at most 0600; otherwise
    FILE keeps the mode it had. No file's mode is ever widened.
    """
    from nexus_sdk.io._files import write_atomically

    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    if output.exists() and not output.is_file():
        with output.open("w", encoding="utf-8", newline=newline) as handle:
            yield handle
        return
    with write_atomically(output, private=private, newline=newline, suffix=".part") as handle:
        yield handle


@click.command(name="import")
@click.argument("table")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv", "xlsx"]),
    help="Default: an Excel workbook by its content, .csv/.tsv/.txt as CSV, else JSONL.",
)
@click.option(
    "--user-id", callback=_user_id, help="Owner of rows without a user_id (with the service-role key)."
)
# The defaults of import_rows (a test holds them equal), written out so that --help imports no io code.
@click.option("--batch-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option(
    "--concurrency", type=click.IntRange(1, 32), default=4, show_default=True, help="Batches in flight."
)
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where rejected rows go (JSONL, tokens masked). Default: FILE.rejects.jsonl.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Progress file for resuming. Default: FILE.checkpoint.json (deleted when the import completes).",
)
@click.option(
    "--no-checkpoint", is_flag=True, help="Keep no progress file (a re-run still adds no duplicates)."
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    help="CSV cell separator. Default: from the header (',' or ';' as spreadsheets in comma-decimal "
    "locales save it, or a tab).",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's text encoding, e.g. cp1252 for a CSV saved by Excel on Windows. Default: UTF-8.",
)
@click.option(
    "--timezone",
    metavar="ZONE",
    help="IANA time zone for timestamps without an offset (as spreadsheets write them), e.g. Europe/Paris.",
)
@click.option(
    "--date-order",
    type=click.Choice(["dmy", "mdy"], case_sensitive=False),
    help="How to read dates with slashes or dots: dmy (06/12/2026 is 6 December) or mdy (June 12). "
    "Default: such dates are rejected, never guessed.",
)
@click.option("--sheet", metavar="NAME", help="The worksheet of an .xlsx workbook with more than one.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar (percentage of the file read, time left). Default: when stderr is a terminal.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout, on one line.")
@connection_options
def import_command(
    table: str,
    file: Path,
    fmt: str | None,
    user_id: str | None,
    batch_size: int,
    concurrency: int,
    rejects: Path | None,
    checkpoint: Path | None,
    no_checkpoint: bool,
    delimiter: str | None,
    encoding: str | None,
    timezone: str | None,
    date_order: str | None,
    sheet: str | None,
    progress: bool | None,
    as_json: bool,
    url: str | None,
    key: str | None,
    anon_key: str | None,
    access_token: str | None,
) -> None:
    """Import rows from a JSONL, CSV or Excel (.xlsx) FILE into TABLE, validated, in batches, idempotently.

    TABLE is content_adaptations, voice_profiles, published_posts or platform_connections (aliases:
    adaptations, profiles, posts, connections). Every row is validated first; bad rows are reported by
    line and written to the rejects file. Importing the same file again adds nothing. After an
    interruption, run the same command again to finish. Exit 3 when rows were rejected.

    \b
    Examples:
      $ nexus-sdk import adaptations ideas.jsonl
      $ nexus-sdk import posts posts.csv --user-id 0b6f... --json   # service-role key
      $ nexus-sdk import adaptations ideas.csv --encoding cp1252 --timezone Europe/Paris   # from Excel
      $ nexus-sdk import posts posts.xlsx --timezone Europe/Paris --date-order dmy
    """
    from nexus_sdk.io import IMPORT_TABLES, default_checkpoint_path, default_rejects_path, import_file

    table = _table(table, IMPORT_TABLES)
    client = make_client(url, key, anon_key, access_token)
    if progress is None:
        progress = sys.stderr.isatty()
    try:
        report = import_file(
            client,
            table,
            file,
            format="csv" if fmt == "csv" else ("xlsx" if fmt == "xlsx" else ("jsonl" if fmt else None)),
            user_id=user_id,
            batch_size=batch_size,
            concurrency=concurrency,
            progress=progress,
            checkpoint=None if no_checkpoint else (checkpoint or default_checkpoint_path(file)),
            rejects_path=rejects or default_rejects_path(file),
            delimiter=delimiter,
            encoding=encoding,
            timezone=timezone,
            date_order="dmy"
            if date_order and date_order.lower() == "dmy"
            else ("mdy" if date_order else None),
            sheet=sheet,
        )
    except BaseException as exc:
        if _interrupted(exc):
            _fail(exc, as_json)
            click.echo("Interrupted: run the same command again to finish the import.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(exc, ValidationError) and (option := _bad_option(exc)):
            raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
        if not isinstance(exc, NexusError | OSError | UnicodeDecodeError):
            raise
        # A file that cannot be read, or is not in its encoding, fails as cleanly as the server does.
        _fail(exc, as_json)
        sys.exit(1)
    finally:
        client.close()
    if as_json:
        click.echo(json.dumps(report.to_dict()))
    else:
        click.echo(report.summary())
        if access_token is None and user_id is None and any(_lacks_user_id(r) for r in report.rejects):
            # The library's reason names as_user(); on the command line the way out is an option.
            click.echo(
                "Rows without user_id need --user-id ID, or import as their user with --access-token "
                "(or NEXUS_ACCESS_TOKEN, e.g. from `nexus-sdk local user create`).",
                err=True,
            )
    if not report.ok:
        sys.exit(EXIT_REJECTED)


def _lacks_user_id(reject: RejectedRow) -> bool:
    return any(list(e.get("loc", ())) == ["user_id"] and e.get("type") == "missing" for e in reject.errors)


@click.command(name="export")
@click.argument("table")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    help="Default: from --output's extension, else jsonl.",
)
@click.option("--user-id", callback=_user_id, help="Only this user's rows (with the service-role key).")
@click.option(
    "--include-tokens",
    is_flag=True,
    help="platform_connections: write OAuth tokens DECRYPTED (needs NEXUS_ENCRYPTION_KEYS). Default: masked.",
)
@click.option("--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True)
@click.option(
    "--excel",
    is_flag=True,
    help=(
        "CSV for spreadsheets: a UTF-8 byte-order mark (Excel reads the file as UTF-8), CRLF line ends, and "
        "an apostrophe before text a spreadsheet would run as a formula ('=..., '-..., '@...; import takes "
        "it off)."
    ),
)
@click.option(
    "--delimiter", metavar="CHAR", help="CSV cell separator. Default: a tab for a .tsv file, else ','."
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar. Default: when stderr is a terminal."
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the summary as JSON (stderr when data goes to stdout)."
)
@connection_options
def export_command(
    table: str,
    output: Path | None,
    fmt: str | None,
    user_id: str | None,
    include_tokens: bool,
    page_size: int,
    excel: bool,
    delimiter: str | None,
    progress: bool | None,
    as_json: bool,
    url: str | None,
    key: str | None,
    anon_key: str | None,
    access_token: str | None,
) -> None:
    """Export every row of TABLE you can see, as JSONL (default) or CSV, streaming any size.

    TABLE is any of users, platform_connections, content_adaptations, voice_profiles, published_posts,
    scheduled_posts (or an alias). Rows come in id order, one page at a time. OAuth tokens are written as
    "**********" unless --include-tokens is given (the file is then readable by its owner only, 0600). A
    file is written as FILE.part and renamed when complete. In CSV an empty cell is NULL and "" an empty
    string; --excel makes a CSV that spreadsheets open as UTF-8 and in which no text runs as a formula.

    \b
    Examples:
      $ nexus-sdk export adaptations -o ideas.jsonl
      $ nexus-sdk export posts --format csv > posts.csv
      $ nexus-sdk export connections --include-tokens -o connections.jsonl
      $ nexus-sdk export posts --excel -o posts.csv
    """
    from nexus_sdk.io import EXPORT_TABLES, Format, export_rows, guess_format

    table = _table(table, EXPORT_TABLES)
    file_format: Format = (
        "csv"
        if (fmt or (guess_format(output) if output else ("csv" if excel else "jsonl"))) == "csv"
        else "jsonl"
    )
    if excel and file_format != "csv":
        raise click.BadParameter("--excel writes CSV", param_hint="'--format'")
    if delimiter is None:
        delimiter = "\t" if output is not None and output.suffix.lower() == ".tsv" else ","
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise click.BadParameter("one character other than a quote", param_hint="'--delimiter'")
    if output is not None:
        _check_writable(output)
    client = make_client(url, key, anon_key, access_token)
    if progress is None:
        progress = output is not None and sys.stderr.isatty()
    if include_tokens and table == "platform_connections":
        click.echo("Warning: writing OAuth tokens in clear text; protect the output.", err=True)
    where = {"user_id": user_id} if user_id else None
    # With data on stdout the summary must not mix into it.
    summary_to_stderr = output is None
    try:
        with _destination(
            output, private=include_tokens, newline="" if file_format == "csv" else "\n"
        ) as handle:
            count = export_rows(
                client,
                table,
                handle,
                format=file_format,
                include_tokens=include_tokens,
                where=where,
                page_size=page_size,
                progress=progress,
                delimiter=delimiter,
                excel=excel,
            )
    except BaseException as exc:
        if _interrupted(exc):
            _fail(exc, as_json, json_to_stderr=output is None)
            sys.exit(EXIT_INTERRUPTED)
        if isinstance(exc, ValidationError):
            raise click.UsageError(exc.message) from exc
        if not isinstance(exc, NexusError | OSError):
            raise
        _fail(exc, as_json, json_to_stderr=output is None)
        sys.exit(1)
    finally:
        client.close()
    destination = str(output) if output is not None else "stdout"
    if as_json:
        payload = json.dumps({"table": table, "rows": count, "format": file_format, "output": destination})
        click.echo(payload, err=summary_to_stderr)
    else:
        rows = "1 row" if count == 1 else f"{count:,} rows"
        click.echo(f"{table}: {rows} written to {destination} ({file_format})", err=summary_to_stderr)

"""The ``nexus-sdk`` command.

Each command group lives in its own module and imports its heavy dependencies inside the commands, so
``nexus-sdk --help`` stays fast and works without the optional extras installed. Exit codes and the rules
for errors (one line on stderr, no traceback, no secret) are in ``docs/cli.md``.
"""

from __future__ import annotations

import click

from nexus_sdk._version import __version__
from nexus_sdk.cli._common import Main


@click.group(cls=Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nexus-sdk")
def main() -> None:
    """nexus-sdk: schema, keys, a local stack, and import/export for Nexus on Supabase.

    Connection settings come from options or the environment (SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY,
    SUPABASE_ANON_KEY, NEXUS_ACCESS_TOKEN, NEXUS_ENCRYPTION_KEYS, DATABASE_URL). Exit codes: 0 done,
    1 error, 2 usage error, 3 import with rejected rows, 130 interrupted. Keys and tokens are never
    printed, errors included, except by the commands made to print them: keys new, local start, local
    status and local user create (export lines for eval), and export --include-tokens.

    \b
    Example:
      $ eval "$(nexus-sdk local status)"
      $ nexus-sdk export adaptations -o ideas.jsonl
      $ nexus-sdk import adaptations ideas.jsonl
    """


def _register() -> None:
    from nexus_sdk.cli._db import db
    from nexus_sdk.cli._keys import keys
    from nexus_sdk.cli._local import local
    from nexus_sdk.cli._transfer import export_command, import_command

    main.add_command(db)
    main.add_command(keys)
    main.add_command(local)
    main.add_command(import_command)
    main.add_command(export_command)


_register()

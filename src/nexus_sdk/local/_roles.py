"""The impersonated roles' own settings (``ALTER ROLE anon SET statement_timeout = '3s'``).

A role's settings apply when it logs in, never on ``SET ROLE``; PostgREST therefore reads them (PostgREST
11.1+, "impersonated role settings") and applies them in every request's transaction with
``set_config(name, value, true)``. As PostgREST does, the stack takes them from ``pg_roles.rolconfig``
(the settings for every database) of the roles the authenticator is a direct member of, keeps those a user
may set (``pg_settings.context = 'user'``, or with the ``SET`` privilege on PostgreSQL 15+) and leaves
``default_transaction_isolation`` out. They are read with the schema cache, so ``NOTIFY pgrst`` (or
:meth:`LocalStack.reload_schema`) picks up a change.
"""

from __future__ import annotations

from typing import Any, Final

import psycopg

__all__ = ["RoleSettings", "load_role_settings", "text_array"]

RoleSettings = dict[str, tuple[str, str]]
"""Role name -> (setting names, values), each a ``text[]`` literal: the request's ``set_config`` casts them
(made once here, where a list would be adapted to an array again on every request)."""

_QUERY: Final = """
WITH role_setting AS (
  SELECT r.rolname, unnest(r.rolconfig) AS setting
  FROM pg_catalog.pg_auth_members m
  JOIN pg_catalog.pg_roles r ON r.oid = m.roleid
  WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user)
), kv AS (
  SELECT rolname, substr(setting, 1, strpos(setting, '=') - 1) AS key,
         substr(setting, strpos(setting, '=') + 1) AS value
  FROM role_setting
)
SELECT kv.rolname, kv.key, kv.value
FROM kv JOIN pg_catalog.pg_settings ps ON ps.name = kv.key
WHERE kv.key <> 'default_transaction_isolation' AND (ps.context = 'user' {extra})
ORDER BY kv.rolname, kv.key
"""
_SET_PRIVILEGE: Final = "OR pg_catalog.has_parameter_privilege(current_user, ps.name, 'SET')"


async def load_role_settings(conn: psycopg.AsyncConnection[Any]) -> RoleSettings:
    """Read the settings of every role the connection's user may become."""
    extra = _SET_PRIVILEGE if conn.info.server_version >= 150000 else ""
    cur = await conn.execute(_QUERY.format(extra=extra).encode())
    pairs: dict[str, tuple[list[str], list[str]]] = {}
    for role, key, value in await cur.fetchall():
        names, values = pairs.setdefault(role, ([], []))
        names.append(key)
        values.append(value)
    return {role: (text_array(names), text_array(values)) for role, (names, values) in pairs.items()}


def text_array(items: list[str]) -> str:
    """``items`` as a ``text[]`` literal: each element quoted, its ``"`` and ``\\`` escaped."""
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"

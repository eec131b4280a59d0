"""The schema cache: tables, columns and functions of the exposed schema, read once and on reload.

Every identifier in a request is checked against this cache before it reaches SQL, and requests never
query the catalog themselves, which keeps per-request overhead low.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

__all__ = ["Catalog", "Column", "Function", "Table", "load_catalog"]


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a table, a view, or a function's result."""

    name: str
    type: str
    """``format_type`` of the column's type, e.g. ``character varying(255)``."""
    nullable: bool = True
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """A table, view or materialized view of the exposed schema."""

    schema: str
    name: str
    columns: dict[str, Column]
    primary_key: tuple[str, ...]
    insertable: bool


@dataclass(frozen=True, slots=True)
class Function:
    """A function of the exposed schema callable through ``/rpc/``."""

    schema: str
    name: str
    args: tuple[Column, ...]
    """Input arguments in order; ``has_default`` marks those that may be omitted."""
    returns_set: bool
    volatile: bool
    return_type: str
    """``format_type`` of the return type (``void``, ``integer``, ``record``, a table name ...)."""
    result_columns: tuple[Column, ...] | None
    """The columns when the result is a row type (a table's row, OUT/TABLE parameters); else ``None``."""

    @property
    def returns_void(self) -> bool:
        """Whether the function returns ``void``."""
        return self.return_type == "void"

    @property
    def required_args(self) -> frozenset[str]:
        """Names of the arguments without a default."""
        return frozenset(a.name for a in self.args if not a.has_default)


@dataclass(slots=True)
class Catalog:
    """What the API exposes: the schema's tables and functions by name."""

    schema: str
    tables: dict[str, Table] = field(default_factory=dict)
    functions: dict[str, list[Function]] = field(default_factory=dict)


_TABLES_SQL = """
SELECT c.relname,
       c.relkind,
       a.attname,
       format_type(a.atttypid, a.atttypmod),
       NOT a.attnotnull,
       (a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''),
       coalesce((SELECT array_agg(pa.attname ORDER BY k.i)
                   FROM pg_index x
                   CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, i)
                   JOIN pg_attribute pa ON pa.attrelid = x.indrelid AND pa.attnum = k.attnum
                  WHERE x.indrelid = c.oid AND x.indisprimary), '{}')
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY c.relname, a.attnum
"""

_FUNCTIONS_SQL = """
SELECT p.proname,
       p.provolatile = 'v',
       p.proretset,
       format_type(p.prorettype, NULL),
       t.typrelid,
       p.pronargdefaults,
       coalesce(p.proargnames, '{}'),
       coalesce(p.proargmodes::text[], '{}'),
       ARRAY(SELECT format_type(u.oid, NULL)
               FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(oid, i)
              ORDER BY u.i),
       CASE WHEN t.typrelid <> 0 THEN
         ARRAY(SELECT ARRAY[a.attname::text, format_type(a.atttypid, a.atttypmod)]
                 FROM pg_attribute a
                WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum)
       END
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_type t ON t.oid = p.prorettype
 WHERE n.nspname = %s AND p.prokind = 'f'
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY p.proname, p.oid
"""


def _function(schema: str, row: tuple[Any, ...]) -> Function:
    name, volatile, retset, rettype, typrelid, ndefaults, names, modes, types, relcols = row
    modes = modes or ["i"] * len(types)
    inputs: list[tuple[str, str]] = []
    outputs: list[Column] = []
    for i, (mode, typ) in enumerate(zip(modes, types, strict=True)):
        argname = names[i] if i < len(names) else ""
        if mode in ("i", "b", "v"):
            inputs.append((argname, typ))
        if mode in ("o", "b", "t"):
            outputs.append(Column(argname, typ))
    first_default = len(inputs) - ndefaults
    args = tuple(
        Column(argname, typ, has_default=i >= first_default) for i, (argname, typ) in enumerate(inputs)
    )
    result: tuple[Column, ...] | None = None
    if typrelid:
        result = tuple(Column(c[0], c[1]) for c in relcols)
    elif rettype == "record" and outputs:
        result = tuple(outputs)
    return Function(schema, name, args, retset, volatile, rettype, result)


async def load_catalog(conn: AsyncConnection[Any], schema: str = "public") -> Catalog:
    """Read the exposed schema's tables, columns and functions.

    Args:
        conn: a connection that can read the system catalogs.
        schema: the exposed schema.

    Returns:
        A fresh :class:`Catalog`.
    """
    catalog = Catalog(schema)
    rows = await (await conn.execute(_TABLES_SQL, [schema])).fetchall()
    building: dict[str, tuple[str, list[Column], tuple[str, ...]]] = {}
    for relname, relkind, attname, typ, nullable, has_default, pk in rows:
        entry = building.setdefault(relname, (relkind, [], tuple(pk)))
        entry[1].append(Column(attname, typ, nullable, has_default))
    for relname, (relkind, columns, pk) in building.items():
        catalog.tables[relname] = Table(
            schema, relname, {c.name: c for c in columns}, pk, relkind in ("r", "p", "v", "f")
        )
    for row in await (await conn.execute(_FUNCTIONS_SQL, [schema])).fetchall():
        fn = _function(schema, row)
        catalog.functions.setdefault(fn.name, []).append(fn)
    return catalog

"""The schema cache: tables, columns and functions of the exposed schema, read once and on reload.

Every identifier in a request is checked against this cache before it reaches SQL, and requests never
query the catalog themselves, which keeps per-request overhead low.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from psycopg import AsyncConnection

__all__ = ["Catalog", "Column", "ForeignKey", "Function", "Relationship", "Table", "load_catalog"]


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
    unique_keys: tuple[tuple[str, ...], ...] = ()
    """The primary key and the unique constraints (for a view: those of its base tables it exposes)."""
    is_view: bool = False
    updatable: bool = True
    deletable: bool = True
    """``insertable``, ``updatable``, ``deletable``: as PostgREST reads them (a table always; a view or foreign
    table as ``pg_relation_is_updatable`` says), for the ``Allow`` header of ``OPTIONS``."""


@dataclass(frozen=True, slots=True)
class ForeignKey:
    """A foreign key between two relations of the exposed schema (tables, or views exposing its columns)."""

    name: str
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


Cardinality = Literal["many-to-one", "one-to-many", "one-to-one", "many-to-many"]


@dataclass(frozen=True, slots=True)
class Relationship:
    """How ``source`` reaches ``target``: directly through a foreign key, or through a junction table."""

    source: str
    target: str
    cardinality: Cardinality
    fk: ForeignKey
    """The foreign key (for many-to-many: the junction's key to ``source``)."""
    pairs: tuple[tuple[str, str], ...]
    """(source column, target column) for a direct relationship; (source column, junction column) else."""
    junction: str | None = None
    fk2: ForeignKey | None = None
    """Many-to-many: the junction's key to ``target``."""
    junction_pairs: tuple[tuple[str, str], ...] = ()
    """Many-to-many: (junction column, target column)."""

    @property
    def to_one(self) -> bool:
        """Whether the embedded value is one object (or null) rather than an array."""
        return self.cardinality in ("many-to-one", "one-to-one")

    @property
    def fk_on_source(self) -> bool:
        """Whether the foreign key is the source's own (a many-to-one, or a one-to-one from that side)."""
        return (
            self.junction is None
            and self.fk.table == self.source
            and self.pairs == tuple(zip(self.fk.columns, self.fk.ref_columns, strict=True))
        )

    def describe(self) -> dict[str, str]:
        """The entry PostgREST lists for this relationship in a PGRST201 error."""
        if self.junction is not None and self.fk2 is not None:
            rel = (
                f"{self.junction} using {self.fk.name}({', '.join(self.fk.columns)}) and "
                f"{self.fk2.name}({', '.join(self.fk2.columns)})"
            )
        else:
            src = [a for a, _ in self.pairs]
            tgt = [b for _, b in self.pairs]
            rel = f"{self.fk.name} using {self.source}({', '.join(src)}) and {self.target}({', '.join(tgt)})"
        return {
            "cardinality": self.cardinality,
            "embedding": f"{self.source} with {self.target}",
            "relationship": rel,
        }

    def hint_name(self) -> str:
        """What PostgREST suggests after ``!`` to pick this relationship."""
        return self.junction if self.junction is not None else self.fk.name


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
    variadic: str | None = None
    """The name of the ``VARIADIC`` argument, if any (called with ``VARIADIC name := array``)."""

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
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    computed: dict[str, dict[str, Function]] = field(default_factory=dict)
    """Per table or view: its computed fields, functions taking its row as their one argument."""
    timezones: frozenset[str] = frozenset()
    """The names of ``pg_timezone_names``: the zones PostgREST 14 accepts in ``Prefer: timezone=``."""

    def relationships(self, source: str) -> list[Relationship]:
        """Every relationship from ``source``: its keys, keys to it, and junctions to other relations."""
        out: list[Relationship] = []
        src = self.tables.get(source)
        if src is None:
            return out
        for fk in self.foreign_keys:
            if fk.table == source and fk.ref_table in self.tables:
                one = _is_unique(src, fk.columns)
                out.append(
                    Relationship(
                        source,
                        fk.ref_table,
                        "one-to-one" if one else "many-to-one",
                        fk,
                        tuple(zip(fk.columns, fk.ref_columns, strict=True)),
                    )
                )
            if fk.ref_table == source and fk.table in self.tables:
                one = _is_unique(self.tables[fk.table], fk.columns)
                out.append(
                    Relationship(
                        source,
                        fk.table,
                        "one-to-one" if one else "one-to-many",
                        fk,
                        tuple(zip(fk.ref_columns, fk.columns, strict=True)),
                    )
                )
        for fk1 in self.foreign_keys:
            if fk1.ref_table != source or fk1.table not in self.tables:
                continue
            junction = self.tables[fk1.table]
            if junction.is_view or not set(fk1.columns) <= set(junction.primary_key):
                continue
            for fk2 in self.foreign_keys:
                if (
                    fk2 is fk1
                    or fk2.table != fk1.table
                    or fk2.ref_table not in self.tables
                    or not set(fk2.columns) <= set(junction.primary_key)
                ):
                    continue
                out.append(
                    Relationship(
                        source,
                        fk2.ref_table,
                        "many-to-many",
                        fk1,
                        tuple(zip(fk1.ref_columns, fk1.columns, strict=True)),
                        junction=junction.name,
                        fk2=fk2,
                        junction_pairs=tuple(zip(fk2.columns, fk2.ref_columns, strict=True)),
                    )
                )
        return out


def _is_unique(table: Table, columns: Iterable[str]) -> bool:
    wanted = set(columns)
    return any(set(key) == wanted for key in table.unique_keys)


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
                  WHERE x.indrelid = c.oid AND x.indisprimary), '{}'),
       CASE WHEN c.relkind IN ('r', 'p') THEN 28
            WHEN c.relkind IN ('v', 'f') THEN pg_relation_is_updatable(c.oid::regclass, true)
            ELSE 0 END
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY c.relname, a.attnum
"""

# Keys of every user relation: views in the exposed schema may expose tables of other schemas.
_KEYS_SQL = """
SELECT con.contype,
       con.conname,
       con.conrelid,
       con.conkey::int[],
       con.confrelid,
       coalesce(con.confkey::int[], '{}')
  FROM pg_constraint con
  JOIN pg_namespace n ON n.oid = con.connamespace
 WHERE con.contype IN ('p', 'u', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
 ORDER BY con.conrelid, con.conname
"""

_RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname,
       ARRAY(SELECT ARRAY[a.attnum::text, a.attname::text]
               FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
              ORDER BY a.attnum)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""

# The view's query tree names, for each output column, the table column it comes from (resorigtbl and
# resorigcol of its target entries); PostgREST reads the same fields to infer keys of views.
_VIEWS_SQL = """
SELECT c.oid, r.ev_action::text
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_rewrite r ON r.ev_class = c.oid AND r.rulename = '_RETURN'
 WHERE c.relkind IN ('v', 'm')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""
_TARGET_ENTRY = re.compile(
    r":resno (\d+) :resname (\S+) :ressortgroupref \d+ :resorigtbl (\d+) :resorigcol (\d+) :resjunk false"
)

_FUNCTIONS_SQL = """
SELECT p.proname,
       p.provolatile = 'v',
       p.proretset,
       format_type(p.prorettype, NULL),
       coalesce(bt.typrelid, t.typrelid),
       p.pronargdefaults,
       coalesce(p.proargnames, '{}'),
       coalesce(p.proargmodes::text[], '{}'),
       ARRAY(SELECT format_type(u.oid, NULL)
               FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY AS u(oid, i)
              ORDER BY u.i),
       CASE WHEN coalesce(bt.typrelid, t.typrelid) <> 0 THEN
         ARRAY(SELECT ARRAY[a.attname::text, format_type(a.atttypid, a.atttypmod)]
                 FROM pg_attribute a
                WHERE a.attrelid = coalesce(bt.typrelid, t.typrelid) AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum)
       END
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_type t ON t.oid = p.prorettype
  -- A domain over a composite type returns rows of that type.
  LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype AND bt.typrelid <> 0
 WHERE n.nspname = %s AND p.prokind = 'f'
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY p.proname, p.oid
"""


def _function(schema: str, row: tuple[Any, ...]) -> Function:
    name, volatile, retset, rettype, typrelid, ndefaults, names, modes, types, relcols = row
    modes = modes or ["i"] * len(types)
    inputs: list[tuple[str, str]] = []
    outputs: list[Column] = []
    variadic: str | None = None
    for i, (mode, typ) in enumerate(zip(modes, types, strict=True)):
        argname = names[i] if i < len(names) else ""
        if mode == "v":
            variadic = argname
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
    elif outputs:
        # OUT, INOUT or TABLE parameters: rows of those columns, also when there is only one (PostgREST
        # answers {"num_plus_one": 6} for a single OUT parameter, [{"id": 1}] for a one-column TABLE).
        result = tuple(outputs)
    return Function(schema, name, args, retset, volatile, rettype, result, variadic)


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
    building: dict[str, tuple[str, list[Column], tuple[str, ...], int]] = {}
    for relname, relkind, attname, typ, nullable, has_default, pk, modes in rows:
        entry = building.setdefault(relname, (relkind, [], tuple(pk), modes))
        entry[1].append(Column(attname, typ, nullable, has_default))
    keys = await _load_keys(conn, schema)
    for relname, (relkind, columns, pk, modes) in building.items():
        primary, uniques = keys.keys.get(relname, ((), ()))
        catalog.tables[relname] = Table(
            schema,
            relname,
            {c.name: c for c in columns},
            tuple(pk) or primary,
            # pg_relation_is_updatable's bits: 8 INSERT, 4 UPDATE, 16 DELETE.
            bool(modes & 8),
            unique_keys=uniques or ((tuple(pk),) if pk else ()),
            is_view=relkind in ("v", "m"),
            updatable=bool(modes & 4),
            deletable=bool(modes & 16),
        )
    catalog.foreign_keys = keys.foreign_keys
    zones = await (await conn.execute("SELECT name FROM pg_catalog.pg_timezone_names")).fetchall()
    catalog.timezones = frozenset(name for (name,) in zones)
    for row in await (await conn.execute(_FUNCTIONS_SQL, [schema])).fetchall():
        fn = _function(schema, row)
        catalog.functions.setdefault(fn.name, []).append(fn)
        if len(fn.args) == 1 and not fn.returns_set and not fn.returns_void:
            # A function of one row of a table or view is a computed field of it.
            table = fn.args[0].type.removeprefix(f"{schema}.").strip('"')
            if table in catalog.tables and fn.name not in catalog.tables[table].columns:
                catalog.computed.setdefault(table, {})[fn.name] = fn
    return catalog


@dataclass(slots=True)
class _Keys:
    keys: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]
    """Per relation of the exposed schema: (primary key, primary and unique keys)."""
    foreign_keys: list[ForeignKey]


async def _load_keys(conn: AsyncConnection[Any], schema: str) -> _Keys:
    """Keys of the exposed schema's relations, views included (inferred from the tables they expose)."""
    names: dict[int, tuple[str, str]] = {}
    attnames: dict[int, dict[int, str]] = {}
    for oid, nsp, relname, atts in await (await conn.execute(_RELATIONS_SQL)).fetchall():
        names[oid] = (nsp, relname)
        attnames[oid] = {int(num): name for num, name in atts}
    # view oid -> {view column: (base relation oid, base attnum)}, followed through views of views.
    direct: dict[int, dict[str, tuple[int, int]]] = {}
    for oid, action in await (await conn.execute(_VIEWS_SQL)).fetchall():
        origin: dict[str, tuple[int, int]] = {}
        wanted = {name: num for num, name in attnames.get(oid, {}).items()}
        for m in _TARGET_ENTRY.finditer(action or ""):
            resno, resname, tbl, col = int(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
            # The top-level target list comes last; a later entry for the same output column wins.
            if tbl and col and wanted.get(resname) == resno:
                origin[resname] = (tbl, col)
        direct[oid] = origin

    def base_of(oid: int, attnum: int, depth: int = 0) -> tuple[int, int]:
        if oid in direct and depth < 16:
            name = attnames.get(oid, {}).get(attnum)
            if name is not None and name in direct[oid]:
                tbl, col = direct[oid][name]
                return base_of(tbl, col, depth + 1)
        return oid, attnum

    # exposed relation -> {(base oid, base attnum): its column name}
    exposes: dict[int, dict[tuple[int, int], str]] = {}
    for oid, (nsp, _) in names.items():
        if nsp != schema:
            continue
        if oid in direct:
            exposes[oid] = {}
            for num, name in attnames[oid].items():
                base = base_of(oid, num)
                if base != (oid, num):
                    exposes[oid].setdefault(base, name)
        else:
            exposes[oid] = {(oid, num): name for num, name in attnames[oid].items()}

    exposers: dict[int, list[int]] = {}
    for rel, exposed in exposes.items():
        for base_oid in {b for b, _ in exposed}:
            exposers.setdefault(base_oid, []).append(rel)

    def columns_in(rel: int, base: int, nums: list[int]) -> tuple[str, ...] | None:
        mapping = exposes[rel]
        out = []
        for num in nums:
            name = mapping.get((base, num))
            if name is None:
                return None
            out.append(name)
        return tuple(out)

    result = _Keys({}, [])
    primary: dict[str, tuple[str, ...]] = {}
    uniques: dict[str, list[tuple[str, ...]]] = {}
    fks: list[tuple[str, int, list[int], int, list[int]]] = []
    for contype, conname, relid, conkey, frelid, confkey in await (await conn.execute(_KEYS_SQL)).fetchall():
        if contype == "f":
            fks.append((conname, relid, list(conkey), frelid, list(confkey)))
            continue
        for rel in exposers.get(relid, []):
            cols = columns_in(rel, relid, list(conkey))
            if cols is None:
                continue
            relname = names[rel][1]
            if contype == "p" and (rel == relid or relname not in primary):
                primary[relname] = cols
            if cols not in uniques.setdefault(relname, []):
                uniques[relname].append(cols)
    for relname in set(primary) | set(uniques):
        pk = primary.get(relname, ())
        keys = [pk] if pk else []
        keys += [k for k in uniques.get(relname, []) if k != pk]
        result.keys[relname] = (pk, tuple(keys))
    seen: set[tuple[str, str, tuple[str, ...], str, tuple[str, ...]]] = set()
    for conname, relid, conkey, frelid, confkey in fks:
        for rel in exposers.get(relid, []):
            cols = columns_in(rel, relid, conkey)
            if cols is None:
                continue
            for ref in exposers.get(frelid, []):
                ref_cols = columns_in(ref, frelid, confkey)
                if ref_cols is None:
                    continue
                key = (conname, names[rel][1], cols, names[ref][1], ref_cols)
                if key not in seen:
                    seen.add(key)
                    result.foreign_keys.append(ForeignKey(*key))
    return result

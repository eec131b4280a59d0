"""Supabase's database linter rules (splinter), as catalog queries: no finding on our objects.

Each rule is our own query, written from the rule's description; each one is first shown to catch a
deliberately bad object (created in a rolled-back transaction), so a rule that can never fire does not
pass silently.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

Conn = psycopg.Connection[Any]

# The API-exposed schema holding our objects.
EXPOSED = "'public'"

LINTS: dict[str, str] = {
    "rls_disabled_in_public": f"""
        select c.oid::regclass::text
        from pg_class c
        where c.relnamespace::regnamespace::text in ({EXPOSED}) and c.relkind in ('r', 'p')
          and not c.relrowsecurity
    """,
    # auth.<fn>() or current_setting() called per row instead of once per statement via (select ...).
    "auth_rls_initplan": f"""
        select format('%s.%s', p.tablename, p.policyname)
        from pg_policies p, lateral (values (p.qual), (p.with_check)) as e(expr)
        where p.schemaname in ({EXPOSED}) and e.expr is not null
          and (
              (e.expr ~ 'auth\\.(uid|jwt|role|email)\\(\\)'
               and e.expr !~* '\\(\\s*select\\s+auth\\.(uid|jwt|role|email)\\(\\)')
              or (e.expr ~ 'current_setting\\(' and e.expr !~* '\\(\\s*select\\s+current_setting\\(')
          )
    """,
    # More than one permissive policy for the same table, role and command.
    "multiple_permissive_policies": f"""
        with expanded as (
            select p.schemaname, p.tablename, p.policyname, r.role, c.cmd
            from pg_policies p
            cross join lateral unnest(
                case when p.roles = '{{public}}' then array['anon', 'authenticated', 'authenticator']::name[]
                     else p.roles end
            ) as r(role)
            cross join lateral unnest(
                case when p.cmd = 'ALL' then array['SELECT', 'INSERT', 'UPDATE', 'DELETE'] else array[p.cmd] end
            ) as c(cmd)
            where p.schemaname in ({EXPOSED}) and p.permissive = 'PERMISSIVE'
        )
        select format('%s.%s %s %s: %s', schemaname, tablename, role, cmd, string_agg(policyname, ', '))
        from expanded
        group by schemaname, tablename, role, cmd
        having count(*) > 1
    """,
    # Every foreign key needs a valid index whose leading columns are the key's columns, in order.
    "unindexed_foreign_keys": f"""
        select format('%s.%s', k.conrelid::regclass, k.conname)
        from pg_constraint k
        where k.contype = 'f' and k.connamespace::regnamespace::text in ({EXPOSED})
          and not exists (
              select 1 from pg_index i
              where i.indrelid = k.conrelid and i.indisvalid
                and (string_to_array(i.indkey::text, ' ')::smallint[])[1:cardinality(k.conkey)] = k.conkey
          )
    """,
    "function_search_path_mutable": f"""
        select p.oid::regprocedure::text
        from pg_proc p
        where p.pronamespace::regnamespace::text in ({EXPOSED}, 'auth')
          and not exists (select 1 from unnest(coalesce(p.proconfig, '{{}}')) s where s like 'search\\_path=%')
    """,
    "anon_security_definer_function_executable": f"""
        select p.oid::regprocedure::text
        from pg_proc p
        where p.prosecdef and p.pronamespace::regnamespace::text in ({EXPOSED})
          and has_function_privilege('anon', p.oid, 'EXECUTE')
    """,
    "authenticated_security_definer_function_executable": f"""
        select p.oid::regprocedure::text
        from pg_proc p
        where p.prosecdef and p.pronamespace::regnamespace::text in ({EXPOSED})
          and has_function_privilege('authenticated', p.oid, 'EXECUTE')
    """,
    # A permissive policy for the API roles whose condition is trivially true (or missing).
    "rls_policy_always_true": f"""
        with p as (
            select *,
                   regexp_replace(lower(coalesce(qual, '')), '\\s', '', 'g') as q,
                   regexp_replace(lower(coalesce(with_check, '')), '\\s', '', 'g') as w
            from pg_policies
            where schemaname in ({EXPOSED}) and permissive = 'PERMISSIVE'
              and roles && array['public', 'anon', 'authenticated']::name[]
        )
        select format('%s.%s', tablename, policyname) from p
        where (cmd in ('UPDATE', 'DELETE', 'ALL') and (q in ('true', '(true)', '1=1', '(1=1)') or qual is null))
           or w in ('true', '(true)', '1=1', '(1=1)')
           or (cmd in ('INSERT', 'UPDATE', 'ALL') and with_check is null)
    """,
    # Two indexes on the same table with the same columns, opclasses, expressions and predicate.
    "duplicate_index": f"""
        select string_agg(i.indexrelid::regclass::text, ', ')
        from pg_index i join pg_class c on c.oid = i.indrelid
        where c.relnamespace::regnamespace::text in ({EXPOSED})
        group by i.indrelid, i.indkey::text, i.indclass::text, i.indcollation::text,
                 coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), '')
        having count(*) > 1
    """,
    "no_primary_key": f"""
        select c.oid::regclass::text
        from pg_class c
        where c.relnamespace::regnamespace::text in ({EXPOSED}) and c.relkind in ('r', 'p')
          and not exists (select 1 from pg_constraint k where k.conrelid = c.oid and k.contype = 'p')
    """,
}

# A bad object each rule must flag, and a word its finding must contain.
PROBES: dict[str, tuple[str, str]] = {
    "rls_disabled_in_public": ("create table public.lint_probe (id int primary key)", "lint_probe"),
    "auth_rls_initplan": (
        "create policy lint_probe on public.users for select to authenticated using (id = auth.uid())",
        "lint_probe",
    ),
    "multiple_permissive_policies": (
        "create policy lint_probe on public.users for select to authenticated using (is_active)",
        "lint_probe",
    ),
    "unindexed_foreign_keys": (
        "create table public.lint_probe (id int primary key, user_id uuid references public.users (id));"
        "alter table public.lint_probe enable row level security",
        "lint_probe",
    ),
    "function_search_path_mutable": (
        "create function public.lint_probe() returns int language sql as 'select 1'",
        "lint_probe",
    ),
    "anon_security_definer_function_executable": (
        "create function public.lint_probe() returns int language sql security definer"
        " set search_path = '' as 'select 1'",
        "lint_probe",
    ),
    "authenticated_security_definer_function_executable": (
        "create function public.lint_probe() returns int language sql security definer"
        " set search_path = '' as 'select 1'; revoke execute on function public.lint_probe() from public;"
        " grant execute on function public.lint_probe() to authenticated",
        "lint_probe",
    ),
    "rls_policy_always_true": (
        "create policy lint_probe on public.content_adaptations as restrictive for update to authenticated"
        " using (true) with check (true);"
        "create policy lint_probe2 on public.users for delete to authenticated using (true)",
        "lint_probe2",
    ),
    "duplicate_index": (
        "create index lint_probe on public.voice_profiles (user_id)",
        "lint_probe",
    ),
    "no_primary_key": (
        "create table public.lint_probe (id int); alter table public.lint_probe enable row level security",
        "lint_probe",
    ),
}


def findings(conn: Conn, rule: str) -> list[str]:
    return [r[0] for r in conn.execute(LINTS[rule]).fetchall()]


@pytest.mark.parametrize("rule", sorted(LINTS))
def test_no_finding(conn: Conn, rule: str) -> None:
    assert findings(conn, rule) == []


@pytest.mark.parametrize("rule", sorted(PROBES))
def test_the_rule_catches_a_bad_object(conn: Conn, rule: str) -> None:
    statement, marker = PROBES[rule]
    with conn.transaction(force_rollback=True):
        conn.execute(statement)
        found = findings(conn, rule)
    assert any(marker in f for f in found), found


def test_every_rule_has_a_probe() -> None:
    assert set(PROBES) == set(LINTS)


def test_foreign_keys_also_have_an_exactly_matching_index(conn: Conn) -> None:
    """Splinter's own check wants an index on exactly the key's columns; ours all have one."""
    rows = conn.execute(
        """
        select k.conname from pg_constraint k
        where k.contype = 'f' and k.connamespace = 'public'::regnamespace
          and not exists (
              select 1 from pg_index i
              where i.indrelid = k.conrelid and i.indisvalid
                and string_to_array(i.indkey::text, ' ')::smallint[] = k.conkey
          )
        """
    ).fetchall()
    assert rows == []

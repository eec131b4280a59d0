-- Supabase compatibility for plain PostgreSQL.
--
-- Creates what a Supabase project already has and the Nexus schema relies on: the API roles, the
-- `auth` schema with a Supabase-shaped `auth.users`, and `auth.uid()`, `auth.role()`, `auth.jwt()`.
-- The applier runs this file only when schema `auth` does not exist, so a real Supabase project is
-- never touched by it. It is idempotent anyway (the single-file migration may run it twice).
--
-- Roles are cluster-wide and another database of the same cluster may run this file at the same
-- moment: each role is created only if missing, and a concurrent creator's win is tolerated
-- (duplicate_object when the catalog already shows it, unique_violation when both inserted at once).

DO $bootstrap$
DECLARE
    spec record;
BEGIN
    FOR spec IN
        SELECT * FROM (VALUES
            ('anon',                'NOLOGIN NOINHERIT'),
            ('authenticated',       'NOLOGIN NOINHERIT'),
            ('service_role',        'NOLOGIN NOINHERIT BYPASSRLS'),
            ('authenticator',       'LOGIN NOINHERIT'),
            ('supabase_auth_admin', 'NOLOGIN NOINHERIT CREATEROLE')
        ) AS r(name, options)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = spec.name) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I %s', spec.name, spec.options);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;  -- created meanwhile by a bootstrap running in another database
            END;
        END IF;
    END LOOP;

    -- PostgREST logs in as authenticator and switches to the role named by the JWT.
    FOR spec IN SELECT unnest(ARRAY['anon', 'authenticated', 'service_role']) AS name LOOP
        IF NOT pg_catalog.pg_has_role('authenticator', spec.name, 'MEMBER') THEN
            BEGIN
                EXECUTE format('GRANT %I TO authenticator', spec.name);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL;
            END;
        END IF;
    END LOOP;
END
$bootstrap$;

-- Supabase's per-role settings for the API roles: a statement of an anonymous request may run 3 s, one of a
-- signed-in user's 8 s, so that one user's slow query cannot hold a connection for long. PostgREST (and the
-- local stack) applies a role's settings at the start of each request it runs as that role. The service
-- role has none: its requests keep the 8 s that authenticator (the role PostgREST logs in as) gets at login,
-- as on Supabase, so no request runs unbounded. Set only where the role has no statement_timeout of its own
-- yet (a DBA's choice is kept), cluster-wide as on Supabase.
DO $role_settings$
DECLARE
    spec record;
BEGIN
    FOR spec IN SELECT * FROM (VALUES ('anon', '3s'), ('authenticated', '8s'), ('authenticator', '8s'))
        AS s(name, timeout)
    LOOP
        IF NOT EXISTS (
            SELECT 1
            FROM pg_catalog.pg_db_role_setting s JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
            WHERE r.rolname = spec.name AND s.setdatabase = 0
              AND EXISTS (SELECT 1 FROM unnest(s.setconfig) c WHERE c LIKE 'statement\_timeout=%')
        ) THEN
            BEGIN
                EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', spec.name, spec.timeout);
            EXCEPTION
                WHEN insufficient_privilege THEN
                    NULL;  -- a bootstrap run by a role that may not alter the API roles leaves them as they are
                WHEN unique_violation OR internal_error THEN
                    NULL;  -- set meanwhile by a bootstrap running in another database ("tuple concurrently updated")
            END;
        END IF;
    END LOOP;
END
$role_settings$;

CREATE SCHEMA IF NOT EXISTS auth;

-- Enough of Supabase's auth.users for our use: the columns our trigger and tests read, plus the
-- ones an auth server sets on every row.
CREATE TABLE IF NOT EXISTS auth.users (
    instance_id uuid,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    recovery_token varchar(255),
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now(),
    phone text UNIQUE,
    phone_confirmed_at timestamptz,
    banned_until timestamptz,
    deleted_at timestamptz,
    is_sso_user boolean NOT NULL DEFAULT false,
    is_anonymous boolean NOT NULL DEFAULT false
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email_partial_key ON auth.users (email) WHERE is_sso_user = false;

-- The claims helpers, read the way Supabase reads them: the legacy per-claim setting first, then the
-- JSON of all claims that PostgREST sets per request. Stable: constant within a statement, which lets
-- `(select auth.uid())` in a policy run once per statement.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
    )::uuid
$$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.email() RETURNS text
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
    )::text
$$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = ''
AS $$
    SELECT coalesce(
        nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
        nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
    )::jsonb
$$;

-- Supabase: auth objects belong to supabase_auth_admin. Only a superuser (or a member of that role)
-- may hand them over; a bootstrap run by anyone else keeps them and says nothing.
DO $owner$
DECLARE
    stmt text;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        'ALTER SCHEMA auth OWNER TO supabase_auth_admin',
        'ALTER TABLE auth.users OWNER TO supabase_auth_admin',
        'ALTER FUNCTION auth.uid() OWNER TO supabase_auth_admin',
        'ALTER FUNCTION auth.role() OWNER TO supabase_auth_admin',
        'ALTER FUNCTION auth.email() OWNER TO supabase_auth_admin',
        'ALTER FUNCTION auth.jwt() OWNER TO supabase_auth_admin'
    ] LOOP
        BEGIN
            EXECUTE stmt;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END
$owner$;

-- The API roles may resolve auth.uid() & co. in policies, and nothing else in `auth`.
GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
REVOKE ALL ON TABLE auth.users FROM anon, authenticated, service_role;
REVOKE EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt()
    TO anon, authenticated, service_role, supabase_auth_admin;

-- The migration role (Supabase's `postgres`; here the database owner, and `postgres` when it exists)
-- gets what Supabase's `postgres` holds on auth.users: enough to reference it, read it and create a
-- trigger on it, without owning it.
DO $migrator$
DECLARE
    grantee text;
BEGIN
    FOR grantee IN
        SELECT DISTINCT r.rolname
        FROM pg_catalog.pg_roles r
        WHERE r.rolname = 'postgres'
           OR r.oid = (SELECT datdba FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
    LOOP
        IF grantee <> 'supabase_auth_admin' THEN
            EXECUTE format('GRANT USAGE ON SCHEMA auth TO %I', grantee);
            EXECUTE format(
                'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON TABLE auth.users TO %I',
                grantee
            );
            EXECUTE format(
                'GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.email(), auth.jwt() TO %I', grantee
            );
        END IF;
    END LOOP;
END
$migrator$;

-- Per-role settings as Supabase gives its API roles (statement_timeout 3 s for anon, 8 s for
-- authenticated). PostgREST, and the local stack, apply a role's settings in every request's
-- transaction; a value set already (by an operator, or by a bootstrap in another database) is kept.
DO $role_settings$
DECLARE
    spec record;
BEGIN
    FOR spec IN SELECT * FROM (VALUES ('anon', '3s'), ('authenticated', '8s'), ('authenticator', '8s'))
        AS s(name, timeout)
    LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_roles
            WHERE rolname = spec.name
              AND EXISTS (SELECT 1 FROM unnest(rolconfig) AS c WHERE c LIKE 'statement\_timeout=%')
        ) THEN
            BEGIN
                EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', spec.name, spec.timeout);
            EXCEPTION WHEN internal_error THEN
                NULL;  -- "tuple concurrently updated": a bootstrap in another database set it meanwhile
            END;
        END IF;
    END LOOP;
END
$role_settings$;

-- Supabase Auth's storage for the local stack's /auth/v1, on plain PostgreSQL only.
--
-- Runs after supabase_compat.sql (file names sort it there), only where that bootstrap runs (no `auth`
-- schema before), and again from the local stack when it finds an `auth` schema made by an older
-- bootstrap without these tables. Never on a Supabase project: there, GoTrue owns these tables.
-- Shaped like Supabase's (same table and column names and types where the local Auth uses them), so
-- SQL written against a Supabase project's auth schema (joins on auth.identities, counts of
-- auth.sessions) runs here too. Idempotent.
--
-- One difference on purpose: auth.refresh_tokens.token holds the SHA-256 (hex) of the refresh token,
-- never the token itself, so a copy of the database cannot be used to sign in.

ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS email_change varchar(255) DEFAULT '';
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS phone_change text DEFAULT '';
ALTER TABLE auth.users ADD COLUMN IF NOT EXISTS reauthentication_token varchar(255) DEFAULT '';

CREATE TABLE IF NOT EXISTS auth.identities (
    provider_id text NOT NULL,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    identity_data jsonb NOT NULL,
    provider text NOT NULL,
    last_sign_in_at timestamptz,
    created_at timestamptz,
    updated_at timestamptz,
    email text GENERATED ALWAYS AS (lower(identity_data ->> 'email')) STORED,
    id uuid NOT NULL DEFAULT gen_random_uuid() PRIMARY KEY,
    CONSTRAINT identities_provider_id_provider_unique UNIQUE (provider_id, provider)
);
CREATE INDEX IF NOT EXISTS identities_user_id_idx ON auth.identities (user_id);

DO $types$
BEGIN
    IF to_regtype('auth.aal_level') IS NULL THEN
        CREATE TYPE auth.aal_level AS ENUM ('aal1', 'aal2', 'aal3');
    END IF;
END
$types$;

CREATE TABLE IF NOT EXISTS auth.sessions (
    id uuid NOT NULL PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    created_at timestamptz,
    updated_at timestamptz,
    factor_id uuid,
    aal auth.aal_level,
    not_after timestamptz,
    refreshed_at timestamp without time zone,
    user_agent text,
    ip inet,
    tag text
);
CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON auth.sessions (user_id);

CREATE TABLE IF NOT EXISTS auth.refresh_tokens (
    instance_id uuid,
    id bigserial PRIMARY KEY,
    token varchar(255) UNIQUE,
    user_id varchar(255),
    revoked boolean,
    created_at timestamptz,
    updated_at timestamptz,
    parent varchar(255),
    session_id uuid REFERENCES auth.sessions (id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS refresh_tokens_parent_idx ON auth.refresh_tokens (parent);
CREATE INDEX IF NOT EXISTS refresh_tokens_session_id_revoked_idx ON auth.refresh_tokens (session_id, revoked);

-- How each session was authenticated (its `amr` claim).
CREATE TABLE IF NOT EXISTS auth.mfa_amr_claims (
    session_id uuid NOT NULL REFERENCES auth.sessions (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    authentication_method text NOT NULL,
    id uuid NOT NULL PRIMARY KEY,
    CONSTRAINT mfa_amr_claims_session_id_authentication_method_pkey UNIQUE (session_id, authentication_method)
);

-- As on Supabase: the auth server's role owns its tables (only a superuser may hand them over; a
-- bootstrap run by anyone else keeps them), and the API roles get nothing here.
DO $owner$
DECLARE
    stmt text;
BEGIN
    FOREACH stmt IN ARRAY ARRAY[
        'ALTER TABLE auth.identities OWNER TO supabase_auth_admin',
        'ALTER TABLE auth.sessions OWNER TO supabase_auth_admin',
        'ALTER TABLE auth.refresh_tokens OWNER TO supabase_auth_admin',
        'ALTER TABLE auth.mfa_amr_claims OWNER TO supabase_auth_admin',
        'ALTER TYPE auth.aal_level OWNER TO supabase_auth_admin'
    ] LOOP
        BEGIN
            EXECUTE stmt;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END
$owner$;

REVOKE ALL ON TABLE auth.identities, auth.sessions, auth.refresh_tokens, auth.mfa_amr_claims FROM anon, authenticated, service_role;

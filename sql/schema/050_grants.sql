-- Privileges, granted explicitly rather than inherited from Supabase's default privileges (which are
-- being phased out, and which would give anon everything). Everything is first revoked, so a re-run
-- converges on exactly this set.
--
--   anon           USAGE on the schema; nothing on the tables.
--   authenticated  SELECT, INSERT, UPDATE on every column, DELETE where the document allows it (not on users).
--                  Every column, because PostgREST's upsert sets every column of its payload: a row read,
--                  changed and sent back must be accepted. What a user may not change is guarded by
--                  triggers instead (030_triggers.sql): id and user_id never change, created_at and
--                  updated_at are the database's, users.email/is_active and the publisher's columns of
--                  scheduled_posts may only be sent back unchanged. RLS limits each command to the user's
--                  own rows.
--   service_role   SELECT, INSERT, UPDATE, DELETE on every table (it bypasses RLS). No TRUNCATE:
--                  it would skip the voice-profile triggers.

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

REVOKE ALL ON TABLE
    public.users, public.platform_connections, public.content_adaptations,
    public.voice_profiles, public.published_posts, public.scheduled_posts
FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
    public.users, public.platform_connections, public.content_adaptations,
    public.voice_profiles, public.published_posts, public.scheduled_posts
TO service_role;

GRANT SELECT, INSERT, UPDATE ON TABLE public.users TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE
    public.platform_connections, public.content_adaptations, public.voice_profiles,
    public.published_posts, public.scheduled_posts
TO authenticated;

-- Trigger functions fire whatever their EXECUTE privilege; nobody needs to call them directly, and
-- the SECURITY DEFINER ones must not be reachable through /rpc/.
REVOKE ALL ON FUNCTION
    public.update_updated_at_column(),
    public.voice_profiles_before_insert(),
    public.voice_profiles_before_update(),
    public.voice_profiles_after_update(),
    public.voice_profiles_after_delete(),
    public.content_adaptations_fill_idea_hash(),
    public.guard_row_identity(),
    public.users_guard_owned_columns(),
    public.scheduled_posts_guard_publisher_columns(),
    public.published_posts_guard_status(),
    public.voice_profiles_lock_owner(),
    public.platform_connections_check_tokens(),
    public.scheduled_posts_check_content_length(),
    public.handle_new_user(),
    public.handle_user_email_change()
FROM PUBLIC, anon, authenticated, service_role;

-- Supabase Auth deletes a user as supabase_auth_admin, and the delete cascades through public.users to every
-- Nexus table. On PostgreSQL 15 the triggers fired by that cascade run as supabase_auth_admin, and
-- voice_profiles_after_delete() reads public.users (to tell a user's deletion from a profile's): without this
-- grant, deleting a user who has voice profiles fails with "permission denied for table users". The role may
-- read public.users and nothing else; RLS shows it no row.
DO $auth_admin$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'supabase_auth_admin') THEN
        -- Revoked first, so that a re-run leaves the same privileges in the same order.
        REVOKE ALL ON TABLE public.users FROM supabase_auth_admin;
        GRANT SELECT ON TABLE public.users TO supabase_auth_admin;
    END IF;
END
$auth_admin$;

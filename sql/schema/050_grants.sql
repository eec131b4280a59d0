-- Privileges, granted explicitly rather than inherited from Supabase's default privileges (which are
-- being phased out, and which would give anon everything). Everything is first revoked, so a re-run
-- converges on exactly this set.
--
--   anon           USAGE on the schema; nothing on the tables.
--   authenticated  SELECT; INSERT and UPDATE only on the columns a user may set; DELETE where the
--                  document allows it. Never id, user_id, created_at, updated_at on UPDATE; never
--                  users.email or users.is_active (the auth server and the backend own those), and
--                  never the publisher's bookkeeping on scheduled_posts (retry_count, last_error,
--                  published_post_id). RLS then limits each command to the user's own rows.
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

-- users
GRANT SELECT ON TABLE public.users TO authenticated;
GRANT UPDATE (full_name, avatar_url, timezone) ON TABLE public.users TO authenticated;

-- platform_connections
GRANT SELECT, DELETE ON TABLE public.platform_connections TO authenticated;
GRANT INSERT (id, user_id, platform, platform_user_id, access_token, refresh_token, token_expires_at,
              scope, profile_data, is_active, last_sync_at)
    ON TABLE public.platform_connections TO authenticated;
GRANT UPDATE (platform, platform_user_id, access_token, refresh_token, token_expires_at,
              scope, profile_data, is_active, last_sync_at)
    ON TABLE public.platform_connections TO authenticated;

-- content_adaptations
GRANT SELECT, DELETE ON TABLE public.content_adaptations TO authenticated;
GRANT INSERT (id, user_id, original_idea, idea_hash, adaptations, tone, target_audience, last_used_at)
    ON TABLE public.content_adaptations TO authenticated;
GRANT UPDATE (original_idea, idea_hash, adaptations, tone, target_audience, last_used_at)
    ON TABLE public.content_adaptations TO authenticated;

-- voice_profiles
GRANT SELECT, DELETE ON TABLE public.voice_profiles TO authenticated;
GRANT INSERT (id, user_id, name, is_default, characteristics, sample_posts, last_used_at)
    ON TABLE public.voice_profiles TO authenticated;
GRANT UPDATE (name, is_default, characteristics, sample_posts, last_used_at)
    ON TABLE public.voice_profiles TO authenticated;

-- published_posts
GRANT SELECT, DELETE ON TABLE public.published_posts TO authenticated;
GRANT INSERT (id, user_id, adaptation_id, platform_connection_id, platform, platform_post_id, status,
              content, metadata, metrics, scheduled_for, published_at)
    ON TABLE public.published_posts TO authenticated;
GRANT UPDATE (adaptation_id, platform_connection_id, platform, platform_post_id, status,
              content, metadata, metrics, scheduled_for, published_at)
    ON TABLE public.published_posts TO authenticated;

-- scheduled_posts
GRANT SELECT, DELETE ON TABLE public.scheduled_posts TO authenticated;
GRANT INSERT (id, user_id, adaptation_id, content, platform_connection_id, platform, status,
              scheduled_for, timezone)
    ON TABLE public.scheduled_posts TO authenticated;
GRANT UPDATE (adaptation_id, content, platform_connection_id, platform, status, scheduled_for, timezone)
    ON TABLE public.scheduled_posts TO authenticated;

-- Trigger functions fire whatever their EXECUTE privilege; nobody needs to call them directly, and
-- the SECURITY DEFINER ones must not be reachable through /rpc/.
REVOKE ALL ON FUNCTION
    public.update_updated_at_column(),
    public.voice_profiles_before_insert(),
    public.voice_profiles_before_update(),
    public.voice_profiles_after_update(),
    public.voice_profiles_after_delete(),
    public.content_adaptations_fill_idea_hash(),
    public.handle_new_user(),
    public.handle_user_email_change()
FROM PUBLIC, anon, authenticated, service_role;

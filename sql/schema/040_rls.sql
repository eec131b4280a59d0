-- Row Level Security. One permissive policy per table and command, all TO authenticated: anon gets no
-- policy (and no grant), service_role bypasses RLS (BYPASSRLS) and is limited by grants and
-- constraints only. `(select auth.uid())` is evaluated once per statement (an InitPlan), not per row.
-- Every INSERT and UPDATE policy has a WITH CHECK, so no row can be created for, or moved to, another
-- user; references to another user's rows are refused by the composite foreign keys (010_tables.sql).

ALTER TABLE public.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.platform_connections ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.content_adaptations ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.voice_profiles ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.published_posts ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.scheduled_posts ENABLE ROW LEVEL SECURITY;

-- users: read and update your own row; rows are created by the sign-up trigger and removed with the auth
-- user (no DELETE policy). The INSERT policy serves an upsert of your own existing row (the round trip of
-- official clients); users_guard_owned_columns refuses a new row.
DROP POLICY IF EXISTS users_select_own ON public.users;
CREATE POLICY users_select_own ON public.users
    FOR SELECT TO authenticated
    USING (id = (SELECT auth.uid()));
DROP POLICY IF EXISTS users_insert_own ON public.users;
CREATE POLICY users_insert_own ON public.users
    FOR INSERT TO authenticated
    WITH CHECK (id = (SELECT auth.uid()));
DROP POLICY IF EXISTS users_update_own ON public.users;
CREATE POLICY users_update_own ON public.users
    FOR UPDATE TO authenticated
    USING (id = (SELECT auth.uid()))
    WITH CHECK (id = (SELECT auth.uid()));

-- platform_connections, content_adaptations, voice_profiles: full control of your own rows.
-- (voice_profiles: "not your only profile" is a trigger, because a policy sees one row at a time.)
DROP POLICY IF EXISTS platform_connections_select_own ON public.platform_connections;
CREATE POLICY platform_connections_select_own ON public.platform_connections
    FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS platform_connections_insert_own ON public.platform_connections;
CREATE POLICY platform_connections_insert_own ON public.platform_connections
    FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS platform_connections_update_own ON public.platform_connections;
CREATE POLICY platform_connections_update_own ON public.platform_connections
    FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS platform_connections_delete_own ON public.platform_connections;
CREATE POLICY platform_connections_delete_own ON public.platform_connections
    FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS content_adaptations_select_own ON public.content_adaptations;
CREATE POLICY content_adaptations_select_own ON public.content_adaptations
    FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS content_adaptations_insert_own ON public.content_adaptations;
CREATE POLICY content_adaptations_insert_own ON public.content_adaptations
    FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS content_adaptations_update_own ON public.content_adaptations;
CREATE POLICY content_adaptations_update_own ON public.content_adaptations
    FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS content_adaptations_delete_own ON public.content_adaptations;
CREATE POLICY content_adaptations_delete_own ON public.content_adaptations
    FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()));

DROP POLICY IF EXISTS voice_profiles_select_own ON public.voice_profiles;
CREATE POLICY voice_profiles_select_own ON public.voice_profiles
    FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS voice_profiles_insert_own ON public.voice_profiles;
CREATE POLICY voice_profiles_insert_own ON public.voice_profiles
    FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS voice_profiles_update_own ON public.voice_profiles;
CREATE POLICY voice_profiles_update_own ON public.voice_profiles
    FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS voice_profiles_delete_own ON public.voice_profiles;
CREATE POLICY voice_profiles_delete_own ON public.voice_profiles
    FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()));

-- published_posts: a post that went live stays on record: a user deletes only what never was ('pending',
-- 'failed'); published_posts_guard_status limits the status changes (a 'published' post may only become
-- 'deleted', which is final).
DROP POLICY IF EXISTS published_posts_select_own ON public.published_posts;
CREATE POLICY published_posts_select_own ON public.published_posts
    FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS published_posts_insert_own ON public.published_posts;
CREATE POLICY published_posts_insert_own ON public.published_posts
    FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS published_posts_update_own ON public.published_posts;
CREATE POLICY published_posts_update_own ON public.published_posts
    FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()))
    WITH CHECK (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS published_posts_delete_own_unpublished ON public.published_posts;
CREATE POLICY published_posts_delete_own_unpublished ON public.published_posts
    FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()) AND status IN ('pending', 'failed'));

-- scheduled_posts: a user schedules, edits and cancels posts the publisher has not picked up yet
-- (status 'scheduled'); the publisher (service_role) owns every later status.
DROP POLICY IF EXISTS scheduled_posts_select_own ON public.scheduled_posts;
CREATE POLICY scheduled_posts_select_own ON public.scheduled_posts
    FOR SELECT TO authenticated
    USING (user_id = (SELECT auth.uid()));
DROP POLICY IF EXISTS scheduled_posts_insert_own ON public.scheduled_posts;
CREATE POLICY scheduled_posts_insert_own ON public.scheduled_posts
    FOR INSERT TO authenticated
    WITH CHECK (user_id = (SELECT auth.uid()) AND status = 'scheduled');
DROP POLICY IF EXISTS scheduled_posts_update_own_unprocessed ON public.scheduled_posts;
CREATE POLICY scheduled_posts_update_own_unprocessed ON public.scheduled_posts
    FOR UPDATE TO authenticated
    USING (user_id = (SELECT auth.uid()) AND status = 'scheduled')
    WITH CHECK (user_id = (SELECT auth.uid()) AND status IN ('scheduled', 'cancelled'));
DROP POLICY IF EXISTS scheduled_posts_delete_own_unprocessed ON public.scheduled_posts;
CREATE POLICY scheduled_posts_delete_own_unprocessed ON public.scheduled_posts
    FOR DELETE TO authenticated
    USING (user_id = (SELECT auth.uid()) AND status = 'scheduled');

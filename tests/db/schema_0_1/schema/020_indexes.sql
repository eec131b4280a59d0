-- Indexes, under their documented names. Where the document's definition could not stand as written
-- (see docs/schema.md, "Decisions"), the name is kept and the definition corrected; an index of an
-- older shape under the same name is rebuilt.

-- Rebuild the two documented indexes whose definition we changed, if an older shape is present:
-- idx_published_posts_scheduled filtered on a status that published_posts never has, and
-- idx_published_posts_adaptation_id now also carries user_id to back the composite foreign key.
DO $reshape$
BEGIN
    -- pg_get_indexdef(NULL) is NULL: a missing index skips the IF.
    IF pg_catalog.pg_get_indexdef(pg_catalog.to_regclass('public.idx_published_posts_scheduled')) NOT LIKE '%''pending''%' THEN
        DROP INDEX public.idx_published_posts_scheduled;
    END IF;
    IF pg_catalog.pg_get_indexdef(pg_catalog.to_regclass('public.idx_published_posts_adaptation_id')) NOT LIKE '%(adaptation_id, user_id)%' THEN
        DROP INDEX public.idx_published_posts_adaptation_id;
    END IF;
END
$reshape$;

-- platform_connections
CREATE INDEX IF NOT EXISTS idx_platform_connections_user_id ON public.platform_connections (user_id);
CREATE INDEX IF NOT EXISTS idx_platform_connections_platform ON public.platform_connections (platform);
CREATE UNIQUE INDEX IF NOT EXISTS idx_platform_connections_user_platform
    ON public.platform_connections (user_id, platform);

-- content_adaptations
CREATE INDEX IF NOT EXISTS idx_content_adaptations_user_id ON public.content_adaptations (user_id);
CREATE INDEX IF NOT EXISTS idx_content_adaptations_created_at ON public.content_adaptations (created_at DESC);
CREATE INDEX IF NOT EXISTS idx_content_adaptations_idea_hash ON public.content_adaptations (idea_hash);

-- voice_profiles
CREATE INDEX IF NOT EXISTS idx_voice_profiles_user_id ON public.voice_profiles (user_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_voice_profiles_user_default
    ON public.voice_profiles (user_id) WHERE is_default = true;

-- published_posts
CREATE INDEX IF NOT EXISTS idx_published_posts_user_id ON public.published_posts (user_id);
CREATE INDEX IF NOT EXISTS idx_published_posts_status ON public.published_posts (status);
CREATE INDEX IF NOT EXISTS idx_published_posts_platform ON public.published_posts (platform);
CREATE INDEX IF NOT EXISTS idx_published_posts_scheduled
    ON public.published_posts (scheduled_for) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS idx_published_posts_adaptation_id
    ON public.published_posts (adaptation_id, user_id);
-- Not in the document: covers published_posts_platform_connection_id_fkey (deleting a connection).
CREATE INDEX IF NOT EXISTS idx_published_posts_platform_connection_id
    ON public.published_posts (platform_connection_id, user_id);

-- scheduled_posts
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_user_id ON public.scheduled_posts (user_id);
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_status ON public.scheduled_posts (status);
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_scheduled_for ON public.scheduled_posts (scheduled_for);
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_ready
    ON public.scheduled_posts (status, scheduled_for) WHERE status = 'scheduled';
-- Not in the document: one per composite foreign key, so deleting the referenced row is an index probe.
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_adaptation_id
    ON public.scheduled_posts (adaptation_id, user_id);
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_platform_connection_id
    ON public.scheduled_posts (platform_connection_id, user_id);
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_published_post_id
    ON public.scheduled_posts (published_post_id, user_id);

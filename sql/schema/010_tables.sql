-- The six Nexus tables (docs/schema.md). Columns, types and defaults as documented; NOT NULL is added
-- where NULL has no meaning (timestamps, flags, statuses, counters), and user_id defaults to the
-- caller's auth.uid() so a signed-in client need not send it.
--
-- Constraints other than primary keys are added by name in the DO block below, only when missing,
-- so re-running this file (or running it on a database that already has these tables) converges on
-- the same set. A changed constraint must therefore get a new name.

CREATE TABLE IF NOT EXISTS public.users (
    id uuid NOT NULL,
    email varchar(255) NOT NULL,
    full_name varchar(255),
    avatar_url text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    timezone varchar(50) NOT NULL DEFAULT 'UTC',
    is_active boolean NOT NULL DEFAULT true,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.platform_connections (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT auth.uid(),
    platform varchar(50) NOT NULL,
    platform_user_id varchar(255) NOT NULL,
    access_token text NOT NULL,
    refresh_token text,
    token_expires_at timestamptz,
    scope text,
    profile_data jsonb,
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_sync_at timestamptz,
    CONSTRAINT platform_connections_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.content_adaptations (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT auth.uid(),
    original_idea text NOT NULL,
    idea_hash varchar(64),
    adaptations jsonb NOT NULL,
    tone varchar(50),
    target_audience varchar(255),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    CONSTRAINT content_adaptations_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.voice_profiles (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT auth.uid(),
    name varchar(255) NOT NULL,
    is_default boolean NOT NULL DEFAULT false,
    characteristics jsonb NOT NULL,
    sample_posts text[],
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    CONSTRAINT voice_profiles_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.published_posts (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT auth.uid(),
    adaptation_id uuid,
    platform_connection_id uuid,
    platform varchar(50) NOT NULL,
    platform_post_id varchar(255),
    status varchar(50) NOT NULL DEFAULT 'pending',
    content text NOT NULL,
    metadata jsonb,
    metrics jsonb,
    scheduled_for timestamptz,
    published_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT published_posts_pkey PRIMARY KEY (id)
);

CREATE TABLE IF NOT EXISTS public.scheduled_posts (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    user_id uuid NOT NULL DEFAULT auth.uid(),
    adaptation_id uuid,
    content text NOT NULL,
    platform_connection_id uuid NOT NULL,
    platform varchar(50) NOT NULL,
    status varchar(50) NOT NULL DEFAULT 'scheduled',
    scheduled_for timestamptz NOT NULL,
    timezone varchar(50) NOT NULL DEFAULT 'UTC',
    retry_count integer NOT NULL DEFAULT 0,
    last_error text,
    published_post_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- The latest claim of a publisher worker (claim_due_posts), after the documented columns.
    claimed_by text,
    claimed_at timestamptz,
    lease_expires_at timestamptz,
    CONSTRAINT scheduled_posts_pkey PRIMARY KEY (id)
);

-- Columns added after a table's first release: CREATE TABLE IF NOT EXISTS leaves an existing table alone,
-- so a database applied by an earlier version gets them here (a no-op where they exist).
ALTER TABLE public.scheduled_posts
    ADD COLUMN IF NOT EXISTS claimed_by text,
    ADD COLUMN IF NOT EXISTS claimed_at timestamptz,
    ADD COLUMN IF NOT EXISTS lease_expires_at timestamptz;

COMMENT ON COLUMN public.scheduled_posts.claimed_by IS
    'Worker id of the latest claim (claim_due_posts); kept after completion or failure as a record.';
COMMENT ON COLUMN public.scheduled_posts.claimed_at IS 'When the latest claim was made.';
COMMENT ON COLUMN public.scheduled_posts.lease_expires_at IS
    'While processing: when the claim lapses and the post becomes claimable again. NULL otherwise.';

-- Named constraints, in dependency order: the UNIQUE (id, user_id) keys must exist before the
-- composite foreign keys that reference them.
DO $constraints$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT * FROM (VALUES
            -- users
            (1, 'public.users', 'users_email_key', 'UNIQUE (email)'),
            (2, 'public.users', 'users_id_fkey',
                'FOREIGN KEY (id) REFERENCES auth.users (id) ON DELETE CASCADE'),

            -- platform_connections
            (3, 'public.platform_connections', 'platform_connections_user_id_fkey',
                'FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE'),
            (4, 'public.platform_connections', 'platform_connections_id_user_id_key', 'UNIQUE (id, user_id)'),
            (5, 'public.platform_connections', 'platform_connections_platform_check',
                $c$CHECK (platform ~ '^[a-z][a-z0-9_]{0,49}$')$c$),
            (6, 'public.platform_connections', 'platform_connections_profile_data_check',
                $c$CHECK (jsonb_typeof(profile_data) = 'object')$c$),

            -- content_adaptations
            (7, 'public.content_adaptations', 'content_adaptations_user_id_fkey',
                'FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE'),
            (8, 'public.content_adaptations', 'content_adaptations_id_user_id_key', 'UNIQUE (id, user_id)'),
            (9, 'public.content_adaptations', 'content_adaptations_adaptations_check',
                $c$CHECK (jsonb_typeof(adaptations) = 'object')$c$),
            (10, 'public.content_adaptations', 'content_adaptations_idea_hash_check',
                $c$CHECK (idea_hash ~ '^[0-9a-f]{64}$')$c$),

            -- voice_profiles
            (11, 'public.voice_profiles', 'voice_profiles_user_id_fkey',
                'FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE'),
            (12, 'public.voice_profiles', 'voice_profiles_characteristics_check',
                $c$CHECK (jsonb_typeof(characteristics) = 'object')$c$),

            -- published_posts: references must stay within one user (composite keys)
            (13, 'public.published_posts', 'published_posts_user_id_fkey',
                'FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE'),
            (14, 'public.published_posts', 'published_posts_adaptation_id_fkey',
                'FOREIGN KEY (adaptation_id, user_id) REFERENCES public.content_adaptations (id, user_id)'),
            (15, 'public.published_posts', 'published_posts_platform_connection_id_fkey',
                'FOREIGN KEY (platform_connection_id, user_id) REFERENCES public.platform_connections (id, user_id)'),
            (16, 'public.published_posts', 'published_posts_id_user_id_key', 'UNIQUE (id, user_id)'),
            (17, 'public.published_posts', 'published_posts_platform_check',
                $c$CHECK (platform ~ '^[a-z][a-z0-9_]{0,49}$')$c$),
            (18, 'public.published_posts', 'published_posts_status_check',
                $c$CHECK (status IN ('pending', 'published', 'failed', 'deleted'))$c$),
            (19, 'public.published_posts', 'published_posts_metadata_check',
                $c$CHECK (jsonb_typeof(metadata) = 'object')$c$),
            -- CASE fixes the evaluation order: a key is cast to numeric only once it is known to be a
            -- number, so a bad value fails this constraint instead of raising a cast error. JSON null
            -- counts as absent.
            (20, 'public.published_posts', 'published_posts_metrics_check',
                $c$CHECK (
                    jsonb_typeof(metrics) = 'object'
                    AND CASE jsonb_typeof(metrics -> 'views') WHEN 'number' THEN (metrics ->> 'views')::numeric >= 0
                        ELSE coalesce(jsonb_typeof(metrics -> 'views'), 'null') = 'null' END
                    AND CASE jsonb_typeof(metrics -> 'likes') WHEN 'number' THEN (metrics ->> 'likes')::numeric >= 0
                        ELSE coalesce(jsonb_typeof(metrics -> 'likes'), 'null') = 'null' END
                    AND CASE jsonb_typeof(metrics -> 'comments') WHEN 'number' THEN (metrics ->> 'comments')::numeric >= 0
                        ELSE coalesce(jsonb_typeof(metrics -> 'comments'), 'null') = 'null' END
                    AND CASE jsonb_typeof(metrics -> 'shares') WHEN 'number' THEN (metrics ->> 'shares')::numeric >= 0
                        ELSE coalesce(jsonb_typeof(metrics -> 'shares'), 'null') = 'null' END
                    AND CASE jsonb_typeof(metrics -> 'impressions') WHEN 'number' THEN (metrics ->> 'impressions')::numeric >= 0
                        ELSE coalesce(jsonb_typeof(metrics -> 'impressions'), 'null') = 'null' END
                    AND CASE jsonb_typeof(metrics -> 'engagement_rate')
                        WHEN 'number' THEN (metrics ->> 'engagement_rate')::numeric BETWEEN 0 AND 1
                        ELSE coalesce(jsonb_typeof(metrics -> 'engagement_rate'), 'null') = 'null' END
                    AND coalesce(jsonb_typeof(metrics -> 'last_synced'), 'string') IN ('string', 'null')
                )$c$),

            -- scheduled_posts
            (21, 'public.scheduled_posts', 'scheduled_posts_user_id_fkey',
                'FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE'),
            (22, 'public.scheduled_posts', 'scheduled_posts_adaptation_id_fkey',
                'FOREIGN KEY (adaptation_id, user_id) REFERENCES public.content_adaptations (id, user_id)'),
            (23, 'public.scheduled_posts', 'scheduled_posts_platform_connection_id_fkey',
                'FOREIGN KEY (platform_connection_id, user_id) REFERENCES public.platform_connections (id, user_id)'),
            (24, 'public.scheduled_posts', 'scheduled_posts_published_post_id_fkey',
                'FOREIGN KEY (published_post_id, user_id) REFERENCES public.published_posts (id, user_id)'),
            (25, 'public.scheduled_posts', 'scheduled_posts_platform_check',
                $c$CHECK (platform ~ '^[a-z][a-z0-9_]{0,49}$')$c$),
            (26, 'public.scheduled_posts', 'scheduled_posts_status_check',
                $c$CHECK (status IN ('scheduled', 'processing', 'completed', 'failed', 'cancelled'))$c$),
            (27, 'public.scheduled_posts', 'scheduled_posts_retry_count_check', 'CHECK (retry_count >= 0)')
        ) AS t(ord, tbl, name, def)
        ORDER BY ord
    LOOP
        IF NOT EXISTS (
            SELECT 1 FROM pg_catalog.pg_constraint
            WHERE conrelid = c.tbl::regclass AND conname = c.name
        ) THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.tbl, c.name, c.def);
        END IF;
    END LOOP;
END
$constraints$;

-- API, metrics (published_posts): engagement rate, recording a metrics snapshot, the top posts. Called
-- through PostgREST's /rpc/ (docs/schema.md, "API functions").
--
-- Every function here is SECURITY INVOKER with search_path = '': the caller's grants and RLS decide what it
-- may touch, so a signed-in user never reaches another user's rows through it, and no SECURITY DEFINER
-- function is exposed to the API roles (Supabase linter). Parameters carry the names the SDK sends as JSON
-- keys; inside the bodies they are always qualified with the function's name (`#variable_conflict
-- use_column` makes any unqualified name a column).
--
-- Business-rule failures raise P0001 (PostgREST: 400) with a stable DETAIL token the SDK may match on,
-- invalid arguments raise 22023 (400), acting for someone else raises 42501 (403). Rows that do not exist
-- or that RLS hides give an empty result (singular Accept: 406 / PGRST116, which the SDK reports as
-- NotFoundError). The file ends with the privileges of its own functions: everything is revoked first, so
-- a re-run converges, then granted per audience. anon gets nothing.

-- (likes + comments + shares) / impressions, or / views when impressions is missing or 0; each counter
-- counts only when it is a JSON number (else 0). Capped to [0, 1], rounded to 6 decimal places (half away
-- from zero). NULL when there is no positive denominator.
CREATE OR REPLACE FUNCTION public.engagement_rate(metrics jsonb)
RETURNS numeric
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT CASE
        WHEN n.impressions > 0 THEN pg_catalog.round(least(1, greatest(0, (n.likes + n.comments + n.shares) / n.impressions)), 6)
        WHEN n.views > 0 THEN pg_catalog.round(least(1, greatest(0, (n.likes + n.comments + n.shares) / n.views)), 6)
    END
    FROM (
        SELECT
            CASE pg_catalog.jsonb_typeof(metrics -> 'likes') WHEN 'number' THEN (metrics ->> 'likes')::numeric ELSE 0 END AS likes,
            CASE pg_catalog.jsonb_typeof(metrics -> 'comments') WHEN 'number' THEN (metrics ->> 'comments')::numeric ELSE 0 END AS comments,
            CASE pg_catalog.jsonb_typeof(metrics -> 'shares') WHEN 'number' THEN (metrics ->> 'shares')::numeric ELSE 0 END AS shares,
            CASE pg_catalog.jsonb_typeof(metrics -> 'impressions') WHEN 'number' THEN (metrics ->> 'impressions')::numeric ELSE 0 END AS impressions,
            CASE pg_catalog.jsonb_typeof(metrics -> 'views') WHEN 'number' THEN (metrics ->> 'views')::numeric ELSE 0 END AS views
    ) AS n
$$;

-- Merge a metrics snapshot into a published post's metrics (existing || snapshot without its nulls: keys
-- in the snapshot win, others are kept, a null never erases), then set engagement_rate (computed from the
-- merged counters, overriding any sent) and last_synced (synced_at, finite, default now(), as UTC ISO 8601
-- "YYYY-MM-DDTHH:MM:SS.ffffffZ"). Only for status 'published'. No row: no such post, or not the caller's.
CREATE OR REPLACE FUNCTION public.record_post_metrics(post_id uuid, metrics jsonb, synced_at timestamptz DEFAULT NULL)
RETURNS SETOF public.published_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    post public.published_posts;
    merged jsonb;
    result public.published_posts;
BEGIN
    IF record_post_metrics.metrics IS NULL OR pg_catalog.jsonb_typeof(record_post_metrics.metrics) <> 'object' THEN
        RAISE EXCEPTION 'metrics must be a JSON object' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    -- to_char() of an infinite time is NULL: it would erase last_synced.
    IF record_post_metrics.synced_at IS NOT NULL AND NOT pg_catalog.isfinite(record_post_metrics.synced_at) THEN
        RAISE EXCEPTION 'synced_at must be a finite timestamp' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_time';
    END IF;
    SELECT p.* INTO post FROM public.published_posts p WHERE p.id = record_post_metrics.post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF post.status <> 'published' THEN
        RAISE EXCEPTION 'post is %, not published', post.status
            USING ERRCODE = 'P0001', DETAIL = 'not_published';
    END IF;
    -- JSON null means "not reported this time" (decision 13: null counts as absent), not "erase": a
    -- snapshot's nulls are dropped before the merge, so a stored counter is never lost to one.
    merged := coalesce(post.metrics, '{}'::jsonb) || pg_catalog.jsonb_strip_nulls(record_post_metrics.metrics);
    merged := merged || pg_catalog.jsonb_build_object(
        'engagement_rate', public.engagement_rate(merged),
        'last_synced', pg_catalog.to_char(
            coalesce(record_post_metrics.synced_at, pg_catalog.now()) AT TIME ZONE 'UTC',
            'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'
        )
    );
    UPDATE public.published_posts p SET metrics = merged WHERE p.id = post.id RETURNING p.* INTO result;
    RETURN NEXT result;
END
$$;

-- Published posts by engagement_rate, highest first (posts without a rate last, then newest first).
-- STABLE and SECURITY INVOKER: RLS limits a signed-in user to their own posts; the service role sees all
-- and may narrow to one user with user_id.
CREATE OR REPLACE FUNCTION public.top_published_posts(
    max_posts integer DEFAULT 10,
    platform text DEFAULT NULL,
    since timestamptz DEFAULT NULL,
    user_id uuid DEFAULT NULL
)
RETURNS SETOF public.published_posts
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
#variable_conflict use_column
BEGIN
    IF top_published_posts.max_posts IS NULL OR top_published_posts.max_posts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_posts must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    RETURN QUERY
    SELECT p.*
    FROM public.published_posts p
    WHERE p.status = 'published'
      AND (top_published_posts.user_id IS NULL OR p.user_id = top_published_posts.user_id)
      AND (top_published_posts.platform IS NULL OR p.platform = top_published_posts.platform)
      AND (top_published_posts.since IS NULL OR p.published_at >= top_published_posts.since)
    ORDER BY (p.metrics ->> 'engagement_rate')::numeric DESC NULLS LAST, p.published_at DESC NULLS LAST, p.id
    LIMIT top_published_posts.max_posts;
END
$$;

-- Privileges of this file's functions.
REVOKE ALL ON FUNCTION
    public.engagement_rate(jsonb),
    public.record_post_metrics(uuid, jsonb, timestamptz),
    public.top_published_posts(integer, text, timestamptz, uuid)
FROM PUBLIC, anon, authenticated, service_role;

-- Users acting for themselves (RLS applies), and the service role acting for anyone.
GRANT EXECUTE ON FUNCTION
    public.engagement_rate(jsonb),
    public.record_post_metrics(uuid, jsonb, timestamptz),
    public.top_published_posts(integer, text, timestamptz, uuid)
TO authenticated, service_role;

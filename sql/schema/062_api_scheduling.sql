-- API, scheduling (scheduled_posts): users schedule, reschedule and cancel their own posts; the service
-- role does so for anyone. Called through PostgREST's /rpc/ (docs/schema.md, "API functions").
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

-- Schedule a post: checks the connection (the user's, active, of the requested platform), the adaptation
-- (the user's), the time (finite, not more than 5 minutes in the past: clock skew between client and
-- server) and the time zone, then inserts a 'scheduled' row with a snapshot of the content. Content
-- defaults to the adaptation's text for the connection's platform (adaptations -> platform -> 'text',
-- else -> 'body', else the value itself when it is a string). Passing `id` makes a retry safe: a second
-- call with the same id returns the row made by the first.
CREATE OR REPLACE FUNCTION public.schedule_post(
    platform_connection_id uuid,
    scheduled_for timestamptz,
    content text DEFAULT NULL,
    adaptation_id uuid DEFAULT NULL,
    platform text DEFAULT NULL,
    timezone text DEFAULT NULL,
    user_id uuid DEFAULT NULL,
    id uuid DEFAULT NULL
)
RETURNS SETOF public.scheduled_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    caller uuid := auth.uid();
    acting_user uuid;
    target record;
    variants jsonb;
    variant jsonb;
    body text := schedule_post.content;
    zone text := schedule_post.timezone;
    result public.scheduled_posts;
BEGIN
    -- A signed-in user acts for themselves; the service role names the user.
    IF caller IS NOT NULL THEN
        IF schedule_post.user_id IS NOT NULL AND schedule_post.user_id <> caller THEN
            RAISE EXCEPTION 'cannot schedule a post for another user'
                USING ERRCODE = 'insufficient_privilege',
                      DETAIL = 'not_own_user',
                      HINT = 'Leave user_id out: a signed-in user schedules for themselves.';
        END IF;
        acting_user := caller;
    ELSIF schedule_post.user_id IS NULL THEN
        RAISE EXCEPTION 'user_id is required when no user is signed in'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'user_id_required';
    ELSE
        acting_user := schedule_post.user_id;
    END IF;

    IF schedule_post.scheduled_for IS NULL OR NOT pg_catalog.isfinite(schedule_post.scheduled_for) THEN
        RAISE EXCEPTION 'scheduled_for must be a finite timestamp'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_time';
    END IF;
    IF schedule_post.scheduled_for < pg_catalog.now() - interval '5 minutes' THEN
        RAISE EXCEPTION 'scheduled_for is in the past'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'time_in_past',
                  HINT = 'Schedule for now or later (5 minutes of clock skew are tolerated).';
    END IF;

    -- RLS hides other users' connections from a signed-in caller; the user_id test covers the service role.
    SELECT c.platform, c.is_active INTO target
    FROM public.platform_connections c
    WHERE c.id = schedule_post.platform_connection_id AND c.user_id = acting_user;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'platform connection not found for this user'
            USING ERRCODE = 'P0001', DETAIL = 'connection_not_found',
                  HINT = 'Schedule on one of the user''s own platform connections.';
    END IF;
    IF NOT target.is_active THEN
        RAISE EXCEPTION 'platform connection is not active'
            USING ERRCODE = 'P0001', DETAIL = 'connection_inactive',
                  HINT = 'Reconnect the platform, or reactivate the connection.';
    END IF;
    IF schedule_post.platform IS NOT NULL AND schedule_post.platform <> target.platform THEN
        RAISE EXCEPTION 'platform connection is for %, not %', target.platform, schedule_post.platform
            USING ERRCODE = 'P0001', DETAIL = 'platform_mismatch';
    END IF;

    IF schedule_post.adaptation_id IS NOT NULL THEN
        SELECT a.adaptations INTO variants
        FROM public.content_adaptations a
        WHERE a.id = schedule_post.adaptation_id AND a.user_id = acting_user;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'content adaptation not found for this user'
                USING ERRCODE = 'P0001', DETAIL = 'adaptation_not_found';
        END IF;
        IF body IS NULL THEN
            variant := variants -> target.platform;
            body := CASE pg_catalog.jsonb_typeof(variant)
                WHEN 'object' THEN coalesce(variant ->> 'text', variant ->> 'body')
                WHEN 'string' THEN variant #>> '{}'
            END;
        END IF;
    END IF;
    IF body IS NULL OR pg_catalog.btrim(body) = '' THEN
        RAISE EXCEPTION 'nothing to post: content is empty'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'content_required',
                  HINT = 'Pass content, or an adaptation with adaptations.<platform>.text.';
    END IF;

    IF zone IS NULL THEN
        SELECT u.timezone INTO zone FROM public.users u WHERE u.id = acting_user;
        zone := coalesce(zone, 'UTC');
    END IF;
    -- Raises 22023 "time zone ... not recognized" for an unknown zone.
    PERFORM pg_catalog.now() AT TIME ZONE zone;

    INSERT INTO public.scheduled_posts AS s
        (id, user_id, adaptation_id, content, platform_connection_id, platform, status, scheduled_for, timezone)
    VALUES (
        coalesce(schedule_post.id, pg_catalog.gen_random_uuid()), acting_user, schedule_post.adaptation_id, body,
        schedule_post.platform_connection_id, target.platform, 'scheduled', schedule_post.scheduled_for, zone
    )
    ON CONFLICT (id) DO NOTHING
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        -- A retry of an earlier call with the same id: return what that call made.
        SELECT s.* INTO result FROM public.scheduled_posts s WHERE s.id = schedule_post.id AND s.user_id = acting_user;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'id is already in use'
                USING ERRCODE = 'unique_violation', DETAIL = 'id_in_use';
        END IF;
    END IF;
    RETURN NEXT result;
END
$$;

-- Move a post that is still 'scheduled' to another time (and optionally time zone). Same time checks as
-- schedule_post. No row: no such post, or not the caller's.
CREATE OR REPLACE FUNCTION public.reschedule_post(post_id uuid, scheduled_for timestamptz, timezone text DEFAULT NULL)
RETURNS SETOF public.scheduled_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    current_status text;
    result public.scheduled_posts;
BEGIN
    IF reschedule_post.scheduled_for IS NULL OR NOT pg_catalog.isfinite(reschedule_post.scheduled_for) THEN
        RAISE EXCEPTION 'scheduled_for must be a finite timestamp'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_time';
    END IF;
    IF reschedule_post.scheduled_for < pg_catalog.now() - interval '5 minutes' THEN
        RAISE EXCEPTION 'scheduled_for is in the past'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'time_in_past',
                  HINT = 'Schedule for now or later (5 minutes of clock skew are tolerated).';
    END IF;
    IF reschedule_post.timezone IS NOT NULL THEN
        PERFORM pg_catalog.now() AT TIME ZONE reschedule_post.timezone;
    END IF;

    UPDATE public.scheduled_posts s
    SET scheduled_for = reschedule_post.scheduled_for,
        timezone = coalesce(reschedule_post.timezone, s.timezone)
    WHERE s.id = reschedule_post.post_id AND s.status = 'scheduled'
    RETURNING s.* INTO result;
    IF FOUND THEN
        RETURN NEXT result;
        RETURN;
    END IF;
    SELECT s.status INTO current_status FROM public.scheduled_posts s WHERE s.id = reschedule_post.post_id;
    IF FOUND THEN
        RAISE EXCEPTION 'scheduled post is % and can no longer be rescheduled', current_status
            USING ERRCODE = 'P0001', DETAIL = 'not_reschedulable',
                  HINT = 'Only a post that is still scheduled (not yet picked up) can be changed.';
    END IF;
END
$$;

-- Cancel a post that is still 'scheduled'. Cancelling a cancelled post returns it unchanged (a retry is
-- harmless); any other status is refused. No row: no such post, or not the caller's.
CREATE OR REPLACE FUNCTION public.cancel_scheduled_post(post_id uuid)
RETURNS SETOF public.scheduled_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    result public.scheduled_posts;
BEGIN
    UPDATE public.scheduled_posts s
    SET status = 'cancelled'
    WHERE s.id = cancel_scheduled_post.post_id AND s.status = 'scheduled'
    RETURNING s.* INTO result;
    IF NOT FOUND THEN
        SELECT s.* INTO result FROM public.scheduled_posts s WHERE s.id = cancel_scheduled_post.post_id;
        IF NOT FOUND THEN
            RETURN;
        END IF;
        IF result.status <> 'cancelled' THEN
            RAISE EXCEPTION 'scheduled post is % and can no longer be cancelled', result.status
                USING ERRCODE = 'P0001', DETAIL = 'not_cancellable',
                      HINT = 'Only a post that is still scheduled (not yet picked up) can be cancelled.';
        END IF;
    END IF;
    RETURN NEXT result;
END
$$;

-- Privileges of this file's functions.
REVOKE ALL ON FUNCTION
    public.schedule_post(uuid, timestamptz, text, uuid, text, text, uuid, uuid),
    public.reschedule_post(uuid, timestamptz, text),
    public.cancel_scheduled_post(uuid)
FROM PUBLIC, anon, authenticated, service_role;

-- Users acting for themselves (RLS applies), and the service role acting for anyone.
GRANT EXECUTE ON FUNCTION
    public.schedule_post(uuid, timestamptz, text, uuid, text, text, uuid, uuid),
    public.reschedule_post(uuid, timestamptz, text),
    public.cancel_scheduled_post(uuid)
TO authenticated, service_role;

-- Publishing and domain operations: the functions the SDK calls through PostgREST's /rpc/ for work that
-- must be atomic or race-free (docs/schema.md, "Publishing functions").
--
-- Every function here is SECURITY INVOKER: the caller's grants and RLS decide what it may touch, so a
-- signed-in user can never reach another user's rows through them, and no SECURITY DEFINER function is
-- exposed to the API roles (Supabase linter). Functions for the publisher and the token-refresh job are
-- executable by service_role only. Parameters carry the names the SDK sends as JSON keys; inside the
-- bodies they are always qualified with the function's name (`#variable_conflict use_column` makes any
-- unqualified name a column).
--
-- Business-rule failures raise P0001 (PostgREST: 400) with a stable DETAIL token the SDK may match on,
-- invalid arguments raise 22023 (400), acting for someone else raises 42501 (403). Rows that do not exist
-- or that RLS hides give an empty result, as in 060_rpc.sql (singular Accept: 406 / PGRST116, which the
-- SDK reports as NotFoundError).

-- --- scheduled_posts: the claim of a publisher worker ---------------------------------------------------

ALTER TABLE public.scheduled_posts
    ADD COLUMN IF NOT EXISTS claimed_by text,
    ADD COLUMN IF NOT EXISTS claimed_at timestamptz,
    ADD COLUMN IF NOT EXISTS lease_expires_at timestamptz;

COMMENT ON COLUMN public.scheduled_posts.claimed_by IS
    'Worker id of the latest claim (claim_due_posts); kept after completion or failure as a record.';
COMMENT ON COLUMN public.scheduled_posts.claimed_at IS 'When the latest claim was made.';
COMMENT ON COLUMN public.scheduled_posts.lease_expires_at IS
    'While processing: when the claim lapses and the post becomes claimable again. NULL otherwise.';

-- Serves claim_due_posts: an index scan in scheduled_for order over the two claimable statuses, stopping
-- after max_posts rows (in-flight posts with a live lease are few, and are skipped by the filter).
CREATE INDEX IF NOT EXISTS idx_scheduled_posts_claim
    ON public.scheduled_posts (scheduled_for) WHERE status IN ('scheduled', 'processing');

-- --- content_adaptations: one row per idea and user ------------------------------------------------------

-- A database that already holds duplicates cannot take the unique index: say so plainly instead of
-- failing on CREATE UNIQUE INDEX with a bare key violation.
DO $dedup_check$
BEGIN
    IF pg_catalog.to_regclass('public.idx_content_adaptations_user_idea_hash') IS NULL AND EXISTS (
        SELECT 1
        FROM public.content_adaptations
        WHERE idea_hash IS NOT NULL
        GROUP BY user_id, idea_hash
        HAVING pg_catalog.count(*) > 1
    ) THEN
        RAISE EXCEPTION 'content_adaptations holds the same idea_hash twice for one user'
            USING ERRCODE = 'unique_violation',
                  HINT = 'Merge or delete the duplicate ideas, then apply the schema again.';
    END IF;
END
$dedup_check$;

-- Also the arbiter of create_idea's ON CONFLICT and of a PostgREST upsert (on_conflict=user_id,idea_hash).
CREATE UNIQUE INDEX IF NOT EXISTS idx_content_adaptations_user_idea_hash
    ON public.content_adaptations (user_id, idea_hash);

-- The dedup key of an idea: SHA-256 over the UTF-8 bytes of the text exactly as given (no trimming, no
-- Unicode normalisation), as 64 lowercase hex digits. Python: hashlib.sha256(s.encode("utf-8")).hexdigest().
-- No normalisation on purpose: PostgreSQL 15 and 18 and each Python release carry different Unicode
-- tables, and a key must come out the same wherever it is computed.
CREATE OR REPLACE FUNCTION public.idea_hash(original_idea text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = ''
AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(original_idea, 'UTF8')), 'hex')
$$;

-- BEFORE INSERT, and BEFORE UPDATE OF original_idea: fill idea_hash when the writer left it out, and
-- recompute it when the idea changes without a new hash. A hash the writer sets is kept (the SDK computes
-- the same value). The expression is inlined rather than calling public.idea_hash() so that inserting
-- needs no EXECUTE privilege beyond the table's.
CREATE OR REPLACE FUNCTION public.content_adaptations_fill_idea_hash()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.idea_hash IS NULL THEN
            NEW.idea_hash := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(NEW.original_idea, 'UTF8')), 'hex');
        END IF;
    ELSIF NEW.original_idea IS DISTINCT FROM OLD.original_idea AND NEW.idea_hash IS NOT DISTINCT FROM OLD.idea_hash THEN
        NEW.idea_hash := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(NEW.original_idea, 'UTF8')), 'hex');
    END IF;
    RETURN NEW;
END
$$;

CREATE OR REPLACE TRIGGER content_adaptations_idea_hash
    BEFORE INSERT OR UPDATE OF original_idea ON public.content_adaptations
    FOR EACH ROW EXECUTE FUNCTION public.content_adaptations_fill_idea_hash();

-- --- published_posts: ranking by engagement ---------------------------------------------------------------

-- Serves top_published_posts for one user (RLS adds user_id = auth.uid()); same expression as its ORDER BY.
CREATE INDEX IF NOT EXISTS idx_published_posts_engagement
    ON public.published_posts (user_id, ((metrics ->> 'engagement_rate')::numeric) DESC NULLS LAST)
    WHERE status = 'published';

-- --- platform_connections: tokens about to expire --------------------------------------------------------

CREATE INDEX IF NOT EXISTS idx_platform_connections_token_expiry
    ON public.platform_connections (token_expires_at) WHERE is_active;

-- =========================================================================================================
-- Scheduling (users for themselves, the service role for anyone)
-- =========================================================================================================

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

-- =========================================================================================================
-- Publishing (service role: the publisher workers)
-- =========================================================================================================

-- Claim up to max_posts due posts for worker_id and return them, marked 'processing' with a lease of
-- lease_seconds. Due: 'scheduled' with scheduled_for <= now(), or 'processing' whose lease has lapsed (a
-- worker that died; a NULL lease counts as lapsed). FOR UPDATE SKIP LOCKED: concurrent workers never wait
-- for, nor get, each other's rows. Taking over a lapsed lease counts as a failed attempt (retry_count + 1,
-- last_error says so); at max_attempts the post is marked 'failed' instead of being handed out again, so a
-- post that kills its worker cannot do so forever. Such posts still count towards max_posts.
CREATE OR REPLACE FUNCTION public.claim_due_posts(
    worker_id text,
    max_posts integer DEFAULT 50,
    lease_seconds integer DEFAULT 300,
    max_attempts integer DEFAULT 5
)
RETURNS SETOF public.scheduled_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
AS $$
#variable_conflict use_column
BEGIN
    IF claim_due_posts.worker_id IS NULL OR pg_catalog.btrim(claim_due_posts.worker_id) = '' THEN
        RAISE EXCEPTION 'worker_id is required' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    IF claim_due_posts.max_posts IS NULL OR claim_due_posts.max_posts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_posts must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    IF claim_due_posts.lease_seconds IS NULL OR claim_due_posts.lease_seconds NOT BETWEEN 1 AND 86400 THEN
        RAISE EXCEPTION 'lease_seconds must be between 1 and 86400'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    IF claim_due_posts.max_attempts IS NULL OR claim_due_posts.max_attempts < 1 THEN
        RAISE EXCEPTION 'max_attempts must be at least 1'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;

    RETURN QUERY
    WITH due AS (
        SELECT s.id, s.status = 'processing' AS lapsed
        FROM public.scheduled_posts s
        WHERE s.status IN ('scheduled', 'processing')
          AND s.scheduled_for <= pg_catalog.now()
          AND (s.status = 'scheduled' OR coalesce(s.lease_expires_at, '-infinity') <= pg_catalog.now())
        ORDER BY s.scheduled_for, s.id
        LIMIT claim_due_posts.max_posts
        FOR UPDATE SKIP LOCKED
    ), given_up AS (
        SELECT d.id, d.lapsed, d.lapsed AND s.retry_count + 1 >= claim_due_posts.max_attempts AS give_up
        FROM due d JOIN public.scheduled_posts s ON s.id = d.id
    ), claimed AS (
        UPDATE public.scheduled_posts s
        SET status = CASE WHEN g.give_up THEN 'failed' ELSE 'processing' END,
            retry_count = s.retry_count + CASE WHEN g.lapsed THEN 1 ELSE 0 END,
            last_error = CASE
                WHEN g.lapsed THEN pg_catalog.format('lease of worker %s expired at %s', s.claimed_by, s.lease_expires_at)
                ELSE s.last_error
            END,
            claimed_by = CASE WHEN g.give_up THEN s.claimed_by ELSE claim_due_posts.worker_id END,
            claimed_at = CASE WHEN g.give_up THEN s.claimed_at ELSE pg_catalog.now() END,
            lease_expires_at = CASE
                WHEN g.give_up THEN NULL
                ELSE pg_catalog.now() + pg_catalog.make_interval(secs => claim_due_posts.lease_seconds)
            END
        FROM given_up g
        WHERE s.id = g.id
        RETURNING s.*
    )
    SELECT c.* FROM claimed c WHERE c.status = 'processing' ORDER BY c.scheduled_for, c.id;
END
$$;

-- Record a successful publication, atomically: insert the published_posts row (status 'published',
-- content, platform, connection and adaptation from the schedule), link it from the schedule and mark the
-- schedule 'completed'. Only the worker named in the current claim may complete; its lease may have
-- lapsed as long as nobody took the post over (refusing then would lose a post that is already live).
-- That includes a post that claim_due_posts marked 'failed' only because this worker's lease lapsed on the
-- last attempt: nobody else publishes it, and this worker did. Idempotent: the same worker calling again
-- gets the published post made the first time, and nothing changes. No row: no such scheduled post.
CREATE OR REPLACE FUNCTION public.complete_scheduled_post(
    post_id uuid,
    worker_id text,
    platform_post_id text DEFAULT NULL,
    published_at timestamptz DEFAULT NULL,
    metadata jsonb DEFAULT NULL
)
RETURNS SETOF public.published_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    sched public.scheduled_posts;
    result public.published_posts;
BEGIN
    SELECT s.* INTO sched FROM public.scheduled_posts s WHERE s.id = complete_scheduled_post.post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- A repeat by the worker that completed it is answered with the same row. Any other worker learns
    -- that it lost the claim: if it did post, that post is a duplicate it should take down.
    IF sched.status = 'completed' AND sched.claimed_by IS NOT DISTINCT FROM complete_scheduled_post.worker_id THEN
        RETURN QUERY SELECT p.* FROM public.published_posts p WHERE p.id = sched.published_post_id;
        RETURN;
    END IF;
    -- Given up by claim_due_posts when this worker's lease lapsed on the last attempt (it keeps
    -- claimed_by, and last_error says why): not taken over, so still this worker's to complete.
    IF sched.status = 'failed'
       AND sched.claimed_by IS NOT DISTINCT FROM complete_scheduled_post.worker_id
       AND pg_catalog.starts_with(
           coalesce(sched.last_error, ''),
           pg_catalog.format('lease of worker %s expired at ', sched.claimed_by)
       ) THEN
        sched.status := 'processing';
    END IF;
    IF sched.status NOT IN ('processing', 'completed') THEN
        RAISE EXCEPTION 'scheduled post is %, not claimed', sched.status
            USING ERRCODE = 'P0001', DETAIL = 'not_claimed',
                  HINT = 'Claim it first (claim_due_posts).';
    END IF;
    IF sched.status = 'completed' OR sched.claimed_by IS DISTINCT FROM complete_scheduled_post.worker_id THEN
        RAISE EXCEPTION 'scheduled post is claimed by another worker'
            USING ERRCODE = 'P0001', DETAIL = 'claim_lost',
                  HINT = 'The lease lapsed and another worker took the post over; use a longer lease.';
    END IF;

    INSERT INTO public.published_posts AS p
        (user_id, adaptation_id, platform_connection_id, platform, platform_post_id, status, content,
         metadata, scheduled_for, published_at)
    VALUES (
        sched.user_id, sched.adaptation_id, sched.platform_connection_id, sched.platform,
        complete_scheduled_post.platform_post_id, 'published', sched.content, complete_scheduled_post.metadata,
        sched.scheduled_for, coalesce(complete_scheduled_post.published_at, pg_catalog.now())
    )
    RETURNING p.* INTO result;

    UPDATE public.scheduled_posts s
    SET status = 'completed', published_post_id = result.id, lease_expires_at = NULL
    WHERE s.id = sched.id;

    RETURN NEXT result;
END
$$;

-- Record a failed attempt by the worker holding the claim: last_error := error_message (first 2000
-- characters), retry_count + 1. While attempts remain and the error is retryable, the post goes back to
-- 'scheduled' at now() + least(max_delay_seconds, base_delay_seconds * 2^(retry_count - 1)) (exponential
-- backoff, capped); otherwise it becomes 'failed'. No row: no such scheduled post.
CREATE OR REPLACE FUNCTION public.fail_scheduled_post(
    post_id uuid,
    worker_id text,
    error_message text,
    retryable boolean DEFAULT true,
    max_attempts integer DEFAULT 5,
    base_delay_seconds integer DEFAULT 60,
    max_delay_seconds integer DEFAULT 3600
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
    sched public.scheduled_posts;
    attempts integer;
    delay double precision;
    result public.scheduled_posts;
BEGIN
    IF fail_scheduled_post.error_message IS NULL OR pg_catalog.btrim(fail_scheduled_post.error_message) = '' THEN
        RAISE EXCEPTION 'error_message is required' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    IF fail_scheduled_post.max_attempts IS NULL OR fail_scheduled_post.max_attempts < 1
       OR fail_scheduled_post.base_delay_seconds IS NULL OR fail_scheduled_post.base_delay_seconds < 0
       OR fail_scheduled_post.max_delay_seconds IS NULL
       OR fail_scheduled_post.max_delay_seconds < fail_scheduled_post.base_delay_seconds THEN
        RAISE EXCEPTION 'need max_attempts >= 1 and 0 <= base_delay_seconds <= max_delay_seconds'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;

    SELECT s.* INTO sched FROM public.scheduled_posts s WHERE s.id = fail_scheduled_post.post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    IF sched.status <> 'processing' THEN
        RAISE EXCEPTION 'scheduled post is %, not claimed', sched.status
            USING ERRCODE = 'P0001', DETAIL = 'not_claimed';
    END IF;
    IF sched.claimed_by IS DISTINCT FROM fail_scheduled_post.worker_id THEN
        RAISE EXCEPTION 'scheduled post is claimed by another worker'
            USING ERRCODE = 'P0001', DETAIL = 'claim_lost';
    END IF;

    attempts := sched.retry_count + 1;
    -- The exponent is capped so that power() cannot overflow; the delay cap applies long before.
    delay := least(
        fail_scheduled_post.max_delay_seconds::double precision,
        fail_scheduled_post.base_delay_seconds * pg_catalog.power(2::double precision, least(attempts - 1, 40))
    );

    UPDATE public.scheduled_posts s
    SET retry_count = attempts,
        last_error = pg_catalog.left(fail_scheduled_post.error_message, 2000),
        lease_expires_at = NULL,
        status = CASE
            WHEN fail_scheduled_post.retryable AND attempts < fail_scheduled_post.max_attempts THEN 'scheduled'
            ELSE 'failed'
        END,
        scheduled_for = CASE
            WHEN fail_scheduled_post.retryable AND attempts < fail_scheduled_post.max_attempts
                THEN pg_catalog.now() + pg_catalog.make_interval(secs => delay)
            ELSE s.scheduled_for
        END
    WHERE s.id = sched.id
    RETURNING s.* INTO result;
    RETURN NEXT result;
END
$$;

-- Hand back a post that the worker holding the claim never started (it is stopping, or the lease is too
-- close to lapsing to begin): the post is 'scheduled' again at once, with the lease cleared. Not an attempt:
-- retry_count, scheduled_for (already due, so claimable again at once) and last_error (the error of the
-- last real attempt, which the user should keep seeing) are left as they are, and so are claimed_by and
-- claimed_at, kept as the record of the latest claim as after completion or failure. A repeat by the same
-- worker (a retry after a lost response) finds the post 'scheduled' with its own claim as the latest and
-- gets the row back unchanged; once another worker has claimed the post, a repeat is refused like any
-- release by a worker that does not hold the claim. No row: no such scheduled post.
CREATE OR REPLACE FUNCTION public.release_scheduled_post(post_id uuid, worker_id text)
RETURNS SETOF public.scheduled_posts
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    sched public.scheduled_posts;
    result public.scheduled_posts;
BEGIN
    -- claim_due_posts refuses a blank worker id, so no claim carries one: a blank id must not pass for
    -- the releaser of a post that was never claimed.
    IF release_scheduled_post.worker_id IS NULL OR pg_catalog.btrim(release_scheduled_post.worker_id) = '' THEN
        RAISE EXCEPTION 'worker_id is required' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;

    SELECT s.* INTO sched FROM public.scheduled_posts s WHERE s.id = release_scheduled_post.post_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    -- Only 'processing' is held by anyone, and every claim overwrites claimed_by: a 'scheduled' post whose
    -- latest claim is this worker's was let go by this worker and not claimed since. The state a repeat
    -- asks for is already there, so it is answered with the row, unchanged.
    IF sched.status = 'scheduled' AND sched.claimed_by = release_scheduled_post.worker_id THEN
        RETURN NEXT sched;
        RETURN;
    END IF;
    IF sched.status <> 'processing' THEN
        RAISE EXCEPTION 'scheduled post is %, not claimed', sched.status
            USING ERRCODE = 'P0001', DETAIL = 'not_claimed';
    END IF;
    IF sched.claimed_by IS DISTINCT FROM release_scheduled_post.worker_id THEN
        RAISE EXCEPTION 'scheduled post is claimed by another worker'
            USING ERRCODE = 'P0001', DETAIL = 'claim_lost';
    END IF;

    UPDATE public.scheduled_posts s
    SET status = 'scheduled', lease_expires_at = NULL
    WHERE s.id = sched.id
    RETURNING s.* INTO result;
    RETURN NEXT result;
END
$$;

-- =========================================================================================================
-- Metrics (users for their own posts, the service role for any)
-- =========================================================================================================

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

-- =========================================================================================================
-- Ideas (users for themselves, the service role for anyone)
-- =========================================================================================================

-- Create an idea, or return the one the user already has with the same idea_hash (public.idea_hash of
-- original_idea): adding the same idea twice, even concurrently, leaves one row. The existing row is
-- returned as it is (adaptations, tone and target_audience of this call are not applied to it).
CREATE OR REPLACE FUNCTION public.create_idea(
    original_idea text,
    adaptations jsonb DEFAULT '{}'::jsonb,
    tone text DEFAULT NULL,
    target_audience text DEFAULT NULL,
    user_id uuid DEFAULT NULL,
    id uuid DEFAULT NULL
)
RETURNS SETOF public.content_adaptations
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
    hash text;
    result public.content_adaptations;
BEGIN
    IF caller IS NOT NULL THEN
        IF create_idea.user_id IS NOT NULL AND create_idea.user_id <> caller THEN
            RAISE EXCEPTION 'cannot create an idea for another user'
                USING ERRCODE = 'insufficient_privilege', DETAIL = 'not_own_user',
                      HINT = 'Leave user_id out: a signed-in user creates ideas for themselves.';
        END IF;
        acting_user := caller;
    ELSIF create_idea.user_id IS NULL THEN
        RAISE EXCEPTION 'user_id is required when no user is signed in'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'user_id_required';
    ELSE
        acting_user := create_idea.user_id;
    END IF;
    IF create_idea.original_idea IS NULL OR pg_catalog.btrim(create_idea.original_idea) = '' THEN
        RAISE EXCEPTION 'original_idea is required' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    hash := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(create_idea.original_idea, 'UTF8')), 'hex');

    -- A concurrent creator of the same idea makes ON CONFLICT wait for it, then skip; its row is then
    -- visible to the SELECT (a new snapshot per statement). The loop covers that row being deleted in
    -- between.
    FOR attempt IN 1..3 LOOP
        INSERT INTO public.content_adaptations AS c
            (id, user_id, original_idea, idea_hash, adaptations, tone, target_audience)
        VALUES (
            coalesce(create_idea.id, pg_catalog.gen_random_uuid()), acting_user, create_idea.original_idea, hash,
            coalesce(create_idea.adaptations, '{}'::jsonb), create_idea.tone, create_idea.target_audience
        )
        ON CONFLICT (user_id, idea_hash) DO NOTHING
        RETURNING c.* INTO result;
        IF NOT FOUND THEN
            SELECT c.* INTO result
            FROM public.content_adaptations c
            WHERE c.user_id = acting_user AND c.idea_hash = hash;
        END IF;
        IF FOUND THEN
            RETURN NEXT result;
            RETURN;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'could not create the idea: it kept being deleted concurrently'
        USING ERRCODE = 'serialization_failure';
END
$$;

-- Stamp last_used_at = now() on an adaptation. No row: no such adaptation, or not the caller's.
CREATE OR REPLACE FUNCTION public.mark_adaptation_used(adaptation_id uuid)
RETURNS SETOF public.content_adaptations
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
    UPDATE public.content_adaptations c
    SET last_used_at = pg_catalog.now()
    WHERE c.id = mark_adaptation_used.adaptation_id
    RETURNING c.*
$$;

-- =========================================================================================================
-- Platform tokens (service role: the token-refresh job)
-- =========================================================================================================

-- Active connections whose access token expires within within_seconds from now (or already has), soonest
-- first. refreshable_only (default) leaves out connections without a refresh token, which a refresh job
-- cannot renew and which would otherwise fill every page.
CREATE OR REPLACE FUNCTION public.expiring_platform_connections(
    within_seconds integer DEFAULT 3600,
    max_rows integer DEFAULT 100,
    refreshable_only boolean DEFAULT true
)
RETURNS SETOF public.platform_connections
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
#variable_conflict use_column
BEGIN
    IF expiring_platform_connections.within_seconds IS NULL OR expiring_platform_connections.within_seconds < 0 THEN
        RAISE EXCEPTION 'within_seconds must be >= 0' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    IF expiring_platform_connections.max_rows IS NULL OR expiring_platform_connections.max_rows NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_rows must be between 1 and 1000'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    RETURN QUERY
    SELECT c.*
    FROM public.platform_connections c
    WHERE c.is_active
      AND c.token_expires_at <= pg_catalog.now() + pg_catalog.make_interval(secs => expiring_platform_connections.within_seconds)
      AND (NOT coalesce(expiring_platform_connections.refreshable_only, true) OR c.refresh_token IS NOT NULL)
    ORDER BY c.token_expires_at, c.id
    LIMIT expiring_platform_connections.max_rows;
END
$$;

-- Store a refreshed token (ciphertext from the application, never plaintext): access_token and
-- token_expires_at are replaced; refresh_token and scope only when given (providers often keep the old
-- refresh token). No row: no such connection.
CREATE OR REPLACE FUNCTION public.record_token_refresh(
    connection_id uuid,
    access_token text,
    token_expires_at timestamptz,
    refresh_token text DEFAULT NULL,
    scope text DEFAULT NULL
)
RETURNS SETOF public.platform_connections
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
#variable_conflict use_column
DECLARE
    result public.platform_connections;
BEGIN
    IF record_token_refresh.access_token IS NULL OR record_token_refresh.access_token = '' THEN
        RAISE EXCEPTION 'access_token is required' USING ERRCODE = 'invalid_parameter_value', DETAIL = 'invalid_argument';
    END IF;
    UPDATE public.platform_connections c
    SET access_token = record_token_refresh.access_token,
        token_expires_at = record_token_refresh.token_expires_at,
        refresh_token = coalesce(record_token_refresh.refresh_token, c.refresh_token),
        scope = coalesce(record_token_refresh.scope, c.scope)
    WHERE c.id = record_token_refresh.connection_id
    RETURNING c.* INTO result;
    IF FOUND THEN
        RETURN NEXT result;
    END IF;
END
$$;

-- =========================================================================================================
-- Privileges: revoke everything first so a re-run converges, then grant per audience. anon gets nothing.
-- =========================================================================================================

REVOKE ALL ON FUNCTION
    public.idea_hash(text),
    public.content_adaptations_fill_idea_hash(),
    public.schedule_post(uuid, timestamptz, text, uuid, text, text, uuid, uuid),
    public.reschedule_post(uuid, timestamptz, text),
    public.cancel_scheduled_post(uuid),
    public.claim_due_posts(text, integer, integer, integer),
    public.complete_scheduled_post(uuid, text, text, timestamptz, jsonb),
    public.fail_scheduled_post(uuid, text, text, boolean, integer, integer, integer),
    public.release_scheduled_post(uuid, text),
    public.engagement_rate(jsonb),
    public.record_post_metrics(uuid, jsonb, timestamptz),
    public.top_published_posts(integer, text, timestamptz, uuid),
    public.create_idea(text, jsonb, text, text, uuid, uuid),
    public.mark_adaptation_used(uuid),
    public.expiring_platform_connections(integer, integer, boolean),
    public.record_token_refresh(uuid, text, timestamptz, text, text)
FROM PUBLIC, anon, authenticated, service_role;

-- Users acting for themselves (RLS applies), and the service role acting for anyone.
GRANT EXECUTE ON FUNCTION
    public.idea_hash(text),
    public.schedule_post(uuid, timestamptz, text, uuid, text, text, uuid, uuid),
    public.reschedule_post(uuid, timestamptz, text),
    public.cancel_scheduled_post(uuid),
    public.engagement_rate(jsonb),
    public.record_post_metrics(uuid, jsonb, timestamptz),
    public.top_published_posts(integer, text, timestamptz, uuid),
    public.create_idea(text, jsonb, text, text, uuid, uuid),
    public.mark_adaptation_used(uuid)
TO authenticated, service_role;

-- Backend jobs only: the publisher workers and the token-refresh job.
GRANT EXECUTE ON FUNCTION
    public.claim_due_posts(text, integer, integer, integer),
    public.complete_scheduled_post(uuid, text, text, timestamptz, jsonb),
    public.fail_scheduled_post(uuid, text, text, boolean, integer, integer, integer),
    public.release_scheduled_post(uuid, text),
    public.expiring_platform_connections(integer, integer, boolean),
    public.record_token_refresh(uuid, text, timestamptz, text, text)
TO service_role;

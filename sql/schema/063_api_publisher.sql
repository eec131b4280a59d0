-- API, the publisher (service role only): workers claim due posts under a lease, then complete, fail or
-- release them. Called through PostgREST's /rpc/ (docs/schema.md, "API functions").
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

-- Privileges of this file's functions.
REVOKE ALL ON FUNCTION
    public.claim_due_posts(text, integer, integer, integer),
    public.complete_scheduled_post(uuid, text, text, timestamptz, jsonb),
    public.fail_scheduled_post(uuid, text, text, boolean, integer, integer, integer),
    public.release_scheduled_post(uuid, text)
FROM PUBLIC, anon, authenticated, service_role;

-- The publisher workers only.
GRANT EXECUTE ON FUNCTION
    public.claim_due_posts(text, integer, integer, integer),
    public.complete_scheduled_post(uuid, text, text, timestamptz, jsonb),
    public.fail_scheduled_post(uuid, text, text, boolean, integer, integer, integer),
    public.release_scheduled_post(uuid, text)
TO service_role;

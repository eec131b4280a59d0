-- API, ideas (content_adaptations): the dedup key of an idea, creating an idea once per user, and marking an
-- adaptation used. Called through PostgREST's /rpc/ (docs/schema.md, "API functions").
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

-- Privileges of this file's functions.
REVOKE ALL ON FUNCTION
    public.idea_hash(text),
    public.create_idea(text, jsonb, text, text, uuid, uuid),
    public.mark_adaptation_used(uuid)
FROM PUBLIC, anon, authenticated, service_role;

-- Users acting for themselves (RLS applies), and the service role acting for anyone.
GRANT EXECUTE ON FUNCTION
    public.idea_hash(text),
    public.create_idea(text, jsonb, text, text, uuid, uuid),
    public.mark_adaptation_used(uuid)
TO authenticated, service_role;

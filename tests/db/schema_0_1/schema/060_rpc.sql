-- Functions the SDK calls through PostgREST's /rpc/ (one SDK call = one request).

-- Make one profile its user's default, atomically: the BEFORE UPDATE trigger unsets the old default
-- in the same statement. SECURITY INVOKER, so RLS decides which profiles the caller may touch; a
-- profile that does not exist or is not the caller's yields no row (PostgREST: 406 / PGRST116 with a
-- singular Accept header, which the SDK reports as NotFoundError).
CREATE OR REPLACE FUNCTION public.set_default_voice_profile(profile_id uuid)
RETURNS SETOF public.voice_profiles
LANGUAGE sql
VOLATILE
SECURITY INVOKER
SET search_path = ''
ROWS 1
AS $$
    UPDATE public.voice_profiles
    SET is_default = true
    WHERE id = profile_id
    RETURNING *
$$;

REVOKE ALL ON FUNCTION public.set_default_voice_profile(uuid) FROM PUBLIC, anon;
GRANT EXECUTE ON FUNCTION public.set_default_voice_profile(uuid) TO authenticated, service_role;

-- API, voice profiles: switching a user's default profile atomically. Called through PostgREST's /rpc/
-- (docs/schema.md, "API functions"); the file ends with the privileges of its own function.

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

-- Privileges of this file's function.
REVOKE ALL ON FUNCTION public.set_default_voice_profile(uuid) FROM PUBLIC, anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION public.set_default_voice_profile(uuid) TO authenticated, service_role;

-- Trigger functions. PL/pgSQL bodies are resolved when they first run, so they may name the tables
-- created by 010_tables.sql. Every function pins search_path to '' and schema-qualifies every name,
-- so a caller's search_path can never redirect what it touches.

-- Keeps updated_at honest on every UPDATE, whoever writes the row.
CREATE OR REPLACE FUNCTION public.update_updated_at_column()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    NEW.updated_at := pg_catalog.now();
    RETURN NEW;
END
$$;

-- BEFORE INSERT, per row: the first profile of a user becomes the default; a new profile inserted as
-- the default takes over from the old one, which is unset first so the partial unique index never
-- sees two defaults.
CREATE OR REPLACE FUNCTION public.voice_profiles_before_insert()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Serialise the default bookkeeping of this user (see docs/schema.md, voice profiles).
    PERFORM pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('nexus.voice_profiles.default:' || NEW.user_id::text, 0)
    );
    IF NEW.is_default IS NOT TRUE THEN
        IF NOT EXISTS (
            SELECT 1 FROM public.voice_profiles v WHERE v.user_id = NEW.user_id AND v.is_default
        ) THEN
            NEW.is_default := true;
        END IF;
    -- An existing id means this INSERT will conflict (an upsert, or an error): the UPDATE branch of an
    -- upsert does the swap itself, and DO NOTHING must leave the old default alone.
    ELSIF NOT EXISTS (SELECT 1 FROM public.voice_profiles v WHERE v.id = NEW.id) THEN
        UPDATE public.voice_profiles v
        SET is_default = false
        WHERE v.user_id = NEW.user_id AND v.is_default AND v.id <> NEW.id;
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE UPDATE, per row, when a profile becomes its user's default: unset the old default first.
CREATE OR REPLACE FUNCTION public.voice_profiles_before_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    -- Serialise the default bookkeeping of this user (see docs/schema.md, voice profiles).
    PERFORM pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('nexus.voice_profiles.default:' || NEW.user_id::text, 0)
    );
    UPDATE public.voice_profiles v
    SET is_default = false
    WHERE v.user_id = NEW.user_id AND v.is_default AND v.id <> NEW.id;
    RETURN NEW;
END
$$;

-- AFTER UPDATE, per statement: a statement may not leave a user who has profiles without a default
-- (e.g. `SET is_default = false` on the default). Checked once the whole statement has run, so a
-- statement that swaps the default across several rows passes. Nested statements (the unset done by
-- the BEFORE triggers, the promotion done after a delete) are skipped: the outer statement they serve
-- restores the rule before it ends.
CREATE OR REPLACE FUNCTION public.voice_profiles_after_update()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    offender uuid;
BEGIN
    IF pg_catalog.pg_trigger_depth() > 1 THEN
        RETURN NULL;
    END IF;
    SELECT o.user_id INTO offender
    FROM old_rows o
    JOIN new_rows n ON n.id = o.id
    WHERE o.is_default
      AND (NOT n.is_default OR n.user_id IS DISTINCT FROM o.user_id)
      AND EXISTS (SELECT 1 FROM public.voice_profiles v WHERE v.user_id = o.user_id)
      AND NOT EXISTS (SELECT 1 FROM public.voice_profiles v WHERE v.user_id = o.user_id AND v.is_default)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'a user''s voice profiles must include exactly one default'
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'voice_profiles_one_default',
                  HINT = 'Make another profile the default instead (rpc set_default_voice_profile).';
    END IF;
    RETURN NULL;
END
$$;

-- AFTER DELETE, per statement (sees every deleted row at once, so a DELETE of several rows is judged
-- as a whole): a user may not delete their last profile, and when the default goes another profile is
-- promoted: the most recently used one, else the oldest. A user being deleted (the cascade from
-- public.users / auth.users) is exempt: their row is already gone when this runs.
CREATE OR REPLACE FUNCTION public.voice_profiles_after_delete()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    owner_id uuid;
BEGIN
    FOR owner_id IN
        SELECT DISTINCT o.user_id
        FROM old_rows o
        WHERE EXISTS (SELECT 1 FROM public.users u WHERE u.id = o.user_id)
        ORDER BY o.user_id
    LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(
            pg_catalog.hashtextextended('nexus.voice_profiles.default:' || owner_id::text, 0)
        );
        IF NOT EXISTS (SELECT 1 FROM public.voice_profiles v WHERE v.user_id = owner_id) THEN
            RAISE EXCEPTION 'a user may not delete their only voice profile'
                USING ERRCODE = 'check_violation',
                      CONSTRAINT = 'voice_profiles_keep_one',
                      HINT = 'Create another profile first, or delete the user.';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM public.voice_profiles v WHERE v.user_id = owner_id AND v.is_default) THEN
            UPDATE public.voice_profiles v
            SET is_default = true
            WHERE v.id = (
                SELECT c.id
                FROM public.voice_profiles c
                WHERE c.user_id = owner_id
                ORDER BY c.last_used_at DESC NULLS LAST, c.created_at, c.id
                LIMIT 1
            );
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- AFTER INSERT on auth.users: the matching public.users row. SECURITY DEFINER because the auth server
-- (supabase_auth_admin) has no rights on public.users; it runs as the migration role that owns it.
-- Sign-ups without an email (phone, anonymous) get no row until an email is set (see below), because
-- public.users.email is NOT NULL. Never fails a sign-up on a duplicate: ON CONFLICT DO NOTHING.
CREATE OR REPLACE FUNCTION public.handle_new_user()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    meta jsonb := coalesce(NEW.raw_user_meta_data, '{}'::jsonb);
BEGIN
    IF NEW.email IS NULL THEN
        RETURN NEW;
    END IF;
    INSERT INTO public.users (id, email, full_name, avatar_url)
    VALUES (
        NEW.id,
        NEW.email,
        -- Truncated rather than rejected: a long display name must not block a sign-up.
        pg_catalog.left(coalesce(nullif(meta ->> 'full_name', ''), nullif(meta ->> 'name', '')), 255),
        coalesce(nullif(meta ->> 'avatar_url', ''), nullif(meta ->> 'picture', ''))
    )
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

-- AFTER UPDATE OF email on auth.users: keeps public.users.email in step with the auth server (users
-- may not change it themselves), and creates the row for a user whose first email arrives late.
CREATE OR REPLACE FUNCTION public.handle_user_email_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
    meta jsonb := coalesce(NEW.raw_user_meta_data, '{}'::jsonb);
BEGIN
    IF NEW.email IS NULL OR NEW.email IS NOT DISTINCT FROM OLD.email THEN
        RETURN NEW;
    END IF;
    BEGIN
        INSERT INTO public.users (id, email, full_name, avatar_url)
        VALUES (
            NEW.id,
            NEW.email,
            pg_catalog.left(coalesce(nullif(meta ->> 'full_name', ''), nullif(meta ->> 'name', '')), 255),
            coalesce(nullif(meta ->> 'avatar_url', ''), nullif(meta ->> 'picture', ''))
        )
        ON CONFLICT (id) DO UPDATE SET email = excluded.email;
    EXCEPTION WHEN unique_violation THEN
        -- Another user holds that email in public.users: keep the old one rather than fail the auth
        -- server's update.
        RAISE WARNING 'public.users email not synced for user %: email already in use', NEW.id;
    END;
    RETURN NEW;
END
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

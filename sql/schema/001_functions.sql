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

-- --- Columns nobody may change, and columns only the backend may ----------------------------------------
-- Immutability is enforced here, by triggers, and not by withholding column privileges: PostgREST's upsert
-- sets every column of its payload, so a client that reads a row, changes a field and sends the whole row
-- back must be allowed to name every column. A value sent back unchanged passes; a change is refused (or,
-- for the timestamps, replaced by the database's). "Bound by RLS" (row_security_active) means an API user
-- such as `authenticated`; the service role, the migration role and the SECURITY DEFINER sign-up triggers
-- bypass RLS and are the backend.

-- BEFORE INSERT OR UPDATE, per row, on all six tables: id and user_id never change (for every writer: other
-- rows reference them, and tokens are encrypted for their user_id), created_at keeps the stored value, and
-- a row a user inserts gets the database's created_at and updated_at (the backend's inserts keep theirs, so
-- an import keeps a row's history). updated_at on UPDATE is update_updated_at_column's.
CREATE OR REPLACE FUNCTION public.guard_row_identity()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF pg_catalog.row_security_active(TG_RELID::regclass) THEN
            NEW.created_at := pg_catalog.now();
            NEW.updated_at := pg_catalog.now();
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.id IS DISTINCT FROM OLD.id THEN
        RAISE EXCEPTION '%.id cannot change', TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Other rows reference it: create a new row instead.';
    END IF;
    -- users has no user_id: its id is the user. (A nested IF: the field does not exist on that table.)
    IF TG_TABLE_NAME <> 'users' THEN
        IF NEW.user_id IS DISTINCT FROM OLD.user_id THEN
            RAISE EXCEPTION 'a % row cannot move to another user', TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Create the row for the other user instead.';
        END IF;
    END IF;
    NEW.created_at := OLD.created_at;
    RETURN NEW;
END
$$;

-- BEFORE INSERT OR UPDATE, per row, on users: the auth server owns email (mirrored from auth.users) and the
-- backend owns is_active; a user may send them back unchanged. A user never creates a users row (the
-- sign-up trigger does): an INSERT by a user is accepted only as the first half of an upsert of their
-- existing row, whose UPDATE half the checks below then judge.
CREATE OR REPLACE FUNCTION public.users_guard_owned_columns()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT pg_catalog.row_security_active(TG_RELID::regclass) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM public.users u WHERE u.id = NEW.id) THEN
            RAISE EXCEPTION 'users rows are created at sign-up'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Update your existing row instead.';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.email IS DISTINCT FROM OLD.email THEN
        RAISE EXCEPTION 'users.email is the auth server''s'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Change the email through the auth server (it is mirrored here).';
    END IF;
    IF NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        RAISE EXCEPTION 'users.is_active is set by the backend' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE INSERT OR UPDATE, per row, on scheduled_posts: the publisher's columns (retry_count, last_error,
-- published_post_id and the claim) are written by the publisher functions as the service role. A user's new
-- post starts with none of them set; a user's row sent back (upsert or update) must carry them unchanged.
CREATE OR REPLACE FUNCTION public.scheduled_posts_guard_publisher_columns()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT pg_catalog.row_security_active(TG_RELID::regclass) THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF (NEW.retry_count <> 0 OR NEW.last_error IS NOT NULL OR NEW.published_post_id IS NOT NULL
            OR NEW.claimed_by IS NOT NULL OR NEW.claimed_at IS NOT NULL OR NEW.lease_expires_at IS NOT NULL)
           -- An upsert of an existing row: its UPDATE half compares with the stored values.
           AND NOT EXISTS (SELECT 1 FROM public.scheduled_posts s WHERE s.id = NEW.id) THEN
            RAISE EXCEPTION 'a new scheduled post cannot set the publisher''s columns'
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Leave out retry_count, last_error, published_post_id, claimed_by, claimed_at and lease_expires_at.';
        END IF;
        RETURN NEW;
    END IF;
    IF (NEW.retry_count, NEW.last_error, NEW.published_post_id, NEW.claimed_by, NEW.claimed_at, NEW.lease_expires_at)
       IS DISTINCT FROM
       (OLD.retry_count, OLD.last_error, OLD.published_post_id, OLD.claimed_by, OLD.claimed_at, OLD.lease_expires_at) THEN
        RAISE EXCEPTION 'the publisher''s columns of a scheduled post are set by the publisher'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Send retry_count, last_error, published_post_id, claimed_by, claimed_at and lease_expires_at back unchanged, or leave them out.';
    END IF;
    RETURN NEW;
END
$$;

-- BEFORE UPDATE OF status, per row, on published_posts, when the status changes: the transitions a user may
-- make (docs/schema.md, decision 25). A post that went live stays on record: 'published' may only become
-- 'deleted' (taken down on the platform), and 'deleted' is final. The backend may set any status.
CREATE OR REPLACE FUNCTION public.published_posts_guard_status()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
BEGIN
    IF NOT pg_catalog.row_security_active(TG_RELID::regclass)
       OR NEW.status IS NOT DISTINCT FROM OLD.status
       OR (OLD.status, NEW.status) IN (
           ('pending', 'published'), ('pending', 'failed'), ('pending', 'deleted'),
           ('failed', 'pending'), ('failed', 'published'), ('failed', 'deleted'),
           ('published', 'deleted')
       ) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'a post cannot go from % to %', OLD.status, NEW.status
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'A published post stays on record: it may only be marked deleted, and a deleted post is final.';
END
$$;

-- BEFORE INSERT OR UPDATE OR DELETE, per statement, on voice_profiles: take the default-bookkeeping locks
-- before the statement locks any row, so that concurrent statements on one user's profiles queue instead of
-- deadlocking (the delete trigger promotes a profile, which needs that profile's row lock). A user's
-- statement reaches only their own rows (RLS): it takes their lock, and a shared hold on the table-wide one.
-- Any other writer (the service role, a cascade from a deleted user) may touch any user's rows: it takes the
-- table-wide lock exclusively. Order: table-wide, then the user's, then rows.
CREATE OR REPLACE FUNCTION public.voice_profiles_lock_owner()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    caller uuid;
BEGIN
    IF pg_catalog.row_security_active(TG_RELID::regclass) THEN
        PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended('nexus.voice_profiles.default', 0));
        caller := auth.uid();
        IF caller IS NOT NULL THEN
            PERFORM pg_catalog.pg_advisory_xact_lock(
                pg_catalog.hashtextextended('nexus.voice_profiles.default:' || caller::text, 0)
            );
        END IF;
    ELSE
        PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('nexus.voice_profiles.default', 0));
    END IF;
    RETURN NULL;
END
$$;

-- --- Tokens are ciphertext ---------------------------------------------------------------------------------

-- BEFORE INSERT OR UPDATE OF access_token, refresh_token, per row, on platform_connections, for every writer:
-- a token written is a value of the stored format of docs/encryption.md, `nx<digits>:<key id>:<base64>`
-- (standard alphabet, padded, at least 40 characters: the 28 bytes of nonce and tag), never plaintext. A
-- value stored before this rule (legacy plaintext) stays readable, may be sent back unchanged (an update, or
-- an upsert of that same row) and is replaced by ciphertext when re-encrypted (`nexus-sdk keys rotate
-- --allow-plaintext`). The message names the column, never the value.
CREATE OR REPLACE FUNCTION public.platform_connections_check_tokens()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    column_name text;
    token text;
    stored text;
BEGIN
    FOREACH column_name IN ARRAY ARRAY['access_token', 'refresh_token'] LOOP
        token := CASE column_name WHEN 'access_token' THEN NEW.access_token ELSE NEW.refresh_token END;
        IF token IS NULL
           OR token ~ '^nx[0-9]+:[A-Za-z0-9][A-Za-z0-9._-]{0,31}:(?:[A-Za-z0-9+/]{4}){9,}(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)$' THEN
            CONTINUE;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            stored := CASE column_name WHEN 'access_token' THEN OLD.access_token ELSE OLD.refresh_token END;
            CONTINUE WHEN token IS NOT DISTINCT FROM stored;
        ELSE
            -- The INSERT half of an upsert that sends an existing row back with its stored token.
            SELECT CASE column_name WHEN 'access_token' THEN c.access_token ELSE c.refresh_token END INTO stored
            FROM public.platform_connections c WHERE c.id = NEW.id;
            CONTINUE WHEN FOUND AND token IS NOT DISTINCT FROM stored;
        END IF;
        RAISE EXCEPTION 'platform_connections.% must be encrypted', column_name
            USING ERRCODE = 'check_violation',
                  CONSTRAINT = 'platform_connections_tokens_encrypted',
                  DETAIL = 'token_not_ciphertext',
                  HINT = 'Write tokens through nexus-sdk with NEXUS_ENCRYPTION_KEYS set (format nx1:<key id>:<base64>, docs/encryption.md).';
    END LOOP;
    RETURN NEW;
END
$$;

-- --- Platform limits of a scheduled post ------------------------------------------------------------------

-- BEFORE INSERT OR UPDATE OF content, platform, per row, on scheduled_posts, for every writer: no post over
-- its platform's limit is ever scheduled (docs/schema.md, decision 27).
--   linkedin: at most 3000 characters after NFC normalisation (as the SDK counts).
--   x: at most 280 by X's weighted count (twitter-text v3). An exact count needs twitter-text's URL and emoji
--      grammars, so the database computes an upper bound of it and refuses what the bound puts over 280:
--      it never lets an over-limit post through, and may refuse a post close to the limit that X accepts.
--      On the NFC form with CRLF/CR as one line break: every code point counts 1 in twitter-text's light
--      ranges (U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037) except the emoji (c) and (r)
--      (2), every other code point counts 2 (an emoji sequence counts 2 in all, never more than its code
--      points); a URL counts 23 whatever its length. A whitespace-delimited `http(s)://` URL of a plain form
--      twitter-text is certain to take whole (ASCII host labels, .com/.org/.net, a path of [a-z0-9_-]
--      segments, an optional query of [a-z0-9_=&-], not t.co) counts 23; for any other URL the bound adds 23
--      per dot that could precede a top-level domain (a '.' followed by neither whitespace, an ASCII digit
--      nor ASCII punctuation), on top of its characters, since every URL twitter-text finds holds one.
--   A row that is sent back with its stored content and platform (an update, or an upsert of that row)
--   passes, so rows scheduled before the rule stay workable.
CREATE OR REPLACE FUNCTION public.scheduled_posts_check_content_length()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = ''
AS $$
DECLARE
    body text;
    link text;
    labels text[];
    counted integer;
    maximum integer;
BEGIN
    IF NEW.platform NOT IN ('x', 'linkedin') OR NEW.content IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.content IS NOT DISTINCT FROM OLD.content AND NEW.platform IS NOT DISTINCT FROM OLD.platform THEN
        RETURN NEW;
    END IF;
    body := NEW.content;
    -- ASCII text is already in NFC (and the byte count is the cheap test for it).
    IF pg_catalog.octet_length(body) <> pg_catalog.char_length(body) AND pg_catalog.getdatabaseencoding() = 'UTF8' THEN
        body := pg_catalog.normalize(body, 'NFC');
    END IF;
    IF NEW.platform = 'linkedin' THEN
        counted := pg_catalog.char_length(body);
        maximum := 3000;
    ELSE
        maximum := 280;
        IF pg_catalog.strpos(body, E'\r') > 0 THEN
            body := pg_catalog.regexp_replace(body, E'\r\n?', E'\n', 'g');
        END IF;
        -- Every code point, once more for each outside the light ranges (and for the emoji (c) and (r)), and
        -- 23 for each dot that could precede a top-level domain.
        counted := pg_catalog.char_length(body)
            + pg_catalog.regexp_count(body, '[^\u0001-\u00a8\u00aa-\u00ad\u00af-\u10ff\u2000-\u200d\u2010-\u201f\u2032-\u2037]')
            + 23 * pg_catalog.regexp_count(body, '\.[^\s\x21-\x40\x5b-\x60\x7b-\x7e]');
        -- Over the limit so far: a whitespace-delimited URL of the plain form counts 23 instead of its characters
        -- and dots. (Beyond 4000 characters twitter-text may refuse a URL, 4096 at most, so none is trusted.)
        IF counted > maximum AND pg_catalog.char_length(body) <= 4000 AND pg_catalog.strpos(body, '://') > 0 THEN
            FOR link IN SELECT m[1] FROM pg_catalog.regexp_matches(body, '(?:^|\s)(https?://\S+)', 'g') AS m LOOP
                -- One to four labels of at most 63 characters before the TLD (what IDNA accepts), checked apart:
                -- bounded repetition makes PostgreSQL's regex engine ten times slower.
                labels := pg_catalog.string_to_array(pg_catalog.substring(link, '://([^/?]+)'), '.');
                IF link ~* '^https?://(?!t\.co/)(?:[a-z0-9]+\.)+(?:com|org|net)(?:/[a-z0-9_-]+)*/?(?:\?[a-z0-9_=&-]+)?$'
                   AND pg_catalog.cardinality(labels) <= 5
                   AND 63 >= ALL (SELECT pg_catalog.char_length(l) FROM pg_catalog.unnest(labels) AS l) THEN
                    counted := counted + 23 - pg_catalog.char_length(link)
                        - 23 * pg_catalog.regexp_count(link, '\.[^\s\x21-\x40\x5b-\x60\x7b-\x7e]');
                END IF;
            END LOOP;
        END IF;
    END IF;
    IF counted <= maximum THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND EXISTS (
        SELECT 1 FROM public.scheduled_posts s
        WHERE s.id = NEW.id AND s.content = NEW.content AND s.platform = NEW.platform
    ) THEN
        RETURN NEW;  -- the INSERT half of an upsert sending a stored row back
    END IF;
    RAISE EXCEPTION 'content is over the % limit of %', NEW.platform, maximum
        USING ERRCODE = 'check_violation',
              CONSTRAINT = 'scheduled_posts_content_within_limit',
              DETAIL = 'content_too_long',
              HINT = CASE NEW.platform
                  WHEN 'x' THEN 'X allows 280 weighted characters; the database''s upper bound for this text is '
                      || counted || ' (docs/schema.md, decision 27: URLs count 23, most non-Latin characters and emoji 2).'
                  ELSE 'LinkedIn allows 3000 characters; this post has ' || counted || '.'
              END;
END
$$;

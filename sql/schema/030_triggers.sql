-- Triggers. On our own tables CREATE OR REPLACE TRIGGER (PostgreSQL 14+) keeps re-runs idempotent.
-- On auth.users the migration role may create a trigger but (on Supabase) not drop or replace one,
-- so those are created only when missing, and their behaviour lives in CREATE OR REPLACE FUNCTION.

-- updated_at on all six tables
CREATE OR REPLACE TRIGGER update_users_updated_at
    BEFORE UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
CREATE OR REPLACE TRIGGER update_platform_connections_updated_at
    BEFORE UPDATE ON public.platform_connections
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
CREATE OR REPLACE TRIGGER update_content_adaptations_updated_at
    BEFORE UPDATE ON public.content_adaptations
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
CREATE OR REPLACE TRIGGER update_voice_profiles_updated_at
    BEFORE UPDATE ON public.voice_profiles
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
CREATE OR REPLACE TRIGGER update_published_posts_updated_at
    BEFORE UPDATE ON public.published_posts
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();
CREATE OR REPLACE TRIGGER update_scheduled_posts_updated_at
    BEFORE UPDATE ON public.scheduled_posts
    FOR EACH ROW EXECUTE FUNCTION public.update_updated_at_column();

-- id and user_id never change, created_at is kept, a user's insert gets the database's timestamps
CREATE OR REPLACE TRIGGER users_immutable_columns
    BEFORE INSERT OR UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();
CREATE OR REPLACE TRIGGER platform_connections_immutable_columns
    BEFORE INSERT OR UPDATE ON public.platform_connections
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();
CREATE OR REPLACE TRIGGER content_adaptations_immutable_columns
    BEFORE INSERT OR UPDATE ON public.content_adaptations
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();
CREATE OR REPLACE TRIGGER voice_profiles_immutable_columns
    BEFORE INSERT OR UPDATE ON public.voice_profiles
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();
CREATE OR REPLACE TRIGGER published_posts_immutable_columns
    BEFORE INSERT OR UPDATE ON public.published_posts
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();
CREATE OR REPLACE TRIGGER scheduled_posts_immutable_columns
    BEFORE INSERT OR UPDATE ON public.scheduled_posts
    FOR EACH ROW EXECUTE FUNCTION public.guard_row_identity();

-- What the auth server, the backend and the publisher own, users may send back unchanged but not change
CREATE OR REPLACE TRIGGER users_owned_columns
    BEFORE INSERT OR UPDATE ON public.users
    FOR EACH ROW EXECUTE FUNCTION public.users_guard_owned_columns();
CREATE OR REPLACE TRIGGER scheduled_posts_publisher_columns
    BEFORE INSERT OR UPDATE ON public.scheduled_posts
    FOR EACH ROW EXECUTE FUNCTION public.scheduled_posts_guard_publisher_columns();

-- The status transitions a user may make on a published post
CREATE OR REPLACE TRIGGER published_posts_status_transition
    BEFORE UPDATE OF status ON public.published_posts
    FOR EACH ROW
    WHEN (NEW.status IS DISTINCT FROM OLD.status)
    EXECUTE FUNCTION public.published_posts_guard_status();

-- Tokens are ciphertext; scheduled content is within its platform's limit (every writer)
CREATE OR REPLACE TRIGGER platform_connections_tokens_encrypted
    BEFORE INSERT OR UPDATE OF access_token, refresh_token ON public.platform_connections
    FOR EACH ROW EXECUTE FUNCTION public.platform_connections_check_tokens();
CREATE OR REPLACE TRIGGER scheduled_posts_content_within_limit
    BEFORE INSERT OR UPDATE OF content, platform ON public.scheduled_posts
    FOR EACH ROW EXECUTE FUNCTION public.scheduled_posts_check_content_length();

-- Exactly one default voice profile per user (see 001_functions.sql); the statement-level lock comes first,
-- so concurrent statements on one user's profiles take their locks in one order
CREATE OR REPLACE TRIGGER voice_profiles_lock_owner
    BEFORE INSERT OR UPDATE OR DELETE ON public.voice_profiles
    FOR EACH STATEMENT EXECUTE FUNCTION public.voice_profiles_lock_owner();
CREATE OR REPLACE TRIGGER voice_profiles_default_on_insert
    BEFORE INSERT ON public.voice_profiles
    FOR EACH ROW EXECUTE FUNCTION public.voice_profiles_before_insert();
CREATE OR REPLACE TRIGGER voice_profiles_default_on_update
    BEFORE UPDATE OF is_default, user_id ON public.voice_profiles
    FOR EACH ROW
    WHEN (NEW.is_default AND (NOT OLD.is_default OR NEW.user_id IS DISTINCT FROM OLD.user_id))
    EXECUTE FUNCTION public.voice_profiles_before_update();
CREATE OR REPLACE TRIGGER voice_profiles_default_check
    AFTER UPDATE ON public.voice_profiles
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.voice_profiles_after_update();
CREATE OR REPLACE TRIGGER voice_profiles_keep_one_on_delete
    AFTER DELETE ON public.voice_profiles
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION public.voice_profiles_after_delete();

-- idea_hash is filled (or recomputed) by the database when the writer leaves it out
CREATE OR REPLACE TRIGGER content_adaptations_idea_hash
    BEFORE INSERT OR UPDATE OF original_idea ON public.content_adaptations
    FOR EACH ROW EXECUTE FUNCTION public.content_adaptations_fill_idea_hash();

-- public.users follows auth.users
DO $auth_triggers$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_trigger
        WHERE tgrelid = 'auth.users'::regclass AND tgname = 'on_auth_user_created'
    ) THEN
        CREATE TRIGGER on_auth_user_created
            AFTER INSERT ON auth.users
            FOR EACH ROW EXECUTE FUNCTION public.handle_new_user();
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_catalog.pg_trigger
        WHERE tgrelid = 'auth.users'::regclass AND tgname = 'on_auth_user_email_updated'
    ) THEN
        CREATE TRIGGER on_auth_user_email_updated
            AFTER UPDATE OF email ON auth.users
            FOR EACH ROW EXECUTE FUNCTION public.handle_user_email_change();
    END IF;
END
$auth_triggers$;

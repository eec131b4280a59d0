-- Objects that earlier versions created and this one no longer has, dropped so that a database applied by an
-- earlier version ends up with exactly what a fresh one has (docs/schema.md, "Upgrades").

-- 0.1's token-refresh functions: no SDK code called them. platform_connections.expiring() is a plain filtered
-- read (served by idx_platform_connections_token_expiry), and update_tokens() stores tokens encrypted for their
-- row in one PATCH, whereas record_token_refresh stored whatever text it was given.
DROP FUNCTION IF EXISTS public.expiring_platform_connections(integer, integer, boolean);
DROP FUNCTION IF EXISTS public.record_token_refresh(uuid, text, timestamptz, text, text);

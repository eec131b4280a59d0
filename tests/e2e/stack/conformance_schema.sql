-- The conformance suite's own schema (tests/e2e/stack/test_postgrest_conformance.py): a small library.
-- Every relationship kind PostgREST embeds, odd identifiers, column grants, views, RLS, function shapes.

CREATE TABLE public.cf_publishers (
  id int PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE public.cf_authors (
  id int PRIMARY KEY,
  name text NOT NULL,
  publisher_id int REFERENCES public.cf_publishers (id),
  mentor_id int REFERENCES public.cf_authors (id)
);
-- Two keys to cf_authors: embedding cf_authors from here is ambiguous without a hint.
CREATE TABLE public.cf_books (
  id int PRIMARY KEY,
  title text NOT NULL,
  author_id int NOT NULL CONSTRAINT cf_books_author_fk REFERENCES public.cf_authors (id),
  editor_id int CONSTRAINT cf_books_editor_fk REFERENCES public.cf_authors (id),
  year int,
  summary text,
  meta jsonb
);
-- One-to-one: the key is also the primary key.
CREATE TABLE public.cf_author_bios (
  author_id int PRIMARY KEY REFERENCES public.cf_authors (id),
  bio text NOT NULL
);
-- Many-to-many through a join table whose primary key holds both keys.
CREATE TABLE public.cf_tags (
  id int PRIMARY KEY,
  label text NOT NULL
);
CREATE TABLE public.cf_book_tags (
  book_id int REFERENCES public.cf_books (id),
  tag_id int REFERENCES public.cf_tags (id),
  PRIMARY KEY (book_id, tag_id)
);
-- A composite key and a composite foreign key (as the Nexus schema's same-owner keys).
CREATE TABLE public.cf_shelves (
  owner text,
  code text,
  label text NOT NULL,
  PRIMARY KEY (owner, code)
);
CREATE TABLE public.cf_shelf_items (
  id int PRIMARY KEY,
  owner text NOT NULL,
  shelf_code text NOT NULL,
  book_id int REFERENCES public.cf_books (id),
  CONSTRAINT cf_shelf_items_shelf_fk FOREIGN KEY (owner, shelf_code) REFERENCES public.cf_shelves (owner, code)
);
-- Identifiers PostgREST accepts: dashes, spaces, quoted names with :: and ->.
CREATE TABLE public."cf odd-names" (
  id int PRIMARY KEY,
  "first-name" text,
  "last name" text,
  "a::b" int,
  "x->y" text,
  data jsonb
);
-- Without a primary key.
CREATE TABLE public.cf_log (
  k text,
  v int
);
CREATE TABLE public.cf_keyed_log (
  k text UNIQUE,
  v int
);
-- Column-level grants: anon may read id and title only.
CREATE TABLE public.cf_drafts (
  id int PRIMARY KEY,
  title text,
  secret text DEFAULT 'hidden'
);
CREATE TABLE public.cf_times (
  id int PRIMARY KEY,
  t timestamptz
);
CREATE TABLE public.cf_docs (
  id int PRIMARY KEY,
  body text,
  vec tsvector,
  j jsonb
);
-- Row-level security through auth.uid(): notes belong to a user, comments to notes.
CREATE TABLE public.cf_notes (
  id int PRIMARY KEY,
  owner uuid NOT NULL,
  book_id int REFERENCES public.cf_books (id),
  body text
);
ALTER TABLE public.cf_notes ENABLE ROW LEVEL SECURITY;
CREATE POLICY cf_notes_own ON public.cf_notes FOR ALL TO authenticated
  USING (owner = auth.uid()) WITH CHECK (owner = auth.uid());
CREATE TABLE public.cf_counters (
  id int PRIMARY KEY,
  n int NOT NULL DEFAULT 0,
  label text DEFAULT 'dflt'
);

CREATE VIEW public.cf_books_view AS SELECT id, title, author_id, year FROM public.cf_books;
CREATE VIEW public.cf_renamed_books AS SELECT id AS book_id, title AS name, author_id FROM public.cf_books;

CREATE TYPE public.cf_point AS (x int, y int);
CREATE DOMAIN public.cf_point_domain AS public.cf_point;

CREATE FUNCTION public.cf_plus_one(num int, OUT num_plus_one int) LANGUAGE sql IMMUTABLE
  AS 'SELECT num + 1';
CREATE FUNCTION public.cf_inc(INOUT num int) LANGUAGE sql IMMUTABLE AS 'SELECT num + 1';
CREATE FUNCTION public.cf_two_outs(OUT a int, OUT b text) LANGUAGE sql IMMUTABLE AS $$ SELECT 1, 'two' $$;
CREATE FUNCTION public.cf_ids() RETURNS TABLE (id int) LANGUAGE sql STABLE
  AS 'SELECT id FROM public.cf_books ORDER BY id';
CREATE FUNCTION public.cf_point_of() RETURNS public.cf_point LANGUAGE sql IMMUTABLE AS $$ SELECT ROW(10, 5)::public.cf_point $$;
CREATE FUNCTION public.cf_point_domain_of() RETURNS public.cf_point_domain LANGUAGE sql IMMUTABLE
  AS $$ SELECT ROW(10, 5)::public.cf_point_domain $$;
CREATE FUNCTION public.cf_seven() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 7';
CREATE FUNCTION public.cf_guc(name text) RETURNS text LANGUAGE sql STABLE
  AS 'SELECT current_setting(name, true)';
CREATE FUNCTION public.cf_cookie(name text) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT current_setting('request.cookies', true)::json ->> name $$;
CREATE FUNCTION public.cf_books_below(id int) RETURNS SETOF public.cf_books LANGUAGE sql STABLE
  AS 'SELECT * FROM public.cf_books WHERE cf_books.id < $1 ORDER BY cf_books.id';
CREATE FUNCTION public.cf_clear_counters() RETURNS SETOF public.cf_counters LANGUAGE sql VOLATILE
  AS 'DELETE FROM public.cf_counters RETURNING *';
CREATE FUNCTION public.cf_noop() RETURNS void LANGUAGE sql VOLATILE AS 'SELECT';
-- One unnamed json parameter: called with the whole body when no named overload fits.
CREATE FUNCTION public.cf_echo(json) RETURNS json LANGUAGE sql IMMUTABLE AS 'SELECT $1';
CREATE FUNCTION public.cf_echo() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
CREATE FUNCTION public.cf_echo(x int, y int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + y';
CREATE FUNCTION public.cf_named_json(j json) RETURNS json LANGUAGE sql IMMUTABLE AS 'SELECT j';
-- A computed field of cf_books (an unnamed parameter of the table's row type).
CREATE FUNCTION public.cf_label(public.cf_books) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT $1.title || ' (' || coalesce($1.year::text, '?') || ')' $$;

GRANT SELECT, INSERT, UPDATE, DELETE ON
  public.cf_publishers, public.cf_authors, public.cf_books, public.cf_author_bios, public.cf_tags,
  public.cf_book_tags, public.cf_shelves, public.cf_shelf_items, public."cf odd-names", public.cf_log,
  public.cf_keyed_log, public.cf_times, public.cf_docs, public.cf_counters, public.cf_books_view,
  public.cf_renamed_books
  TO anon, authenticated, service_role;
GRANT SELECT (id, title), INSERT (id, title), UPDATE (title) ON public.cf_drafts TO anon;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.cf_notes TO authenticated, service_role;
GRANT SELECT, INSERT, UPDATE ON public.cf_drafts TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.cf_drafts TO service_role;
GRANT EXECUTE ON FUNCTION public.cf_plus_one(int), public.cf_inc(int), public.cf_two_outs(), public.cf_ids(),
  public.cf_point_of(), public.cf_point_domain_of(), public.cf_seven(), public.cf_guc(text),
  public.cf_cookie(text), public.cf_books_below(int), public.cf_clear_counters(), public.cf_noop(),
  public.cf_label(public.cf_books), public.cf_echo(json), public.cf_echo(), public.cf_echo(int, int),
  public.cf_named_json(json)
  TO anon, authenticated, service_role;

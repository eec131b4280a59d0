-- The rows every conformance case starts from (conformance_schema.sql); run before each case.
TRUNCATE public.cf_notes, public.cf_shelf_items, public.cf_shelves, public.cf_book_tags, public.cf_tags,
  public.cf_author_bios, public.cf_books, public.cf_authors, public.cf_publishers, public."cf odd-names",
  public.cf_log, public.cf_keyed_log, public.cf_drafts, public.cf_times, public.cf_docs, public.cf_counters;
INSERT INTO public.cf_publishers VALUES (1, 'Acme'), (2, 'Globex'), (3, 'Initech');
INSERT INTO public.cf_authors VALUES (1, 'Ada', 1, NULL), (2, 'Bob', 1, 1), (3, 'Cy', 2, 1), (4, 'Di', NULL, NULL);
INSERT INTO public.cf_books VALUES
  (1, 'Alpha', 1, 2, 2001, 'the quick brown fox',
   '{"tags": ["x", "y"], "n": 1, "!@#$%^&*_d": "weird", "0xy1": "hex"}'),
  (2, 'Beta', 1, NULL, 2005, 'jumps over the lazy dog', '{"n": 2}'),
  (3, 'Gamma', 2, 1, 2010, 'les chats sont mignons', NULL),
  (4, 'Delta', 3, NULL, NULL, NULL, '{"arr": [[1, [10, 11]], [2]]}');
INSERT INTO public.cf_author_bios VALUES (1, 'First programmer'), (3, 'Writer');
INSERT INTO public.cf_tags VALUES (1, 'sci'), (2, 'fun'), (3, 'old');
INSERT INTO public.cf_book_tags VALUES (1, 1), (1, 2), (2, 2), (3, 3);
INSERT INTO public.cf_shelves VALUES ('ann', 'A', 'Top'), ('ann', 'B', 'Bottom'), ('ben', 'A', 'Ben top');
INSERT INTO public.cf_shelf_items VALUES (1, 'ann', 'A', 1), (2, 'ann', 'B', 2), (3, 'ben', 'A', 1);
INSERT INTO public."cf odd-names" VALUES (1, 'Ann', 'Lee', 5, 'arrow', '{"k-1": 1, "a b": 2}');
INSERT INTO public.cf_log VALUES ('a', 1);
INSERT INTO public.cf_keyed_log VALUES ('a', 1);
INSERT INTO public.cf_drafts VALUES (1, 'Draft one', 's1');
INSERT INTO public.cf_times VALUES (1, '2023-10-18 12:37:59.611+00');
INSERT INTO public.cf_docs VALUES
  (1, 'the cats are running', to_tsvector('english', 'the cats are running'), '{"t": "des chats mignons"}'),
  (2, 'les chats sont mignons', to_tsvector('french', 'les chats sont mignons'), '{"t": "cats running"}');
INSERT INTO public.cf_notes VALUES
  (1, 'aaaaaaaa-0000-4000-8000-000000000001', 1, 'alice on alpha'),
  (2, 'aaaaaaaa-0000-4000-8000-000000000002', 1, 'bob on alpha'),
  (3, 'aaaaaaaa-0000-4000-8000-000000000001', 2, 'alice on beta');
INSERT INTO public.cf_counters VALUES (1, 0, 'one'), (2, 5, 'two'), (3, 9, 'three');
ANALYZE public.cf_publishers;

// A typical app's queries through supabase-js (postgrest-js), unmodified, against the stack's conformance
// schema (tests/e2e/stack/conformance_schema.sql). Prints one JSON object: each query's data, error code,
// count and status. tests/e2e/stack/test_official_clients.py runs it and checks PostgREST's answers.
import { createClient } from '@supabase/supabase-js'
import ws from 'ws'

const url = process.env.SUPABASE_URL
const anonKey = process.env.SUPABASE_ANON_KEY
const token = process.env.USER_ACCESS_TOKEN

// Node 20 has no WebSocket of its own; supabase-js asks for ws there (Realtime is not used here).
const options = { auth: { persistSession: false, autoRefreshToken: false }, realtime: { transport: ws } }
const anon = createClient(url, anonKey, options)
const user = createClient(url, anonKey, {
  ...options,
  global: { headers: { Authorization: `Bearer ${token}` } },
})

const out = {}
async function run(name, query) {
  const { data, error, count, status } = await query
  out[name] = { data: data ?? null, error: error ? error.code : null, count: count ?? null, status }
}

// Reads, embedding included.
await run('books_with_authors_and_tags', anon.from('cf_books')
  .select('id, title, author:cf_authors!author_id(name), cf_tags(label)')
  .order('id').order('id', { referencedTable: 'cf_tags' }))
await run('inner_filter', anon.from('cf_publishers').select('name, cf_authors!inner(name)').eq('cf_authors.name', 'Cy'))
await run('embedded_order_limit', anon.from('cf_publishers').select('name, cf_authors(name)').eq('id', 1)
  .order('name', { referencedTable: 'cf_authors', ascending: false }).limit(1, { referencedTable: 'cf_authors' }))
await run('single', anon.from('cf_books').select('title, cf_authors!author_id(name)').eq('id', 3).single())
await run('maybe_single_none', anon.from('cf_books').select('title').eq('id', 99).maybeSingle())
await run('count_head', anon.from('cf_books').select('id', { count: 'exact', head: true }).gt('id', 1))
await run('range', anon.from('cf_books').select('id').order('id').range(1, 2))
await run('text_search', anon.from('cf_docs').select('id').textSearch('body', 'chats', { config: 'french', type: 'plain' }))
await run('or_filter', anon.from('cf_books').select('id').or('id.eq.1,year.gt.2005').order('id'))
await run('in_and_is', anon.from('cf_books').select('id').in('id', [1, 2, 4]).is('year', null))
await run('spread', anon.from('cf_books').select('title, ...cf_authors!author_id(author:name)').eq('id', 3))
await run('rpc_object', anon.rpc('cf_plus_one', { num: 5 }))
await run('rpc_rows_embedded', anon.rpc('cf_books_below', { id: 3 }, { get: true })
  .select('title, cf_authors!author_id(name)').order('id'))
await run('rls_embedded', user.from('cf_books').select('title, cf_notes(body)').lt('id', 3).order('id'))
// Writes.
await run('insert_select', anon.from('cf_counters').insert({ id: 9 }).select('id, label'))
await run('upsert_existing', anon.from('cf_counters').upsert([{ id: 1, n: 10 }]).select())
await run('update_select', anon.from('cf_counters').update({ n: 4 }).eq('id', 2).select('id, n'))
await run('delete_max_affected', anon.from('cf_counters').delete().gt('id', 0).maxAffected(2))
await run('delete_one', anon.from('cf_counters').delete().eq('id', 9).maxAffected(1).select('id'))
await run('insert_embedded_select', anon.from('cf_books').insert({ id: 20, title: 'New', author_id: 2 })
  .select('id, cf_authors!author_id(name)').single())

process.stdout.write(JSON.stringify(out))

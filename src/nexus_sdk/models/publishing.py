"""Shapes of the publishing operations: the post a worker claims, and what a publisher reports back."""

from __future__ import annotations

from typing import Any, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict

from nexus_sdk.models.scheduled_posts import ScheduledPost

__all__ = ["LAPSED_LEASE_PREFIX", "ClaimedPost", "PublishResult"]

LAPSED_LEASE_PREFIX: Final = "lease of worker "
"""How ``claim_due_posts`` begins ``last_error`` when it takes over a post whose lease lapsed
(``lease of worker <id> expired at <time>``); ``complete_scheduled_post`` relies on the same text."""


class ClaimedPost(ScheduledPost):
    """A ``scheduled_posts`` row as ``claim_due_posts`` returns it: ``processing``, under a lease.

    Pass it to ``scheduled_posts.complete()`` or ``fail()``: the claim's worker id comes with it.
    """

    claimed_by: str
    """The worker id the claim was made for; only that worker may complete or fail the post."""
    claimed_at: AwareDatetime
    lease_expires_at: AwareDatetime
    """After this instant another worker may take the post over (publish before it)."""

    @property
    def previous_attempt_unknown(self) -> bool:
        """True when the previous attempt ended without a recorded outcome: the post may already be live.

        That attempt's worker claimed the post and then let its lease lapse (it died, hung, or lost the
        network after its publisher had perhaps posted), so nobody knows whether the platform has the post.
        A publisher should look it up on the platform (by the text, or by an idempotency key such as the
        post's id) before posting again. The database records such a lapse in ``last_error`` as ``lease of
        worker <id> expired at <time>``; a later failure of a known outcome replaces that text.
        """
        return (self.last_error or "").startswith(LAPSED_LEASE_PREFIX)


class PublishResult(BaseModel):
    """What a publisher returns for a post it has put live (a bare ``str`` means ``platform_post_id``)."""

    model_config = ConfigDict(frozen=True)

    platform_post_id: str | None = None
    """The platform's id of the new post (e.g. the LinkedIn URN)."""
    published_at: AwareDatetime | None = None
    """When the platform published it; the server's ``now()`` when omitted."""
    metadata: dict[str, Any] | None = None
    """Anything else worth keeping (stored in ``published_posts.metadata``)."""

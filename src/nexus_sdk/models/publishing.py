"""Shapes of the publishing operations: the post a worker claims, and what a publisher reports back."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from nexus_sdk.models.scheduled_posts import ScheduledPost

__all__ = ["ClaimedPost", "PublishResult"]


class ClaimedPost(ScheduledPost):
    """A ``scheduled_posts`` row as ``claim_due_posts`` returns it: ``processing``, under a lease.

    Pass it to ``scheduled_posts.complete()`` or ``fail()``: the claim's worker id comes with it.
    """

    claimed_by: str
    """The worker id the claim was made for; only that worker may complete or fail the post."""
    claimed_at: AwareDatetime
    lease_expires_at: AwareDatetime
    """After this instant another worker may take the post over (publish before it)."""


class PublishResult(BaseModel):
    """What a publisher returns for a post it has put live (a bare ``str`` means ``platform_post_id``)."""

    model_config = ConfigDict(frozen=True)

    platform_post_id: str | None = None
    """The platform's id of the new post (e.g. the LinkedIn URN)."""
    published_at: AwareDatetime | None = None
    """When the platform published it; the server's ``now()`` when omitted."""
    metadata: dict[str, Any] | None = None
    """Anything else worth keeping (stored in ``published_posts.metadata``)."""

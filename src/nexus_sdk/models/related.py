"""Rows with their related rows, read in one request (PostgREST resource embedding).

Each model is the row as read plus the related row, typed: ``post.adaptation.adaptations.x.text`` is
checked by the type checker like any other field. The related row comes through the same-owner foreign key,
so it is always the same user's, and row-level security applies to it as to the row.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from nexus_sdk.models.content_adaptations import ContentAdaptation
from nexus_sdk.models.published_posts import PublishedPost
from nexus_sdk.models.scheduled_posts import ScheduledPost

__all__ = [
    "CONNECTION_PROFILE_COLUMNS",
    "ConnectionProfile",
    "ContentAdaptationWithPosts",
    "PublishedPostWithAdaptation",
    "ScheduledPostWithConnection",
]


class ConnectionProfile(BaseModel):
    """The public side of a platform connection: which account, on which platform. Never its tokens."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID
    platform: str
    """``linkedin``, ``x``, ``substack`` or any other platform name."""
    platform_user_id: str
    """The account's id on the platform."""
    profile_data: dict[str, Any] | None = None
    """The platform profile (username, followers, ...): an open object."""
    is_active: bool


CONNECTION_PROFILE_COLUMNS: Final = tuple(ConnectionProfile.model_fields)
"""The columns a :class:`ConnectionProfile` reads (the select never names a token column)."""


class PublishedPostWithAdaptation(PublishedPost):
    """A published post and the content adaptation it was made from."""

    adaptation: ContentAdaptation | None = None
    """The adaptation (``adaptation_id``); None when the post has none."""


class ScheduledPostWithConnection(ScheduledPost):
    """A scheduled post and the connection it will be published through (platform and profile)."""

    connection: ConnectionProfile
    """The connection (``platform_connection_id``, always set)."""


class ContentAdaptationWithPosts(ContentAdaptation):
    """A content adaptation and the posts published from it."""

    published_posts: list[PublishedPost] = Field(default_factory=list)
    """The posts made from this adaptation (``published_posts.adaptation_id``), oldest first."""

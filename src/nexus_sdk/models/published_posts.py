"""``published_posts``: posts sent (or being sent) to a platform, with their metrics."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from nexus_sdk.models._base import CreateModel, Row, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, PlatformName, RequiredText, Varchar255, check_post_content
from nexus_sdk.models.enums import PublishedPostStatus
from nexus_sdk.models.jsonb import READ_LENIENTLY, PostMetrics

__all__ = ["PublishedPost", "PublishedPostCreate", "PublishedPostUpdate"]


class PublishedPost(Row):
    """A row of ``published_posts``."""

    table = "published_posts"

    id: UUID
    user_id: UUID
    adaptation_id: UUID | None = None
    platform_connection_id: UUID | None = None
    platform: str
    platform_post_id: str | None = None
    status: PublishedPostStatus
    content: str
    metadata: dict[str, Any] | None = None
    """Platform-specific data: an open object."""
    metrics: Annotated[PostMetrics | None, READ_LENIENTLY] = None
    """Read whatever object is stored (e.g. ``{"views": 1.5}``, allowed by the CHECK): such a value is kept."""
    scheduled_for: AwareDatetime | None = None
    published_at: AwareDatetime | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class PublishedPostCreate(CreateModel):
    """A ``published_posts`` row to insert. ``content`` is checked against its platform's limit."""

    id: UUID = Field(default_factory=uuid4)
    user_id: UUID | None = None
    """None: the caller's own id, filled in by the repository."""
    adaptation_id: UUID | None = None
    platform_connection_id: UUID | None = None
    platform: PlatformName
    platform_post_id: Varchar255 | None = None
    status: PublishedPostStatus = PublishedPostStatus.PENDING
    content: RequiredText
    metadata: dict[str, Any] | None = None
    metrics: PostMetrics | None = None
    scheduled_for: AwareDatetime | None = None
    published_at: AwareDatetime | None = None

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str, info: ValidationInfo) -> str:
        # ``platform`` is declared first, so it is already in info.data when it was valid.
        return check_post_content(info.data.get("platform"), value)


class PublishedPostUpdate(UpdateModel):
    """Changes to a ``published_posts`` row (status, ids from the platform, metrics ...)."""

    adaptation_id: UUID | None = None
    platform_connection_id: UUID | None = None
    platform: Annotated[PlatformName | None, NOT_NULL] = None
    platform_post_id: Varchar255 | None = None
    status: Annotated[PublishedPostStatus | None, NOT_NULL] = None
    content: Annotated[RequiredText | None, NOT_NULL] = None
    metadata: dict[str, Any] | None = None
    metrics: PostMetrics | None = None
    scheduled_for: AwareDatetime | None = None
    published_at: AwareDatetime | None = None

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Only when the platform is part of the same update; otherwise the stored platform is unknown here.
        if value is None:
            return value
        return check_post_content(info.data.get("platform"), value)

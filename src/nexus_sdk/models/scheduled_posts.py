"""``scheduled_posts``: the queue of posts to publish at a given time."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from nexus_sdk.models._base import CreateModel, Row, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, PlatformName, RequiredText, Timezone, check_post_content
from nexus_sdk.models.enums import ScheduledPostStatus

RetryCount = Annotated[int, Field(ge=0, le=2**31 - 1)]
"""``retry_count``: a PostgreSQL ``integer`` (at most 2147483647), CHECKed ``>= 0``."""

__all__ = ["ScheduledPost", "ScheduledPostCreate", "ScheduledPostUpdate"]


class ScheduledPost(Row):
    """A row of ``scheduled_posts``."""

    table = "scheduled_posts"

    id: UUID
    user_id: UUID
    adaptation_id: UUID | None = None
    content: str
    """The text to publish, as it was when scheduled."""
    platform_connection_id: UUID
    platform: str
    status: ScheduledPostStatus
    scheduled_for: AwareDatetime
    timezone: str
    """The zone the user scheduled in, for display."""
    retry_count: int
    last_error: str | None = None
    published_post_id: UUID | None = None
    claimed_by: str | None = None
    """Worker id of the latest claim; kept after completion or failure as a record."""
    claimed_at: AwareDatetime | None = None
    """When the latest claim was made."""
    lease_expires_at: AwareDatetime | None = None
    """While ``processing``: when the claim lapses and the post becomes claimable again."""
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ScheduledPostCreate(CreateModel):
    """A ``scheduled_posts`` row to insert. ``content`` is checked against its platform's limit."""

    id: UUID = Field(default_factory=uuid4)
    user_id: UUID | None = None
    """None: the caller's own id, filled in by the repository."""
    adaptation_id: UUID | None = None
    platform_connection_id: UUID
    # Declared before ``content`` so the content check can see it.
    platform: PlatformName
    content: RequiredText
    status: ScheduledPostStatus = ScheduledPostStatus.SCHEDULED
    scheduled_for: AwareDatetime
    timezone: Timezone = "UTC"
    retry_count: RetryCount = 0
    last_error: str | None = None
    published_post_id: UUID | None = None

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str, info: ValidationInfo) -> str:
        return check_post_content(info.data.get("platform"), value)


class ScheduledPostUpdate(UpdateModel):
    """Changes to a ``scheduled_posts`` row (reschedule, cancel, record an attempt ...)."""

    adaptation_id: UUID | None = None
    platform_connection_id: Annotated[UUID | None, NOT_NULL] = None
    platform: Annotated[PlatformName | None, NOT_NULL] = None
    content: Annotated[RequiredText | None, NOT_NULL] = None
    status: Annotated[ScheduledPostStatus | None, NOT_NULL] = None
    scheduled_for: Annotated[AwareDatetime | None, NOT_NULL] = None
    timezone: Annotated[Timezone | None, NOT_NULL] = None
    retry_count: Annotated[RetryCount | None, NOT_NULL] = None
    last_error: str | None = None
    published_post_id: UUID | None = None

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        return check_post_content(info.data.get("platform"), value)

"""What a type checker knows about each table: its column names, and the keyword fields of its writes.

``create(**fields)``, ``upsert(**fields)`` and ``update(id, **fields)`` take a table's columns as keywords;
the TypedDicts here (PEP 692, ``**fields: Unpack[...]``) let mypy and editors check their names and types.
``list(order_by=...)`` and ``iter(order_by=...)`` take the table's columns, ``"-column"`` for descending, as
the ``...Order`` literals.

These are declarations only: the Create and Update models still check every value at run time. A unit test
(``tests/unit/test_typed_api.py``) keeps each declaration equal to its model's fields.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, Literal, Required, TypeAlias, TypedDict

from pydantic import SecretStr

from nexus_sdk.models import (
    Adaptations,
    PostMetrics,
    PublishedPostStatus,
    ScheduledPostStatus,
    VoiceCharacteristics,
)

__all__ = [
    "ContentAdaptationColumn",
    "ContentAdaptationCreateFields",
    "ContentAdaptationOrder",
    "ContentAdaptationUpdateFields",
    "PlatformConnectionColumn",
    "PlatformConnectionCreateFields",
    "PlatformConnectionOrder",
    "PlatformConnectionUpdateFields",
    "PublishedPostColumn",
    "PublishedPostCreateFields",
    "PublishedPostOrder",
    "PublishedPostUpdateFields",
    "ScheduledPostColumn",
    "ScheduledPostCreateFields",
    "ScheduledPostOrder",
    "ScheduledPostUpdateFields",
    "UserColumn",
    "UserOrder",
    "UserUpdateFields",
    "VoiceProfileColumn",
    "VoiceProfileCreateFields",
    "VoiceProfileOrder",
    "VoiceProfileUpdateFields",
]

Id: TypeAlias = uuid.UUID | str
"""A row id: a UUID or its text."""
Token: TypeAlias = str | SecretStr
"""An OAuth token, in clear or already wrapped."""
Document: TypeAlias = Mapping[str, Any]
"""A JSONB document given as a mapping (checked against its model at run time)."""

# --- users -------------------------------------------------------------------------------------------

UserColumn = Literal[
    "id", "email", "full_name", "avatar_url", "created_at", "updated_at", "timezone", "is_active"
]
UserOrder = Literal[
    "id", "-id", "email", "-email", "full_name", "-full_name", "avatar_url", "-avatar_url",
    "created_at", "-created_at", "updated_at", "-updated_at", "timezone", "-timezone",
    "is_active", "-is_active",
]  # fmt: skip


class UserUpdateFields(TypedDict, total=False):
    """The columns ``users.update()`` may change."""

    email: str | None
    full_name: str | None
    avatar_url: str | None
    timezone: str | None
    is_active: bool | None


# --- platform_connections ------------------------------------------------------------------------------

PlatformConnectionColumn = Literal[
    "id", "user_id", "platform", "platform_user_id", "access_token", "refresh_token", "token_expires_at",
    "scope", "profile_data", "is_active", "created_at", "updated_at", "last_sync_at",
]  # fmt: skip
PlatformConnectionOrder = Literal[
    "id", "-id", "user_id", "-user_id", "platform", "-platform", "platform_user_id", "-platform_user_id",
    "access_token", "-access_token", "refresh_token", "-refresh_token", "token_expires_at",
    "-token_expires_at", "scope", "-scope", "profile_data", "-profile_data", "is_active", "-is_active",
    "created_at", "-created_at", "updated_at", "-updated_at", "last_sync_at", "-last_sync_at",
]  # fmt: skip


class PlatformConnectionCreateFields(TypedDict, total=False):
    """The columns of a new ``platform_connections`` row (tokens in clear: they are encrypted before sending)."""

    id: Id
    user_id: Id | None
    platform: Required[str]
    platform_user_id: Required[str]
    access_token: Required[Token]
    refresh_token: Token | None
    token_expires_at: dt.datetime | None
    scope: str | None
    profile_data: dict[str, Any] | None
    is_active: bool
    last_sync_at: dt.datetime | None


class PlatformConnectionUpdateFields(TypedDict, total=False):
    """The columns ``platform_connections.update()`` may change (new tokens go through ``update_tokens``)."""

    platform: str | None
    platform_user_id: str | None
    access_token: Token | None
    refresh_token: Token | None
    token_expires_at: dt.datetime | None
    scope: str | None
    profile_data: dict[str, Any] | None
    is_active: bool | None
    last_sync_at: dt.datetime | None


# --- content_adaptations -------------------------------------------------------------------------------

ContentAdaptationColumn = Literal[
    "id", "user_id", "original_idea", "idea_hash", "adaptations", "tone", "target_audience", "created_at",
    "updated_at", "last_used_at",
]  # fmt: skip
ContentAdaptationOrder = Literal[
    "id", "-id", "user_id", "-user_id", "original_idea", "-original_idea", "idea_hash", "-idea_hash",
    "adaptations", "-adaptations", "tone", "-tone", "target_audience", "-target_audience", "created_at",
    "-created_at", "updated_at", "-updated_at", "last_used_at", "-last_used_at",
]  # fmt: skip


class ContentAdaptationCreateFields(TypedDict, total=False):
    """The columns of a new ``content_adaptations`` row."""

    id: Id
    user_id: Id | None
    original_idea: Required[str]
    idea_hash: str | None
    adaptations: Adaptations | Document
    tone: str | None
    target_audience: str | None
    last_used_at: dt.datetime | None


class ContentAdaptationUpdateFields(TypedDict, total=False):
    """The columns ``content_adaptations.update()`` may change."""

    original_idea: str | None
    idea_hash: str | None
    adaptations: Adaptations | Document | None
    tone: str | None
    target_audience: str | None
    last_used_at: dt.datetime | None


# --- voice_profiles ------------------------------------------------------------------------------------

VoiceProfileColumn = Literal[
    "id", "user_id", "name", "is_default", "characteristics", "sample_posts", "created_at", "updated_at",
    "last_used_at",
]  # fmt: skip
VoiceProfileOrder = Literal[
    "id", "-id", "user_id", "-user_id", "name", "-name", "is_default", "-is_default", "characteristics",
    "-characteristics", "sample_posts", "-sample_posts", "created_at", "-created_at", "updated_at",
    "-updated_at", "last_used_at", "-last_used_at",
]  # fmt: skip


class VoiceProfileCreateFields(TypedDict, total=False):
    """The columns of a new ``voice_profiles`` row."""

    id: Id
    user_id: Id | None
    name: Required[str]
    is_default: bool
    characteristics: VoiceCharacteristics | Document
    sample_posts: list[str] | None
    last_used_at: dt.datetime | None


class VoiceProfileUpdateFields(TypedDict, total=False):
    """The columns ``voice_profiles.update()`` may change."""

    name: str | None
    is_default: bool | None
    characteristics: VoiceCharacteristics | Document | None
    sample_posts: list[str] | None
    last_used_at: dt.datetime | None


# --- published_posts -----------------------------------------------------------------------------------

PublishedPostColumn = Literal[
    "id", "user_id", "adaptation_id", "platform_connection_id", "platform", "platform_post_id", "status",
    "content", "metadata", "metrics", "scheduled_for", "published_at", "created_at", "updated_at",
]  # fmt: skip
PublishedPostOrder = Literal[
    "id", "-id", "user_id", "-user_id", "adaptation_id", "-adaptation_id", "platform_connection_id",
    "-platform_connection_id", "platform", "-platform", "platform_post_id", "-platform_post_id", "status",
    "-status", "content", "-content", "metadata", "-metadata", "metrics", "-metrics", "scheduled_for",
    "-scheduled_for", "published_at", "-published_at", "created_at", "-created_at", "updated_at",
    "-updated_at",
]  # fmt: skip


class PublishedPostCreateFields(TypedDict, total=False):
    """The columns of a new ``published_posts`` row."""

    id: Id
    user_id: Id | None
    adaptation_id: Id | None
    platform_connection_id: Id | None
    platform: Required[str]
    platform_post_id: str | None
    status: PublishedPostStatus | str
    content: Required[str]
    metadata: dict[str, Any] | None
    metrics: PostMetrics | Document | None
    scheduled_for: dt.datetime | None
    published_at: dt.datetime | None


class PublishedPostUpdateFields(TypedDict, total=False):
    """The columns ``published_posts.update()`` may change."""

    adaptation_id: Id | None
    platform_connection_id: Id | None
    platform: str | None
    platform_post_id: str | None
    status: PublishedPostStatus | str | None
    content: str | None
    metadata: dict[str, Any] | None
    metrics: PostMetrics | Document | None
    scheduled_for: dt.datetime | None
    published_at: dt.datetime | None


# --- scheduled_posts -----------------------------------------------------------------------------------

ScheduledPostColumn = Literal[
    "id", "user_id", "adaptation_id", "content", "platform_connection_id", "platform", "status",
    "scheduled_for", "timezone", "retry_count", "last_error", "published_post_id", "claimed_by", "claimed_at",
    "lease_expires_at", "created_at", "updated_at",
]  # fmt: skip
ScheduledPostOrder = Literal[
    "id", "-id", "user_id", "-user_id", "adaptation_id", "-adaptation_id", "content", "-content",
    "platform_connection_id", "-platform_connection_id", "platform", "-platform", "status", "-status",
    "scheduled_for", "-scheduled_for", "timezone", "-timezone", "retry_count", "-retry_count", "last_error",
    "-last_error", "published_post_id", "-published_post_id", "claimed_by", "-claimed_by", "claimed_at",
    "-claimed_at", "lease_expires_at", "-lease_expires_at", "created_at", "-created_at", "updated_at",
    "-updated_at",
]  # fmt: skip


class ScheduledPostCreateFields(TypedDict, total=False):
    """The columns of a new ``scheduled_posts`` row (``schedule()`` is the checked way to make one)."""

    id: Id
    user_id: Id | None
    adaptation_id: Id | None
    platform_connection_id: Required[Id]
    platform: Required[str]
    content: Required[str]
    status: ScheduledPostStatus | str
    scheduled_for: Required[dt.datetime]
    timezone: str
    retry_count: int
    last_error: str | None
    published_post_id: Id | None


class ScheduledPostUpdateFields(TypedDict, total=False):
    """The columns ``scheduled_posts.update()`` may change."""

    adaptation_id: Id | None
    platform_connection_id: Id | None
    platform: str | None
    content: str | None
    status: ScheduledPostStatus | str | None
    scheduled_for: dt.datetime | None
    timezone: str | None
    retry_count: int | None
    last_error: str | None
    published_post_id: Id | None

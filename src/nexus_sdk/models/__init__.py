"""Typed models of the Nexus tables: for each table the row as read, the shape to create, the shape to update.

- ``User`` / ``PlatformConnection`` / ... (:class:`Row`): frozen, unknown columns ignored, no write rules,
  so any stored row can be read, quickly. Build them with ``Model.model_validate(row)`` or
  ``Model.model_validate_json(text)``.
- ``...Create``: the row to insert, with a client-generated ``id`` (a retried insert is then a no-op) and
  defaults equal to the database defaults.
- ``...Update``: the columns to change; a field not given is left alone, a field given as None is set
  to null (NOT NULL columns refuse None).
- JSONB documents (``Adaptations``, ``VoiceCharacteristics``, ``PostMetrics`` ...) keep unknown keys; the
  platforms' rules are checked when a document is placed into a Create/Update model, never on read.

``to_request_json()`` on a Create/Update model gives the exact PostgREST body.
"""

from __future__ import annotations

from nexus_sdk.models._base import CreateModel, JsonbModel, Row, UpdateModel
from nexus_sdk.models._fields import x_weighted_length
from nexus_sdk.models.content_adaptations import (
    ContentAdaptation,
    ContentAdaptationCreate,
    ContentAdaptationUpdate,
)
from nexus_sdk.models.enums import Platform, PublishedPostStatus, ScheduledPostStatus
from nexus_sdk.models.jsonb import (
    Adaptations,
    LinkedInAdaptation,
    PostMetrics,
    SubstackAdaptation,
    VoiceCharacteristics,
    XAdaptation,
)
from nexus_sdk.models.platform_connections import (
    PlatformConnection,
    PlatformConnectionCreate,
    PlatformConnectionUpdate,
)
from nexus_sdk.models.published_posts import PublishedPost, PublishedPostCreate, PublishedPostUpdate
from nexus_sdk.models.publishing import ClaimedPost, PublishResult
from nexus_sdk.models.related import (
    ConnectionProfile,
    ContentAdaptationWithPosts,
    PublishedPostWithAdaptation,
    ScheduledPostWithConnection,
)
from nexus_sdk.models.scheduled_posts import ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate
from nexus_sdk.models.users import User, UserCreate, UserUpdate
from nexus_sdk.models.voice_profiles import VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate

__all__ = [
    "Adaptations",
    "ClaimedPost",
    "ConnectionProfile",
    "ContentAdaptation",
    "ContentAdaptationCreate",
    "ContentAdaptationUpdate",
    "ContentAdaptationWithPosts",
    "CreateModel",
    "JsonbModel",
    "LinkedInAdaptation",
    "Platform",
    "PlatformConnection",
    "PlatformConnectionCreate",
    "PlatformConnectionUpdate",
    "PostMetrics",
    "PublishResult",
    "PublishedPost",
    "PublishedPostCreate",
    "PublishedPostStatus",
    "PublishedPostUpdate",
    "PublishedPostWithAdaptation",
    "Row",
    "ScheduledPost",
    "ScheduledPostCreate",
    "ScheduledPostStatus",
    "ScheduledPostUpdate",
    "ScheduledPostWithConnection",
    "SubstackAdaptation",
    "UpdateModel",
    "User",
    "UserCreate",
    "UserUpdate",
    "VoiceCharacteristics",
    "VoiceProfile",
    "VoiceProfileCreate",
    "VoiceProfileUpdate",
    "XAdaptation",
    "x_weighted_length",
]

"""``voice_profiles``: named descriptions of how a user writes."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from nexus_sdk.models._base import CreateModel, Row, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, RequiredVarchar255
from nexus_sdk.models.jsonb import READ_LENIENTLY, VoiceCharacteristics

__all__ = ["VoiceProfile", "VoiceProfileCreate", "VoiceProfileUpdate"]


class VoiceProfile(Row):
    """A row of ``voice_profiles``."""

    table = "voice_profiles"

    id: UUID
    user_id: UUID
    name: str
    is_default: bool
    """At most one profile per user is the default."""
    characteristics: Annotated[VoiceCharacteristics, READ_LENIENTLY]
    """Read whatever object is stored: a key that does not fit its type is kept as stored."""
    sample_posts: list[str | None] | None = None
    """A PostgreSQL ``text[]``, whose elements may be NULL."""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_used_at: AwareDatetime | None = None


class VoiceProfileCreate(CreateModel):
    """A ``voice_profiles`` row to insert."""

    always_sent = frozenset({"id", "characteristics"})

    id: UUID = Field(default_factory=uuid4)
    user_id: UUID | None = None
    """None: the caller's own id, filled in by the repository."""
    name: RequiredVarchar255
    is_default: bool = False
    characteristics: VoiceCharacteristics = Field(default_factory=VoiceCharacteristics)
    sample_posts: list[str] | None = None
    last_used_at: AwareDatetime | None = None


class VoiceProfileUpdate(UpdateModel):
    """Changes to a ``voice_profiles`` row."""

    name: Annotated[RequiredVarchar255 | None, NOT_NULL] = None
    is_default: Annotated[bool | None, NOT_NULL] = None
    characteristics: Annotated[VoiceCharacteristics | None, NOT_NULL] = None
    sample_posts: list[str] | None = None
    last_used_at: AwareDatetime | None = None

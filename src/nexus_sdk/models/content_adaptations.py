"""``content_adaptations``: an idea and its adaptation for each platform."""

from __future__ import annotations

from typing import Annotated, Self
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field, model_validator

from nexus_sdk.models._base import CreateModel, Row, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, IdeaHash, RequiredText, Varchar50, Varchar255, sha256_hex
from nexus_sdk.models.jsonb import READ_LENIENTLY, Adaptations, WriteAdaptations

__all__ = ["ContentAdaptation", "ContentAdaptationCreate", "ContentAdaptationUpdate"]


class ContentAdaptation(Row):
    """A row of ``content_adaptations``."""

    table = "content_adaptations"

    id: UUID
    user_id: UUID
    original_idea: str
    idea_hash: str | None = None
    """SHA-256 of ``original_idea`` (hex), used to find duplicates."""
    adaptations: Annotated[Adaptations, READ_LENIENTLY]
    """Read whatever object is stored: a value that does not fit its platform's shape is kept as stored."""
    tone: str | None = None
    target_audience: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_used_at: AwareDatetime | None = None


class ContentAdaptationCreate(CreateModel):
    """A ``content_adaptations`` row to insert."""

    always_sent = frozenset({"id", "idea_hash", "adaptations"})

    id: UUID = Field(default_factory=uuid4)
    user_id: UUID | None = None
    """None: the caller's own id, filled in by the repository."""
    original_idea: RequiredText
    idea_hash: IdeaHash | None = None
    """Defaults to the SHA-256 of ``original_idea``, so duplicates can be found by it."""
    adaptations: WriteAdaptations = Field(default_factory=Adaptations)
    tone: Varchar50 | None = None
    target_audience: Varchar255 | None = None
    last_used_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _default_idea_hash(self) -> Self:
        if "idea_hash" not in self.model_fields_set:
            # Frozen model: write the computed default straight into the instance's values.
            self.__dict__["idea_hash"] = sha256_hex(self.original_idea)
        return self


class ContentAdaptationUpdate(UpdateModel):
    """Changes to a ``content_adaptations`` row."""

    original_idea: Annotated[RequiredText | None, NOT_NULL] = None
    idea_hash: IdeaHash | None = None
    """Recomputed from ``original_idea`` when that changes and no hash is given."""
    adaptations: Annotated[WriteAdaptations | None, NOT_NULL] = None
    tone: Varchar50 | None = None
    target_audience: Varchar255 | None = None
    last_used_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _recompute_idea_hash(self) -> Self:
        if self.original_idea is not None and "idea_hash" not in self.model_fields_set:
            # Keep the stored hash in step with the idea, or deduplication would match the old text.
            self.__dict__["idea_hash"] = sha256_hex(self.original_idea)
            self.model_fields_set.add("idea_hash")
        return self

"""``content_adaptations``: Content ideas and their per-platform adaptations. No ``upsert``: ``idea_hash`` has a plain, not a
unique, index, so there is no natural key to resolve conflicts on."""

from __future__ import annotations

from nexus_sdk.models import ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate
from nexus_sdk.repositories._base import (
    AsyncCreate,
    AsyncDelete,
    AsyncRead,
    AsyncUpdate,
    SyncCreate,
    SyncDelete,
    SyncRead,
    SyncUpdate,
)
from nexus_sdk.repositories._core import TableSpec

__all__ = ["AsyncContentAdaptations", "ContentAdaptations"]

SPEC = TableSpec("content_adaptations", ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate)


class ContentAdaptations(
    SyncRead[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    SyncCreate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    SyncUpdate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    SyncDelete[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
):
    """The ``content_adaptations`` table, sync."""

    spec = SPEC


class AsyncContentAdaptations(
    AsyncRead[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    AsyncCreate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    AsyncUpdate[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
    AsyncDelete[ContentAdaptation, ContentAdaptationCreate, ContentAdaptationUpdate],
):
    """The ``content_adaptations`` table, async."""

    spec = SPEC

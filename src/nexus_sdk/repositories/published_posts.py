"""``published_posts``: Posts published (or attempted) on a platform, with their metrics."""

from __future__ import annotations

from nexus_sdk.models import PublishedPost, PublishedPostCreate, PublishedPostUpdate
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

__all__ = ["AsyncPublishedPosts", "PublishedPosts"]

SPEC = TableSpec("published_posts", PublishedPost, PublishedPostCreate, PublishedPostUpdate)


class PublishedPosts(
    SyncRead[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    SyncCreate[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    SyncUpdate[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    SyncDelete[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
):
    """The ``published_posts`` table, sync."""

    spec = SPEC


class AsyncPublishedPosts(
    AsyncRead[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    AsyncCreate[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    AsyncUpdate[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
    AsyncDelete[PublishedPost, PublishedPostCreate, PublishedPostUpdate],
):
    """The ``published_posts`` table, async."""

    spec = SPEC

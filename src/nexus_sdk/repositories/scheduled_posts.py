"""``scheduled_posts``: The publishing queue. Claiming due posts without double-claiming is a SQL function (``/rpc/``)."""

from __future__ import annotations

from nexus_sdk.models import ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate
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

__all__ = ["AsyncScheduledPosts", "ScheduledPosts"]

SPEC = TableSpec("scheduled_posts", ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate)


class ScheduledPosts(
    SyncRead[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    SyncCreate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    SyncUpdate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    SyncDelete[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
):
    """The ``scheduled_posts`` table, sync."""

    spec = SPEC


class AsyncScheduledPosts(
    AsyncRead[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    AsyncCreate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    AsyncUpdate[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
    AsyncDelete[ScheduledPost, ScheduledPostCreate, ScheduledPostUpdate],
):
    """The ``scheduled_posts`` table, async."""

    spec = SPEC

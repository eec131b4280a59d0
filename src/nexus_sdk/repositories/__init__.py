"""Repositories: one per table, the sync and async class side by side.

Each exposes the methods its table's row-level security allows, with the same names everywhere:
``get``, ``list``, ``iter``, ``count``, ``create``, ``create_many``, ``update``, ``delete``, and
``upsert`` where a natural key exists. Clients create them; users reach them as client attributes
(``client.published_posts``).
"""

from __future__ import annotations

from nexus_sdk.repositories.content_adaptations import AsyncContentAdaptations, ContentAdaptations
from nexus_sdk.repositories.platform_connections import AsyncPlatformConnections, PlatformConnections
from nexus_sdk.repositories.published_posts import AsyncPublishedPosts, PublishedPosts
from nexus_sdk.repositories.scheduled_posts import AsyncScheduledPosts, ScheduledPosts
from nexus_sdk.repositories.users import AsyncUsers, Users
from nexus_sdk.repositories.voice_profiles import AsyncVoiceProfiles, VoiceProfiles

__all__ = [
    "AsyncContentAdaptations",
    "AsyncPlatformConnections",
    "AsyncPublishedPosts",
    "AsyncScheduledPosts",
    "AsyncUsers",
    "AsyncVoiceProfiles",
    "ContentAdaptations",
    "PlatformConnections",
    "PublishedPosts",
    "ScheduledPosts",
    "Users",
    "VoiceProfiles",
]

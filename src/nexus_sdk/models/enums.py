"""Enumerated column values: statuses (closed sets) and the known platforms (an open set)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Platform", "PublishedPostStatus", "ScheduledPostStatus"]


class Platform(StrEnum):
    """The platforms the SDK knows, with typed adaptation shapes and length rules.

    The set of platforms is open: ``platform`` fields accept any lowercase identifier matching
    ``^[a-z][a-z0-9_]{0,49}$``, so a new platform needs no SDK release. Members compare equal to their
    string values (``Platform.X == "x"``).
    """

    LINKEDIN = "linkedin"
    X = "x"
    SUBSTACK = "substack"


class PublishedPostStatus(StrEnum):
    """``published_posts.status``."""

    PENDING = "pending"
    PUBLISHED = "published"
    FAILED = "failed"
    DELETED = "deleted"


class ScheduledPostStatus(StrEnum):
    """``scheduled_posts.status``."""

    SCHEDULED = "scheduled"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

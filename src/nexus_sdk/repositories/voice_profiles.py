"""``voice_profiles``: Writing-style profiles. Switching the default profile atomically is a SQL function (``/rpc/``)."""

from __future__ import annotations

from nexus_sdk.models import VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate
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

__all__ = ["AsyncVoiceProfiles", "VoiceProfiles"]

SPEC = TableSpec("voice_profiles", VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate)


class VoiceProfiles(
    SyncRead[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    SyncCreate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    SyncUpdate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    SyncDelete[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
):
    """The ``voice_profiles`` table, sync."""

    spec = SPEC


class AsyncVoiceProfiles(
    AsyncRead[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    AsyncCreate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    AsyncUpdate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
    AsyncDelete[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate],
):
    """The ``voice_profiles`` table, async."""

    spec = SPEC

"""``voice_profiles``: writing-style profiles.

Switching the default profile is one SQL function call (``/rpc/set_default_voice_profile``): a trigger
clears the previous default in the same transaction, so a user never has two defaults, or none midway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack, overload

from nexus_sdk._http import Operation
from nexus_sdk.errors import NotFoundError
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
from nexus_sdk.repositories._core import RowId, TableCore, TableSpec
from nexus_sdk.repositories._fields import (
    VoiceProfileCreateFields,
    VoiceProfileOrder,
    VoiceProfileUpdateFields,
)
from nexus_sdk.repositories._rpc import call_single, uuid_text
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncVoiceProfiles", "VoiceProfiles", "VoiceProfilesCore"]

SPEC = TableSpec("voice_profiles", VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate)


class VoiceProfilesCore(TableCore[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate]):
    """The I/O-free operations of ``voice_profiles``."""

    def set_default(
        self, profile: VoiceProfile | RowId, timeout: TimeoutTypes | NotGiven
    ) -> Operation[VoiceProfile]:
        """``set_default_voice_profile``; making the same profile the default twice is harmless (retried)."""
        profile_id = str(profile.id) if isinstance(profile, VoiceProfile) else uuid_text("profile", profile)
        return call_single(
            self.settings,
            "set_default_voice_profile",
            {"profile_id": profile_id},
            VoiceProfile,
            idempotent=True,
            timeout=timeout,
            missing=NotFoundError.row(self.spec.table, profile_id),
        )


class AsyncVoiceProfiles(
    AsyncRead[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    AsyncCreate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    AsyncUpdate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    AsyncDelete[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
):
    """The ``voice_profiles`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        @overload  # type: ignore[override, no-overload-impl]
        async def create(
            self, data: VoiceProfileCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> VoiceProfile: ...

        @overload
        async def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[VoiceProfileCreateFields]
        ) -> VoiceProfile: ...

        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: VoiceProfileUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[VoiceProfileUpdateFields],
        ) -> VoiceProfile: ...

    spec = SPEC
    core_class = VoiceProfilesCore
    _core: VoiceProfilesCore

    async def set_default(
        self, profile: VoiceProfile | RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> VoiceProfile:
        """Make a profile its user's default, unsetting the previous default, in one call.

        Args:
            profile: The profile or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The profile, now ``is_default``.

        Raises:
            ValidationError: Not a UUID (nothing was sent).
            NotFoundError: No such profile visible to the caller.
        """
        return await self._sender.run(self._core.set_default(profile, timeout))


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class VoiceProfiles(
    SyncRead[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    SyncCreate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    SyncUpdate[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
    SyncDelete[VoiceProfile, VoiceProfileCreate, VoiceProfileUpdate, VoiceProfileOrder],
):
    """The ``voice_profiles`` table."""

    if TYPE_CHECKING:

        @overload  # type: ignore[override, no-overload-impl]
        def create(
            self, data: VoiceProfileCreate, /, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
        ) -> VoiceProfile: ...

        @overload
        def create(
            self, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN, **fields: Unpack[VoiceProfileCreateFields]
        ) -> VoiceProfile: ...

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: VoiceProfileUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[VoiceProfileUpdateFields],
        ) -> VoiceProfile: ...

    spec = SPEC
    core_class = VoiceProfilesCore
    _core: VoiceProfilesCore

    def set_default(
        self, profile: VoiceProfile | RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> VoiceProfile:
        """Make a profile its user's default, unsetting the previous default, in one call.

        Args:
            profile: The profile or its id.
            timeout: Overrides the client's timeout for this call.

        Returns:
            The profile, now ``is_default``.

        Raises:
            ValidationError: Not a UUID (nothing was sent).
            NotFoundError: No such profile visible to the caller.
        """
        return self._sender.run(self._core.set_default(profile, timeout))

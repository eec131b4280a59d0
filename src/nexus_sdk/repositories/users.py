"""``users``: Users' profiles. Rows are created by the auth-signup trigger and removed with the auth user, so
there is no ``create``/``delete`` here; RLS lets a user read and update only their own row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from nexus_sdk.models import User, UserCreate, UserUpdate
from nexus_sdk.repositories._base import (
    AsyncRead,
    AsyncUpdate,
    SyncRead,
    SyncUpdate,
)
from nexus_sdk.repositories._core import RowId, TableSpec
from nexus_sdk.repositories._fields import UserOrder, UserUpdateFields
from nexus_sdk.settings import NOT_GIVEN, NotGiven, TimeoutTypes

__all__ = ["AsyncUsers", "Users"]

SPEC = TableSpec("users", User, UserCreate, UserUpdate)


class AsyncUsers(
    AsyncRead[User, UserCreate, UserUpdate, UserOrder], AsyncUpdate[User, UserCreate, UserUpdate, UserOrder]
):
    """The ``users`` table."""

    if TYPE_CHECKING:
        # The keyword fields typed for this table (PEP 692); at run time the mixins' methods serve.
        async def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: UserUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[UserUpdateFields],
        ) -> User: ...

    spec = SPEC


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class Users(
    SyncRead[User, UserCreate, UserUpdate, UserOrder], SyncUpdate[User, UserCreate, UserUpdate, UserOrder]
):
    """The ``users`` table."""

    if TYPE_CHECKING:

        def update(  # type: ignore[override]
            self,
            id: RowId,
            patch: UserUpdate | None = None,
            /,
            *,
            timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
            **fields: Unpack[UserUpdateFields],
        ) -> User: ...

    spec = SPEC

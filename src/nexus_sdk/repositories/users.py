"""``users``: Users' profiles. Rows are created by the auth-signup trigger and removed with the auth user, so
there is no ``create``/``delete`` here; RLS lets a user read and update only their own row."""

from __future__ import annotations

from nexus_sdk.models import User, UserCreate, UserUpdate
from nexus_sdk.repositories._base import (
    AsyncRead,
    AsyncUpdate,
    SyncRead,
    SyncUpdate,
)
from nexus_sdk.repositories._core import TableSpec

__all__ = ["AsyncUsers", "Users"]

SPEC = TableSpec("users", User, UserCreate, UserUpdate)


class AsyncUsers(AsyncRead[User, UserCreate, UserUpdate], AsyncUpdate[User, UserCreate, UserUpdate]):
    """The ``users`` table."""

    spec = SPEC


# -----------------------------------------------------------------------------------------------------------
# Generated from the async classes above by tools/async_to_sync.py: do not edit below this line.
# Change the async source, then run `python tools/async_to_sync.py`; `make lint` fails while this is stale.
# -----------------------------------------------------------------------------------------------------------


class Users(SyncRead[User, UserCreate, UserUpdate], SyncUpdate[User, UserCreate, UserUpdate]):
    """The ``users`` table."""

    spec = SPEC

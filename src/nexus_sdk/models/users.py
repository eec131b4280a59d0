"""``users``: a user's profile, one row per ``auth.users`` row."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from nexus_sdk.models._base import CreateModel, Row, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, RequiredVarchar255, Timezone, Varchar255

__all__ = ["User", "UserCreate", "UserUpdate"]


class User(Row):
    """A row of ``users``."""

    table = "users"

    id: UUID
    """The user's id, the same as ``auth.users.id``."""
    email: str
    full_name: str | None = None
    avatar_url: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    timezone: str
    """An IANA zone name, used for scheduling."""
    is_active: bool


class UserCreate(CreateModel):
    """A ``users`` row to insert (service role only; normally the signup trigger does it).

    ``id`` should be the ``auth.users`` id; it defaults to a fresh UUID only for symmetry with the other
    tables.
    """

    id: UUID = Field(default_factory=uuid4)
    email: RequiredVarchar255
    full_name: Varchar255 | None = None
    avatar_url: str | None = None
    timezone: Timezone = "UTC"
    is_active: bool = True


class UserUpdate(UpdateModel):
    """Changes to a ``users`` row: only the fields given are sent; None sets a nullable column to null."""

    email: Annotated[RequiredVarchar255 | None, NOT_NULL] = None
    full_name: Varchar255 | None = None
    avatar_url: str | None = None
    timezone: Annotated[Timezone | None, NOT_NULL] = None
    is_active: Annotated[bool | None, NOT_NULL] = None

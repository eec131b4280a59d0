"""``platform_connections``: a user's connected account on a platform, with its OAuth tokens."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, ConfigDict, Field, SecretStr
from pydantic_core import PydanticCustomError

from nexus_sdk.models._base import CreateModel, Row, Secret, UpdateModel
from nexus_sdk.models._fields import NOT_NULL, PlatformName, RequiredVarchar255

__all__ = ["PlatformConnection", "PlatformConnectionCreate", "PlatformConnectionUpdate"]


def _non_empty_secret(value: SecretStr) -> SecretStr:
    if not value.get_secret_value():
        raise PydanticCustomError("empty_token", "a token cannot be empty")
    return value


_Token = Annotated[Secret, AfterValidator(_non_empty_secret)]


class PlatformConnection(Row):
    """A row of ``platform_connections``. Tokens are ``SecretStr``: printing the row masks them."""

    # Validation errors must not echo a token back.
    model_config = ConfigDict(hide_input_in_errors=True)

    table = "platform_connections"

    id: UUID
    user_id: UUID
    platform: str
    """``linkedin``, ``x``, ``substack`` or any other platform name."""
    platform_user_id: str
    """The account's id on the platform."""
    access_token: Secret
    """The OAuth access token (stored encrypted; see ``nexus_sdk.crypto``)."""
    refresh_token: Secret | None = None
    token_expires_at: AwareDatetime | None = None
    scope: str | None = None
    profile_data: dict[str, Any] | None = None
    """The platform profile (username, followers, ...): an open object."""
    is_active: bool
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_sync_at: AwareDatetime | None = None


class PlatformConnectionCreate(CreateModel):
    """A ``platform_connections`` row to insert. Tokens are plain here; the repository encrypts them."""

    model_config = ConfigDict(hide_input_in_errors=True)

    id: UUID = Field(default_factory=uuid4)
    user_id: UUID | None = None
    """None: the caller's own id, filled in by the repository."""
    platform: PlatformName
    platform_user_id: RequiredVarchar255
    access_token: _Token
    refresh_token: _Token | None = None
    token_expires_at: AwareDatetime | None = None
    scope: str | None = None
    profile_data: dict[str, Any] | None = None
    is_active: bool = True
    last_sync_at: AwareDatetime | None = None


class PlatformConnectionUpdate(UpdateModel):
    """Changes to a ``platform_connections`` row (e.g. refreshed tokens)."""

    model_config = ConfigDict(hide_input_in_errors=True)

    platform: Annotated[PlatformName | None, NOT_NULL] = None
    platform_user_id: Annotated[RequiredVarchar255 | None, NOT_NULL] = None
    access_token: Annotated[_Token | None, NOT_NULL] = None
    refresh_token: _Token | None = None
    token_expires_at: AwareDatetime | None = None
    scope: str | None = None
    profile_data: dict[str, Any] | None = None
    is_active: Annotated[bool | None, NOT_NULL] = None
    last_sync_at: AwareDatetime | None = None

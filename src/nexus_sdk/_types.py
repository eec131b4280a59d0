"""Small typing helpers shared across the SDK.

The main one is :data:`NOT_GIVEN`, a sentinel distinct from ``None``: a PATCH must tell "set this column
to null" (``None``) from "leave it alone" (not given). Keyword-argument APIs default to ``NOT_GIVEN`` and
drop it before building an update model, whose ``model_fields_set`` then records what was given.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias, TypeVar, final

from nexus_sdk.errors import ValidationError

__all__ = ["NOT_GIVEN", "NotGiven", "NotGivenOr", "strip_not_given", "uuid_text"]

_T = TypeVar("_T")


@final
class NotGiven:
    """The type of :data:`NOT_GIVEN`: an argument the caller did not pass.

    It is falsy, prints as ``NOT_GIVEN`` and is a singleton, so ``value is NOT_GIVEN`` is the test.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        # One instance only, so identity checks hold even after copy or pickle.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final[NotGiven] = NotGiven()
"""The value of an argument that was not passed (as opposed to ``None``, an explicit null)."""

NotGivenOr: TypeAlias = _T | NotGiven
"""``NotGivenOr[int | None]``: an int, an explicit null, or not given at all."""


def strip_not_given(values: Mapping[str, Any]) -> dict[str, Any]:
    """Drop the entries whose value is :data:`NOT_GIVEN`, keeping explicit ``None`` values.

    Args:
        values: keyword arguments as received, e.g. ``locals()`` of an ``update(...)`` method.

    Returns:
        A new dict holding only the entries that were given.
    """
    return {key: value for key, value in values.items() if value is not NOT_GIVEN}


def uuid_text(name: str, value: object) -> str:
    """``value`` (a UUID or its text) as canonical UUID text: the one UUID check of the SDK's arguments.

    Args:
        name: The argument's name, for the error's location.
        value: A :class:`uuid.UUID` or a string holding one.

    Returns:
        The lowercase, hyphenated text form.

    Raises:
        ValidationError: ``value`` is not a UUID (the value is not quoted: it may be a token).
    """
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError.at(name, f"{name} must be a UUID.", "uuid") from None

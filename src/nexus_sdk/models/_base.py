"""Base classes of the models: rows as read, documents inside JSONB columns, and the write shapes.

- :class:`Row`: a row as PostgREST returns it. Frozen, ignores unknown columns (a column added later must
  not break an older SDK), and applies no write rules, so whatever the database holds can be read, fast.
- :class:`JsonbModel`: a JSONB document. Mutable (read, modify, write back), keeps unknown keys, and
  checks its write rules when placed into a Create/Update model.
- :class:`CreateModel` / :class:`UpdateModel`: what is sent. Frozen, reject unknown fields (a typo must
  not be dropped silently), always in write mode, and turn into the exact PostgREST body with
  :meth:`~WriteModel.to_request_json`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    model_serializer,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from nexus_sdk.models._fields import REVEAL_KEY, is_write, write_context

__all__ = [
    "CreateModel",
    "Each",
    "JsonbModel",
    "Row",
    "Secret",
    "UpdateModel",
    "WriteModel",
]

_REVEAL_CONTEXT: Final[dict[str, Any]] = {REVEAL_KEY: True}


def _serialize_secret(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context
    if isinstance(context, dict) and context.get(REVEAL_KEY) is True:
        return value.get_secret_value()
    return str(value)  # the mask, "**********"


Secret = Annotated[SecretStr, PlainSerializer(_serialize_secret, return_type=str, when_used="json")]
"""A secret column: masked in repr, str and JSON dumps; revealed only by ``to_request_json``."""


class Row(BaseModel):
    """A row of a Nexus table, as read through PostgREST."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table: ClassVar[str]
    """The table's name, e.g. ``"published_posts"``."""
    primary_key: ClassVar[str] = "id"
    """The primary-key column."""


@dataclass(frozen=True, slots=True)
class Each:
    """A write rule applied to every item of a list field, so an error points at the item's index."""

    check: Callable[[Any], Any]


WriteRule = Callable[[Any], Any] | Each
"""A function that returns the (possibly normalised) value or raises ``PydanticCustomError``."""


class JsonbModel(BaseModel):
    """A document stored in a JSONB column.

    Unknown keys are kept (``extra="allow"``) and written back. Serialising writes the keys that were
    read or set plus unknown keys, never defaults nobody set, so a round trip does not grow the document.

    Subclasses list their rules in ``_write_rules``. They run in write mode only, that is when the
    document goes into a Create/Update model (or is validated with ``context=WRITE_CONTEXT``), never
    when a row is read; all of them in a single validator, so reading costs one Python call per document.

    (No custom ``__init__`` here on purpose: pydantic would then call it for every nested document of
    every row read, in Python, which made reading rows twice as slow.)
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True, revalidate_instances="always")

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {}

    @model_validator(mode="after")
    def _apply_write_rules(self, info: ValidationInfo) -> Self:
        if not self._write_rules or not is_write(info):
            return self
        errors: list[InitErrorDetails] = []
        values = self.__dict__
        for name, rule in self._write_rules.items():
            value = values.get(name)
            if value is None:
                continue
            if isinstance(rule, Each):
                for index, item in enumerate(value):
                    try:
                        rule.check(item)
                    except PydanticCustomError as exc:
                        errors.append(InitErrorDetails(type=exc, loc=(name, index), input=item))
                continue
            try:
                checked = rule(value)
            except PydanticCustomError as exc:
                errors.append(InitErrorDetails(type=exc, loc=(name,), input=value))
            else:
                # Normalising rules (hashtags) return a new value; store it without re-validating.
                values[name] = checked
        if errors:
            # pydantic merges this into the enclosing error, prefixing each loc with the field's path.
            raise PydanticValidationError.from_exception_data(type(self).__name__, errors)
        return self

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if not isinstance(data, dict):
            return data
        fields = type(self).model_fields
        given = self.model_fields_set
        # A declared field nobody set and still at its default is left out, so the stored document stays
        # as it was read (a round trip must not add "thread": [] or "style": null). The value test covers
        # fields filled by a validator rather than by the caller (e.g. a platform key normalised on write).
        return {
            key: value
            for key, value in data.items()
            if key in given
            or key not in fields
            or getattr(self, key) != fields[key].get_default(call_default_factory=True)
        }


class WriteModel(BaseModel):
    """Common base of the Create and Update models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def __init__(self, /, **data: Any) -> None:
        __tracebackhide__ = True
        # Write mode reaches nested documents too, so their platform rules run here, before sending.
        self.__pydantic_validator__.validate_python(data, self_instance=self, context=write_context(None))

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate input in write mode.

        Args:
            obj: the values, e.g. a dict.
            **kwargs: as for :meth:`pydantic.BaseModel.model_validate`.

        Returns:
            The model.

        Raises:
            pydantic.ValidationError: a value breaks a rule.
        """
        kwargs["context"] = write_context(kwargs.get("context"))
        return super().model_validate(obj, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        """Validate JSON input in write mode.

        Args:
            json_data: the JSON text.
            **kwargs: as for :meth:`pydantic.BaseModel.model_validate_json`.

        Returns:
            The model.

        Raises:
            pydantic.ValidationError: a value breaks a rule.
        """
        kwargs["context"] = write_context(kwargs.get("context"))
        return super().model_validate_json(json_data, **kwargs)

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body PostgREST expects, with secrets revealed (the repository encrypts them).

        Returns:
            A dict of JSON-compatible values.
        """
        raise NotImplementedError


class CreateModel(WriteModel):
    """The values of a row to insert. ``id`` is generated here, so a retried insert is a no-op."""

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body of the insert: every column, with ``user_id`` left out when it is None.

        A ``user_id`` of None means "the caller's own id": the repository fills it in from the JWT (or
        the database defaults it); sending ``null`` would only break the NOT NULL constraint.

        Returns:
            A dict of JSON-compatible values (UUIDs and datetimes as ISO strings, enums as values,
            documents as dicts with their unknown keys, secrets as plain strings).
        """
        exclude = (
            {"user_id"} if "user_id" in type(self).model_fields and self.__dict__["user_id"] is None else None
        )
        return self.model_dump(mode="json", exclude=exclude, context=_REVEAL_CONTEXT)


class UpdateModel(WriteModel):
    """The columns to change. A field left out is left alone; a field set to None is set to null."""

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body of the PATCH: only the fields that were given, explicit nulls included.

        Returns:
            A dict of JSON-compatible values; empty when nothing was given.
        """
        return self.model_dump(mode="json", exclude_unset=True, context=_REVEAL_CONTEXT)

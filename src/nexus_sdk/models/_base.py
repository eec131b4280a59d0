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

import functools
import gc
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Final, Self, TypeVar, cast, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    SecretStr,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from nexus_sdk.models._fields import REVEAL_KEY, write_context

__all__ = [
    "CreateModel",
    "Each",
    "JsonbModel",
    "Row",
    "Secret",
    "UpdateModel",
    "WriteModel",
    "check_write_rules",
    "list_adapter",
    "request_bodies",
    "validate_rows",
]

BaseModelT = TypeVar("BaseModelT", bound=BaseModel)

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

    def _repr_html_(self) -> str:
        """This row as a one-row HTML table: notebooks show it instead of the repr."""
        from nexus_sdk.models._html import html_table

        return html_table([self])


@dataclass(frozen=True, slots=True)
class Each:
    """A write rule applied to every item of a list field, so an error points at the item's index."""

    check: Callable[[Any], Any]


WriteRule = Callable[[Any], Any] | Each
"""A function that returns the (possibly normalised) value or raises ``PydanticCustomError``."""


_FIELD_DEFAULTS: dict[type[BaseModel], dict[str, Any]] = {}


class JsonbModel(BaseModel):
    """A document stored in a JSONB column.

    Unknown keys are kept (``extra="allow"``) and written back. Serialising writes the keys that were
    read or set plus unknown keys, never defaults nobody set, so a round trip does not grow the document.

    Subclasses list their rules in ``_write_rules``. The document classes themselves carry no validator
    that enforces them: the Create/Update models apply them (see :func:`check_write_rules`) when a
    document is placed into one, so reading a row runs no Python code per document and whatever the
    database holds stays readable.

    (No custom ``__init__`` or "after" model validator here on purpose: pydantic would call it, in
    Python, for every nested document of every row read; that alone made reading rows ~15% slower.)
    """

    model_config = ConfigDict(extra="allow", validate_assignment=True, revalidate_instances="always")

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {}

    @classmethod
    def _field_defaults(cls) -> dict[str, Any]:
        """Each declared field's default value, computed once per class.

        ``FieldInfo.get_default(call_default_factory=True)`` inspects the factory's signature on every
        call (~0.25 ms for ``list``), which made serialising a document the slowest step of a bulk import.
        The values are only compared with, never handed out, so sharing one list per class is safe.
        """
        cached = _FIELD_DEFAULTS.get(cls)
        if cached is None:
            # Keyed by the class itself, so a subclass computes its own (and a dict lookup is cheaper
            # than a class attribute read through ``cls.__dict__``, which builds a proxy per call).
            cached = {
                name: info.get_default(call_default_factory=True) for name, info in cls.model_fields.items()
            }
            _FIELD_DEFAULTS[cls] = cached
        return cached

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        data = handler(self)
        if info.exclude_unset or not isinstance(data, dict):
            # exclude_unset (the bodies of a bulk write, any Update) already left out every key nobody set.
            return data
        given = self.__pydantic_fields_set__
        defaults = type(self)._field_defaults()
        values = self.__dict__
        # A declared field nobody set and still at its default is left out, so the stored document stays
        # as it was read (a round trip must not add "thread": [] or "style": null). The value test covers
        # fields filled by a validator rather than by the caller (e.g. a platform key normalised on write).
        # ``data`` is the handler's fresh dict: deleting from it costs less than building another.
        for key in [k for k in data if k not in given and k in defaults and values[k] == defaults[k]]:
            del data[key]
        return data


def _mentions_document(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, JsonbModel):
        return True
    return any(_mentions_document(arg) for arg in get_args(annotation))


_DOCUMENT_FIELDS: dict[type[BaseModel], tuple[str, ...]] = {}


def _document_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``cls`` that may hold a JSONB document, found once per class from the annotations.

    Checking only these, instead of every value of every model, makes the write rules cheaper in a bulk
    import. (A dict keyed by class, not a class attribute: ``cls.__dict__`` builds a proxy per call.)
    """
    cached = _DOCUMENT_FIELDS.get(cls)
    if cached is None:
        cached = tuple(name for name, info in cls.model_fields.items() if _mentions_document(info.annotation))
        _DOCUMENT_FIELDS[cls] = cached
    return cached


_RulePlan = tuple[tuple[tuple[str, Callable[[Any], Any], bool], ...], tuple[str, ...]]
_RULE_PLANS: dict[type[BaseModel], _RulePlan] = {}


def _rule_plan(cls: type[JsonbModel]) -> _RulePlan:
    """A document class's rules as ``(field, check, applies to each item)``, and its document fields.

    Found once per class, so checking a document makes no ``isinstance`` test on a rule and no lookup of
    its class's fields (a bulk import checks hundreds of thousands of documents).
    """
    plan = _RULE_PLANS.get(cls)
    if plan is None:
        rules = tuple(
            (name, rule.check, True) if isinstance(rule, Each) else (name, rule, False)
            for name, rule in cls._write_rules.items()
        )
        plan = (rules, _document_fields(cls))
        _RULE_PLANS[cls] = plan
    return plan


def _collect_rule_errors(doc: JsonbModel, loc: tuple[str | int, ...], errors: list[InitErrorDetails]) -> None:
    values = doc.__dict__
    rules, documents = _rule_plan(type(doc))
    for name, check, each in rules:
        value = values.get(name)
        if value is None:
            continue
        if each:
            for index, item in enumerate(value):
                try:
                    check(item)
                except PydanticCustomError as exc:
                    errors.append(InitErrorDetails(type=exc, loc=(*loc, name, index), input=item))
            continue
        try:
            checked = check(value)
        except PydanticCustomError as exc:
            errors.append(InitErrorDetails(type=exc, loc=(*loc, name), input=value))
        else:
            # Normalising rules (hashtags) return a new value; store it without re-validating. The
            # document is the write model's own copy (``revalidate_instances``), never the caller's.
            values[name] = checked
    for name in documents:
        value = values.get(name)
        # None first: pydantic's metaclass answers isinstance in Python, and most documents are absent.
        if value is not None and isinstance(value, JsonbModel):
            _collect_rule_errors(value, (*loc, name), errors)


def check_write_rules(doc: JsonbModel) -> JsonbModel:
    """Apply a document's write rules, and those of the documents nested in it, in place.

    Args:
        doc: the document, typically a Create/Update model's own copy of it.

    Returns:
        The same document, with normalising rules (hashtags) applied.

    Raises:
        pydantic.ValidationError: a value breaks a rule; each error's ``loc`` is its path in ``doc``.
    """
    errors: list[InitErrorDetails] = []
    _collect_rule_errors(doc, (), errors)
    if errors:
        # Raised inside a field validator, pydantic prefixes each loc with the field's name.
        raise PydanticValidationError.from_exception_data(type(doc).__name__, errors)
    return doc


class WriteModel(BaseModel):
    """Common base of the Create and Update models."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="after")
    def _check_documents(self) -> Self:
        # The JSONB documents' platform rules live here, on the write side only, so reading rows never
        # pays for them (see JsonbModel). One call per model, not one per field: bulk imports validate
        # hundreds of thousands of rows.
        errors: list[InitErrorDetails] = []
        values = self.__dict__
        for name in _document_fields(type(self)):
            value = values.get(name)
            if isinstance(value, JsonbModel):
                _collect_rule_errors(value, (name,), errors)
        if errors:
            raise PydanticValidationError.from_exception_data(type(self).__name__, errors)
        return self

    def __init__(self, /, **data: Any) -> None:
        __tracebackhide__ = True
        # Write mode reaches nested documents too, so their platform rules run here, before sending.
        self.__pydantic_validator__.validate_python(data, self_instance=self, context=write_context(None))

    # Tell pydantic this __init__ only adds the write context, so ``model_validate`` (which sets the context
    # itself) does not route through it: otherwise every row was validated through both paths and its
    # "after" validators ran twice, and a caller's own context keys were lost.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

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

    always_sent: ClassVar[frozenset[str]] = frozenset({"id"})
    """Fields sent even when left at their default: the generated id, and defaults the database lacks
    (e.g. a NOT NULL document column with no server default)."""

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body of the insert: ``id`` and the columns the caller set; the database defaults the rest.

        Columns left at their default are not sent, so a role that may not write them (``authenticated``
        has no INSERT privilege on e.g. ``scheduled_posts.retry_count``) can still insert, and the
        database's defaults stay the single source of truth. A ``user_id`` of None means "the caller's own
        id": the repository fills it in from the JWT (or the database defaults it to ``auth.uid()``).

        Returns:
            A dict of JSON-compatible values (UUIDs and datetimes as ISO strings, enums as values,
            documents as dicts with their unknown keys, secrets as plain strings).
        """
        include = self.model_fields_set | self.always_sent
        if self.__dict__.get("user_id", "") is None:
            include.discard("user_id")
        return self.model_dump(mode="json", include=include, context=_REVEAL_CONTEXT)


class UpdateModel(WriteModel):
    """The columns to change. A field left out is left alone; a field set to None is set to null."""

    def to_request_json(self) -> dict[str, Any]:
        """The JSON body of the PATCH: only the fields that were given, explicit nulls included.

        Returns:
            A dict of JSON-compatible values; empty when nothing was given.
        """
        return self.model_dump(mode="json", exclude_unset=True, context=_REVEAL_CONTEXT)


@functools.lru_cache(maxsize=64)
def list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    """The ``TypeAdapter`` of ``list[model]``, built once per model (building one takes milliseconds)."""
    return TypeAdapter(list[model])  # type: ignore[valid-type]


_collector_lock = threading.Lock()
_collector_pauses = 0
"""How many threads are inside :func:`collector_paused` right now."""
_collector_resume = False
"""Whether the last thread to leave :func:`collector_paused` turns the collector back on."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector from running while a block allocates many objects at once.

    Validating 1000 rows allocates some 10,000 objects (GC-tracked: each row, its ``__dict__`` and
    fields-set, its UUIDs, its documents). The collector counts allocations, so it would run a dozen young
    collections during one call, promote the rows through the older generations and start a full
    collection (a scan of every tracked object of the process) every other call. Paused, the rows are
    scanned once, as one young generation, when the collector next runs; a read of 1000 rows became
    ~1.5x cheaper on average. Nothing built here forms a reference cycle, so no garbage waits.

    Nested and concurrent use is safe: the first thread in pauses the collector (only when it is on), the
    last one out turns it back on (only when it was on and still is off), so a collector the application
    disabled itself stays disabled. (One case cannot be told apart: a ``gc.disable()`` by another thread
    while a read is in progress is undone when the read ends.)
    """
    global _collector_pauses, _collector_resume
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_resume = gc.isenabled()
            if _collector_resume:
                gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_resume:
                _collector_resume = False
                gc.enable()


def validate_rows(model: type[BaseModelT], content: bytes | str) -> list[BaseModelT]:
    """Parse a JSON array of rows into ``model`` instances, in one pydantic-core call.

    The collector is paused for the call (see :func:`collector_paused`).

    Args:
        model: the row model.
        content: the JSON array, e.g. a PostgREST response body.

    Returns:
        One model per element.

    Raises:
        pydantic.ValidationError: an element does not fit ``model``.
    """
    adapter = list_adapter(model)
    with collector_paused():
        return cast("list[BaseModelT]", adapter.validate_json(content))


def request_bodies(models: Sequence[CreateModel]) -> list[dict[str, Any]]:
    """``[model.to_request_json() for model in models]`` for models of one class, in one pydantic call.

    ``to_request_json`` sends the fields set plus ``always_sent``, taken from a dump of every field.
    Here ``always_sent`` is added to each model's set fields and pydantic's ``exclude_unset`` keeps just
    those, with no Python work per row between the dump and the body. Unset keys of the JSONB documents
    are left out either way (by ``exclude_unset`` here, by the documents' serializer there).
    ``tests/unit/test_models_fastpath.py`` checks that the two paths agree.

    Args:
        models: Create models of one class, made for this call: their ``model_fields_set`` is extended.

    Returns:
        One JSON body per model, secrets revealed (the repository encrypts them).

    Raises:
        TypeError: The models are not all of one class.
    """
    if not models:
        return []
    create = type(models[0])
    always = create.always_sent
    for model in models:
        if type(model) is not create:
            raise TypeError("request_bodies takes models of one class")
        fields = model.__pydantic_fields_set__
        fields |= always
        if model.__dict__.get("user_id", "") is None:
            fields.discard("user_id")
    dumped = list_adapter(create).dump_python(
        list(models), mode="json", exclude_unset=True, context=_REVEAL_CONTEXT
    )
    return cast("list[dict[str, Any]]", dumped)

"""The documents stored in JSONB columns: adaptations per platform, voice characteristics, post metrics.

Every document keeps keys it does not know (they are written back unchanged). Its rules (X's weighted
length, LinkedIn's 3000 characters, hashtags, URLs, ranges) are listed in ``_write_rules`` and applied by
the Create/Update model the document is placed into (:func:`~nexus_sdk.models._base.check_write_rules`),
never when a row is read: the document classes carry no validator for them. ``metadata`` and
``profile_data`` are open objects, typed as plain dicts on the table models.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Final, get_args

from pydantic import BeforeValidator, Field, GetCoreSchemaHandler, TypeAdapter, model_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError, core_schema

from nexus_sdk.models._base import Each, JsonbModel, WriteRule
from nexus_sdk.models._fields import (
    SUBSTACK_TITLE_MAX_LENGTH,
    check_formality,
    check_http_url,
    check_linkedin_text,
    check_non_negative,
    check_rate,
    check_x_text,
    normalise_hashtags,
    normalise_platform,
    require_aware,
)

__all__ = [
    "Adaptations",
    "LinkedInAdaptation",
    "PostMetrics",
    "SubstackAdaptation",
    "VoiceCharacteristics",
    "WriteAdaptations",
    "XAdaptation",
]


def _text_shorthand(data: Any) -> Any:
    # The schema's column description writes adaptations as {"linkedin": "...", "x": "..."}: read a bare
    # string as the post text, so such rows stay readable (they are written back in the object shape).
    if isinstance(data, str):
        return {"text": data}
    return data


def _check_substack_title(title: str) -> str:
    if not title.strip():
        raise PydanticCustomError("substack_title_empty", "a Substack title cannot be blank")
    if len(title) > SUBSTACK_TITLE_MAX_LENGTH:
        raise PydanticCustomError(
            "substack_title_too_long",
            "a Substack title is {length} characters; the limit is {limit}",
            {"length": len(title), "limit": SUBSTACK_TITLE_MAX_LENGTH},
        )
    return title


def _check_substack_body(body: str) -> str:
    if not body.strip():
        raise PydanticCustomError("substack_body_empty", "a Substack body cannot be blank")
    return body


class LinkedInAdaptation(JsonbModel):
    """``adaptations.linkedin``: a LinkedIn post."""

    text: str
    """The post text; at most 3000 characters."""
    hashtags: list[str] = Field(default_factory=list)
    """Tags without '#'; normalised on write (stripped, no spaces, case-insensitive duplicates dropped)."""
    media_urls: list[str] = Field(default_factory=list)
    """Images or documents to attach: absolute http(s) URLs."""

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {
        "text": check_linkedin_text,
        "hashtags": normalise_hashtags,
        "media_urls": Each(check_http_url),
    }

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _text_shorthand(data)


class XAdaptation(JsonbModel):
    """``adaptations.x``: a post on X, optionally continued as a thread."""

    text: str
    """The first post; at most 280 as X counts (twitter-text v3: most CJK/emoji 2, any URL 23)."""
    thread: list[str] = Field(default_factory=list)
    """Follow-up posts, each within the same limit."""

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {"text": check_x_text, "thread": Each(check_x_text)}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return _text_shorthand(data)


class SubstackAdaptation(JsonbModel):
    """``adaptations.substack``: a Substack article."""

    title: str
    """The headline: required, not blank, at most 280 characters."""
    body: str
    """The article: required, not blank."""

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {
        "title": _check_substack_title,
        "body": _check_substack_body,
    }


class Adaptations(JsonbModel):
    """``content_adaptations.adaptations``: one adaptation per platform.

    The known platforms are typed fields. Any other platform is kept as the raw value stored under its
    name (``adaptations.model_extra["threads"]``, or :meth:`get`), so a new platform needs no release.
    On write, platform names are normalised (``"LinkedIn "`` -> ``"linkedin"``) and checked
    (:meth:`for_write`, applied by the Create/Update models).
    """

    linkedin: LinkedInAdaptation | None = None
    x: XAdaptation | None = None
    substack: SubstackAdaptation | None = None

    @classmethod
    def for_write(cls, data: Any) -> Any:
        """Normalise the platform names of a document about to be written (a "before" validator).

        Used by the Create/Update models only, so reading a row runs no Python code for its keys. An
        instance is taken apart into the keys it holds (set fields and unknown platforms) and validated
        again, so a platform stored under another spelling (``"LinkedIn"``) gets its typed shape and rules.

        Args:
            data: the value given for an ``adaptations`` field.

        Returns:
            A dict with normalised keys, or ``data`` unchanged when it is neither a dict nor a document.

        Raises:
            PydanticCustomError: a key is not a platform name, or two keys name the same platform.
        """
        if isinstance(data, Adaptations):
            data = {
                # model_fields_set also names the unknown keys; those come from model_extra.
                **{name: value for name, value in data.__dict__.items() if name in data.model_fields_set},
                **(data.model_extra or {}),
            }
        if not isinstance(data, dict):
            return data
        normalised: dict[str, Any] = {}
        for key, value in data.items():
            name = normalise_platform(key)
            if name in normalised:
                # An explicit None under one spelling gives way to a real value under another.
                if value is None:
                    continue
                if normalised[name] is not None:
                    raise PydanticCustomError(
                        "duplicate_platform",
                        "platform '{platform}' appears twice in adaptations",
                        {"platform": name},
                    )
            normalised[name] = value
        return normalised

    def get(self, platform: str, default: Any = None) -> Any:
        """The adaptation for a platform, typed for known platforms and raw for others.

        Args:
            platform: a platform name, e.g. ``"linkedin"`` or ``Platform.X``.
            default: returned when there is no adaptation for it.

        Returns:
            The adaptation, or ``default``.
        """
        name = str(platform).strip().lower()
        if name in type(self).model_fields:
            value = getattr(self, name)
            return default if value is None else value
        return (self.model_extra or {}).get(name, default)


WriteAdaptations = Annotated[Adaptations, BeforeValidator(Adaptations.for_write)]
"""``Adaptations`` as a Create/Update field: platform names normalised before the document is validated."""


class VoiceCharacteristics(JsonbModel):
    """``voice_profiles.characteristics``: how a user writes."""

    tone: list[str] = Field(default_factory=list)
    """E.g. ``["professional", "approachable"]``."""
    style: str | None = None
    """E.g. ``"concise"``."""
    sentence_length: str | None = None
    """E.g. ``"short"``."""
    vocabulary: str | None = None
    """E.g. ``"industry-specific"``."""
    emoji_usage: str | None = None
    """E.g. ``"minimal"``. Also read from the misspelt ``emoij_usage`` (see the validator)."""
    formality_level: int | None = None
    """1 (casual) to 10 (formal)."""
    common_phrases: list[str] = Field(default_factory=list)
    avoid_words: list[str] = Field(default_factory=list)

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {"formality_level": check_formality}

    @model_validator(mode="before")
    @classmethod
    def _accept_misspelling(cls, data: Any) -> Any:
        # The schema document spells the key "emoij_usage". We accept that spelling on input (rows written
        # by tools that followed the document) and always emit "emoji_usage"; the misspelt key is dropped
        # rather than kept as an unknown key, so a round trip repairs the document instead of doubling it.
        # When both spellings are present, the correct one wins.
        if isinstance(data, dict) and "emoij_usage" in data:
            data = dict(data)
            misspelt = data.pop("emoij_usage")
            data.setdefault("emoji_usage", misspelt)
        return data


class PostMetrics(JsonbModel):
    """``published_posts.metrics``: engagement, synced from the platform now and then."""

    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    impressions: int | None = None
    engagement_rate: float | None = None
    """A fraction in [0, 1]: 0.043 means 4.3%."""
    last_synced: datetime | None = None
    """When these numbers were fetched (time-zone aware on write)."""

    _write_rules: ClassVar[Mapping[str, WriteRule]] = {
        "views": check_non_negative,
        "likes": check_non_negative,
        "comments": check_non_negative,
        "shares": check_non_negative,
        "impressions": check_non_negative,
        "engagement_rate": check_rate,
        "last_synced": require_aware,
    }


# --- reading documents that do not fit their class -------------------------------------------------


def _document_class(annotation: Any) -> type[JsonbModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, JsonbModel):
        return annotation
    for arg in get_args(annotation):
        found = _document_class(arg)
        if found is not None:
            return found
    return None


@functools.cache
def _field_adapter(cls: type[JsonbModel], name: str) -> TypeAdapter[Any]:
    annotation: Any = cls.model_fields[name].annotation
    return TypeAdapter(annotation)


def read_document(cls: type[JsonbModel], data: Any) -> JsonbModel:
    """Build a document from stored JSON that does not fit its class, keeping every value.

    The database checks little more than "an object" (``metrics`` counts are any numbers >= 0), so a row
    written by another tool may hold ``{"tone": null}``, ``{"x": {"text": "...", "thread": null}}`` or
    ``{"views": 1.5}``. Each key that fits its field is typed (nested documents are read the same way);
    a key that does not keeps its stored value as it is, so the row stays readable and a round trip does
    not lose it. Writing such a document back runs the usual validation, which names the offending key.
    Called only when the normal (fast) validation failed, so well-formed rows pay nothing for it.

    Args:
        cls: the document class.
        data: the stored value: an object, or (adaptations) a bare string taken as the post text.

    Returns:
        An instance of ``cls`` whose set fields are exactly the stored keys.

    Raises:
        PydanticCustomError: ``data`` is not an object.
    """
    for decorator in cls.__pydantic_decorators__.model_validators.values():
        if decorator.info.mode == "before":
            data = decorator.func(data)
    if not isinstance(data, Mapping):
        raise PydanticCustomError("jsonb_object", "a JSONB document must be an object")
    fields = cls.model_fields
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields:
            values[key] = value
            continue
        try:
            values[key] = _field_adapter(cls, key).validate_python(value)
        except PydanticValidationError:
            nested = _document_class(fields[key].annotation)
            try:
                values[key] = value if nested is None else read_document(nested, value)
            except PydanticCustomError:
                values[key] = value
    return cls.model_construct(_fields_set=set(values), **values)


class _ReadLeniently:
    """Marker for a Row field holding a document: fast validation first, :func:`read_document` on error."""

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        cls = _document_class(source)
        if cls is None:  # pragma: no cover - a programming error
            raise TypeError(f"READ_LENIENTLY needs a JsonbModel, got {source!r}")
        document = cls
        fallback = core_schema.no_info_plain_validator_function(lambda data: read_document(document, data))
        # left_to_right: the document's own (Rust) validation runs first; Python runs only when it fails.
        return core_schema.union_schema([handler(source), fallback], mode="left_to_right")


READ_LENIENTLY: Final = _ReadLeniently()
"""Put on a Row's document field: ``Annotated[Adaptations, READ_LENIENTLY]`` reads any stored object."""

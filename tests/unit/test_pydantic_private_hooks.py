"""The two places the models lean on pydantic's private machinery fail loudly here the day pydantic changes it.

- ``WriteModel.__init__.__pydantic_base_init__``: pydantic must not route ``model_validate`` and nested
  validation through our ``__init__`` (the "after" validators would run twice and a caller's context be lost).
- ``JsonbModel.__pydantic_decorators__``: ``read_document`` applies a document's "before" validators itself
  when it reads a stored value that does not fit the class.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import TypeAdapter, ValidationInfo, model_validator

from nexus_sdk.models._base import WriteModel
from nexus_sdk.models._fields import WRITE_KEY
from nexus_sdk.models.jsonb import XAdaptation, read_document

SEEN: list[Any] = []


class Probe(WriteModel):
    name: str

    @model_validator(mode="after")
    def _record(self, info: ValidationInfo) -> Self:
        SEEN.append(info.context)
        return self


def test_model_validate_runs_after_validators_once_with_the_callers_context() -> None:
    SEEN.clear()
    Probe.model_validate({"name": "x"}, context={"mine": 1})
    assert len(SEEN) == 1
    assert SEEN[0]["mine"] == 1
    assert SEEN[0][WRITE_KEY] is True


def test_nested_validation_does_not_route_through_the_custom_init() -> None:
    SEEN.clear()
    TypeAdapter(list[Probe]).validate_python(
        [{"name": "a"}, {"name": "b"}], context={"mine": 2, WRITE_KEY: True}
    )
    assert [context["mine"] for context in SEEN] == [2, 2]


def test_calling_the_class_still_validates_in_write_mode() -> None:
    SEEN.clear()
    Probe(name="x")
    assert len(SEEN) == 1
    assert SEEN[0][WRITE_KEY] is True


def test_read_document_applies_the_before_validators() -> None:
    decorators = XAdaptation.__pydantic_decorators__.model_validators
    assert any(d.info.mode == "before" for d in decorators.values())
    # The "before" validator reads a bare string as the post text; read_document must apply it too.
    document = read_document(XAdaptation, "hello")
    assert isinstance(document, XAdaptation)
    assert document.text == "hello"

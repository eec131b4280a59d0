"""Filters, ordering and keyset pages -> PostgREST query parameters, validated against the Row models."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import Enum
from typing import Any

import pytest
from pydantic import BaseModel

from nexus_sdk import F, ValidationError
from nexus_sdk.models import PlatformConnection, PublishedPost, PublishedPostStatus, VoiceProfile
from nexus_sdk.query import (
    OrderTerm,
    compile_order,
    compile_where,
    encode_scalar,
    keyset_filter,
    parse_order,
)

UTC = dt.UTC
ID = uuid.UUID("8f14e45f-ceea-467f-a0e6-1d8f9a0c1b2e")


def test_equality_mapping_and_null() -> None:
    params = compile_where(PublishedPost, {"platform": "x", "published_at": None})
    assert params == [("platform", "eq.x"), ("published_at", "is.null")]


def test_comparisons_encode_iso_timestamps_and_uuids() -> None:
    since = dt.datetime(2025, 2, 10, 12, 0, 0, 500, tzinfo=UTC)
    params = compile_where(
        PublishedPost,
        (F("created_at") >= since) & (F("user_id") == ID) & (F("published_at") < "2025-03-01T00:00:00Z"),
    )
    assert params == [
        ("created_at", "gte.2025-02-10T12:00:00.000500+00:00"),
        ("user_id", f"eq.{ID}"),
        ("published_at", "lt.2025-03-01T00:00:00+00:00"),
    ]


def test_all_comparison_operators_and_methods() -> None:
    params = compile_where(
        PublishedPost,
        [
            F("content") != "a",
            F("content") > "b",
            F("content") <= "c",
            F("content").like("Hello%"),
            F("content").ilike("*world*"),
            F("platform_post_id").is_(None),
        ],
    )
    assert params == [
        ("content", "neq.a"),
        ("content", "gt.b"),
        ("content", "lte.c"),
        ("content", "like.Hello%"),
        ("content", "ilike.*world*"),
        ("platform_post_id", "is.null"),
    ]


def test_enum_values_and_in_list_quoting() -> None:
    params = compile_where(
        PublishedPost,
        [
            F("status").in_([PublishedPostStatus.PUBLISHED, "failed"]),
            F("content").in_(["a,b", "c:d", 'say "hi"', "(x)"]),
        ],
    )
    assert params == [
        ("status", "in.(published,failed)"),
        ("content", 'in.("a,b","c:d","say \\"hi\\"","(x)")'),
    ]


def test_or_groups_quote_reserved_characters_and_nest() -> None:
    since = dt.datetime(2025, 1, 1, tzinfo=UTC)
    where = (F("platform") == "x") | ((F("content") == "a.b, c") & (F("created_at") > since))
    assert compile_where(PublishedPost, where) == [
        ("or", '(platform.eq.x,and(content.eq."a.b, c",created_at.gt."2025-01-01T00:00:00+00:00"))'),
    ]


def test_not_on_conditions_and_groups() -> None:
    params = compile_where(
        PublishedPost,
        [
            ~(F("platform") == "x"),
            ~((F("platform") == "x") | (F("platform") == "linkedin")),
            ~F("content").is_(None),
        ],
    )
    assert params == [
        ("platform", "not.eq.x"),
        ("not.or", "(platform.eq.x,platform.eq.linkedin)"),
        ("content", "not.is.null"),
    ]
    inner_not = compile_where(PublishedPost, (F("platform") == "x") | ~(F("content") == "y"))
    assert inner_not == [("or", "(platform.eq.x,content.not.eq.y)")]


def test_and_of_ands_is_flat() -> None:
    where = (F("platform") == "x") & (F("content") == "a") & (F("status") == "pending")
    assert [key for key, _ in compile_where(PublishedPost, where)] == ["platform", "content", "status"]


def test_array_operators_use_postgres_array_literals() -> None:
    params = compile_where(
        VoiceProfile,
        [
            F("sample_posts").contains(["a b", "c"]),
            F("sample_posts").overlaps(["x,y"]),
            F("sample_posts").contained_by([]),
        ],
    )
    assert params == [
        ("sample_posts", 'cs.{"a b",c}'),
        ("sample_posts", 'ov.{"x,y"}'),
        ("sample_posts", "cd.{}"),
    ]


def test_json_contains_uses_compact_json() -> None:
    params = compile_where(PublishedPost, F("metadata").contains({"thread": True, "n": [1, 2]}))
    assert params == [("metadata", 'cs.{"thread":true,"n":[1,2]}')]


def test_boolean_is() -> None:
    params = compile_where(VoiceProfile, [F("is_default").is_(True), F("is_default") == False])  # noqa: E712
    assert params == [("is_default", "is.true"), ("is_default", "eq.false")]


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        (F("nope") == 1, "no column 'nope'"),
        (F("created_at").like("2024%"), "Operator 'like' does not fit column created_at"),
        (F("metadata") == {"a": 1}, "Operator 'eq' does not fit column metadata"),
        (F("sample_posts").in_(["a"]), None),
        (F("access_token") == "secret-token-value", "Operator 'eq' does not fit column access_token"),
        (F("created_at") >= "not a date", "Bad value for created_at"),
        (F("created_at") >= dt.datetime(2025, 1, 1), "Bad value for created_at"),  # naive
        (F("status") == "exploded", "Bad value for status"),
        (F("user_id") == "not-a-uuid", "Bad value for user_id"),
        (F("content").in_("abc"), "takes a list"),
        (F("content").is_(True), "is_()"),
        (F("content") == None, "is_(None)"),  # noqa: E711
        (F("content").like(5), "string pattern"),  # type: ignore[arg-type]
    ],
)
def test_invalid_filters_raise_before_sending(where: Any, fragment: str | None) -> None:
    model: type[BaseModel] = VoiceProfile if "sample_posts" in repr(where) else PublishedPost
    if "access_token" in repr(where):
        model = PlatformConnection
    with pytest.raises(ValidationError) as info:
        compile_where(model, where)
    if fragment is not None:
        assert fragment in str(info.value)
    assert info.value.errors, "errors carry loc/msg/type"
    # The offending value is never echoed (it could be a token).
    assert "secret-token-value" not in str(info.value)
    assert "secret-token-value" not in repr(info.value.errors)


def test_where_rejects_non_filters() -> None:
    with pytest.raises(ValidationError):
        compile_where(PublishedPost, ["platform = x"])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        compile_where(PublishedPost, 42)  # type: ignore[arg-type]


def test_ordering() -> None:
    terms = parse_order(PublishedPost, ["-created_at", "platform"])
    assert terms == [OrderTerm("created_at", True), OrderTerm("platform", False)]
    assert compile_order(terms) == [("order", "created_at.desc,platform.asc")]
    assert compile_order(terms, nulls_last=True) == [
        ("order", "created_at.desc.nullslast,platform.asc.nullslast")
    ]
    with pytest.raises(ValidationError):
        parse_order(PublishedPost, "metrics")
    with pytest.raises(ValidationError):
        parse_order(PublishedPost, "-nope")


def test_keyset_filter_ascending_nullable_column() -> None:
    last = dt.datetime(2025, 1, 1, tzinfo=UTC)
    params = keyset_filter(PublishedPost, OrderTerm("published_at"), "id", last, ID)
    assert params == [
        (
            "or",
            '(published_at.gt."2025-01-01T00:00:00+00:00",'
            f'and(published_at.eq."2025-01-01T00:00:00+00:00",id.gt.{ID}),published_at.is.null)',
        )
    ]


def test_keyset_filter_descending_not_null_column_and_null_segment() -> None:
    params = keyset_filter(PublishedPost, OrderTerm("content", descending=True), "id", "b", ID)
    assert params == [("or", f"(content.lt.b,and(content.eq.b,id.lt.{ID}))")]
    after_null = keyset_filter(PublishedPost, OrderTerm("published_at"), "id", None, ID)
    assert after_null == [("and", f"(published_at.is.null,id.gt.{ID})")]
    by_id = keyset_filter(PublishedPost, OrderTerm("id"), "id", ID, ID)
    assert by_id == [("id", f"gt.{ID}")]


class _Color(Enum):
    RED = "red"


def test_encode_scalar() -> None:
    assert encode_scalar(True) == "true"
    assert encode_scalar(None) == "null"
    assert encode_scalar(_Color.RED) == "red"
    assert encode_scalar(dt.date(2025, 1, 2)) == "2025-01-02"
    assert encode_scalar(1.5) == "1.5"
    with pytest.raises(ValidationError):
        encode_scalar(dt.datetime(2025, 1, 1))


def test_f_is_not_hashable_and_has_a_repr() -> None:
    assert repr(F("x")) == "F('x')"
    with pytest.raises(TypeError):
        hash(F("x"))

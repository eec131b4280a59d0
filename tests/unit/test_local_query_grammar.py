"""The local stack reads PostgREST's query-string grammar: names, JSON paths, embedding, logic trees."""

from __future__ import annotations

import pytest

from nexus_sdk.local._errors import ApiError
from nexus_sdk.local._parse import (
    Condition,
    EmbedItem,
    Field,
    Logic,
    OrderTerm,
    SelectItem,
    parse_order,
    parse_query,
    parse_select,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first-name", [SelectItem(Field("first-name"))]),
        ("last name", [SelectItem(Field("last name"))]),
        ('"a::b","x->y"', [SelectItem(Field("a::b")), SelectItem(Field("x->y"))]),
        ("meta->>!@#$%^&*_d", [SelectItem(Field("meta", (("->>", "!@#$%^&*_d"),)))]),
        ("meta->>0xy1", [SelectItem(Field("meta", (("->>", "0xy1"),)))]),
        ("d->-1", [SelectItem(Field("d", (("->", -1),)))]),
        ("k:data->>k-1::int", [SelectItem(Field("data", (("->>", "k-1"),)), "k", "int")]),
        (" id , name ", [SelectItem(Field("id")), SelectItem(Field("name"))]),
    ],
)
def test_names_as_postgrest_reads_them(text: str, expected: list[SelectItem]) -> None:
    assert parse_select(text) == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("data->0->0->>1", "data"),
        ("data->k->1", "k"),
        ("data->a->>b", "b"),
        ("data", "data"),
    ],
)
def test_output_name_is_the_last_key(text: str, name: str) -> None:
    item = parse_select(text)[0]
    assert isinstance(item, SelectItem)
    assert item.field is not None
    assert item.field.output_name == name


def test_embedding_with_alias_hint_join_and_spread() -> None:
    (item,) = parse_select("w:authors!author_id!inner(name,...pubs!left(n:name),books())")
    assert isinstance(item, EmbedItem)
    assert (item.name, item.alias, item.hint, item.join, item.spread) == (
        "authors",
        "w",
        "author_id",
        "inner",
        False,
    )
    spread, empty = item.children[1], item.children[2]
    assert isinstance(spread, EmbedItem)
    assert spread.spread
    assert spread.join == "left"
    assert spread.children == (SelectItem(Field("name"), "n"),)
    assert isinstance(empty, EmbedItem)
    assert empty.children == ()


def test_options_of_embedded_resources_by_path() -> None:
    q = parse_query(
        [
            ("select", "id,a(b(x))"),
            ("a.b.x", "eq.1"),
            ("a.order", "id.desc"),
            ("a.b.limit", "2"),
            ("a.not.or", "(x.eq.1,x.eq.2)"),
            ("id", "gt.0"),
        ]
    )
    assert q.root.filters == [Condition(Field("id"), "gt", "0")]
    assert q.embedded[("a", "b")].filters == [Condition(Field("x"), "eq", "1")]
    assert q.embedded[("a", "b")].limit == 2
    assert q.embedded[("a",)].order == [OrderTerm(Field("id"), descending=True)]
    (tree,) = q.embedded[("a",)].filters
    assert isinstance(tree, Logic)
    assert tree.negated
    assert tree.op == "or"


def test_spaces_inside_logic_trees() -> None:
    q = parse_query([("and", "( id.gt.1 , or( id.eq.2 , name.eq.x ) )")])
    (tree,) = q.root.filters
    assert isinstance(tree, Logic)
    # As in PostgREST, a value runs to the next "," or ")": trailing spaces are part of it.
    assert tree.children[0] == Condition(Field("id"), "gt", "1 ")
    inner = tree.children[1]
    assert isinstance(inner, Logic)
    assert inner.children[1] == Condition(Field("name"), "eq", "x ")


def test_ranges_as_postgrest_reads_them() -> None:
    assert parse_query([("offset", "-4")]).root.offset == 0
    assert parse_query([("limit", "abc")]).root.limit is None
    with pytest.raises(ApiError) as err:
        parse_query([("limit", "-1")])
    assert (err.value.status, err.value.code) == (416, "PGRST103")


def test_rpc_reads_split_arguments_from_filters() -> None:
    q = parse_query([("id", "5"), ("id", "gt.2"), ("select", "id")], rpc_read=True)
    assert q.rpc_args == [("id", "5")]
    assert q.root.filters == [Condition(Field("id"), "gt", "2")]


def test_order_by_a_related_column_and_modifiers() -> None:
    assert parse_order("authors(name).desc.nullslast,id") == [
        OrderTerm(Field("name"), True, "last", "authors"),
        OrderTerm(Field("id")),
    ]


@pytest.mark.parametrize("text", ["id,", "a(", "d->>-7x", "a!(x)"])
def test_malformed_select_is_refused(text: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_select(text)
    assert err.value.code == "PGRST100"


@pytest.mark.parametrize("text", ["count()", "n:count()", "x.sum()", "x.avg()"])
def test_aggregates_are_disabled_as_on_supabase(text: str) -> None:
    with pytest.raises(ApiError) as err:
        parse_select(text)
    assert (err.value.status, err.value.code) == (400, "PGRST123")


def test_quantified_operators() -> None:
    q = parse_query([("id", "eq(any).{1,2}"), ("t", "like(all).{a*,*b}")])
    assert q.root.filters == [
        Condition(Field("id"), "eq", "{1,2}", quantifier="any"),
        Condition(Field("t"), "like", "{a%,%b}", quantifier="all"),
    ]

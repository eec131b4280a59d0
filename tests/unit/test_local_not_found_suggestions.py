"""The local stack's "Perhaps you meant ..." choices agree with PostgREST's documented examples."""

from __future__ import annotations

import pytest

from nexus_sdk.local._fuzzy import NAME_SCORE, RELATED_SCORE, closest


@pytest.mark.parametrize(
    ("word", "candidates", "min_score", "expected"),
    [
        # function names (from 0.75): a misspelling, a name of another schema's function, nothing close
        ("testt", ["test", "another"], NAME_SCORE, "test"),
        ("other", ["test", "another"], NAME_SCORE, None),
        ("noclosealternative", ["test", "another"], NAME_SCORE, None),
        # an overload's sorted parameter list (from 0.33)
        ("(nam, pqaram, vall)", ["(name, param, val)", "(attr, id)"], RELATED_SCORE, "(name, param, val)"),
        ("(param, val)", ["(name, param, val)", "(attr, id)"], RELATED_SCORE, "(name, param, val)"),
        ("(attrs, id)", ["(name, param, val)", "(attr, id)"], RELATED_SCORE, "(attr, id)"),
        ("(id)", ["(name, param, val)", "(attr, id)"], RELATED_SCORE, "(attr, id)"),
        ("(noclosealternative)", ["(name, param, val)", "(attr, id)"], RELATED_SCORE, None),
        # embedded relations (from 0.33)
        ("film", ["films"], RELATED_SCORE, "films"),
        ("role", ["directors", "roles", "actors"], RELATED_SCORE, "roles"),
        ("noclosealternative", ["films"], RELATED_SCORE, None),
        ("noclosealternative", ["directors", "roles", "actors"], RELATED_SCORE, None),
        # case is ignored
        ("Books", ["books", "authors"], NAME_SCORE, "books"),
    ],
)
def test_closest_agrees_with_postgrest(
    word: str, candidates: list[str], min_score: float, expected: str | None
) -> None:
    assert closest(word, candidates, min_score=min_score) == expected


def test_exact_name_is_not_suggested_when_excluded() -> None:
    assert closest(
        "actors", ["directors", "roles", "actors"], min_score=RELATED_SCORE, exclude_exact=True
    ) == ("directors")


def test_overlong_names_are_not_compared() -> None:
    assert closest("a" * 10_000, ["a" * 10_000], min_score=0.0) is None

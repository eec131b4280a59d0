"""The closest of some names to a misspelt one, for PostgREST's "Perhaps you meant ..." hints.

The score is the edit-distance similarity, ``1 - levenshtein(a, b) / max(len(a), len(b))`` on lower-cased
names, the score PostgREST's fuzzy index ranks its candidates by. PostgREST suggests a table or a function
name only from 0.75, parameter lists and embedded relations from 0.33 (its fuzzy index's default).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

__all__ = ["NAME_SCORE", "RELATED_SCORE", "closest"]

NAME_SCORE: Final = 0.75
"""The least score at which a table or a function is suggested."""
RELATED_SCORE: Final = 0.33
"""The least score at which a parameter list or a related table is suggested."""
_MAX_LENGTH: Final = 512
"""Longer names are never compared (bounds the quadratic distance on the error path)."""


def _distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def similarity(a: str, b: str) -> float:
    """1.0 for the same name (ignoring case), down to 0.0 for nothing in common."""
    a, b = a.lower(), b.lower()
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else 1.0 - _distance(a, b) / longest


def closest(
    word: str, candidates: Iterable[str], *, min_score: float, exclude_exact: bool = False
) -> str | None:
    """The candidate most like ``word`` scoring at least ``min_score`` (the first listed on a tie), if any.

    ``exclude_exact``: never suggest ``word`` itself (a name that exists but did not fit).
    """
    if len(word) > _MAX_LENGTH:
        return None
    best: tuple[float, str] | None = None
    for candidate in candidates:
        if len(candidate) > _MAX_LENGTH:
            continue
        score = similarity(word, candidate)
        if score < min_score or (exclude_exact and score == 1.0):
            continue
        if best is None or score > best[0]:
            best = (score, candidate)
    return best[1] if best is not None else None

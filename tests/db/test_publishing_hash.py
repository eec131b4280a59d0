"""idea_hash is the same in Python and in SQL, for any text PostgreSQL can store.

The definition (docs/schema.md, "Publishing functions"): SHA-256 over the UTF-8 bytes of the idea exactly
as given, no trimming and no Unicode normalisation, as 64 lowercase hex digits.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nexus_sdk.models._fields import sha256_hex
from tests.db._publishing import Conn

# Any Unicode scalar value except NUL, which a PostgreSQL text cannot hold (surrogates are not text).
IDEAS = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300)


@settings(
    max_examples=150,
    deadline=None,
    # One connection serves every example; each example rolls its writes back.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(idea=IDEAS)
@example(idea="")
@example(idea="  padded\n")
@example(idea="e\u0301 vs \u00e9")  # canonically equivalent, deliberately different hashes
@example(idea="\U0001f680 \ufeff \u202e")
def test_python_and_sql_agree(conn: Conn, make_user: Any, idea: str) -> None:
    expected = hashlib.sha256(idea.encode("utf-8")).hexdigest()
    assert sha256_hex(idea) == expected  # the SDK's own helper
    with conn.transaction(force_rollback=True):
        user_id = make_user(conn)
        row = conn.execute(
            "with ins as (insert into public.content_adaptations (user_id, original_idea, adaptations)"
            " values (%s, %s, '{}') returning original_idea, idea_hash)"
            " select public.idea_hash(%s), ins.idea_hash, ins.original_idea = %s from ins",
            (user_id, idea, idea, idea),
        ).fetchone()
    assert row == (expected, expected, True)


def test_canonically_equivalent_ideas_are_different_ideas(conn: Conn) -> None:
    row = conn.execute("select public.idea_hash(%s) = public.idea_hash(%s)", ("e\u0301", "\u00e9")).fetchone()
    assert row == (False,)

"""What list() returns: a plain list of typed rows that also converts to pandas."""

from __future__ import annotations

import pandas as pd

from nexus_sdk.testing import NexusTestStack, NexusTestUser


def test_list_results_are_lists_that_convert_to_typed_frames(
    nexus_clean: NexusTestStack, nexus_user: NexusTestUser
) -> None:
    repo = nexus_user.client.voice_profiles
    assert repo.list().to_pandas().columns.tolist()[:3] == ["id", "user_id", "name"]  # empty, typed columns
    repo.create(name="Casual")
    repo.create(name="Formal")

    rows = repo.list(order_by="name")
    frame = rows.to_pandas()

    assert isinstance(rows, list)
    assert rows == list(rows)
    assert frame["name"].tolist() == ["Casual", "Formal"]
    assert frame["is_default"].tolist() == [True, False]  # the first profile became the default
    assert isinstance(frame["created_at"].dtype, pd.DatetimeTZDtype)
    assert len(frame) == 2

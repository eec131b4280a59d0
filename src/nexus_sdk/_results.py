"""Containers for what repository calls return."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import pandas as pd
    from pydantic import BaseModel

__all__ = ["RowList"]

RowT = TypeVar("RowT", bound="BaseModel")


class RowList(list[RowT], Generic[RowT]):
    """The rows a ``list()`` call returned: a plain ``list`` of typed rows, plus :meth:`to_pandas`."""

    def __init__(self, rows: Iterable[RowT] = (), model: type[RowT] | None = None) -> None:
        super().__init__(rows)
        self.model = model
        """The row model, so that even an empty result knows its columns."""

    def _repr_html_(self) -> str:
        """These rows as an HTML table (ids and times readable): notebooks show it instead of the repr."""
        from nexus_sdk.models._html import html_table

        return html_table(self, self.model)

    def to_pandas(self, *, flatten_metrics: bool = False) -> pd.DataFrame:
        """These rows as a DataFrame with typed columns (needs the ``pandas`` extra).

        Args:
            flatten_metrics: Replace the ``metrics`` column by ``metrics.views``, ``metrics.likes`` ...

        Returns:
            One DataFrame row per row: tz-aware timestamps, nullable integers and booleans, categories for
            platform and status (see :func:`nexus_sdk.pandas.to_pandas`).

        Raises:
            ConfigurationError: pandas is not installed.
        """
        from nexus_sdk._frames import to_pandas

        return to_pandas(self, flatten_metrics=flatten_metrics, model=self.model)

"""Rows as pandas DataFrames, with the right dtypes: ``to_pandas(rows)``. Needs ``nexus-sdk[pandas]``.

>>> from nexus_sdk.pandas import to_pandas                           # doctest: +SKIP
>>> df = to_pandas(me.published_posts.list(limit=1000), flatten_metrics=True)
>>> df = read_table(me, "published_posts")                           # every row, page by page

Column dtypes follow the row model: timestamps ``datetime64[ns, UTC]``, ids and text ``string``, flags
``boolean``, counts ``Int64`` (nullable), ``platform`` and ``status`` ``category``; JSONB documents stay
Python dicts (``object``) unless flattened. OAuth tokens are never put in a frame: those columns hold the
mask ``"**********"`` (or ``<NA>``).

The conversion itself lives in ``nexus_sdk._frames``, below the clients; this module adds
:func:`read_table`, which reads through a client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nexus_sdk._frames import METRIC_COLUMNS, to_pandas

if TYPE_CHECKING:
    import pandas as pd

    from nexus_sdk.client import NexusClient
    from nexus_sdk.query import WhereClause

__all__ = ["METRIC_COLUMNS", "read_table", "to_pandas"]


def read_table(
    client: NexusClient,
    table: str,
    *,
    where: WhereClause = None,
    order_by: str | None = None,
    flatten_metrics: bool = False,
    page_size: int = 1000,
) -> pd.DataFrame:
    """Every row of a table the client can see, as a DataFrame (read page by page with ``iter()``).

    Args:
        client: A :class:`~nexus_sdk.NexusClient`.
        table: The table's name, e.g. ``"published_posts"``.
        where: Filters (see :mod:`nexus_sdk.query`).
        order_by: One column or ``"-column"``.
        flatten_metrics: See :func:`to_pandas`.
        page_size: Rows per request.

    Returns:
        The DataFrame (typed even when empty).
    """
    repository = getattr(client, table)
    rows = repository.iter(where=where, order_by=order_by, page_size=page_size)
    return to_pandas(rows, flatten_metrics=flatten_metrics, model=repository._core.spec.row)

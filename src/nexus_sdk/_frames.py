"""The conversion of rows to pandas DataFrames with the right dtypes; public as :mod:`nexus_sdk.pandas`.

It sits low, beside the models, and imports nothing of the clients: ``RowList.to_pandas()`` and
:func:`nexus_sdk.pandas.to_pandas` both call it. pandas itself is imported when a frame is built.

Column dtypes follow the row model: timestamps ``datetime64[ns, UTC]``, ids and text ``string``, flags
``boolean``, counts ``Int64`` (nullable), ``platform`` and ``status`` ``category``; JSONB documents stay
Python dicts (``object``) unless flattened. OAuth tokens are never put in a frame: those columns hold
``"**********"`` (or ``<NA>``).
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, SecretStr

from nexus_sdk._redact import MASK
from nexus_sdk.errors import ConfigurationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CATEGORY_COLUMNS", "METRIC_COLUMNS", "to_pandas"]

CATEGORY_COLUMNS: Final = frozenset({"platform", "status"})
"""Columns with few distinct values, stored as ``category``."""
METRIC_COLUMNS: Final[Mapping[str, str]] = {
    "views": "Int64",
    "likes": "Int64",
    "comments": "Int64",
    "shares": "Int64",
    "impressions": "Int64",
    "engagement_rate": "Float64",
    "last_synced": "datetime64[ns, UTC]",
}
"""The known keys of ``published_posts.metrics`` and their dtypes when flattened (``metrics.views`` ...)."""
_MASK: Final = MASK


def _pandas() -> Any:
    try:
        import pandas
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ConfigurationError("to_pandas() needs pandas: pip install 'nexus-sdk[pandas]'") from exc
    return pandas


def _strip_optional(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _dtype(name: str, annotation: Any) -> str | None:
    """The pandas dtype of a model field, or None to leave the column as Python objects."""
    if name in CATEGORY_COLUMNS:
        return "category"
    kind = _strip_optional(annotation)
    origin = get_origin(kind)
    if origin is not None and origin not in (Union, types.UnionType):
        # Annotated[str, ...] and the like: look at the underlying type.
        args = get_args(kind)
        kind = args[0] if args and origin is not list and origin is not dict else kind
    if isinstance(kind, type):
        if issubclass(kind, bool):
            return "boolean"
        if issubclass(kind, int):
            return "Int64"
        if issubclass(kind, float):
            return "Float64"
        if issubclass(kind, dt.datetime | AwareDatetime):
            return "datetime64[ns, UTC]"
        if issubclass(kind, str | uuid.UUID | SecretStr | enum.Enum):
            return "string"
    return None


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return _MASK
    if isinstance(value, BaseModel):
        # warnings=False: a document read as stored (``{"views": 1.5}``, see ``read_document``) holds
        # values outside its declared types; they are put in the frame as they are.
        return value.model_dump(mode="python", warnings=False)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _record(row: Any) -> dict[str, Any]:
    if isinstance(row, BaseModel):
        return {name: _plain(getattr(row, name)) for name in type(row).model_fields}
    if isinstance(row, Mapping):
        return {str(k): _plain(v) for k, v in row.items()}
    raise TypeError(f"to_pandas() takes rows (models or dicts), got {type(row).__name__}")


def _convert(series: Any, dtype: str) -> Any:
    pandas = _pandas()
    if dtype.startswith("datetime64"):
        # All-null and empty columns must get the datetime dtype too, and one resolution whatever the input.
        parsed = pandas.to_datetime(series, utc=True, format="ISO8601")
        try:
            return parsed.astype("datetime64[ns, UTC]")
        except pandas.errors.OutOfBoundsDatetime:
            # PostgreSQL holds years up to 294276; nanoseconds end in 2262. Microseconds (PostgreSQL's own
            # resolution) keep such a column tz-aware instead of failing the whole frame.
            return parsed.astype("datetime64[us, UTC]")
    return series.astype(dtype)


def to_pandas(
    rows: Iterable[Any], *, flatten_metrics: bool = False, model: type[BaseModel] | None = None
) -> pd.DataFrame:
    """Turn rows into a DataFrame with typed columns.

    Args:
        rows: Row models (what ``list()``/``iter()`` return) or dicts; any iterable, consumed once.
        flatten_metrics: Replace the ``metrics`` JSONB column by ``metrics.views``, ``metrics.likes`` ...
            (known keys typed as in :data:`METRIC_COLUMNS`; unknown keys kept as they are).
        model: The row model, when ``rows`` are dicts or may be empty (so the columns are known).

    Returns:
        The DataFrame, one row per input row, columns in the model's order.

    Raises:
        ConfigurationError: pandas is not installed.
    """
    pandas = _pandas()
    records = []
    for row in rows:
        if model is None and isinstance(row, BaseModel):
            model = type(row)
        records.append(_record(row))
    fields = dict(model.model_fields) if model is not None else {}
    columns = list(fields) or None
    frame = pandas.DataFrame.from_records(records, columns=columns)
    for name, info in fields.items():
        dtype = _dtype(name, info.annotation)
        if dtype is not None and name in frame.columns:
            frame[name] = _convert(frame[name], dtype)
    if flatten_metrics and "metrics" in frame.columns:
        frame = _flatten(frame, "metrics")
    result: pd.DataFrame = frame
    return result


def _flatten(frame: Any, column: str) -> Any:
    pandas = _pandas()
    documents = [value if isinstance(value, Mapping) else {} for value in frame[column]]
    keys = list(METRIC_COLUMNS)
    for document in documents:
        keys.extend(k for k in document if k not in keys)
    position = list(frame.columns).index(column)
    flat = frame.drop(columns=[column])
    for offset, key in enumerate(keys):
        series = pandas.Series([d.get(key) for d in documents], index=frame.index, dtype=object)
        dtype = METRIC_COLUMNS.get(key)
        series = _convert_metric(series, dtype) if dtype is not None else series.infer_objects()
        flat.insert(position + offset, f"{column}.{key}", series)
    return flat


def _convert_metric(series: Any, dtype: str) -> Any:
    """A flattened metric as ``dtype``, or as ``Float64`` / objects when stored values do not fit it.

    The database allows any number >= 0 as a count (``1.5``, or beyond 64 bits), and any string as
    ``last_synced``: such a column must not make the whole frame fail.
    """
    try:
        return _convert(series, dtype)
    except (TypeError, ValueError, OverflowError):
        pass
    if dtype == "Int64":
        try:
            return series.astype("Float64")
        except (TypeError, ValueError, OverflowError):
            pass
    return series.infer_objects()

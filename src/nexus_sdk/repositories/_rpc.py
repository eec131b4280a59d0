"""Calling SQL functions (``/rpc/``): the one RPC sender, typed rows and checked arguments, no I/O.

The functions in ``sql/`` report business-rule failures as P0001 (HTTP 400) with a stable token in
``details``; :func:`nexus_sdk.errors.api_error` turns the tokens users branch on into the exception they
would catch (``NotFoundError``, ``ConflictError``), so ``exc.details == "claim_lost"`` still tells the cases
apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import pydantic
from pydantic import BaseModel, TypeAdapter

from nexus_sdk._http import APIRequest, APIResponse, Operation, call
from nexus_sdk._results import RowList
from nexus_sdk._types import uuid_text
from nexus_sdk.errors import NotFoundError, ValidationError
from nexus_sdk.models._base import validate_rows
from nexus_sdk.repositories._core import _validation_error
from nexus_sdk.settings import ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "aware",
    "call_function",
    "call_json",
    "call_rows",
    "call_single",
    "seconds",
    "uuid_text",
    "validate",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

_ARGS: Final = TypeAdapter(dict[str, Any])


def call_function(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[APIResponse]:
    """``POST /rpc/<function>`` with ``args`` as named arguments: the one way the SDK calls a SQL function.

    Only an ``idempotent`` call is retried after it may have reached the server.

    Raises:
        ValidationError: ``function`` is not a function name; nothing was sent.
    """
    if not isinstance(function, str) or not function.isidentifier():
        raise ValidationError.at("function", f"Not a function name: {function!r}.")
    body = _ARGS.dump_python(dict(args), mode="json")
    request = APIRequest("POST", f"/rpc/{function}", json=body, retry_safe=idempotent, timeout=timeout)
    return (yield from call(request, settings))


def call_json(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[Any]:
    """Call a function with the arguments as given (``None`` is SQL NULL) and return its JSON result."""
    response = yield from call_function(settings, function, args, idempotent=idempotent, timeout=timeout)
    return response.json()


def call_rows(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    row: type[ModelT],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[RowList[ModelT]]:
    """Call a ``RETURNS SETOF`` function and parse its rows as ``row`` models.

    Arguments left as None are not sent (the function's defaults apply). Only an ``idempotent`` call is
    retried after it may have reached the server.
    """
    # Arguments left as None are not sent, so the function's own defaults apply.
    given = {name: value for name, value in args.items() if value is not None}
    response = yield from call_function(settings, function, given, idempotent=idempotent, timeout=timeout)
    content = response.content
    # One cached adapter per row model, the collector paused while the rows are built.
    return RowList(validate_rows(row, content) if content else [], row)


def call_single(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    row: type[ModelT],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
    missing: NotFoundError,
) -> Operation[ModelT]:
    """Call a function returning one row or none; none (absent, or hidden by RLS) raises ``missing``.

    The array form is parsed rather than asking for a singular response: the result is the same, and
    there is no 406 to tell apart from other 406s.
    """
    rows = yield from call_rows(settings, function, args, row, idempotent=idempotent, timeout=timeout)
    if not rows:
        raise missing
    return rows[0]


def aware(name: str, value: Any) -> dt.datetime:
    """Check that ``value`` is a time-zone-aware datetime; a naive one is ambiguous on the server."""
    if not isinstance(value, dt.datetime):
        raise ValidationError.at(
            name, f"{name} must be a datetime, not {type(value).__name__}.", "datetime_type"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError.at(
            name,
            f"{name} must be time-zone aware (e.g. datetime.now(datetime.UTC)); a naive datetime is ambiguous.",
            "timezone_aware",
        )
    return value


def seconds(name: str, value: float | dt.timedelta, *, low: int, high: int) -> int:
    """A duration as whole seconds within ``[low, high]`` (rounded up: a lease is never shortened)."""
    raw = value.total_seconds() if isinstance(value, dt.timedelta) else value
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError.at(name, f"{name} must be a number of seconds or a timedelta.", "duration_type")
    whole = int(-(-raw // 1))
    if not low <= whole <= high:
        raise ValidationError.at(name, f"{name} must be between {low} and {high} seconds.", "duration_range")
    return whole


def validate(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """Build ``model`` from ``data``, raising our ValidationError (pydantic's text may quote a token)."""
    try:
        return model.model_validate(dict(data))
    except pydantic.ValidationError as exc:
        raise _validation_error(exc) from None

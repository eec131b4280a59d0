"""Calling the domain SQL functions (``/rpc/``) from repositories: typed rows and typed errors, no I/O.

The functions in ``sql/schema/06*_api_*.sql`` report business-rule failures as P0001 (HTTP 400) with
a stable token in ``details``. Here the tokens users branch on become the exception they would catch
(``NotFoundError`` for a referenced row that does not exist for the caller, ``ConflictError`` for a row in
the wrong state); the HTTP status, ``code``, ``details`` and ``hint`` are kept as the server sent them,
so ``exc.details == "claim_lost"`` still tells the cases apart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, Final, TypeVar

import pydantic
from pydantic import BaseModel, TypeAdapter

from nexus_sdk._http import APIRequest, Operation, call
from nexus_sdk.errors import APIStatusError, ConflictError, NotFoundError, ValidationError
from nexus_sdk.models._base import validate_rows
from nexus_sdk.repositories._core import _validation_error
from nexus_sdk.settings import ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "DETAIL_ERRORS",
    "aware",
    "call_rows",
    "call_single",
    "seconds",
    "typed_error",
    "uuid_text",
    "validate",
]

ModelT = TypeVar("ModelT", bound=BaseModel)

DETAIL_ERRORS: Final[Mapping[str, type[APIStatusError]]] = {
    # The connection or adaptation named does not exist for the acting user (or RLS hides it).
    "connection_not_found": NotFoundError,
    "adaptation_not_found": NotFoundError,
    # The row exists but its state forbids the operation.
    "not_reschedulable": ConflictError,
    "not_cancellable": ConflictError,
    "not_claimed": ConflictError,
    "claim_lost": ConflictError,
    "not_published": ConflictError,
}
"""The exception class for each P0001 ``details`` token; other tokens keep the status's class."""

_ARGS: Final = TypeAdapter(dict[str, Any])


def typed_error(exc: APIStatusError) -> APIStatusError | None:
    """The more specific exception for a P0001 error with a known ``details`` token, else None."""
    if exc.code != "P0001" or exc.details is None:
        return None
    error_class = DETAIL_ERRORS.get(exc.details)
    if error_class is None or isinstance(exc, error_class):
        return None
    return error_class(
        exc.message,
        status_code=exc.status_code,
        code=exc.code,
        details=exc.details,
        hint=exc.hint,
        request_id=exc.request_id,
    )


def _send(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[bytes]:
    # Arguments left as None are not sent, so the function's own defaults apply.
    body = _ARGS.dump_python({k: v for k, v in args.items() if v is not None}, mode="json")
    request = APIRequest("POST", f"/rpc/{function}", json=body, retry_safe=idempotent, timeout=timeout)
    try:
        response = yield from call(request, settings)
    except APIStatusError as exc:
        typed = typed_error(exc)
        if typed is None:
            raise
        raise typed from exc
    return response.content


def call_rows(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    row: type[ModelT],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
) -> Operation[list[ModelT]]:
    """Call a ``RETURNS SETOF`` function and parse its rows as ``row`` models.

    Only an ``idempotent`` call is retried after it may have reached the server.
    """
    content = yield from _send(settings, function, args, idempotent=idempotent, timeout=timeout)
    if not content:
        return []
    # One cached adapter per row model, the collector paused while the rows are built.
    return validate_rows(row, content)


def call_single(
    settings: ClientSettings,
    function: str,
    args: Mapping[str, Any],
    row: type[ModelT],
    *,
    idempotent: bool,
    timeout: TimeoutTypes | NotGiven,
    missing: str,
) -> Operation[ModelT]:
    """Call a function returning one row or none; none (absent, or hidden by RLS) is a NotFoundError.

    The array form is parsed rather than asking for a singular response: the result is the same, and
    there is no 406 to tell apart from other 406s.
    """
    rows = yield from call_rows(settings, function, args, row, idempotent=idempotent, timeout=timeout)
    if not rows:
        raise NotFoundError(missing, status_code=404)
    return rows[0]


def uuid_text(name: str, value: Any) -> str:
    """``value`` as a UUID's text, or a ValidationError naming ``name`` (without quoting the value)."""
    try:
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError.at(name, f"{name} must be a UUID.", "uuid") from None


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

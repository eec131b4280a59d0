"""nexus-sdk: the typed Python SDK for Nexus, a multi-platform content adaptation tool on Supabase.

The public API is the names in ``__all__``; everything else is private and may change.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk._results import RowList
from nexus_sdk._types import NOT_GIVEN, NotGiven
from nexus_sdk._version import __version__
from nexus_sdk.client import AsyncNexusClient, NexusClient
from nexus_sdk.errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    CryptoError,
    DecryptionError,
    InternalServerError,
    NexusError,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RowDecryptionError,
    SchemaError,
    UnprocessableEntityError,
    ValidationError,
)
from nexus_sdk.query import F

if TYPE_CHECKING:
    from nexus_sdk._http import ResponseInfo, capture_responses
    from nexus_sdk.worker import PublishError, arun_worker, run_worker

# Names whose modules load pydantic: imported on first access, so `import nexus_sdk` stays light.
_LAZY: Final = {
    "ResponseInfo": "nexus_sdk._http",
    "capture_responses": "nexus_sdk._http",
    "PublishError": "nexus_sdk.worker",
    "arun_worker": "nexus_sdk.worker",
    "run_worker": "nexus_sdk.worker",
}


def _public(value: Any) -> Any:
    # An exported class reports the module users import it from (in reprs, tracebacks and docs), not the
    # private module that defines it; pickle finds it here too.
    if isinstance(value, type):
        value.__module__ = __name__
    return value


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nexus_sdk' has no attribute {name!r}")
    value = _public(getattr(importlib.import_module(module), name))
    globals()[name] = value
    return value


__all__ = [  # noqa: RUF022  # plain sorted() order, as tests/unit/test_exports.py checks
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncNexusClient",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CryptoError",
    "DecryptionError",
    "F",
    "InternalServerError",
    "NOT_GIVEN",
    "NexusClient",
    "NexusError",
    "NotAcceptableError",
    "NotFoundError",
    "NotGiven",
    "PermissionDeniedError",
    "PublishError",
    "RateLimitError",
    "ResponseInfo",
    "RowDecryptionError",
    "RowList",
    "SchemaError",
    "UnprocessableEntityError",
    "ValidationError",
    "__version__",
    "arun_worker",
    "capture_responses",
    "run_worker",
]

for _name in __all__:
    if _name not in _LAZY and not _name.startswith("__"):
        _public(globals()[_name])
del _name

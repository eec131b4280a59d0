"""nexus-sdk: the typed Python SDK for Nexus, a multi-platform content adaptation tool on Supabase.

The public API is the names in ``__all__``; everything else is private and may change.
"""

from __future__ import annotations

from nexus_sdk._version import __version__
from nexus_sdk.client import AsyncNexusClient, NexusClient
from nexus_sdk.errors import (
    APIConnectionError,
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
    SchemaError,
    UnprocessableEntityError,
    ValidationError,
)
from nexus_sdk.query import F

__all__ = [
    "APIConnectionError",
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
    "NexusClient",
    "NexusError",
    "NotAcceptableError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SchemaError",
    "UnprocessableEntityError",
    "ValidationError",
    "__version__",
]

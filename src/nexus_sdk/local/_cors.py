"""CORS as Supabase's API gateway answers it, for ``/rest/v1`` and ``/auth/v1`` alike.

A browser app on another origin (supabase-js in a page) first sends a preflight: ``OPTIONS`` with
``Origin`` and ``Access-Control-Request-Method``. It is answered here, before any API key is asked for
(the browser never sends one on a preflight): 200, an empty body, ``Access-Control-Allow-Origin: *``, the
methods, the headers the browser asked for plus those Supabase's clients send, and
``Access-Control-Max-Age: 86400`` (PostgREST's). Every other response to a request with an ``Origin``
(errors too, so the page can read them) carries ``Access-Control-Allow-Origin: *`` and
``Access-Control-Expose-Headers`` with what PostgREST exposes (``Content-Range``, ``Content-Location``,
``Location``, ...) and what GoTrue's admin API answers with (``X-Total-Count``, ``Link``).

No credentials mode (``Access-Control-Allow-Credentials``): the stack's clients send keys and tokens in
headers, never cookies. A request without ``Origin`` (a server, a CLI) gets no CORS header.
"""

from __future__ import annotations

from typing import Final

from starlette.types import Message, Scope, Send

__all__ = ["answer_preflight", "with_cors_headers"]

_ALLOW_METHODS: Final = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
# What supabase-js, supabase-py and PostgREST's own clients send; a preflight's requested headers are
# allowed too (PostgREST and the gateway reflect them).
_ALLOW_HEADERS: Final = (
    "authorization",
    "apikey",
    "content-type",
    "accept",
    "accept-profile",
    "content-profile",
    "prefer",
    "range",
    "range-unit",
    "x-client-info",
    "x-supabase-api-version",
)
_EXPOSE_HEADERS: Final = (
    b"Content-Encoding, Content-Location, Content-Range, Content-Type, Date, Location, Server, "
    b"Transfer-Encoding, Range-Unit, Preference-Applied, X-Total-Count, Link, X-Supabase-Api-Version"
)
_MAX_AGE: Final = b"86400"
_MAX_REQUESTED: Final = 4096
"""The longest ``Access-Control-Request-Headers`` reflected (a browser's list is far shorter)."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def _allowed_headers(requested: bytes | None) -> bytes:
    names = list(_ALLOW_HEADERS)
    if requested and len(requested) <= _MAX_REQUESTED:
        for raw in requested.decode("latin-1").split(","):
            name = raw.strip().lower()
            # A header name is a token: nothing that could break the response's header line.
            if name and name not in names and all(c.isalnum() or c in "-_" for c in name):
                names.append(name)
    return ", ".join(names).encode("latin-1")


async def answer_preflight(scope: Scope, send: Send) -> bool:
    """Answer a CORS preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``).

    Returns:
        Whether the request was a preflight and has been answered.
    """
    if scope.get("method") != "OPTIONS" or _header(scope, b"origin") is None:
        return False
    if _header(scope, b"access-control-request-method") is None:
        return False
    headers = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", _ALLOW_METHODS),
        (
            b"access-control-allow-headers",
            _allowed_headers(_header(scope, b"access-control-request-headers")),
        ),
        (b"access-control-max-age", _MAX_AGE),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
    return True


def with_cors_headers(scope: Scope, send: Send) -> Send:
    """``send``, adding the CORS response headers when the request came with an ``Origin``."""
    if _header(scope, b"origin") is None:
        return send

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [
                (k, v)
                for k, v in message.get("headers", ())
                if k.lower() not in (b"access-control-allow-origin", b"access-control-expose-headers")
            ]
            headers.append((b"access-control-allow-origin", b"*"))
            headers.append((b"access-control-expose-headers", _EXPOSE_HEADERS))
            message = {**message, "headers": headers}
        await send(message)

    return send_with_cors

"""A client that sends headers and part of a body, then leaves, is no error of the stack's.

Nothing can be answered to it and nothing failed on the server's side, so nothing is logged: otherwise a
client connecting and leaving in a loop would write an error line per request and fill the log.
"""

from __future__ import annotations

import logging
import socket
import time
import urllib.parse

import pytest

from nexus_sdk import local

_PATHS = (
    "/rest/v1/stack_items",
    "/rest/v1/rpc/add_them",
    "/auth/v1/signup",
    "/auth/v1/token?grant_type=password",
)


def _leave_mid_body(stack: local.LocalStack, path: str) -> None:
    url = urllib.parse.urlsplit(stack.url)
    with socket.create_connection((url.hostname, url.port)) as sock:
        sock.sendall(
            (
                f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\napikey: {stack.anon_key}\r\n"
                'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name": '
            ).encode()
        )
        time.sleep(0.05)  # the app is reading the body when the client goes


@pytest.mark.parametrize("path", _PATHS)
def test_a_client_leaving_mid_body_logs_nothing(
    stack: local.LocalStack, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    caplog.set_level(logging.INFO, logger="nexus_sdk")
    for _ in range(3):
        _leave_mid_body(stack, path)
    time.sleep(0.3)  # the server notices the disconnect after the socket closes
    assert [r.getMessage() for r in caplog.records if r.name.startswith("nexus_sdk")] == []

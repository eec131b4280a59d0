"""Starting, stopping and restarting stacks (each test starts its own)."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import pytest

from nexus_sdk import local

pytestmark = [pytest.mark.db, pytest.mark.e2e]


def test_busy_port_fails_cleanly(stack: local.LocalStack, admin_url: str | None) -> None:
    with pytest.raises(OSError, match="in use"):
        local.start(port=stack.port, database_url=admin_url)
    # The running stack is unaffected.
    assert httpx.get(f"{stack.rest_url}/stack_items", headers={"apikey": stack.anon_key}).status_code == 200


def test_restart_on_a_data_dir_keeps_secret_and_data(tmp_path: Path, admin_url: str | None) -> None:
    data_dir = tmp_path / "data"
    with local.start(port=0, data_dir=data_dir, database_url=admin_url) as first:
        user_id, token = first.create_user("persist@example.com")
        secret, port = first.jwt_secret, first.port
    assert "running=False" in repr(first)
    # Stopped: nothing listens on the port any more.
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    with local.start(port=0, data_dir=data_dir, database_url=admin_url) as second:
        assert second.jwt_secret == secret
        me = httpx.get(
            f"{second.rest_url}/users",
            headers={"apikey": second.anon_key, "Authorization": f"Bearer {token}"},
        )
        assert me.status_code == 200
        assert [u["id"] for u in me.json()] == [str(user_id)]
    assert oct((data_dir / "jwt_secret").stat().st_mode & 0o777) == "0o600"


def test_a_start_that_fails_late_stops_its_server(stack: local.LocalStack, tmp_path: Path) -> None:
    # Writing the state file is the last step of start(), after the HTTP server is up: a directory in
    # its place makes it fail there. The server thread (and its connection pool) must not outlive it.
    (tmp_path / "stack.json").mkdir()
    before = {t for t in threading.enumerate() if t.name == "nexus-sdk-local-stack"}

    with pytest.raises(IsADirectoryError):
        local.start(
            port=0, database_url=stack.database_url, apply_schema=False, data_dir=tmp_path, write_state=True
        )

    left = {t for t in threading.enumerate() if t.name == "nexus-sdk-local-stack"} - before
    assert [t for t in left if t.is_alive()] == []

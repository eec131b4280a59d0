"""A small client of Supabase Auth's admin API (service-role key), for creating and removing test users.

It speaks GoTrue's wire format, so it works against a Supabase project and against the local stack's
``/auth/v1`` alike.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any, Final

from nexus_sdk._redact import MASK

if TYPE_CHECKING:
    import httpx

__all__ = ["AuthAdmin"]

_ADMIN_TIMEOUT: Final = 30.0


class AuthAdmin:
    """Creates, signs in and deletes users through ``{url}/auth/v1``; ``repr`` hides the keys."""

    def __init__(self, url: str, *, anon_key: str, service_role_key: str) -> None:
        self.url = url
        """The project URL (without ``/auth/v1``)."""
        self._anon_key = anon_key
        self._service_role_key = service_role_key
        self._http: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"AuthAdmin(url={self.url!r}, keys='{MASK}')"

    def _client(self) -> httpx.Client:
        if self._http is None:
            import httpx

            self._http = httpx.Client(base_url=f"{self.url}/auth/v1", timeout=_ADMIN_TIMEOUT)
        return self._http

    def _service_headers(self) -> dict[str, str]:
        return {"apikey": self._service_role_key, "Authorization": f"Bearer {self._service_role_key}"}

    def create_user(self, email: str, password: str, metadata: dict[str, Any] | None) -> str:
        """Create a confirmed user; returns its id.

        Raises:
            APIStatusError: The Auth server refused (e.g. the email is taken: 422).
        """
        body = {"email": email, "password": password, "email_confirm": True, "user_metadata": metadata or {}}
        created = _auth_json(
            self._client().post("/admin/users", json=body, headers=self._service_headers()), "create a user"
        )
        return str(created["id"])

    def sign_in(self, email: str, password: str) -> dict[str, Any]:
        """Sign in with a password (anon key); returns the session (``access_token``, ``refresh_token``, ...).

        Raises:
            APIStatusError: The Auth server refused.
        """
        response = self._client().post(
            "/token",
            params={"grant_type": "password"},
            json={"email": email, "password": password},
            headers={"apikey": self._anon_key},
        )
        return _auth_json(response, "sign in")

    def create_and_sign_in(
        self, email: str, password: str, metadata: dict[str, Any] | None
    ) -> tuple[str, str]:
        """Create a user and sign them in (a real session token); the user is removed if sign-in fails.

        Returns:
            ``(user_id, access_token)``.
        """
        user_id = self.create_user(email, password, metadata)
        try:
            session = self.sign_in(email, password)
        except Exception:
            with contextlib.suppress(Exception):
                self.delete_user(user_id)
            raise
        return user_id, str(session["access_token"])

    def delete_user(self, user_id: str) -> None:
        """Delete a user (a user already gone is not an error).

        Raises:
            APIStatusError: The Auth server refused.
        """
        response = self._client().delete(f"/admin/users/{user_id}", headers=self._service_headers())
        if response.status_code != 404:
            _auth_json(response, "delete a user")

    def close(self) -> None:
        """Close the HTTP connections."""
        if self._http is not None:
            self._http.close()
            self._http = None


def _auth_json(response: httpx.Response, action: str) -> dict[str, Any]:
    """The JSON body of a successful Auth API answer; a typed error (without secrets) otherwise."""
    if response.is_success:
        body = response.json()
        if isinstance(body, dict):
            return body
        raise _auth_error(f"Supabase Auth: could not {action}: unexpected answer", response)
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    detail = ""
    if isinstance(payload, dict):
        # GoTrue names its message differently across versions.
        text = payload.get("msg") or payload.get("message") or payload.get("error_description")
        detail = f": {text}" if isinstance(text, str) else ""
    raise _auth_error(f"Supabase Auth: could not {action}{detail}", response)


def _auth_error(message: str, response: httpx.Response) -> Exception:
    from nexus_sdk.errors import status_error_class

    error_class = status_error_class(response.status_code)
    return error_class(message, status_code=response.status_code)

"""Google OAuth2 access tokens from a refresh token, for any Google API client.

The credentials are a JSON object with ``client_id``, ``client_secret``,
``refresh_token`` and an optional ``token_uri`` (Google's by default; tests
point it at a local server): an "installed application" client and a refresh
token granted once by the account that owns the channel or the spreadsheet.
The grant is RFC 6749 §6: a form POST with ``grant_type=refresh_token``.
"""

import logging
import time
from typing import Any

import requests

logger = logging.getLogger(__name__)

__all__ = ["TOKEN_URI", "RefreshToken", "TokenError", "describe_response"]

TOKEN_URI = "https://oauth2.googleapis.com/token"
TIMEOUT = 60  # seconds


class TokenError(Exception):
    """No access token. ``retryable`` if trying again later may succeed."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def describe_response(resp: requests.Response) -> str:
    """``HTTP 400 Bad Request: {body}``, the body cut short, for error messages."""
    return f"HTTP {resp.status_code} {resp.reason}: {resp.text.strip()[:300]}"


class RefreshToken:
    """Access tokens for one set of credentials, renewed a minute before they expire."""

    def __init__(
        self,
        session: requests.Session,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        token_uri: str = TOKEN_URI,
        *,
        service: str = "Google",
    ) -> None:
        self.session = session
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.token_uri = token_uri
        self.service = service  # names the API in error messages
        self._token: str | None = None
        self._expiry = 0.0

    @classmethod
    def from_config(
        cls, session: requests.Session, config: Any, source: str, *, service: str = "Google"
    ) -> "RefreshToken":
        """From a credentials object read from ``source``; ValueError names what is missing."""
        if not isinstance(config, dict):
            raise ValueError(f"{service} credentials in {source!r} are not a JSON object")
        keys = ("client_id", "client_secret", "refresh_token")
        missing = [k for k in keys if not config.get(k)]
        if missing:
            raise ValueError(f"{service} credentials in {source!r} lack {', '.join(missing)}")
        return cls(
            session,
            *(config[k] for k in keys),
            config.get("token_uri", TOKEN_URI),
            service=service,
        )

    def access_token(self, refresh: bool = False) -> str:
        """A valid access token: the last one, or a new one if it is stale or ``refresh``.

        Raises TokenError: retryable when the token endpoint was unreachable or
        failed (5xx), not when it refused the credentials.
        """
        if self._token and not refresh and time.monotonic() < self._expiry:
            return self._token
        try:
            resp = self.session.post(
                self.token_uri,
                data={
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "refresh_token": self.refresh_token,
                    "grant_type": "refresh_token",
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException as e:
            raise TokenError(
                f"cannot reach {self.token_uri!r} for a token: {e}", retryable=True
            ) from e
        if resp.status_code != 200:
            # 400/401 (invalid_grant, invalid_client): the credentials are wrong until fixed.
            raise TokenError(
                f"refreshing the {self.service} access token failed: {describe_response(resp)}",
                retryable=resp.status_code >= 500,
            )
        body = resp.json()
        self._token = body["access_token"]
        # Renew a minute early, so a token never expires in the middle of a request.
        self._expiry = time.monotonic() + max(0, int(body.get("expires_in", 3600)) - 60)
        return self._token

"""Keep-alive HTTP connections to one peer, for fetching its segments by the thousand.

``requests`` costs about a millisecond of Python per request (sessions, hooks,
adapters, header dictionaries), more than the transfer of a small segment over a
LAN. Segment fetches go through :mod:`http.client` instead: each connection is
kept open and reused, bodies of known length are read into one buffer with a
single ``readinto``, and the caller hashes and writes that buffer with one call
each. Listings still use ``requests`` (a few per hour, not worth saving).
"""

import http.client
import logging
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

__all__ = ["NETWORK_ERRORS", "PeerClient"]

#: What a broken transfer raises: the socket's errors and the HTTP parser's.
NETWORK_ERRORS = (OSError, http.client.HTTPException)

# Failures that mean a kept-alive connection was closed by the peer while idle:
# the request never reached it, so one retry on a fresh connection is safe.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class PeerClient:
    """Idle keep-alive connections to a peer's root URL, taken and given back per request."""

    def __init__(self, url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._root = parts.path.rstrip("/")
        self._timeout = timeout
        self._idle: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout)

    @contextmanager
    def get(self, path: str) -> Iterator[http.client.HTTPResponse]:
        """GET ``path`` (quoted, under the peer's root); the response, its headers read.

        The connection goes back to the idle list only if the body was read to its
        end; otherwise (an error, an abandoned body) it is closed.
        """
        target = self._root + path
        reused = bool(self._idle)
        conn = self._idle.pop() if reused else self._connection()
        try:
            try:
                conn.request("GET", target)
                resp = conn.getresponse()
            except _STALE:
                if not reused:
                    raise
                conn.close()  # closed by the peer while idle: once more on a new one
                conn = self._connection()
                conn.request("GET", target)
                resp = conn.getresponse()
            yield resp
        except BaseException:
            conn.close()
            raise
        if resp.isclosed() and not resp.will_close:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        """Close every idle connection (those in use close when given back)."""
        while self._idle:
            self._idle.pop().close()

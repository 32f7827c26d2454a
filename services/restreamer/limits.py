"""What one HTTP client may ask of the restreamer: header bytes, times, connections, bodies.

A node may sit on the open internet, so every request is held to these before
work is done for it (docs/DESIGN.md#http-clients). :class:`Limits` is what the
server (:mod:`services.restreamer.server`) enforces on connections and request
heads; :func:`accepts_body` is how a route says how large a body it reads (a
route that does not say takes none), which the app checks against
``Content-Length`` before a byte of the body is read.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

logger = logging.getLogger(__name__)

__all__ = ["FDS_PER_CONNECTION", "FD_RESERVE", "Limits", "accepts_body", "body_limit", "refusal"]

# The request line and every header, together. Browsers send 1-3 KiB (cookies
# included); nginx's default buffers allow 8 KiB per line, 32 KiB in all.
HEADER_BYTES = 16 * 1024
# Header lines per request, as http.client's parser (which pywsgi's path replays into).
HEADER_LINES = 100
# From a request's first byte to the end of its headers, and again from the app's
# first read of a body to its end: a slow sender holds a connection no longer.
REQUEST_TIMEOUT = 15.0
# A connection waiting this long for its next request is closed (a player asks
# every 2 s, a backfiller's pass reuses its connections within seconds; a browser
# that waits longer simply reconnects), and so is one whose client takes nothing
# more of a file it is sent for as long. nginx's default is 75 s.
KEEPALIVE_TIMEOUT = 60.0
# Open connections from one client address. A browser opens 6 per host, a
# backfiller a few; more is someone holding sockets (or many users behind one NAT).
PER_ADDRESS = 64
# Open connections in all; lowered at start to what the descriptor limit allows.
CONNECTIONS = 1000
# Descriptors one connection may hold at once: its socket, the open segment and
# the shared lock on its hour directory.
FDS_PER_CONNECTION = 3
# Descriptors kept back from connections (at most half the limit): the database's,
# ffmpeg's pipes, the files other services of a node write, /batch answers' segments.
FD_RESERVE = 1024


@dataclass(frozen=True)
class Limits:
    """The server's limits (defaults above; ``fastseg restreamer --help`` names the options)."""

    header_bytes: int = HEADER_BYTES
    header_lines: int = HEADER_LINES
    request_timeout: float = REQUEST_TIMEOUT
    keepalive_timeout: float = KEEPALIVE_TIMEOUT
    per_address: int = PER_ADDRESS
    connections: int = CONNECTIONS

    def fitted(self, fd_limit: int) -> "Limits":
        """These limits, ``connections`` lowered if need be to fit in ``fd_limit`` descriptors."""
        reserve = min(FD_RESERVE, fd_limit // 2)
        fits = max(1, (fd_limit - reserve) // FDS_PER_CONNECTION)
        if self.connections <= fits:
            return self
        logger.warning(
            "%d connections do not fit in %d file descriptors (%d each, %d kept back): "
            "taking %d; raise the hard limit (ulimit -Hn) to take more",
            self.connections, fd_limit, FDS_PER_CONNECTION, reserve, fits,
        )  # fmt: skip
        return Limits(**{**self.__dict__, "connections": fits})


_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    413: "Content Too Large",
    414: "URI Too Long",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}


def refusal(code: int, reason: str, *extra: str) -> bytes:
    """A whole ``Connection: close`` answer with a one-line text body, for the server to send.

    ``extra`` are further header lines (``"Retry-After: 5"``).
    """
    body = f"{code} {_REASONS[code]}: {reason}\n".encode()
    head = [
        f"HTTP/1.1 {code} {_REASONS[code]}",
        "Connection: close",
        "Content-Type: text/plain; charset=utf-8",
        f"Content-Length: {len(body)}",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


View = TypeVar("View", bound=Callable)


def accepts_body(max_bytes: int, advice: str = "send less") -> Callable[[View], View]:
    """Mark a view as reading a request body of at most ``max_bytes`` (checked before reading).

    ``advice`` ends the 413's reason: what the client should do instead.
    """

    def mark(view: View) -> View:
        view.max_body_bytes = max_bytes, advice
        return view

    return mark


def body_limit(view: Callable | None) -> tuple[int, str]:
    """The body a view reads at most and the advice past it; ``(0, ...)`` unless marked."""
    return getattr(view, "max_body_bytes", (0, "send none"))

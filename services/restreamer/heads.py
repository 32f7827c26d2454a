"""Reading a request's line and headers within the client limits, for both of the server's paths.

:func:`read_head` is the one place the restreamer's server reads a request head
(the direct path answers from it; pywsgi re-reads the same lines), so the header
limits, the grammar (RFC 9112 §3, §5) and the body framing rules (§6.3) hold
alike for every request. A head that breaks them raises :class:`Refused`, which
the server answers with a one-line 4xx and a close.
"""

import logging

from gevent.pywsgi import MAX_REQUEST_LINE

from services.restreamer.limits import Limits

logger = logging.getLogger(__name__)

__all__ = ["Head", "Refused", "read_head"]

# Request headers the server reads itself: the ones that send a request to the
# app instead of the direct path (part of the file, a condition, an upgrade), the
# body's framing (RFC 9112 §6) and keep-alive.
_NOT_DIRECT = frozenset((b"range", b"if-range", b"if-none-match", b"expect", b"upgrade"))
_WATCHED = _NOT_DIRECT | {b"content-length", b"transfer-encoding", b"connection"}
_VERSIONS = (b"HTTP/1.1", b"HTTP/1.0")


class Refused(Exception):
    """A request refused while its head was read: the answer's status, reason and metric label."""

    def __init__(self, code: int, reason: str, label: str) -> None:
        super().__init__(reason)
        self.code, self.reason, self.label = code, reason, label


class Head:
    """A request's line and headers as read: what decides where it goes."""

    __slots__ = ("lines", "method", "target", "version", "close", "direct")

    def __init__(self, lines, method, target, version, close, direct) -> None:
        self.lines, self.method, self.target, self.version = lines, method, target, version
        self.close, self.direct = close, direct


def _framing(seen: bytes | None, value: bytes, name: str) -> bytes:
    """A Content-Length or Transfer-Encoding value; a second one is refused (RFC 9112 §6.3)."""
    if seen is not None:
        raise Refused(400, f"{name} is given twice: send it once", "framing")
    return value.strip()


def read_head(rfile, limits: Limits, direct: bool) -> Head | None:
    """The request line and headers, within the header limits; None if cut short.

    ``direct``: whether the server has a direct path at all; the Head says whether
    this request may take it. Raises Refused for a head that is too large,
    malformed, or frames its body ambiguously; OSError if the connection fails.
    """
    line = rfile.readline(min(limits.header_bytes, MAX_REQUEST_LINE) + 1)
    if not line.endswith(b"\n"):
        if len(line) > min(limits.header_bytes, MAX_REQUEST_LINE):
            raise Refused(
                414,
                f"the request line is over {len(line) - 1} bytes: ask for a shorter address",
                "line_too_long",
            )
        return None
    words = line.split()
    if len(words) != 3 or words[2] not in _VERSIONS:
        raise Refused(400, "the request line is not 'METHOD /PATH HTTP/1.1'", "request_line")
    method, target, version = words
    left = limits.header_bytes - len(line)
    lines = [line]
    connection = length = encoding = None
    direct = direct and method in (b"GET", b"HEAD")
    while True:
        header = rfile.readline(left + 1)
        if not header.endswith(b"\n"):
            if len(header) > left:
                raise Refused(
                    431,
                    f"the request line and headers are over "
                    f"{limits.header_bytes} bytes: send fewer or shorter headers",
                    "headers_too_large",
                )
            return None
        left -= len(header)
        lines.append(header)
        if header in (b"\r\n", b"\n"):
            break
        if len(lines) > limits.header_lines:
            raise Refused(
                431, f"over {limits.header_lines} header lines: send fewer", "headers_too_large"
            )
        name, colon, value = header.partition(b":")
        if not colon or not name or name != name.strip():
            # No colon, a folded line, or space before the colon (RFC 9112 §5.1-5.2).
            raise Refused(400, f"header line {header[:40]!r} is not 'Name: value'", "headers")
        name = name.lower()
        if name in _WATCHED:
            if name in _NOT_DIRECT:
                direct = False
            elif name == b"connection":
                connection = value.strip().lower()
            elif name == b"content-length":
                length = _framing(length, value, "Content-Length")
            else:
                encoding = _framing(encoding, value, "Transfer-Encoding")
    if encoding is not None:
        if length is not None:
            # RFC 9112 §6.3: a request smuggler's favourite; refused, and closed.
            raise Refused(400, "both Content-Length and Transfer-Encoding: send one", "framing")
        if encoding.lower() != b"chunked":
            raise Refused(
                400,
                f"Transfer-Encoding {encoding[:40]!r} is not understood: "
                "send 'chunked' or a Content-Length",
                "framing",
            )
        direct = False
    elif length is not None:
        if not length.isdigit() or len(length) > 18:
            raise Refused(
                400, f"Content-Length {length[:40]!r} is not a number of bytes", "framing"
            )
        direct = direct and int(length) == 0
    # Keep-alive as pywsgi decides it: HTTP/1.1 unless "close", 1.0 only if asked.
    if version == b"HTTP/1.1":
        close = connection == b"close"
    else:
        close = connection != b"keep-alive"
    direct = direct and b"%" not in target and b"?" not in target and target.isascii()
    return Head(lines, method, target, version, close, direct)

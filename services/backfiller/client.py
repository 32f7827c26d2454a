"""Keep-alive HTTP connections to one peer, for fetching its segments by the thousand.

``requests`` costs about a millisecond of Python per request (sessions, hooks,
adapters, header dictionaries), and even :mod:`http.client` parses every
response's headers with the ``email`` package: both more than the transfer of a
small segment over a LAN. Segment fetches over plain HTTP therefore speak the
little HTTP/1.1 they need here: one ``sendall`` of a fixed request, the status
line and ``Content-Length`` read from the first ``recv``, and the body read with
``recv_into`` straight into one buffer, which the caller hashes and writes with
one call each. Connections are kept open and reused. An ``https`` peer is
spoken to the same way over a TLS socket of the context given (certificates
checked by default: fastseg.peer_tls). An answer without a
``Content-Length`` (chunked) goes through :mod:`http.client` instead. Listings
(a few per hour) use the same connections.
"""

import http.client
import logging
import socket
import ssl
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from fastseg.peer_tls import client_context, describe_refusal

logger = logging.getLogger(__name__)

__all__ = ["NETWORK_ERRORS", "PeerClient", "is_plain_number"]

#: What a broken transfer raises: the socket's errors and the HTTP parser's.
NETWORK_ERRORS = (OSError, http.client.HTTPException)

# Failures that mean a kept-alive connection was closed by the peer while idle:
# the request never reached it, so one retry on a fresh connection is safe.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

_HEAD_LIMIT = 64 * 1024  # a peer's response headers are a few hundred bytes


def is_plain_number(text: str) -> bool:
    """Digits ``int`` takes: ASCII (``'²'.isdigit()`` is true) and fewer than its 4,300 limit."""
    return text.isascii() and text.isdigit() and len(text) <= 20


class _Response:
    """A response whose headers are read; its body is read with :meth:`readinto` / :meth:`read`."""

    __slots__ = ("status", "length", "will_close", "_sock", "_pending", "_pos", "_left")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        head = bytearray()
        while (end := head.find(b"\r\n\r\n")) < 0:
            if len(head) > _HEAD_LIMIT:
                raise http.client.LineTooLong("response headers")
            data = sock.recv(_HEAD_LIMIT)
            if not data:
                raise http.client.RemoteDisconnected("the peer closed the connection")
            head += data
        lines = bytes(head[:end]).decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not is_plain_number(code):
            raise http.client.BadStatusLine(lines[0])
        self.status = int(code)
        self.length: int | None = None
        self.will_close = version == "HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            if name == "content-length":
                if not is_plain_number(value):
                    raise http.client.HTTPException(f"bad Content-Length {value!r}")
                self.length = int(value)
            elif name == "connection":
                self.will_close = value.lower() == "close"
            elif name == "transfer-encoding":
                self.length = None
                self.will_close = True  # not read here: see PeerClient.get
                break
        self._pending = bytes(head[end + 4 :])
        self._pos = 0
        self._left = self.length

    def isclosed(self) -> bool:
        return self._left == 0

    def readinto(self, buffer, size: int | None = None) -> int:
        """Fill ``buffer`` from the body (at most what is left of it); the bytes read.

        With ``size``, read only until that many are in, and keep whatever more came
        (the buffer's room beyond ``size`` lets one system call bring the next line of
        the body along) for the next read: returns at most ``size``.
        """
        view = memoryview(buffer)[: self._left]
        want = len(view) if size is None else min(size, len(view))
        n = min(len(view), len(self._pending) - self._pos)
        view[:n] = memoryview(self._pending)[self._pos : self._pos + n]
        self._pos += n
        recv_into = self._sock.recv_into
        while n < want:
            got = recv_into(view[n:])
            if not got:
                break
            n += got
        if n > want:  # read ahead: the surplus is the start of what follows
            self._pending = bytes(view[want:n]) + self._pending[self._pos :]
            self._pos = 0
            n = want
        self._left -= n
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the body (all that is left by default)."""
        want = self._left if size < 0 else min(size, self._left)
        buffer = bytearray(want)
        return bytes(buffer[: self.readinto(buffer)])

    def readline(self, limit: int = 1024) -> bytes:
        """One line of the body, its newline included (b"" at the body's end)."""
        if not self._left:
            return b""
        while (end := self._pending.find(b"\n", self._pos, self._pos + self._left)) < 0:
            buffered = len(self._pending) - self._pos
            if buffered >= min(limit, self._left):
                raise http.client.LineTooLong("a line of the body")
            data = self._sock.recv(max(_HEAD_LIMIT, limit))
            if not data:
                raise http.client.IncompleteRead(self._pending[self._pos :])
            self._pending = self._pending[self._pos :] + data
            self._pos = 0
        line = self._pending[self._pos : end + 1]
        self._pos = end + 1
        self._left -= len(line)
        return line


class _Connection:
    """One kept-alive plain HTTP connection."""

    __slots__ = ("sock",)

    def __init__(self, host: str, port: int, timeout: float, tls: ssl.SSLContext | None) -> None:
        """Connect, and with ``tls`` make the TLS handshake (SSLCertVerificationError
        saying what to do if the peer's certificate is not trusted)."""
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            try:
                sock = tls.wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                raise ssl.SSLCertVerificationError(
                    f"https://{host}:{port}: {describe_refusal(exc)}"
                ) from exc
            except BaseException:
                sock.close()
                raise
        self.sock = sock

    def close(self) -> None:
        self.sock.close()


class PeerClient:
    """Idle keep-alive connections to a peer's root URL, taken and given back per request."""

    def __init__(self, url: str, timeout: float, tls: ssl.SSLContext | None = None) -> None:
        """``tls``: how an https peer's certificate is checked (default: the system's CAs)."""
        parts = urllib.parse.urlsplit(url)
        self._https = parts.scheme == "https"
        self._tls = (tls or client_context()) if self._https else None
        self._host = parts.hostname or ""
        self._port = parts.port or (443 if self._https else 80)
        self._root = parts.path.rstrip("/")
        self._timeout = timeout
        netloc = parts.netloc.rpartition("@")[2]
        self._headers = f" HTTP/1.1\r\nHost: {netloc}\r\nAccept-Encoding: identity\r\n"
        self._idle: list[_Connection] = []

    def get(self, path: str):
        """GET ``path``: see :meth:`request`."""
        return self.request("GET", path)

    @contextmanager
    def request(self, method: str, path: str, body: bytes | None = None) -> Iterator:
        """``method`` ``path`` (quoted, under the peer's root) with a JSON ``body``, if any;
        the response, its headers read.

        The response has ``status``, ``length`` (None if unknown), ``readinto`` and
        ``read``. The connection goes back to the idle list only if the body was
        read to its end; otherwise (an error, an abandoned body) it is closed.
        """
        target = self._root + path
        head = f"{method} {target}{self._headers}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        request = (head + "\r\n").encode("latin-1") + (body or b"")
        reused = bool(self._idle)
        conn = self._idle.pop() if reused else self._connect()
        try:
            try:
                conn.sock.sendall(request)
                resp = _Response(conn.sock)
            except _STALE:
                if not reused:
                    raise
                conn.close()  # closed by the peer while idle: once more on a new one
                conn = self._connect()
                conn.sock.sendall(request)
                resp = _Response(conn.sock)
            if resp.length is None:  # chunked, or until the connection closes
                conn.close()
                conn = None
                with self._standard(method, target, body) as standard:
                    yield standard
                return
            yield resp
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        if resp.isclosed() and not resp.will_close:
            self._idle.append(conn)
        else:
            conn.close()

    def _connect(self) -> _Connection:
        return _Connection(self._host, self._port, self._timeout, self._tls)

    @contextmanager
    def _standard(self, method: str, target: str, body) -> Iterator[http.client.HTTPResponse]:
        """One request through :mod:`http.client`, on a connection of its own."""
        conn: http.client.HTTPConnection
        if self._tls is not None:
            conn = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=self._tls
            )
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
        headers = {} if body is None else {"Content-Type": "application/json"}
        try:
            conn.request(method, target, body, headers)
            yield conn.getresponse()
        finally:
            conn.close()

    def close(self) -> None:
        """Close every idle connection (those in use close when given back)."""
        while self._idle:
            self._idle.pop().close()

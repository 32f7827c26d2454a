"""gevent's WSGI server, taught sendfile, client limits, and stopping without cutting answers off.

gevent.pywsgi offers no ``wsgi.file_wrapper``, and its ``socket.sendfile``
copies through Python 8 KiB at a time (``os.sendfile`` on a blocking socket
would stall the event loop). :class:`Handler` sends a
:class:`~services.restreamer.files.FileRange` body with ``os.sendfile`` on the
connection's non-blocking socket instead, waiting in the event loop whenever
the socket's buffer is full, so the bytes never pass through Python; a part of
the file that is not in the page cache is read into it by a worker thread
first, so that sendfile never waits for the disk in the loop's thread.

Given ``direct`` (the app's :meth:`~services.restreamer.segments.FastPath.respond`),
a plain ``GET`` or ``HEAD`` of a segment skips WSGI altogether: the answer's
headers go out in one write and the file by sendfile. pywsgi's header parsing
(the email package), its environ and response bookkeeping cost more CPU than the
sendfile of a 1 MiB segment. Any request the direct path does not take (another
route, a Range or conditional header, a body, percent-escapes, a segment that
does not open) is replayed into pywsgi unchanged, so the app answers it as
before, errors included.

Every request's line and headers are read here, for both paths, within the
:class:`~services.restreamer.limits.Limits` (docs/DESIGN.md#http-clients): header
bytes and lines, a request timeout from the first byte (enforced by one sweeper
greenlet, as a timer per request would cost a segment request more than the
check), a keep-alive timeout (the socket's), connections per address and in
all (checked at accept). A head that breaks them, is malformed, or frames its
body ambiguously gets a one-line 4xx and the connection is closed.

:meth:`Server.drain` stops accepting, closes idle keep-alive connections at
once, lets responses in flight finish (closing their connections afterwards),
and kills whatever is still running after a bound.

Given ``tls`` (:class:`~services.restreamer.tls.ServerTLS`), each connection is
wrapped in TLS in its own greenlet, after the connection caps are checked: the
handshake must end within the request timeout, or the connection is closed (a
client that never finishes it holds its slot no longer than a slow head would).
Over TLS the bytes must be encrypted in this process, so sendfile cannot be
used: a file is read into a buffer (still by a worker thread when it is not in
the page cache) and written to the TLS socket (docs/DESIGN.md#tls).
"""

import errno
import logging
import os
import socket
import time
from collections.abc import Callable

import gevent
import prometheus_client
from gevent.pool import Pool
from gevent.pywsgi import Input, LoggingLogAdapter, WSGIHandler, WSGIServer
from gevent.pywsgi import format_date_time as _format_date
from gevent.socket import socket as GeventSocket
from gevent.socket import wait_write

from services.restreamer.files import FileParts, FileRange
from services.restreamer.heads import Head, Refused, read_head
from services.restreamer.limits import Limits, refusal
from services.restreamer.metrics import Metrics
from services.restreamer.tls import ServerTLS

logger = logging.getLogger(__name__)

__all__ = ["Handler", "LoggingLogAdapter", "Server"]

# Yield to other greenlets after this many bytes in a row, in case a fast
# client keeps the socket writable and one big file would hog the loop.
_YIELD_EVERY = 8 * 1024 * 1024
# sendfile reads the file in the calling thread, so a page-cache miss would
# stall the event loop for a disk read. Each chunk of this size is checked
# first and, if it is not cached, read into the cache by a worker thread.
_CHUNK = 4 * 1024 * 1024
_PAGE = os.sysconf("SC_PAGE_SIZE")
# Over TLS a file is read into a buffer of this size, encrypted and sent, in turn.
_TLS_BUFFER = 256 * 1024

_STALLED = {"idle": "idle", "request": "its request unfinished", "send": "its file not read"}
_NOT_TAKEN = object()  # the direct path's "replay this request into pywsgi"
Direct = Callable[[str, str], "tuple[bytes, FileRange] | None"]


class _Replay:
    """The lines the server already read, then the connection's own reader."""

    def __init__(self, lines: list[bytes], rfile) -> None:
        self.lines = lines
        self.rfile = rfile

    def readline(self, limit: int = -1) -> bytes:
        if self.lines:
            return self.lines.pop(0)
        return self.rfile.readline(limit)


class _Input(Input):
    """pywsgi's request body, which starts the request clock and is never drained.

    The server's sweeper closes a connection whose body, once the app began to
    read it, is not all there within the request timeout. A body the app left
    unread (a 413, a route that takes none) is not read to its end to keep the
    connection: the connection is closed instead (RFC 9112 §9.3).
    """

    __slots__ = ("handler",)

    def __init__(self, handler: "Handler", body: Input) -> None:
        super().__init__(body.rfile, body.content_length, body.socket, body.chunked_input)
        self.handler = handler

    def _done(self) -> bool:
        if self.chunked_input:
            return self.chunk_length == 0
        return self.position >= (self.content_length or 0)

    def read(self, length=None):
        return self._timed(super().read, length)

    def readline(self, size=None):
        return self._timed(super().readline, size)

    def _timed(self, read, size):
        handler = self.handler
        if not handler.reading_since:
            handler.reading_since = time.monotonic()
        try:
            return read(size)
        finally:
            if self._done():
                handler.reading_since = 0.0

    def _discard(self):
        if not self._done():
            self.handler.close_connection = True


_date = [0, b""]


def _date_header() -> bytes:
    """``Date: ...\\r\\n`` for now, formatted once a second."""
    now = int(time.time())
    if now != _date[0]:
        _date[:] = now, b"Date: " + _format_date(now) + b"\r\n"
    return _date[1]


def _cached(fd: int, offset: int, count: int) -> bool:
    """Whether the first, middle and last pages of the range are in the page cache.

    A one-byte read with RWF_NOWAIT fails with EAGAIN instead of waiting for the
    disk; files are written whole and read whole, so three pages tell enough.
    """
    probe = bytearray(1)
    for at in (offset, offset + count // 2, offset + count - 1):
        try:
            os.preadv(fd, [probe], at - at % _PAGE, os.RWF_NOWAIT)
        except BlockingIOError:
            return False
        except OSError:  # RWF_NOWAIT unsupported here: no way to tell, send as is
            return True
    return True


def _read_into_cache(fd: int, offset: int, count: int) -> None:
    """In a worker thread: read the range once, so that sendfile finds it cached."""
    buffer = bytearray(min(count, 1024 * 1024))
    end = offset + count
    while offset < end:
        n = os.preadv(fd, [memoryview(buffer)[: end - offset]], offset)
        if n <= 0:
            return  # the file is shorter than that: sendfile will find out
        offset += n


def _shutdown(sock, how: int) -> None:
    """Shut the TCP socket, its TLS layer (if any) left whole.

    gevent's TLS socket forgets its TLS state on ``shutdown``, and the greenlet
    woken by it would then fail with a ValueError rather than a socket error.
    """
    GeventSocket.shutdown(sock, how)


class _HandshakeTimeout(Exception):
    """A client took longer than the request timeout to finish its TLS handshake."""


class Handler(WSGIHandler):
    """One connection: keep-alive requests in turn, FileRange bodies by sendfile."""

    busy = False  # inside a response (as opposed to waiting for the next request)
    # Monotonic times the sweeper reads (0: not in that state). No socket timeout
    # is set: gevent would start and cancel a timer for every wait on the socket.
    idle_since = 0.0  # waiting for the first byte of the next request
    reading_since = 0.0  # a request's head, or the body the app reads, is arriving
    writing_since = 0.0  # waiting for the client to take more of its answer
    _replay: list[bytes] | None = None  # lines read by the server, for pywsgi to re-read

    def handle(self):
        self.server.handlers.add(self)
        try:
            # Headers go out in one write and the body by sendfile: with Nagle's
            # algorithm the body then waits for the client's delayed ACK (~40 ms).
            self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # not TCP (a unix socket): nothing to tune
        try:
            super().handle()
        finally:
            self.server.handlers.discard(self)

    def handle_one_request(self):
        rfile = self.rfile
        if rfile.closed:
            return None
        self.idle_since = time.monotonic()
        try:
            if not rfile.peek(1):
                return None  # the client closed the connection (or the sweeper did)
        except OSError:
            return None  # reset by the peer: as pywsgi, close quietly
        finally:
            self.idle_since = 0.0
        # The first byte is here: the whole head must follow within the request
        # timeout, or the server's sweeper shuts the socket (slowloris).
        self.reading_since = time.monotonic()
        try:
            head = read_head(rfile, self.server.limits, self.server.direct is not None)
        except Refused as refused:
            return self._refuse(refused)
        except OSError:
            return None  # reset, or shut by the sweeper: nothing to answer
        finally:
            self.reading_since = 0.0
        if head is None:
            return None  # cut short: the client went away mid-request
        if head.direct:
            result = self._direct(self.server.direct, head)
            if result is not _NOT_TAKEN:
                return result
        self._replay = head.lines
        return super().handle_one_request()

    def _refuse(self, refused: Refused):
        """Answer a refused head and close (as pywsgi's handle does with an error tuple)."""
        self.server.metrics.bad_requests.labels(refused.label).inc()
        logger.debug("refused a request from %s: %s", self._client_host(), refused.reason)
        self.close_connection = True
        return str(refused.code), refusal(refused.code, refused.reason)

    def _client_host(self) -> str:
        address = self.client_address
        return address[0] if isinstance(address, tuple) else str(address)

    def _handle_client_error(self, ex):
        # pywsgi's own refusals (a HEAD with a body, a body's bad chunk size...):
        # the client's fault, so a 400 and a DEBUG line, never ERROR or a traceback.
        label = "body" if isinstance(ex, OSError) else "other"
        self.server.metrics.bad_requests.labels(label).inc()
        logger.debug("bad request from %s: %s", self._client_host(), ex)
        self.close_connection = True
        return "400", refusal(400, f"{str(ex)[:100] or type(ex).__name__}: fix the request")

    def read_requestline(self):
        if self._replay:
            return self._replay.pop(0).decode("latin-1")
        return super().read_requestline()

    def MessageClass(self, fp, *args):  # noqa: N802 (pywsgi's name)
        if self._replay is not None:
            fp, self._replay = _Replay(self._replay, fp), None
        return super().MessageClass(fp, *args)

    def get_environ(self):
        environ = super().get_environ()
        # Always the framed body, even for an Upgrade request (pywsgi would hand
        # the app the raw connection, which reads to EOF): nothing here upgrades.
        self.wsgi_input = environ["wsgi.input"] = _Input(self, self.wsgi_input)
        environ["wsgi.input_terminated"] = True
        # a costly job watches it to stop ffmpeg when the client leaves (jobs.Job)
        # Over TLS, the TCP socket under it (gevent's ``_sock``): the job peeks at its bytes.
        environ["fastseg.socket"] = self.socket._sock if self.server.tls else self.socket
        return environ

    def _direct(self, direct: Direct, head: Head):
        """Answer a plain GET/HEAD of a segment; ``_NOT_TAKEN`` if pywsgi should instead.

        Returns as :meth:`handle_one_request` does: True to read the next request
        on this connection, None to close it.
        """
        method = head.method.decode()
        answer = direct(method, head.target.decode())
        if answer is None:
            return _NOT_TAKEN
        head_lines, body = answer
        self.requestline = head.lines[0].decode("latin-1").rstrip()
        close = head.close
        self.close_connection = close or self.server.draining
        self.busy = True
        self.time_start = time.time()
        self.status, self._orig_status, self.code = b"200 OK", "200 OK", 200
        self.response_length = 0
        try:
            if head.version == b"HTTP/1.0":
                head_lines += b"Connection: close\r\n" if close else b"Connection: keep-alive\r\n"
            head_lines = b"HTTP/1.1 200 OK\r\n" + head_lines + _date_header() + b"\r\n"
            if method == "HEAD" or not body.length:
                self._send_head(head_lines, 0)
            else:
                # MSG_MORE: the headers wait to leave with the file's first bytes.
                self._send_head(head_lines, socket.MSG_MORE)
                self._sendfile(body)
        except OSError as exc:  # the client went away, or stopped reading (timeout)
            logger.debug("direct answer to %r cut short: %s", self.requestline, exc)
            self.close_connection = True
        finally:
            body.close()
            self.busy = False
            self.time_finish = time.time()
            self.log_request()
        return None if self.close_connection else True

    def _send_head(self, head: bytes, flags: int) -> None:
        """Send the headers: one send, as a few hundred bytes almost always go at once.

        (gevent's sendall asks the socket for its buffer size first, on every call.)
        A TLS socket takes no flags: its head is a record of its own.
        """
        if self.server.tls is not None:
            self.socket.sendall(head)
            return
        sent = self.socket.send(head, flags)
        if sent < len(head):
            self.socket.sendall(head[sent:], flags)

    def _sendall(self, data):
        # pywsgi's writes of an answer's body (a streamed one, as /api/events/stream):
        # a client that stops reading is shut by the sweeper, as one of a file is.
        self.writing_since = time.monotonic()
        try:
            super()._sendall(data)
        except OSError as exc:
            if exc.errno in self.ignored_socket_errors:
                raise
            # Shut by the sweeper (gevent's "closed in another greenlet"): as quiet as a
            # client that went away, never a traceback.
            raise BrokenPipeError(errno.EPIPE, f"connection shut: {exc}") from exc
        finally:
            self.writing_since = 0.0

    def log_request(self):
        if self.server.log_requests:  # formatting the line costs more than a segment's headers
            super().log_request()

    def handle_one_response(self):
        if self.server.draining:
            self.close_connection = True  # finish this one, take no more on this connection
        self.busy = True
        try:
            super().handle_one_response()
        finally:
            self.busy = False
            self.reading_since = 0.0  # a body the app stopped reading: the connection closes

    def process_result(self):
        self.reading_since = 0.0  # the app has its answer: whatever it read of a body is in
        body = self.result
        if (
            isinstance(body, FileRange)
            and self.provided_content_length is not None
            and self.code not in (204, 304)
        ):
            self.write(b"")  # the headers alone: Content-Length is set, so not chunked
            self._sendfile(body)
        elif (
            isinstance(body, FileParts)
            and self.provided_content_length is not None
            and self.code not in (204, 304)
        ):
            self.write(b"")
            for part in body.parts:
                if not isinstance(part, FileRange):
                    self.write(part)
                elif not self._sendfile(part):
                    return  # a file ended early: the connection is closed, the framing lost
        else:
            super().process_result()

    def _sendfile(self, body: FileRange) -> bool:
        """Send ``body``; False if its file ended early (and the connection is to close)."""
        if self.server.tls is not None:
            return self._send_copy(body)
        sock = self.socket
        out = sock.fileno()
        offset, left = body.offset, body.length
        since_yield = 0
        checked = offset  # bytes before this are known to be in the page cache
        while left > 0:
            if offset >= checked:
                checked = self._warm(body.fd, offset, left)
            try:
                sent = os.sendfile(out, body.fd, offset, min(left, checked - offset))
            except BlockingIOError:
                self.writing_since = time.monotonic()
                try:
                    wait_write(out)
                finally:
                    self.writing_since = 0.0
                continue
            except OSError as exc:
                self._send_failed(exc)
                raise
            if sent == 0:
                return self._ended_early(left)
            offset += sent
            left -= sent
            self.response_length += sent
            since_yield += sent
            if since_yield >= _YIELD_EVERY and left:
                since_yield = 0
                gevent.sleep(0)
        return True

    def _send_copy(self, body: FileRange) -> bool:
        """Send ``body`` over TLS, read into a buffer in turn: :meth:`_sendfile` otherwise."""
        sock = self.socket
        buffer = bytearray(min(body.length, _TLS_BUFFER))
        offset, left = body.offset, body.length
        since_yield = 0
        checked = offset
        while left > 0:
            if offset >= checked:
                checked = self._warm(body.fd, offset, left)
            view = memoryview(buffer)[: min(left, len(buffer), checked - offset)]
            got = os.preadv(body.fd, [view], offset)
            if got == 0:
                return self._ended_early(left)
            self.writing_since = time.monotonic()
            try:
                sock.sendall(view[:got])
            except OSError as exc:
                self._send_failed(exc)
                raise
            finally:
                self.writing_since = 0.0
            offset += got
            left -= got
            self.response_length += got
            since_yield += got
            if since_yield >= _YIELD_EVERY and left:
                since_yield = 0
                gevent.sleep(0)
        return True

    def _warm(self, fd: int, offset: int, left: int) -> int:
        """Have the next chunk at ``offset`` in the page cache; the offset it ends at.

        A chunk not cached is read by a worker thread, so that neither sendfile
        nor a read over TLS waits for the disk in the loop's thread.
        """
        count = min(left, _CHUNK)
        if not _cached(fd, offset, count):
            self.server.cold_reads += 1
            logger.debug("reading %d bytes at %d in a thread: not in the page cache",
                         count, offset)  # fmt: skip
            gevent.get_hub().threadpool.apply(_read_into_cache, (fd, offset, count))
        return offset + count

    def _send_failed(self, exc: OSError) -> None:
        # As pywsgi's _sendall does: a negative code marks a failed send,
        # and the error ends this connection (EPIPE/ECONNRESET quietly).
        self.status = f"socket error: {exc}"
        if self.code > 0:
            self.code = -self.code

    def _ended_early(self, left: int) -> bool:
        # The file is shorter than when it was opened. The headers promised
        # more, so the only honest thing left is to close the connection.
        logger.warning("file ended %d bytes early: closing the connection", left)
        self.close_connection = True
        return False


class Server(WSGIServer):
    """A WSGIServer whose connections are counted, capped, timed and tracked (to drain them)."""

    handler_class = Handler

    def __init__(
        self,
        listener,
        application,
        *,
        direct: Direct | None = None,
        limits: Limits | None = None,
        metrics: Metrics | None = None,
        tls: ServerTLS | None = None,
        **kwargs,
    ):
        """``direct(method, path)``: see :class:`Handler`; None sends everything through WSGI.

        ``tls``: serve HTTPS with its certificate (reloaded as it changes); None: plain HTTP.

        ``limits``: :class:`~services.restreamer.limits.Limits` (default: its defaults);
        ``metrics``: where refusals and timeouts are counted (default: a private registry).
        """
        kwargs.setdefault("spawn", Pool())
        self.direct = direct
        self.tls = tls
        self.limits = limits or Limits()
        self.metrics = metrics or Metrics.of(prometheus_client.CollectorRegistry())
        self.log_requests = kwargs.get("log", "default") is not None
        self.cold_reads = 0  # sendfile chunks read into the page cache by a thread first
        super().__init__(listener, application, **kwargs)
        self.handlers: set[Handler] = set()
        self.draining = False
        self.per_address: dict[str, int] = {}  # open connections by client address
        self.open_connections = 0
        self.metrics.connections.set_function(lambda: self.open_connections)
        self._sweeper: gevent.Greenlet | None = None

    def do_handle(self, sock, address):
        """Take a new connection, unless its address or the server is at its cap."""
        host = address[0] if isinstance(address, tuple) else ""
        count = self.per_address.get(host, 0)
        limits = self.limits
        if count >= limits.per_address:
            self._turn_away(sock, "per_address", refusal(
                429, f"{count} connections from your address are open, the most this node "
                "takes: reuse them (keep-alive) or close some",
            ))  # fmt: skip
            return
        if self.open_connections >= limits.connections:
            self._turn_away(sock, "total", refusal(
                503, f"{self.open_connections} connections are open, the most this node "
                "takes: try again in a few seconds", "Retry-After: 5",
            ))  # fmt: skip
            return
        self.per_address[host] = count + 1
        self.open_connections += 1
        super().do_handle(sock, address)

    def do_close(self, sock, address):
        """A connection taken by :meth:`do_handle` has ended."""
        host = address[0] if isinstance(address, tuple) else ""
        self.open_connections -= 1
        count = self.per_address.pop(host) - 1
        if count:
            self.per_address[host] = count
        super().do_close(sock, address)

    @property
    def ssl_enabled(self) -> bool:  # pywsgi's: wsgi.url_scheme is https
        return self.tls is not None

    def init_socket(self):
        super().init_socket()
        if self.tls is not None:
            self._handle = self._handle_tls

    def _handle_tls(self, sock, address) -> None:
        """Wrap a new connection in TLS (handshake within the request timeout), then serve it."""
        try:
            tls_sock = self.tls.context().wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        except OSError as exc:
            logger.debug("TLS on a connection from %s failed: %s", address, exc)
            return
        try:
            with gevent.Timeout(self.limits.request_timeout, _HandshakeTimeout):
                tls_sock.do_handshake()
        except _HandshakeTimeout:
            self.metrics.tls_handshake_failures.labels("timeout").inc()
            logger.debug("closing a connection from %s: no TLS handshake in %gs",
                         address, self.limits.request_timeout)  # fmt: skip
            tls_sock.close()
            return
        except (OSError, ValueError) as exc:  # an old protocol, plain HTTP, a reset
            self.metrics.tls_handshake_failures.labels("refused").inc()
            logger.debug("TLS handshake with %s failed: %s", address, exc)
            tls_sock.close()
            return
        try:
            self.handle(tls_sock, address)
        finally:
            tls_sock.close()

    def _turn_away(self, sock, reason: str, answer: bytes) -> None:
        """Close a connection at accept, saying why if the socket takes it at once.

        Over TLS it is closed unanswered: a plain answer would be garbage to the client,
        and a handshake costs more than the cap is there to save.
        """
        self.metrics.connections_refused.labels(reason).inc()
        try:
            if self.tls is not None:
                return
            sock.setblocking(False)
            sock.send(answer)  # a fresh socket's buffer is empty: all of it or nothing
        except OSError:
            pass
        finally:
            sock.close()

    def start(self):
        super().start()
        if self._sweeper is None:
            self._sweeper = gevent.spawn(self._sweep)

    def close(self):
        if self._sweeper is not None:
            self._sweeper.kill(block=False)
            self._sweeper = None
        super().close()

    def _sweep(self) -> None:
        """Shut connections idle, sending their request, or not reading, for too long.

        One greenlet for every connection, four times per timeout (once a second at
        most): a timer per wait would cost each segment request more than this in all.
        """
        limits = self.limits
        request, idle = limits.request_timeout, limits.keepalive_timeout
        while True:
            gevent.sleep(min(1.0, request / 4, idle / 4))
            now = time.monotonic()
            for handler in list(self.handlers):
                if 0 < handler.reading_since < now - request:
                    self._shut(handler, "request", request)
                elif 0 < handler.idle_since < now - idle:
                    self._shut(handler, "idle", idle)
                elif 0 < handler.writing_since < now - idle:
                    self._shut(handler, "send", idle)

    def _shut(self, handler: Handler, phase: str, seconds: float) -> None:
        """End a connection's reads and writes: its greenlet sees EOF or EPIPE and closes it."""
        handler.idle_since = handler.reading_since = handler.writing_since = 0.0
        self.metrics.timeouts.labels(phase).inc()
        logger.debug("closing a connection from %s: %s for %gs", handler._client_host(),
                     _STALLED[phase], seconds)  # fmt: skip
        sock = getattr(handler, "socket", None)
        try:
            if sock is not None:
                _shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already gone

    def drain(self, timeout: float) -> bool:
        """Stop accepting and wait up to ``timeout`` s for responses in flight.

        Returns True if every connection finished in time; the rest are killed.
        """
        self.draining = True
        self.close()  # the listening socket: new connections are refused from here
        idle = busy = 0
        for handler in list(self.handlers):
            if handler.busy:
                busy += 1
                handler.close_connection = True
            elif handler.socket is not None:
                idle += 1
                # A keep-alive connection waiting for its next request: ending the
                # read side makes that wait see EOF, and the handler return.
                try:
                    _shutdown(handler.socket, socket.SHUT_RD)
                except OSError:
                    pass  # already gone
        logger.info(
            "stopped accepting; closed %d idle connections, waiting up to %.1fs for %d responses",
            idle, timeout, busy,
        )  # fmt: skip
        finished = self.pool.join(timeout=timeout)
        if not finished:
            logger.warning(
                "%d connections still busy after %.1fs: closing them", len(self.pool), timeout
            )
            self.pool.kill(block=True, timeout=1)
        return bool(finished)

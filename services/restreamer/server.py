"""gevent's WSGI server, taught two things: sendfile, and stopping without cutting responses off.

gevent.pywsgi offers no ``wsgi.file_wrapper``, and its ``socket.sendfile``
copies through Python 8 KiB at a time (``os.sendfile`` on a blocking socket
would stall the event loop). :class:`Handler` sends a
:class:`~services.restreamer.files.FileRange` body with ``os.sendfile`` on the
connection's non-blocking socket instead, waiting in the event loop whenever
the socket's buffer is full, so the bytes never pass through Python; a part of
the file that is not in the page cache is read into it by a worker thread
first, so that sendfile never waits for the disk in the loop's thread.

Given ``direct`` (the app's :meth:`~services.restreamer.segments.FastPath.respond`),
a plain ``GET`` or ``HEAD`` of a segment skips WSGI altogether: the request line
and headers are read here, the answer's headers go out in one write and the file
by sendfile. pywsgi's header parsing (the email package), its environ and
response bookkeeping cost more CPU than the sendfile of a 1 MiB segment. Any
request the direct path does not take (another route, a Range or conditional
header, a body, percent-escapes, a segment that does not open) is replayed into
pywsgi unchanged, so the app answers it as before, errors included.

:meth:`Server.drain` stops accepting, closes idle keep-alive connections at
once, lets responses in flight finish (closing their connections afterwards),
and kills whatever is still running after a bound.
"""

import logging
import os
import socket
import time
from collections.abc import Callable

import gevent
from gevent.pool import Pool
from gevent.pywsgi import MAX_REQUEST_LINE, LoggingLogAdapter, WSGIHandler, WSGIServer
from gevent.pywsgi import format_date_time as _format_date
from gevent.socket import wait_write

from services.restreamer.files import FileParts, FileRange

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

# The direct path: what it takes, and the request headers that send a request to
# the app instead (they ask for part of the file, a condition, or carry a body).
_DIRECT_METHODS = (b"GET /", b"HEAD /")
_NOT_DIRECT = frozenset(
    (b"range", b"if-range", b"if-none-match", b"content-length", b"transfer-encoding",
     b"expect", b"upgrade")
)  # fmt: skip
_MAX_HEADER_LINE = 65536  # as http.client's parser, which the replay goes through
_MAX_HEADERS = 100
_NOT_TAKEN = object()  # the direct path's "replay this request into pywsgi"
Direct = Callable[[str, str], "tuple[bytes, FileRange] | None"]


class _Replay:
    """The lines the direct path already read, then the connection's own reader."""

    def __init__(self, lines: list[bytes], rfile) -> None:
        self.lines = lines
        self.rfile = rfile

    def readline(self, limit: int = -1) -> bytes:
        if self.lines:
            return self.lines.pop(0)
        return self.rfile.readline(limit)


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


class Handler(WSGIHandler):
    """One connection: keep-alive requests in turn, FileRange bodies by sendfile."""

    busy = False  # inside a response (as opposed to waiting for the next request)
    _replay: list[bytes] | None = None  # lines read by the direct path, for pywsgi to re-read

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
        direct = self.server.direct
        if direct is None or self.rfile.closed:
            return super().handle_one_request()
        try:
            line = self.rfile.readline(MAX_REQUEST_LINE)
        except OSError:
            return None  # reset by the peer, or timed out: as pywsgi, close quietly
        if not line:
            return None
        self._replay = [line]
        if line.startswith(_DIRECT_METHODS) and len(line) < MAX_REQUEST_LINE:
            result = self._direct(direct, line)
            if result is not _NOT_TAKEN:
                self._replay = None
                return result
        return super().handle_one_request()

    def read_requestline(self):
        if self._replay:
            return self._replay.pop(0).decode("latin-1")
        return super().read_requestline()

    def MessageClass(self, fp, *args):  # noqa: N802 (pywsgi's name)
        if self._replay is not None:
            fp, self._replay = _Replay(self._replay, fp), None
        return super().MessageClass(fp, *args)

    def _direct(self, direct: Direct, line: bytes):
        """Answer a plain GET/HEAD of a segment; ``_NOT_TAKEN`` if pywsgi should instead.

        Returns as :meth:`handle_one_request` does: True to read the next request
        on this connection, None to close it.
        """
        words = line.split()
        if len(words) != 3 or words[2] not in (b"HTTP/1.1", b"HTTP/1.0"):
            return _NOT_TAKEN
        method, target, version = words
        if b"%" in target or b"?" in target or not target.isascii():
            return _NOT_TAKEN  # the app decodes escapes and parses queries
        connection = None
        lines = self._replay
        while True:
            try:
                header = self.rfile.readline(_MAX_HEADER_LINE + 1)
            except OSError:
                return None
            lines.append(header)
            if header in (b"\r\n", b"\n"):
                break
            if not header.endswith(b"\n") or len(lines) > _MAX_HEADERS or header[:1] in b" \t":
                return _NOT_TAKEN  # cut short, too long, too many or folded: pywsgi says
            name, colon, value = header.partition(b":")
            if not colon:
                return _NOT_TAKEN
            name = name.strip().lower()  # "Range :" is no less a Range: leave it to pywsgi
            if name in _NOT_DIRECT:
                return _NOT_TAKEN
            if name == b"connection":
                connection = value.strip().lower()
        # Keep-alive as pywsgi decides it: HTTP/1.1 unless "close", 1.0 only if asked.
        if version == b"HTTP/1.1":
            close = connection == b"close"
        else:
            close = connection != b"keep-alive"
        method = method.decode()
        answer = direct(method, target.decode())
        if answer is None:
            return _NOT_TAKEN
        head, body = answer
        self.requestline = line.decode("latin-1").rstrip()
        self.close_connection = close or self.server.draining
        self.busy = True
        self.time_start = time.time()
        self.status, self._orig_status, self.code = b"200 OK", "200 OK", 200
        self.response_length = 0
        try:
            if version == b"HTTP/1.0":
                head += b"Connection: close\r\n" if close else b"Connection: keep-alive\r\n"
            head = b"HTTP/1.1 200 OK\r\n" + head + _date_header() + b"\r\n"
            if method == "HEAD" or not body.length:
                self._send_head(head, 0)
            else:
                # MSG_MORE: the headers wait to leave with the file's first bytes.
                self._send_head(head, socket.MSG_MORE)
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
        """
        sent = self.socket.send(head, flags)
        if sent < len(head):
            self.socket.sendall(head[sent:], flags)

    def log_request(self):
        if self.server.log_requests:  # formatting the line costs more than a segment's headers
            super().log_request()

    def get_environ(self):
        env = super().get_environ()
        # a costly job watches it to stop ffmpeg when the client leaves (jobs.Job)
        env["fastseg.socket"] = self.socket
        return env

    def handle_one_response(self):
        if self.server.draining:
            self.close_connection = True  # finish this one, take no more on this connection
        self.busy = True
        try:
            super().handle_one_response()
        finally:
            self.busy = False

    def process_result(self):
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
        sock = self.socket
        out = sock.fileno()
        timeout = sock.gettimeout()
        offset, left = body.offset, body.length
        since_yield = 0
        checked = offset  # bytes before this are known to be in the page cache
        while left > 0:
            if offset >= checked:
                count = min(left, _CHUNK)
                if not _cached(body.fd, offset, count):
                    self.server.cold_reads += 1
                    logger.debug("reading %d bytes at %d in a thread: not in the page cache",
                                 count, offset)  # fmt: skip
                    gevent.get_hub().threadpool.apply(_read_into_cache, (body.fd, offset, count))
                checked = offset + count
            try:
                sent = os.sendfile(out, body.fd, offset, min(left, checked - offset))
            except BlockingIOError:
                wait_write(out, timeout=timeout, timeout_exc=TimeoutError("timed out"))
                continue
            except OSError as exc:
                # As pywsgi's _sendall does: a negative code marks a failed send,
                # and the error ends this connection (EPIPE/ECONNRESET quietly).
                self.status = f"socket error: {exc}"
                if self.code > 0:
                    self.code = -self.code
                raise
            if sent == 0:
                # The file is shorter than when it was opened. The headers promised
                # more, so the only honest thing left is to close the connection.
                logger.warning("file ended %d bytes early: closing the connection", left)
                self.close_connection = True
                return False
            offset += sent
            left -= sent
            self.response_length += sent
            since_yield += sent
            if since_yield >= _YIELD_EVERY and left:
                since_yield = 0
                gevent.sleep(0)
        return True


class Server(WSGIServer):
    """A WSGIServer whose connections are tracked, so that it can drain them."""

    handler_class = Handler

    def __init__(self, listener, application, *, direct: Direct | None = None, **kwargs):
        """``direct(method, path)``: see :class:`Handler`; None sends everything through WSGI."""
        kwargs.setdefault("spawn", Pool())
        self.direct = direct
        self.log_requests = kwargs.get("log", "default") is not None
        self.cold_reads = 0  # sendfile chunks read into the page cache by a thread first
        super().__init__(listener, application, **kwargs)
        self.handlers: set[Handler] = set()
        self.draining = False

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
                    handler.socket.shutdown(socket.SHUT_RD)
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

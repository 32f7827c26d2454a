"""``/segments/CH/Q/HOUR/NAME``: one segment file's bytes, whole or a byte range.

A segment's name carries the hash of its bytes, so a name always means the same
bytes: answers are cacheable for a year and the hash is the ETag. Temp files
(being written) are the exception and are never cached. The body is a
:class:`~services.restreamer.files.FileRange`, which the server sends with
sendfile (RFC 9110 §14 for ranges: one range is honoured, several are answered
with the whole file, which the RFC allows).
"""

import functools
import logging
import os
import stat
import time

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException, NotFound, RequestedRangeNotSatisfiable

from fastseg import tombstone_path
from services.archive import hourlock
from services.restreamer.files import FileRange
from services.restreamer.state import State, state
from services.restreamer.validation import archive_path, check_segment_name

logger = logging.getLogger(__name__)

__all__ = ["ENDPOINT", "FastPath", "Segment", "blueprint"]

blueprint = Blueprint("segments", __name__)

CONTENT_TYPE = "video/MP2T"  # RFC 8216 §3.2 (MPEG-2 TS segments)
IMMUTABLE = "public, max-age=31536000, immutable"  # a year: the name is the content's hash
ENDPOINT = "segments.segment"  # the view's Flask endpoint name, for metrics


@functools.lru_cache(maxsize=1024)
def _hour_dir(base_dir: str, channel: str, quality: str, hour: str) -> str:
    """The checked hour directory's path (its parts are checked once, then remembered).

    A node serves the same few hours over and over; only directories that passed
    the checks are remembered (a BadRequest is raised anew every time).
    """
    return archive_path(base_dir, channel, quality, hour)


class Segment:
    """An open segment file, checked: a regular file, not hidden by a tombstone."""

    __slots__ = ("fd", "lock", "size", "headers", "etag")

    def __init__(self, base_dir: str, channel: str, quality: str, hour: str, name: str) -> None:
        """Validate the parts, then open. Raises BadRequest or NotFound, holding no fd."""
        hour_dir = _hour_dir(base_dir, channel, quality, hour)
        type_ = check_segment_name(name).type
        path = f"{hour_dir}/{name}"
        try:
            # Held until the response is finished, so the janitor never retires this hour
            # under a response; while it is retiring it, the segment is simply gone.
            self.lock = hourlock.serve_lock(hour_dir)
        except hourlock.HourRetiring as exc:
            raise NotFound(f"no segment {channel}/{quality}/{hour}/{name} (hour retired)") from exc
        try:
            # O_NONBLOCK: opening a FIFO that someone left under a segment's name
            # would otherwise wait for a writer; on regular files it changes nothing.
            self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
        except (FileNotFoundError, NotADirectoryError) as exc:
            hourlock.release(self.lock)
            raise NotFound(f"no segment {channel}/{quality}/{hour}/{name}") from exc
        try:
            st = os.fstat(self.fd)
            if not stat.S_ISREG(st.st_mode) or os.path.exists(tombstone_path(path)):
                raise NotFound(f"no segment {name!r} here (not a file, or hidden by a tombstone)")
        except BaseException:
            self.close()
            raise
        self.size = st.st_size
        self.headers = {"Accept-Ranges": "bytes", "Content-Type": CONTENT_TYPE}
        self.etag = None
        if type_ == "temp":
            self.headers["Cache-Control"] = "no-store"  # being written: its bytes may change
        else:
            self.etag = name[:-3].rsplit("-", 1)[1]  # the sha256 of the bytes, from the name
            self.headers["Cache-Control"] = IMMUTABLE
            self.headers["ETag"] = f'"{self.etag}"'

    def body(self, start: int, stop: int) -> FileRange:
        """The bytes ``[start, stop)`` as a response body, which now owns the fd and lock."""
        self.headers["Content-Length"] = str(stop - start)
        body = FileRange(self.fd, start, stop - start)
        if self.lock is not None:
            lock, self.lock = self.lock, None
            body.add_close_callback(lambda: hourlock.release(lock))
        return body

    def close(self) -> None:
        try:
            os.close(self.fd)
        finally:
            lock, self.lock = self.lock, None
            hourlock.release(lock)


@blueprint.route("/segments/<channel>/<quality>/<hour>/<name>")
def segment(channel: str, quality: str, hour: str, name: str) -> Response:
    opened = Segment(state().base_dir, channel, quality, hour, name)
    try:
        return _answer(opened, name)
    except BaseException:
        opened.close()
        raise


def _answer(opened: Segment, name: str) -> Response:
    size, headers, etag = opened.size, opened.headers, opened.etag
    if etag is not None and etag in request.if_none_match:
        opened.close()
        headers.pop("Content-Type")
        return Response(status=304, headers=headers)

    start, stop, status = 0, size, 200
    wanted = request.range
    # If-Range names the version the client has; another one (or a date, which a
    # name-addressed file has no use for) gets the whole file (RFC 9110 §13.1.5).
    if_range = request.if_range.etag if "If-Range" in request.headers else etag
    if wanted is not None and (etag is None or if_range == etag):
        if wanted.units == "bytes" and len(wanted.ranges) == 1:
            bounds = wanted.range_for_length(size)
            if bounds is None:
                raise RequestedRangeNotSatisfiable(
                    length=size,
                    description=f"range {request.headers.get('Range')!r} is not within the "
                    f"{size} bytes of {name}",
                )
            start, stop = bounds
            status = 206
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    state().metrics.bytes_sent.inc(stop - start)
    return Response(opened.body(start, stop), status=status, headers=headers,
                    direct_passthrough=True)  # fmt: skip


class FastPath:
    """WSGI middleware answering plain ``GET /segments/...`` without Flask.

    Peers and players fetch segments by the thousand, and Flask's request and
    response machinery costs several times the sendfile itself. A GET with no
    Range or conditional header, for an ASCII path that validates and opens, is
    answered here with exactly the headers the Flask view would give (CORS and
    metrics included); anything else, errors included, goes to the app.

    :meth:`respond` is the same answer for the server's direct path
    (:class:`services.restreamer.server.Handler`), which skips WSGI altogether.
    """

    PREFIX = "/segments/"
    # A range, a condition, or a body (which the app refuses: segments take none).
    _SPECIAL = ("HTTP_RANGE", "HTTP_IF_NONE_MATCH", "HTTP_IF_RANGE", "HTTP_TRANSFER_ENCODING")

    def __init__(self, app, state_: State) -> None:
        self.app = app
        self.state = state_
        metrics = state_.metrics
        self._requests = {m: metrics.requests.labels(ENDPOINT, m, "200") for m in ("GET", "HEAD")}
        self._latency = {m: metrics.latency.labels(ENDPOINT, m) for m in ("GET", "HEAD")}
        self._bytes = metrics.bytes_sent

    def _open(self, path: str) -> Segment | None:
        """The segment at ``path`` opened, or None if the app should answer (errors too)."""
        if not path.startswith(self.PREFIX):
            return None
        parts = path[len(self.PREFIX) :].split("/")
        if len(parts) != 4:
            return None
        try:
            return Segment(self.state.base_dir, *parts)
        except (HTTPException, OSError):
            return None  # the app says what is wrong (or logs what broke)

    def _answer(self, method: str, path: str) -> tuple[FileRange, dict] | None:
        """The open body and headers of a ``GET`` or ``HEAD`` of ``path``, counted in the
        metrics when the body is closed; None if the app should answer (errors too)."""
        started = time.monotonic()
        opened = self._open(path)
        if opened is None:
            return None
        body = opened.body(0, opened.size)
        headers = opened.headers
        headers["Access-Control-Allow-Origin"] = "*"
        latency, requests_ = self._latency[method], self._requests[method]

        def observe() -> None:
            latency.observe(time.monotonic() - started)
            requests_.inc()

        body.add_close_callback(observe)
        if method == "GET":
            self._bytes.inc(opened.size)
        return body, headers

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if (
            not path.startswith(self.PREFIX)
            or environ.get("REQUEST_METHOD") != "GET"
            or not path.isascii()  # WSGI paths are latin-1: leave decoding to the app
            or any(key in environ for key in self._SPECIAL)
            or environ.get("CONTENT_LENGTH", "0") != "0"
        ):
            return self.app(environ, start_response)
        answer = self._answer("GET", path)
        if answer is None:
            return self.app(environ, start_response)
        body, headers = answer
        start_response("200 OK", list(headers.items()))
        return body

    def respond(self, method: str, path: str) -> tuple[bytes, FileRange] | None:
        """A plain ``GET`` or ``HEAD`` of the segment at ``path`` (ASCII, no query, no escapes).

        Returns the answer's header lines (``Name: value\\r\\n`` each; no status
        line, Date or Connection) and its body, which owns the open file and the
        hour lock: the caller sends it (not for HEAD) and must close it. None
        leaves the request to the app, which also gives every error its answer.
        """
        answer = self._answer(method, path)
        if answer is None:
            return None
        body, headers = answer
        head = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
        return head.encode("ascii"), body

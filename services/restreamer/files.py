"""A byte range of an open file, as a WSGI response body that a server can sendfile.

:class:`FileRange` is what the app puts in ``wsgi.file_wrapper``'s place: an
iterable of bytes (so any WSGI server, and Flask's test client, can send it)
that also exposes the file descriptor, offset and length, so that
:mod:`services.restreamer.server` can hand the copying to the kernel with
``os.sendfile`` instead of reading the file through Python.
"""

import logging
import os
import posix
from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

__all__ = ["CHUNK", "FileParts", "FileRange"]

CHUNK = 256 * 1024  # large enough that the per-chunk overhead of the fallback path is small
# The C close, even where gevent has patched os.close (which checks the fd and
# stats it first): a FileRange's fd is a regular file, never watched by a loop.
_close = posix.close


class FileRange:
    """``length`` bytes of the open file ``fd`` from ``offset``; owns (and closes) ``fd``."""

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self.fd = fd
        self.offset = offset
        self.length = length
        self._on_close: list[Callable[[], None]] = []
        self._closed = False

    def add_close_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the response is finished (sent, failed or abandoned)."""
        self._on_close.append(callback)

    def __iter__(self) -> Iterator[bytes]:
        """The fallback for servers without sendfile: pread in large chunks."""
        offset, left = self.offset, self.length
        while left > 0:
            data = os.pread(self.fd, min(CHUNK, left), offset)
            if not data:
                # The file shrank under us; a short body is all that can be sent now,
                # and the client sees it as a truncated response (Content-Length).
                logger.warning("file descriptor %d ended %d bytes early", self.fd, left)
                return
            offset += len(data)
            left -= len(data)
            yield data

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            _close(self.fd)
        finally:
            for callback in self._on_close:
                callback()


class FileParts:
    """Byte strings and :class:`FileRange` s, in order, as one body; owns the ranges.

    The server sends the strings as they are and each range with sendfile, so a
    response made of many files (the batch route) never copies them through Python.
    """

    def __init__(self, parts: list) -> None:
        self.parts = parts  # bytes or FileRange
        self._on_close: list[Callable[[], None]] = []
        self._closed = False

    @property
    def length(self) -> int:
        return sum(p.length if isinstance(p, FileRange) else len(p) for p in self.parts)

    def add_close_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the response is finished (sent, failed or abandoned)."""
        self._on_close.append(callback)

    def __iter__(self) -> Iterator[bytes]:
        """The fallback for servers without sendfile."""
        for part in self.parts:
            if isinstance(part, FileRange):
                yield from part
            else:
                yield part

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for part in self.parts:
            if isinstance(part, FileRange):
                try:
                    part.close()
                except OSError:  # the others (their fds, their locks) are closed all the same
                    logger.exception("cannot close a file of a response")
        for callback in self._on_close:
            callback()

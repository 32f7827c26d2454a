"""How every writer puts a file into the archive: a temp name, then a link to the final name.

The protocol (docs/DESIGN.md#writing-a-segment), in one place for the downloader,
the backfiller, the janitor and chat batches: bytes go to a temp name in the
file's own directory, created exclusively (two writers never share one); the
final name, which holds the content's hash, is made with ``link()``, which unlike
``rename()`` never replaces a file already there (a file of that name already
holds those bytes); then the temp name is removed. A reader never sees half a
file under a final name. Nothing is fsynced: a crash may lose the last seconds
written, which the janitor and the next backfill pass make good.

Every function raises the ``OSError`` of the failing system call; the temp file
of a failed write is removed, except by :func:`link_into_place`, whose caller
decides (the janitor keeps an orphan it could not link: it is the only copy).
"""

import hashlib
import itertools
import os
import uuid

from gevent import monkey

__all__ = ["TempFile", "TempNames", "create", "discard", "link_into_place", "save", "write_all"]

# The files closed here are regular files of our own: gevent's patched os.close would
# check each with two more system calls (fcntl, fstat) and some Python first.
close = monkey.get_original("os", "close")

#: What writers write: hashlib and os.write take each without a copy.
Buffer = bytes | bytearray | memoryview

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def create(path: str, folder: str) -> int:
    """Create ``path`` (in ``folder``) for writing, failing if it exists; its descriptor.

    The folder is made only when it is missing (an hour's first file): one
    ``makedirs`` per hour, not one per file.
    """
    try:
        return os.open(path, _FLAGS, 0o644)
    except FileNotFoundError:
        os.makedirs(folder, exist_ok=True)
        return os.open(path, _FLAGS, 0o644)


def write_all(fd: int, data: Buffer) -> None:
    """Write all of ``data`` (``os.write`` may write less than it is asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def discard(path: str) -> None:
    """Remove a temp file if it is still there."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def link_into_place(temp: str, final: str) -> bool:
    """Give the written ``temp`` the name ``final``, then remove ``temp``; False if ``final``
    was there already (a file of that name holds the same bytes, so nothing is lost).

    Raises the ``OSError`` of ``link`` or ``unlink``; if the link failed, ``temp`` is
    left for the caller to remove or keep.
    """
    try:
        os.link(temp, final)
        linked = True
    except FileExistsError:
        linked = False
    os.unlink(temp)
    return linked


def save(folder: str, temp_name: str, final: str, data: Buffer) -> bool:
    """``data``, whole, as ``final`` through ``folder/temp_name``: whether it was stored
    (False: ``final`` was there already). No temp file is left, whatever is raised."""
    temp = os.path.join(folder, temp_name)
    fd = create(temp, folder)
    try:
        try:
            write_all(fd, data)
        finally:
            close(fd)
        return link_into_place(temp, final)
    except BaseException:
        discard(temp)
        raise


class TempFile:
    """A temp file written in pieces and hashed as they come, then linked or discarded.

    ``size`` and ``hasher`` cover every byte written. Use ``link`` once the bytes are
    complete (the final name may depend on ``hasher``), or ``discard``; both close it.
    """

    __slots__ = ("fd", "hasher", "path", "size")

    def __init__(self, folder: str, name: str) -> None:
        self.path = os.path.join(folder, name)
        self.fd: int | None = create(self.path, folder)
        self.hasher = hashlib.sha256()
        self.size = 0

    def write(self, data: Buffer) -> None:
        assert self.fd is not None, "written after it was closed"
        write_all(self.fd, data)
        self.hasher.update(data)
        self.size += len(data)

    def close(self) -> None:
        if self.fd is not None:
            fd, self.fd = self.fd, None
            close(fd)

    def link(self, final: str) -> bool:
        """Close and link to ``final`` (see :func:`link_into_place`); the temp name is
        removed even if the link fails."""
        self.close()
        try:
            return link_into_place(self.path, final)
        except BaseException:
            discard(self.path)
            raise

    def discard(self) -> None:
        """Close and remove, keeping nothing."""
        self.close()
        discard(self.path)


class TempNames:
    """Temp tokens unique per process (a random prefix) and per file (a counter), without
    a uuid4 (one ``getrandom`` system call) per file, for writers of many files."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self._prefix = uuid.uuid4().hex[:16]
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"

"""Advisory locks on hour directories, so that retiring an hour never races serving it.

A restreamer holds a shared ``flock`` on ``BASE/CH/Q/HOUR`` from opening a segment
until its response is finished; the janitor takes the exclusive lock (without
waiting) before deleting the hour, and skips the hour when it cannot. While the
janitor holds it, a restreamer asking for that hour answers 404 at once instead
of waiting. The locks are the kernel's, so they work across processes and
between greenlets of one process alike, and vanish with a process that dies.
"""

import errno
import fcntl
import os
import posix

# The C close, even where gevent has patched os.close: gevent's checks the fd and
# asks the event loop about it (several system calls), and a directory fd taken
# here is never watched by the loop. A restreamer takes one per segment it serves.
_close = posix.close

__all__ = ["HourRetiring", "release", "retire_lock", "serve_lock"]

_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class HourRetiring(Exception):
    """The hour directory is being deleted by the janitor."""


def _lock(hour_dir: str, operation: int) -> int | None:
    try:
        fd = os.open(hour_dir, _FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except OSError as exc:
        _close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise HourRetiring(hour_dir) from None
        raise
    return fd


def serve_lock(hour_dir: str) -> int | None:
    """A shared lock on ``hour_dir`` as an fd to :func:`release`; None if it does not exist.

    Raises HourRetiring when the janitor holds the hour.
    """
    return _lock(hour_dir, fcntl.LOCK_SH)


def retire_lock(hour_dir: str) -> int | None:
    """The exclusive lock on ``hour_dir``, or None if it does not exist.

    Raises HourRetiring when a restreamer is serving from the hour (or another
    janitor is retiring it).
    """
    return _lock(hour_dir, fcntl.LOCK_EX)


def release(fd: int | None) -> None:
    """Drop a lock taken above (closing its fd)."""
    if fd is not None:
        _close(fd)

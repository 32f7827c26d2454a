"""Checks on everything a client sends, done before any of it reaches the filesystem.

Each checker returns the parsed value or raises :class:`BadRequest` (400) with a
one-line reason showing the bad value. Path parts are checked by their text
alone, so no request can name a file outside ``BASE``: a part that could
climb (``..``), hide (leading ``.``), split (``/``, ``\\``) or truncate (NUL)
a path never gets as far as ``os.path.join``.

:func:`archive_path` is the one place a route turns names into a path under
BASE, and :func:`not_found_for` the one place an ``OSError`` the OS raised for
such a path (a name it cannot hold, a component that is a file, a symlink
loop) becomes a 404 instead of a 500 with a traceback.
"""

import datetime as dt
import errno
import logging
import os

from werkzeug.exceptions import BadRequest, NotFound

import fastseg
from fastseg import hour_start
from services.archive import names, times

logger = logging.getLogger(__name__)

__all__ = [
    "NAME_ERRNOS",
    "BadRequest",
    "archive_path",
    "check_bool",
    "check_hour",
    "check_part",
    "check_range",
    "check_segment_name",
    "not_found_for",
    "parse_time",
]

# The archive cannot hold video from before this or from the far future; such a
# time is a typo, and would make get_best_segments walk centuries of hours.
EARLIEST = dt.datetime(2000, 1, 1)
LATEST = dt.datetime(2200, 1, 1)


def check_part(value: str, what: str) -> str:
    """A channel or quality name: one plain directory name under BASE."""
    try:
        return names.check_name(value, what)
    except names.UnsafeName as exc:
        raise BadRequest(f"{exc}; give a {what} name that /files lists") from None


def archive_path(base_dir: str, channel: str, quality: str | None = None,
                 hour: str | None = None) -> str:  # fmt: skip
    """``BASE/CH[/Q[/HOUR]]`` after checking each name (400 naming the bad one)."""
    parts = [check_part(channel, "channel")]
    if quality is not None:
        parts.append(check_part(quality, "quality"))
    if hour is not None:
        check_hour(hour)
        parts.append(hour)
    # Each part is one checked name, so plain joining is os.path.join's answer.
    return "/".join([base_dir, *parts])


#: What the OS answers when a path of checked names leads nowhere: the request's
#: fault, not the node's (a component that is a file, a name the filesystem cannot
#: hold, a symlink loop, bytes it refuses).
NAME_ERRNOS = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.ENAMETOOLONG, errno.ELOOP, errno.EILSEQ}
)


def not_found_for(exc: OSError, base_dir: str) -> NotFound | None:
    """The 404 for ``exc`` if a request's names caused it, else None (a fault to log).

    Only errors about a path under BASE count: ffmpeg missing or a full disk
    elsewhere stay 500s, which the operator must see.
    """
    path = exc.filename
    if exc.errno not in NAME_ERRNOS or not isinstance(path, str):
        return None
    if os.path.commonpath([base_dir, os.path.abspath(path)]) != base_dir:
        return None
    shown = os.path.relpath(path, base_dir)
    shown = f"{shown[:80]!r}..." if len(shown) > 80 else repr(shown)
    return NotFound(f"no {shown} in the archive ({os.strerror(exc.errno)}): see /files")


def check_hour(value: str) -> dt.datetime:
    """An hour directory name, ``%Y-%m-%dT%H``; returns its start."""
    start = hour_start(value)
    if start is None:
        raise BadRequest(f"hour {value[:80]!r} is not YYYY-MM-DDTHH, e.g. 2026-11-27T17")
    return start


def check_segment_name(value: str) -> fastseg.SegmentInfo:
    """A segment file name (docs/DESIGN.md#segment-names); ``.tombstone`` is not served."""
    check_part(value, "segment")
    try:
        return fastseg.parse_segment_path(value)
    except fastseg.SegmentPathError as exc:
        raise BadRequest(f"segment {value[:120]!r}: {exc.reason}") from exc


def parse_time(value: str | None, what: str) -> dt.datetime | None:
    """A query time as a naive UTC datetime; None if the parameter is absent or empty."""
    if value is None or value == "":
        return None
    try:
        # UTC ISO 8601, seconds required, 1-6 digits of fraction, optional Z
        when = times.parse_strict(value)
    except ValueError as exc:
        raise BadRequest(f"{what}: {exc}") from exc
    if not EARLIEST <= when < LATEST:
        raise BadRequest(
            f"{what} {value!r} is outside {EARLIEST:%Y} to {LATEST:%Y}: check the year"
        )
    return when


def check_range(
    start: dt.datetime, end: dt.datetime, max_length: dt.timedelta
) -> tuple[dt.datetime, dt.datetime]:
    """``start <= end`` and the range no longer than ``max_length``."""
    if end < start:
        raise BadRequest(f"end {end.isoformat()} is before start {start.isoformat()}: swap them")
    if end - start > max_length:
        raise BadRequest(
            f"range {start.isoformat()} to {end.isoformat()} is {end - start}, "
            f"longer than the {max_length} allowed: ask for a shorter range"
        )
    return start, end


def check_bool(value: str | None, what: str, default: bool = False) -> bool:
    """``true``/``false`` (also 1/0, yes/no); absent or empty gives ``default``."""
    if value is None or value == "":
        return default
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise BadRequest(f"{what} {value[:40]!r} is not true or false")

"""fastseg: name, parse and choose HLS segment files, fast.

Segments live at ``BASE/CHANNEL/QUALITY/HOUR/NAME`` (docs/DESIGN.md#storage-format). This module
is the public API and the only place that chooses between the two twins that
implement the hot paths: the compiled one (``_segments_c``, Cython) and the pure
one (``_segments_py``). ``FASTSEG_PURE=1`` forces the pure twin;
``fastseg.IMPLEMENTATION`` says which one loaded.
"""

import datetime as _dt
import os
import typing

from fastseg._common import (
    FUDGE,
    SEGMENT_TYPES,
    ContainsHoles,
    SegmentInfo,
    SegmentPathError,
    content_id,
    hour_name,
    hour_start,
    segment_name,
)
from profiling import timed

if typing.TYPE_CHECKING or os.environ.get("FASTSEG_PURE") == "1":
    from fastseg import _segments_py as _impl
else:
    try:
        from fastseg import _segments_c as _impl
    except ImportError:  # not built (no compiler, or FASTSEG_PURE=1 at build time)
        from fastseg import _segments_py as _impl

IMPLEMENTATION = "pure" if _impl.__name__.endswith("_py") else "compiled"

# The walk reads the hour before start and the hour of end: keep both representable.
_FIRST_HOUR = _dt.datetime(1, 1, 1, 1)
_LAST_HOUR = _dt.datetime(9999, 12, 31, 23)

__all__ = [
    "FUDGE",
    "IMPLEMENTATION",
    "SEGMENT_TYPES",
    "ContainsHoles",
    "SegmentInfo",
    "SegmentPathError",
    "best_segments_by_start",
    "cache_info",
    "clear_cache",
    "content_id",
    "get_best_segments",
    "hour_name",
    "hour_start",
    "list_segment_files",
    "parse_segment_path",
    "segment_name",
    "set_cache_size",
]


def parse_segment_path(path: str) -> SegmentInfo:
    """Parse ``[[[CHANNEL/]QUALITY/]HOUR/]NAME`` (any leading directories are fine).

    Parts the path does not reach are None; ``start`` is None without an hour.
    Raises SegmentPathError (a ValueError) naming the path and what is wrong.
    """
    return _impl.parse_segment_path(path)


def list_segment_files(hour_path: str, include_tombstones: bool = False) -> list[str]:
    """The segment names in an hour directory, sorted; a missing directory is empty.

    Hidden names (leading ``.``) and names not ending in ``.ts`` are left out.
    Without ``include_tombstones`` a segment with a ``NAME.tombstone`` beside it
    is left out too; with it, every ``.ts`` name and every tombstone is listed.
    Names are not parsed: callers that need to, skip the ones that do not parse.
    """
    try:
        names = os.listdir(hour_path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    names = [n for n in names if not n.startswith(".")]
    tombstones = [n for n in names if n.endswith(".tombstone")]
    segments = [n for n in names if n.endswith(".ts")]
    if include_tombstones:
        segments += tombstones
    elif tombstones:
        hidden = {n[: -len(".tombstone")] for n in tombstones}
        segments = [n for n in segments if n not in hidden]
    segments.sort()
    return segments


def best_segments_by_start(hour_path: str) -> list[SegmentInfo]:
    """The best segment for each start time in one hour directory, in start order.

    The result is cached until the directory changes; treat it as read-only.
    Temp files are never chosen, tombstoned and hidden ones never seen, and a
    name that does not parse is logged once and skipped. A missing directory is
    an empty hour. Raises ValueError if the last part of the path is not an hour.
    """
    return _impl.best_segments_by_start(os.fspath(hour_path))


def _hours_label(part: int):
    """A label from BASE/CH/Q: the channel (part -2) or quality (-1) being selected."""

    def label(result, hours_path, *args, **kwargs):
        return os.fspath(hours_path).rstrip("/").split("/")[part]

    return label


@timed(
    "get_best_segments",
    channel=_hours_label(-2),
    quality=_hours_label(-1),
    holes=lambda result, *args, **kwargs: None in result,
    normalize=lambda result, *args, **kwargs: len(result),
)
def get_best_segments(
    hours_path: str,
    start: _dt.datetime,
    end: _dt.datetime,
    allow_holes: bool = True,
) -> list[SegmentInfo | None]:
    """The best run of segments covering ``[start, end)`` under ``BASE/CH/Q``.

    Times are naive UTC. ``None`` in the list marks a hole; neighbours with no
    ``None`` between them join within 10 ms. The first segment may start before
    ``start`` and the last end after ``end``. ``start == end`` gives the segment
    covering that instant. Yields to gevent between hours.

    Raises ValueError if ``start > end`` or a time is not a naive datetime, and
    ContainsHoles at the first hole when ``allow_holes`` is false.
    """
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, _dt.datetime) or value.tzinfo is not None:
            raise ValueError(f"{name} must be a naive UTC datetime, got {value!r}")
        if not _FIRST_HOUR <= value < _LAST_HOUR:
            raise ValueError(f"{name} {value.isoformat()} is outside the years 1-9999")
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")
    return _impl.get_best_segments(os.fspath(hours_path), start, end, bool(allow_holes))


def set_cache_size(hours: int) -> None:
    """Keep at most this many hours' choices cached (default 256, least recently used go)."""
    if not isinstance(hours, int) or hours < 0:
        raise ValueError(f"cache size must be a whole number of hours >= 0, got {hours!r}")
    _impl.set_cache_size(hours)


def cache_info() -> list[tuple[str, bool]]:
    """The cached hours, least recently used first, each with whether its mtime is trusted.

    An untrusted entry (its directory changed too recently to rule out a change
    within the same timestamp tick) is read again on its next use.
    """
    return _impl.cache_info()


def clear_cache() -> None:
    """Forget every cached hour (the next selection reads the directories again)."""
    _impl.clear_cache()

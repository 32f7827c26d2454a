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
from array import array as _array
from collections.abc import Callable

from fastseg._common import (
    DEFAULT_CACHE_HOURS,
    FUDGE,
    RACY_NS,
    SEGMENT_TYPES,
    ContainsHoles,
    HourCoverage,
    SegmentInfo,
    SegmentPathError,
    Span,
    content_id,
    hour_name,
    hour_start,
    merge_spans,
    segment_name,
    tombstone_path,
    tombstoned_name,
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

# Shared by both twins (from ``_common``, which each imports): the cache's default
# size, the racy-mtime rule and the span arithmetic that coverage maps build on.
__all__ = [
    "DEFAULT_CACHE_HOURS",
    "FUDGE",
    "IMPLEMENTATION",
    "RACY_NS",
    "SEGMENT_TYPES",
    "ContainsHoles",
    "HourCoverage",
    "SegmentInfo",
    "SegmentPathError",
    "Span",
    "best_segments_by_start",
    "cache_info",
    "clear_cache",
    "content_id",
    "get_best_segments",
    "hour_coverage",
    "hour_name",
    "hour_start",
    "list_segment_files",
    "merge_spans",
    "parse_segment_path",
    "playlist_entries",
    "segment_name",
    "set_cache_size",
    "tombstone_path",
    "tombstoned_name",
]


def parse_segment_path(path: str) -> SegmentInfo:
    """Parse ``[[[CHANNEL/]QUALITY/]HOUR/]NAME`` (any leading directories are fine).

    Parts the path does not reach are None; ``start`` is None without an hour.
    Raises SegmentPathError (a ValueError) naming the path and what is wrong.
    """
    return _impl.parse_segment_path(path)


def list_segment_files(hour_path: str, include_tombstones: bool = False) -> list[str]:
    """The segment names in an hour directory, sorted; a missing directory is empty.

    Hidden names (leading ``.``) and names not ending in ``.ts`` are left out, and
    so is every ``STEM.ts`` with a ``STEM.tombstone`` beside it (see
    :func:`tombstone_path`). With ``include_tombstones`` the tombstones are listed
    too (never the segments they hide), which is how peers copy them. Names are
    not parsed: callers that need to, skip the ones that do not parse.
    """
    try:
        names = os.listdir(hour_path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    tombstones = [n for n in names if tombstoned_name(n) is not None]
    hidden = {tombstoned_name(n) for n in tombstones}
    listed = [n for n in names if n.endswith(".ts") and n not in hidden]
    if include_tombstones:
        listed += tombstones
    listed = [n for n in listed if not n.startswith(".")]
    listed.sort()
    return listed


def best_segments_by_start(hour_path: str | os.PathLike[str]) -> list[SegmentInfo]:
    """The best segment for each start time in one hour directory, in start order.

    The choice is cached until the directory changes; each call returns a new list.
    Temp files are never chosen, tombstoned and hidden ones never seen, and a
    name that does not parse is logged once and skipped. A missing directory is
    an empty hour. Raises ValueError if the last part of the path is not an hour.
    """
    return _impl.best_segments_by_start(hour_path)


def hour_coverage(hour_path: str | os.PathLike[str]) -> HourCoverage:
    """What one hour directory's best segments cover: merged spans of full and of other ones.

    The same choice as :func:`best_segments_by_start` (and the same cache),
    reduced to where ``full`` segments play and where only ``partial`` or
    ``suspect`` ones do, in microseconds from the hour's start, plus how many
    segments there are and how many are full: what a coverage map needs, without
    a ``SegmentInfo`` per segment (the compiled twin builds none). Yields to
    gevent while it reads an hour that is not cached. A missing directory is an
    empty hour. Raises ValueError if the last part of the path is not an hour.
    """
    return _impl.hour_coverage(hour_path)


def _hours_label(part: int) -> Callable[..., str]:
    """A label from BASE/CH/Q: the channel (part -2) or quality (-1) being selected."""

    def label(
        result: object, hours_path: str | os.PathLike[str], *args: object, **kwargs: object
    ) -> str:
        return os.fspath(hours_path).rstrip("/").split("/")[part]

    return label


@timed(
    "fastseg_library_get_best_segments",
    channel=_hours_label(-2),
    quality=_hours_label(-1),
    holes=lambda result, *args, **kwargs: None in result,
    normalize=lambda result, *args, **kwargs: len(result),
)
def get_best_segments(
    hours_path: str | os.PathLike[str],
    start: _dt.datetime,
    end: _dt.datetime,
    allow_holes: bool = True,
) -> list[SegmentInfo | None]:
    """The best run of segments covering ``[start, end)`` under ``BASE/CH/Q``.

    Times are naive UTC. ``None`` in the list marks a hole; neighbours with no
    ``None`` between them join within 10 ms. The first segment may start before
    ``start`` and the last end after ``end``. ``start == end`` gives the segment
    covering that instant. Yields to gevent between hours, and every few hundred
    directory entries while it reads an hour that is not cached.

    Raises ValueError if ``start > end`` or a time is not a naive datetime, and
    ContainsHoles at the first hole when ``allow_holes`` is false.
    """
    return _impl.get_best_segments(hours_path, start, end, bool(allow_holes))


def playlist_entries(
    segments: list[SegmentInfo], url: str
) -> tuple[bytes, "_array[int]", "_array[float]"]:  # quoted: array is generic from 3.12
    """The HLS lines of ``segments``: PROGRAM-DATE-TIME, EXTINF and ``url`` + name each.

    Returns the text as ASCII bytes, where each segment's lines start in it (an
    ``array('q')``, one offset more than segments: the last is the length) and
    each one's duration in seconds (an ``array('d')``). Dates and durations are
    sliced out of the names as they are written, so an hour of entries costs no
    datetime formatting, and the arrays hold no Python object per segment.
    Raises ValueError if ``url`` is not ASCII text.
    """
    return _impl.playlist_entries(segments, url)


def set_cache_size(hours: int) -> None:
    """Keep at most this many hours' choices cached (default 512, least recently used go)."""
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

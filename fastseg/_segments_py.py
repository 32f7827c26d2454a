"""The pure-Python twin: the reference behaviour of parsing and choosing segments.

The compiled twin (``_segments_c.pyx``) must give exactly the same results and
raise the same errors; ``tests/fastseg`` runs every case on both. Each twin
checks its own arguments (with the checks in ``_common``), so either is safe to
call directly; callers use the public functions in ``fastseg/__init__.py``.
"""

import datetime as _dt
import logging
import os
import re
import time
from array import array
from itertools import accumulate

import gevent

from fastseg._common import (
    DEFAULT_CACHE_HOURS,
    FUDGE,
    PROGRAM_DATE_TIME,
    RACY_NS,
    ContainsHoles,
    HourCoverage,
    SegmentInfo,
    SegmentPathError,
    Span,
    ascii_url,
    check_cache_size,
    check_times,
    describe_bad_path,
    hour_name,
    hour_start,
    log_bad_name,
    merge_spans,
    playlist_entry,
    str_path,
    tombstoned_name,
)

logger = logging.getLogger(__name__)

__all__ = [
    "best_segments_by_start",
    "cache_info",
    "clear_cache",
    "get_best_segments",
    "hour_coverage",
    "parse_segment_path",
    "set_cache_size",
    "playlist_entries",
]

_NAME = re.compile(
    r"([0-5][0-9]):([0-5][0-9])(?:\.([0-9]{1,6}))?"  # MM:SS.ffffff within the hour
    r"-([0-9]{1,9})(?:\.([0-9]+))?"  # duration in seconds
    r"-(full|suspect|partial|temp)"
    r"-([A-Za-z0-9_-]{1,64})\.ts"  # the hash, or a temp file's uuid
)
_HASH = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")  # 256 bits: the last 2 are zero
_ONE_HOUR = _dt.timedelta(hours=1)
_ONE_US = _dt.timedelta(microseconds=1)
_TYPE_RANK = {"full": 0, "suspect": 1, "partial": 2}
_YIELD_EVERY = 64  # names parsed between two yields while reading a cold hour (~2 ms)

_durations: dict[int, _dt.timedelta] = {}  # shared timedelta per microsecond count
_hours: dict[str, _dt.datetime | None] = {}  # hour directory name -> its start


def _duration(us: int) -> _dt.timedelta:
    td = _durations.get(us)
    if td is None:
        if len(_durations) > 100_000:
            _durations.clear()
        td = _durations[us] = _dt.timedelta(microseconds=us)
    return td


def _micros(whole: str, frac: str | None) -> int:
    """Seconds as text to microseconds, rounding half up past the sixth decimal."""
    us = int(whole) * 1_000_000
    if frac:
        us += int(frac[:6].ljust(6, "0"))
        if len(frac) > 6 and frac[6] >= "5":
            us += 1
    return us


def _hour(text: str) -> _dt.datetime | None:
    try:
        return _hours[text]
    except KeyError:
        if len(_hours) > 10_000:
            _hours.clear()
        start = _hours[text] = hour_start(text)
        return start


def _parse_name(
    path: str,
    hour_path: str,
    name: str,
    channel: str | None,
    quality: str | None,
    hour: _dt.datetime | None,
) -> SegmentInfo:
    m = _NAME.fullmatch(name)
    if m is None:
        raise SegmentPathError(path, describe_bad_path(path))
    mm, ss, frac, dur_whole, dur_frac, type_, ident = m.groups()
    if type_ != "temp" and not _HASH.fullmatch(ident):
        raise SegmentPathError(path, describe_bad_path(path))
    start = None
    if hour is not None:
        start = hour.replace(
            minute=int(mm), second=int(ss), microsecond=int(frac.ljust(6, "0")) if frac else 0
        )
    duration = _duration(_micros(dur_whole, dur_frac))
    return tuple.__new__(SegmentInfo, (hour_path, name, channel, quality, start, duration, type_))


def _path_parts(path: str) -> tuple[str, str | None, str | None, _dt.datetime | None]:
    """Split the directory part of a path into (hour_path, channel, quality, hour start)."""
    hour_path = path.rpartition("/")[0]
    parts = path.split("/")
    if len(parts) < 2:
        return hour_path, None, None, None
    hour = _hour(parts[-2])
    if hour is None:
        raise SegmentPathError(path, describe_bad_path(path))
    quality = parts[-3] or None if len(parts) >= 3 else None
    channel = parts[-4] or None if len(parts) >= 4 else None
    return hour_path, channel, quality, hour


def parse_segment_path(path: str) -> SegmentInfo:
    if not isinstance(path, str):
        raise SegmentPathError(path, describe_bad_path(path))
    name = path.rpartition("/")[2]
    m = _NAME.fullmatch(name)
    if m is None:  # check the name before the directories, as describe_bad_path does
        raise SegmentPathError(path, describe_bad_path(path))
    hour_path, channel, quality, hour = _path_parts(path)
    return _parse_name(path, hour_path, name, channel, quality, hour)


# ---------------------------------------------------------------------------
# One hour: read, choose the best segment per start, cache until it changes.


class _Hour:
    __slots__ = ("key", "trusted", "segments")

    def __init__(self, key: tuple[int, int], trusted: bool, segments: list[SegmentInfo]):
        self.key = key  # (st_ino, st_mtime_ns) of the directory when it was read
        self.trusted = trusted
        self.segments = segments


_cache: dict[str, _Hour] = {}
_cache_size = DEFAULT_CACHE_HOURS


def set_cache_size(hours: int) -> None:
    global _cache_size
    _cache_size = check_cache_size(hours)
    while len(_cache) > _cache_size:
        del _cache[next(iter(_cache))]


def clear_cache() -> None:
    _cache.clear()


def cache_info() -> list[tuple[str, bool]]:
    return [(path, entry.trusted) for path, entry in _cache.items()]


def _size(segment: SegmentInfo) -> int:
    try:
        return os.stat(segment.path).st_size
    except OSError:
        return -1  # vanished since the listing: the least attractive copy


def _best(group: list[SegmentInfo]) -> SegmentInfo:
    """The best of several copies of a start time (docs/DESIGN.md#best-copy-of-a-start-time)."""
    if len(group) == 1:
        return group[0]
    rank = min(_TYPE_RANK[s[6]] for s in group)
    group = [s for s in group if _TYPE_RANK[s[6]] == rank]
    if len(group) == 1:
        return group[0]
    if rank == 0:
        longest = max(s[5] for s in group)
        group = [s for s in group if s[5] == longest]
        if len(group) == 1:
            return group[0]
        # equal hashes too: "2" and "2.0" write one duration two ways
        return max(group, key=lambda s: (_size(s), s.hash, s[1]))
    return min(group, key=lambda s: (-_size(s), s[1]))  # equal sizes: the first name, as wubloader


def _read_hour(
    hour_path: str,
    channel: str | None,
    quality: str | None,
    hour: _dt.datetime,
    yielding: bool = False,
) -> list[SegmentInfo]:
    """Read and choose one hour; with ``yielding``, yield to gevent every few hundred names."""
    try:
        names = os.listdir(hour_path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    tombstoned = {tombstoned_name(n) for n in names if n.endswith(".tombstone")}
    by_start: dict[_dt.datetime, list[SegmentInfo]] = {}
    for i, name in enumerate(names):
        if yielding and i and i % _YIELD_EVERY == 0:
            gevent.idle()  # a long directory must not stall the other greenlets
        if name.startswith(".") or name.endswith(".tombstone") or name in tombstoned:
            continue
        path = f"{hour_path}/{name}"
        try:
            segment = _parse_name(path, hour_path, name, channel, quality, hour)
        except SegmentPathError:
            log_bad_name(path)
            continue
        if segment[6] == "temp":
            continue
        start = segment[4]
        assert start is not None  # parsed under an hour: it has a start
        group = by_start.get(start)
        if group is None:
            by_start[start] = [segment]
        else:
            group.append(segment)
    return [_best(by_start[start]) for start in sorted(by_start)]


def best_segments_by_start(hour_path: str | os.PathLike[str]) -> list[SegmentInfo]:
    return list(_hour_segments(str_path(hour_path, "hour_path")))


def hour_coverage(hour_path: str | os.PathLike[str]) -> HourCoverage:
    segments = _hour_segments(str_path(hour_path, "hour_path"), yielding=True)
    full: list[Span] = []
    partial: list[Span] = []
    for seg in segments:
        start = seg[4]
        assert start is not None  # read from an hour directory: it has a start
        a = (start.minute * 60 + start.second) * 1_000_000 + start.microsecond
        (full if seg[6] == "full" else partial).append((a, a + seg[5] // _ONE_US))
    return HourCoverage(
        tuple(merge_spans(full)), tuple(merge_spans(partial)), len(segments), len(full)
    )


def _hour_segments(hour_path: str, yielding: bool = False) -> list[SegmentInfo]:
    """The cached choice of one hour (shared: callers copy it before handing it out)."""
    hour_path = hour_path.rstrip("/") or "/"
    parts = hour_path.split("/")
    hour = _hour(parts[-1])
    if hour is None:
        raise ValueError(f"{hour_path!r} is not an hour directory (…/YYYY-MM-DDTHH)")
    try:
        st = os.stat(hour_path)
    except (FileNotFoundError, NotADirectoryError):
        _cache.pop(hour_path, None)
        return []
    key = (st.st_ino, st.st_mtime_ns)
    entry = _cache.get(hour_path)
    if entry is not None and entry.trusted and entry.key == key:
        _cache[hour_path] = _cache.pop(hour_path)  # most recently used goes last
        return entry.segments
    began = time.time_ns()
    quality = parts[-2] or None if len(parts) >= 2 else None
    channel = parts[-3] or None if len(parts) >= 3 else None
    segments = _read_hour(hour_path, channel, quality, hour, yielding)
    _cache.pop(hour_path, None)
    _cache[hour_path] = _Hour(key, st.st_mtime_ns + RACY_NS < began, segments)
    if len(_cache) > _cache_size:
        del _cache[next(iter(_cache))]
    return segments


# ---------------------------------------------------------------------------
# A range: walk the hours, join the best segments, mark the holes.


def _raise_if_hole_before(
    next_hour: _dt.datetime, start: _dt.datetime, prev: SegmentInfo | None
) -> None:
    """Fail before reading the next hour if a hole before it is already certain.

    Every segment in the hours still unread starts at ``next_hour`` or later, so
    a partial last segment, or coverage ending short of ``next_hour``, is a hole.
    """
    if prev is None:
        if next_hour > start + FUDGE:
            raise ContainsHoles(start, next_hour)
        return
    prev_start = prev[4]
    assert prev_start is not None  # read from an hour directory: it has a start
    if prev[6] != "full":
        raise ContainsHoles(prev_start, next_hour)
    if prev_start + prev[5] + FUDGE < next_hour:
        raise ContainsHoles(prev_start + prev[5], next_hour)


def get_best_segments(
    hours_path: str | os.PathLike[str],
    start: _dt.datetime,
    end: _dt.datetime,
    allow_holes: bool = True,
) -> list[SegmentInfo | None]:
    hours_path = str_path(hours_path, "hours_path")
    check_times(start, end)
    result: list[SegmentInfo | None] = []
    prev: SegmentInfo | None = None  # the last segment taken (from prev_start to prev_end)
    hour = start.replace(minute=0, second=0, microsecond=0) - _ONE_HOUR
    hours_path = hours_path.rstrip("/")
    first_hour = True
    while hour <= end:
        if not first_hour:
            gevent.idle()  # a long range must not stall the other greenlets
        first_hour = False
        for seg in _hour_segments(f"{hours_path}/{hour_name(hour)}", yielding=True):
            seg_start = seg[4]
            assert seg_start is not None  # read from an hour directory: it has a start
            seg_end = seg_start + seg[5]
            if seg_start >= end and (prev is not None or seg_start > start):
                break  # past the range: done
            if prev is None:
                if seg_end <= start:
                    continue  # before the range
                if seg_start > start + FUDGE:
                    if not allow_holes:
                        raise ContainsHoles(start, seg_start)
                    result.append(None)
                result.append(seg)
                prev, prev_start, prev_end = seg, seg_start, seg_end
                continue
            gap = seg_start - prev_end
            if gap < -FUDGE:
                logger.info("skipping %r: it overlaps the end of %r", seg.path, prev.path)
                continue
            if prev[6] != "full" or gap > FUDGE:
                if not allow_holes:
                    raise ContainsHoles(prev_end if gap > FUDGE else prev_start, seg_start)
                result.append(None)
            result.append(seg)
            prev, prev_start, prev_end = seg, seg_start, seg_end
        else:
            hour += _ONE_HOUR
            if not allow_holes and hour <= end:
                _raise_if_hole_before(hour, start, prev)
            continue
        break
    if prev is None:
        if not allow_holes:
            raise ContainsHoles(start, end)
        return [None]
    if prev[6] != "full" or prev_end + FUDGE < end:
        if not allow_holes:
            raise ContainsHoles(prev_end if prev[6] == "full" else prev_start, end)
        result.append(None)
    return result


# ---------------------------------------------------------------------------
# Playlist entries: segments as HLS lines, sliced out of their names.


def playlist_entries(
    segments: list[SegmentInfo], url: str
) -> tuple[bytes, "array[int]", "array[float]"]:  # quoted: array is generic from 3.12
    """The segments' HLS lines as ASCII bytes, where each one's lines start, and durations.

    Each segment gets ``#EXT-X-PROGRAM-DATE-TIME``, ``#EXTINF`` and ``url`` + its
    name, each line newline-ended. The offsets (``array('q')``) are one more than
    the segments (the last is the length); durations (``array('d')``) are in seconds.
    """
    ascii_url(url)
    entries: list[str] = []
    append = entries.append
    hour_path = dated = None
    for segment in segments:
        if not isinstance(segment, SegmentInfo):
            raise TypeError(f"expected a SegmentInfo, got {type(segment).__name__} {segment!r}")
        name = segment[1]
        dash = name.find("-", 13) if name[5:6] == "." and name[12:13] == "-" else -1
        if dash < 0:
            append(playlist_entry(segment, url))
            continue
        if segment[0] is not hour_path:
            hour_path = segment[0]
            dated = f"{PROGRAM_DATE_TIME}{hour_path[hour_path.rfind('/') + 1 :]}:"
        append(f"{dated}{name[:12]}Z\n#EXTINF:{name[13:dash]},\n{url}{name}\n")
    data = "".join(entries).encode("ascii")
    offsets = array("q", [0, *accumulate(map(len, entries))])  # ASCII: one byte a character
    return data, offsets, array("d", [segment[5].total_seconds() for segment in segments])

"""How much of each hour an archive holds, from segment names alone (no file is opened).

Each hour directory is reduced by fastseg itself (``fastseg.hour_coverage``: the
selection's choice, tombstones hidden, temp files skipped, one best segment per
start) to a few spans: where complete (``full``) segments play, where only
partial or suspect ones do; the compiled twin does it from its cached arrays,
without building an object per segment. The reduction is also cached here per
hour, keyed by the directory's inode and mtime and trusted by the same rule as
fastseg's selection cache, so a map of a week is a few hundred ``stat`` calls
once its hours have been read, even past fastseg's cache. Gaps of up to
``fastseg.FUDGE`` are jitter, not holes.
"""

import datetime as dt
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

import gevent

import fastseg
from fastseg import RACY_NS, Span, merge_spans

logger = logging.getLogger(__name__)

__all__ = [
    "Cell",
    "QualitySummary",
    "cell_coverage",
    "clear_cache",
    "hours_present",
    "quality_cells",
    "summarise",
]

ONE_US = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)
HOUR_US = 3600 * 1_000_000
FUDGE_US = fastseg.FUDGE // ONE_US
CACHE_HOURS = 20_000  # a reduced hour is a few small tuples

_cache: "OrderedDict[str, tuple[tuple[int, int], bool, fastseg.HourCoverage]]" = OrderedDict()
_EMPTY = fastseg.HourCoverage((), (), 0, 0)


def clear_cache() -> None:
    """Forget every reduced hour (the next map reads the directories again)."""
    _cache.clear()


def _subtract(spans: list[Span], cut: list[Span]) -> list[Span]:
    """``spans`` minus ``cut`` (both sorted and merged); slivers within FUDGE dropped."""
    out = []
    for a, b in spans:
        for c, d in cut:
            if d <= a or c >= b:
                continue
            if c - a > FUDGE_US:
                out.append((a, c))
            a = max(a, d)
            if a >= b:
                break
        if b - a > FUDGE_US:
            out.append((a, b))
    return out


def _clip(spans: Iterable[Span], lo: int, hi: int, shift: int = 0) -> list[Span]:
    return [(max(a + shift, lo), min(b + shift, hi)) for a, b in spans
            if a + shift < hi and b + shift > lo]  # fmt: skip


def _hour_spans(hours_path: str, hour: dt.datetime) -> fastseg.HourCoverage:
    """One hour directory, reduced; from the cache while the directory is unchanged."""
    path = f"{hours_path}/{fastseg.hour_name(hour)}"
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        _cache.pop(path, None)
        return _EMPTY
    key = (st.st_ino, st.st_mtime_ns)
    entry = _cache.get(path)
    if entry is not None and entry[1] and entry[0] == key:
        _cache.move_to_end(path)
        return entry[2]
    began = time.time_ns()
    spans = fastseg.hour_coverage(path)
    gevent.idle()  # a cold week is hundreds of directory reads: let other greenlets run
    # A directory changed within the timestamp tick before the read may change
    # again unseen: such an hour is read again next time, as fastseg does.
    _cache[path] = (key, st.st_mtime_ns + RACY_NS < began, spans)
    _cache.move_to_end(path)
    while len(_cache) > CACHE_HOURS:
        _cache.popitem(last=False)
    return spans


@dataclass(frozen=True)
class Cell:
    """One hour of one quality: where complete video, partial video and holes are."""

    quality: str
    hour: dt.datetime
    full: tuple[Span, ...]  # microseconds from the hour's start
    partial: tuple[Span, ...]  # partial or suspect video only, no complete copy
    holes: tuple[Span, ...]
    segments: int  # segments starting in this hour
    complete: int

    @property
    def full_seconds(self) -> float:
        return sum(b - a for a, b in self.full) / 1e6

    @property
    def partial_seconds(self) -> float:
        return sum(b - a for a, b in self.partial) / 1e6

    @property
    def hole_seconds(self) -> float:
        return sum(b - a for a, b in self.holes) / 1e6

    def at(self, us: int) -> dt.datetime:
        return self.hour + us * ONE_US


def cell_coverage(
    quality: str, hour: dt.datetime, before: fastseg.HourCoverage, own: fastseg.HourCoverage
) -> Cell:
    """An hour's cell from its own segments and those of the hour before that run into it."""
    full = merge_spans(_clip(before.full, 0, HOUR_US, -HOUR_US) + _clip(own.full, 0, HOUR_US))
    partial = merge_spans(
        _clip(before.partial, 0, HOUR_US, -HOUR_US) + _clip(own.partial, 0, HOUR_US)
    )
    partial = _subtract(partial, full)
    holes = _subtract([(0, HOUR_US)], merge_spans(full + partial))
    return Cell(quality, hour, tuple(full), tuple(partial), tuple(holes),
                own.segments, own.complete)  # fmt: skip


def quality_cells(
    hours_path: str, quality: str, first: dt.datetime, last: dt.datetime
) -> list[Cell]:
    """One cell per hour from ``first`` to ``last`` (hour starts, inclusive)."""
    hours_path = hours_path.rstrip("/")
    cells = []
    before = _hour_spans(hours_path, first - HOUR)
    hour = first
    while hour <= last:
        own = _hour_spans(hours_path, hour)
        cells.append(cell_coverage(quality, hour, before, own))
        before = own
        hour += HOUR
    return cells


def hours_present(hours_path: str) -> list[dt.datetime]:
    """The starts of the hour directories under ``BASE/CH/Q``, sorted (others ignored)."""
    try:
        names = os.listdir(hours_path)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(h for h in map(fastseg.hour_start, names) if h is not None)


@dataclass
class QualitySummary:
    """A quality over a run of cells: totals, the recording's extent, its holes."""

    quality: str
    hours: int
    segments: int
    complete: int
    full_seconds: float
    partial_seconds: float
    first: dt.datetime | None  # start of the first video
    last: dt.datetime | None  # end of the last video
    holes: list[tuple[dt.datetime, dt.datetime]]  # between first and last only


def summarise(quality: str, cells: list[Cell], hours: int) -> QualitySummary:
    """Totals over ``cells``; holes that cross an hour boundary are joined into one."""
    covered: list[tuple[dt.datetime, dt.datetime]] = []
    for cell in cells:
        for a, b in merge_spans(cell.full + cell.partial):
            start, end = cell.at(a), cell.at(b)
            if covered and start - covered[-1][1] <= fastseg.FUDGE:
                covered[-1] = (covered[-1][0], end)
            else:
                covered.append((start, end))
    holes = [(a[1], b[0]) for a, b in zip(covered, covered[1:], strict=False)]
    return QualitySummary(
        quality,
        hours,
        sum(c.segments for c in cells),
        sum(c.complete for c in cells),
        sum(c.full_seconds for c in cells),
        sum(c.partial_seconds for c in cells),
        covered[0][0] if covered else None,
        covered[-1][1] if covered else None,
        holes,
    )


def channel_extent(
    channel_path: str, qualities: list[str]
) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last hour directory of any of these qualities; None if there are none."""
    hours = [h for q in qualities for h in hours_present(os.path.join(channel_path, q))]
    return (min(hours), max(hours)) if hours else None

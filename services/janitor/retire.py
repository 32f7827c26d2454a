"""Retire old hours: delete whole hour directories once they are older than a cut-off.

Edge nodes have small disks, so a node may keep only the last N hours. An hour
goes when all of it is older than N hours, unless

* an event that is not DONE still needs it: its video range, or its sheet's
  event range, touches the hour (a minute early, for a segment that starts in
  the hour before and runs into the range; an open end keeps everything after
  its start), on any channel, since an unedited event has no channel yet;
* a restreamer is serving from it: the hour's lock (``services.archive.hourlock``)
  is held, so the hour waits for the next sweep.

Deleting goes segment files first, tombstones last, then the directory, so a
sweep cut short never leaves a tombstone's segment visible again on a peer that
copies from us. A file that appears meanwhile (a backfiller still filling the
hour) makes the directory's removal fail: the hour is left for the next sweep.
"""

import dataclasses
import datetime as dt
import logging
import os
from collections.abc import Iterable

import gevent

from fastseg import hour_start
from services.archive import hourlock
from services.janitor.sweep import hour_dirs
from services.runtime.metrics import MetricSet, counter

logger = logging.getLogger(__name__)

__all__ = [
    "RetireCounts",
    "RetireMetrics",
    "needed_ranges",
    "retire_hour",
    "retire_old_hours",
]

HOUR = dt.timedelta(hours=1)
#: How far before an event's start its hours are kept: a segment that starts in the
#: previous hour and runs into the event lives in that previous hour's directory.
LEAD = dt.timedelta(minutes=1)

Range = tuple[dt.datetime, dt.datetime | None]  # (start, end); end None: still open


@dataclasses.dataclass
class RetireCounts:
    """What one retiring sweep did."""

    retired: int = 0  # hour directories deleted
    files: int = 0  # files deleted with them (segments and tombstones)
    bytes: int = 0  # bytes those files held
    needed: int = 0  # old hours kept because an event not DONE needs them
    busy: int = 0  # old hours skipped because a restreamer was serving from them
    unfinished: int = 0  # old hours whose directory gained a file while being deleted


class RetireMetrics(MetricSet):
    """The retiring sweep's counters (``RetireMetrics.of(registry)``)."""

    hours_retired = counter(
        "fastseg_janitor_hours_retired_total",
        "Hour directories deleted because they were older than --keep-hours",
    )
    files_retired = counter(
        "fastseg_janitor_retired_files_total",
        "Files (segments and tombstones) deleted with retired hours",
    )
    bytes_retired = counter(
        "fastseg_janitor_retired_bytes_total", "Bytes freed by deleting retired hours"
    )
    hours_kept = counter(
        "fastseg_janitor_old_hours_kept_total",
        "Old hours a sweep left in place, by reason (needed by an event not DONE, "
        "busy: being served, unfinished: a file appeared while deleting)",
        ("reason",),
    )

    def record(self, counts: RetireCounts) -> None:
        self.hours_retired.inc(counts.retired)
        self.files_retired.inc(counts.files)
        self.bytes_retired.inc(counts.bytes)
        for reason in ("needed", "busy", "unfinished"):
            self.hours_kept.labels(reason).inc(getattr(counts, reason))


def needed_ranges(db) -> list[Range]:
    """The time ranges that events not yet DONE may still cut from (naive UTC)."""
    rows = db.query(
        "SELECT LEAST(event_start, video_start) AS first,"
        " GREATEST(event_end, video_end) AS last,"
        " (event_end IS NULL AND event_start IS NOT NULL) AS open"
        " FROM events WHERE state <> 'DONE'",
        idempotent=True,
    )
    ranges: list[Range] = []
    for row in rows:
        first = row.first or row.last  # only an end known: keep the hour it ends in
        if first is None:
            continue  # no times yet: a sheet row that names no part of the stream
        ranges.append((first - LEAD, None if row.open else row.last))
    return ranges


def _needed(start: dt.datetime, ranges: Iterable[Range]) -> bool:
    end = start + HOUR
    return any(first < end and (last is None or last >= start) for first, last in ranges)


def retire_hour(hour_dir: str) -> tuple[int, int, bool]:
    """Delete one hour directory under its exclusive lock: (files, bytes, whether the
    directory went too; it stays if it gained a file meanwhile). Raises HourRetiring if busy.
    """
    lock = hourlock.retire_lock(hour_dir)
    if lock is None:
        return 0, 0, True  # gone already
    files = size = 0
    try:
        with os.scandir(hour_dir) as entries:
            names = [(e.name, e.stat(follow_symlinks=False).st_size) for e in entries]
        # Tombstones last: until then each still hides its segment if we stop halfway.
        names.sort(key=lambda item: item[0].endswith(".tombstone"))
        for name, length in names:
            try:
                os.unlink(os.path.join(hour_dir, name))
            except FileNotFoundError:
                continue
            except IsADirectoryError:
                continue  # not ours to remove: rmdir below will say so
            files += 1
            size += length
        try:
            os.rmdir(hour_dir)
        except OSError as exc:
            logger.warning("hour %r not removed, it is not empty (%s): next sweep", hour_dir, exc)
            return files, size, False
    finally:
        hourlock.release(lock)
    return files, size, True


def retire_old_hours(
    base_dir: str, keep_hours: float, ranges: list[Range], now: dt.datetime
) -> RetireCounts:
    """Delete every hour directory that ended more than ``keep_hours`` before ``now``
    and that no range in ``ranges`` touches (see the module docstring).
    """
    counts = RetireCounts()
    cutoff = now - dt.timedelta(hours=keep_hours)
    for hour_dir in hour_dirs(base_dir):
        start = hour_start(os.path.basename(hour_dir))
        if start is None or start + HOUR > cutoff:
            continue
        if _needed(start, ranges):
            counts.needed += 1
            continue
        try:
            files, size, removed = retire_hour(hour_dir)
        except hourlock.HourRetiring:
            counts.busy += 1
            logger.info("hour %r is being served: left for the next sweep", hour_dir)
            continue
        counts.files += files
        counts.bytes += size
        if removed:
            counts.retired += 1
            logger.info("retired hour %r: %d files, %d bytes", hour_dir, files, size)
        else:
            counts.unfinished += 1
        gevent.sleep(0)
    return counts

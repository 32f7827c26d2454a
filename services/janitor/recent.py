"""Segments and holes of the recent hours, as gauges per channel, quality and hour.

The janitor walks the archive every sweep anyway; after each sweep it reduces
the last :data:`RECENT_HOURS` hours of each quality with the coverage map's own
code (:mod:`services.archive.coverage`, cached per hour directory, so a sweep
costs a ``stat`` per hour) and sets three gauges labelled ``channel``,
``quality`` and ``hour`` (the hour directory's name). Only those hours are
labelled, and an hour leaving the window has its series removed, so the number
of series stays at most ``RECENT_HOURS`` per channel and quality. Hours before a
quality's first hour directory are not labelled (no recording is no hole), and
in the hour now running only holes that ended before ``now - GRACE`` count (the
segment being written is not a hole yet).
"""

import datetime as dt
import os

import prometheus_client

import fastseg
from services.archive import layout
from services.archive.coverage import HOUR, HOUR_US, quality_cells
from services.runtime.metrics import MetricSet, gauge

__all__ = ["RECENT_HOURS", "RecentMetrics", "update"]

#: Hours labelled per channel and quality: the bound on these gauges' series.
RECENT_HOURS = 24
#: The newest video may still be a segment being written.
GRACE = dt.timedelta(seconds=60)

LABELS = ("channel", "quality", "hour")


class RecentMetrics(MetricSet):
    """The recent hours' gauges (``RecentMetrics.of(registry)``)."""

    segments = gauge(
        "fastseg_janitor_hour_segments",
        f"Segments starting in each of the last {RECENT_HOURS} hours",
        LABELS,
    )
    holes = gauge(
        "fastseg_janitor_hour_holes",
        f"Holes (no video at all) in each of the last {RECENT_HOURS} hours",
        LABELS,
    )
    hole_seconds = gauge(
        "fastseg_janitor_hour_hole_seconds",
        f"Seconds of holes in each of the last {RECENT_HOURS} hours",
        LABELS,
    )

    def __init__(self, registry: prometheus_client.CollectorRegistry) -> None:
        super().__init__(registry)
        self.labelled: set[tuple[str, str, str]] = set()


def update(base_dir: str, now: dt.datetime, metrics: RecentMetrics) -> None:
    """Set the gauges for the hours up to ``now`` (naive UTC); drop hours that left the window."""
    last = now.replace(minute=0, second=0, microsecond=0)
    window_start = last - (RECENT_HOURS - 1) * HOUR
    limit_us = (now - GRACE - last) // dt.timedelta(microseconds=1)
    seen: set[tuple[str, str, str]] = set()
    for channel in layout.channels(base_dir):
        for quality in layout.qualities(base_dir, channel):
            present = layout.hours(base_dir, channel, quality)
            first = fastseg.hour_start(present[0]) if present else None
            if first is None or first > last:
                continue
            path = os.path.join(base_dir, channel, quality)
            for cell in quality_cells(path, quality, max(first, window_start), last):
                end = HOUR_US if cell.hour < last else limit_us
                holes = [(a, min(b, end)) for a, b in cell.holes if a < end]
                labels = (channel, quality, fastseg.hour_name(cell.hour))
                metrics.segments.labels(*labels).set(cell.segments)
                metrics.holes.labels(*labels).set(len(holes))
                metrics.hole_seconds.labels(*labels).set(sum(b - a for a, b in holes) / 1e6)
                seen.add(labels)
    for labels in metrics.labelled - seen:
        for series in (metrics.segments, metrics.holes, metrics.hole_seconds):
            series.remove(*labels)
    metrics.labelled = seen

"""The janitor's gauges of the recent hours: segments and holes per channel, quality and hour."""

import datetime as dt

from fastseg import hour_name
from services.archive.times import utc_now
from tests.media import store_segment
from tests.servers import ServiceProcess, metric
from tests.waiting import wait_until


def test_a_running_janitor_serves_segments_and_holes_of_the_recent_hours_only(tmp_path, ts_segment):
    now = utc_now()
    this_hour = now.replace(minute=0, second=0, microsecond=0)
    before = this_hour - dt.timedelta(hours=1)
    old = this_hour - dt.timedelta(hours=30)  # outside the 24 labelled hours
    # The hour before: 0-10 s and 20-30 s recorded, so holes 10-20 s and 30 s-1 h.
    for start in (0, 2, 4, 6, 8, 20, 22, 24, 26, 28):
        store_segment(tmp_path, "chan", "source", before + dt.timedelta(seconds=start), 2,
                      ts_segment)  # fmt: skip
    store_segment(tmp_path, "chan", "480p", before, 2, ts_segment)
    store_segment(tmp_path, "chan", "source", old, 2, ts_segment)
    janitor = ServiceProcess(
        "services.janitor", "--base-dir", str(tmp_path), "--interval", "0.2",
        "--metrics-port", "0",
    )  # fmt: skip
    try:
        labels = {"channel": "chan", "quality": "source", "hour": hour_name(before)}
        wait_until(lambda: janitor.metric("fastseg_janitor_hour_segments", **labels) == 10,
                   "the hour's segments counted")  # fmt: skip
        text = janitor.metrics()
        assert metric(text, "fastseg_janitor_hour_holes", **labels) == 2
        assert metric(text, "fastseg_janitor_hour_hole_seconds", **labels) == 10 + 3600 - 30
        other = {"channel": "chan", "quality": "480p", "hour": hour_name(before)}
        assert metric(text, "fastseg_janitor_hour_segments", **other) == 1
        # Labelled: the 24 hours up to now, from each quality's first hour on; never older.
        prefix = "fastseg_janitor_hour_segments{"
        series = [line for line in text.splitlines()
                  if line.startswith(prefix) and "source" in line]  # fmt: skip
        hours = {line.split('hour="')[1].split('"')[0] for line in series}
        if hour_name(this_hour + dt.timedelta(hours=1)) in hours:  # the clock passed an hour
            this_hour += dt.timedelta(hours=1)
        first = max(old, this_hour - dt.timedelta(hours=23))
        assert hours == {hour_name(first + dt.timedelta(hours=i)) for i in range(24)}
        assert hour_name(old) not in hours
        empty = {"channel": "chan", "quality": "source", "hour": hour_name(first)}
        assert metric(text, "fastseg_janitor_hour_segments", **empty) == 0
        assert metric(text, "fastseg_janitor_hour_hole_seconds", **empty) == 3600
    finally:
        assert janitor.stop() == 0

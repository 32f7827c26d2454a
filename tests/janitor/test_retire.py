"""``fastseg janitor --keep-hours``: old hours go, unless an event or a restreamer needs them."""

import datetime as dt
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import prometheus_client
import pytest

from fastseg import content_id, hour_name, segment_name, tombstone_path
from services.archive import hourlock, times
from services.db import states
from services.janitor.command import _retire
from services.janitor.retire import RetireMetrics, needed_ranges, retire_hour, retire_old_hours
from services.node.command import build_parser, service_argv
from services.restreamer.segments import Segment

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
NOW = times.utc_now().replace(minute=30, second=0, microsecond=0)


def hour_at(hours_ago: int) -> dt.datetime:
    return NOW.replace(minute=0) - dt.timedelta(hours=hours_ago)


def make_hour(base: Path, hours_ago: int, count: int = 3, size: int = 4 * MIB, quality="source"):
    """An hour directory of ``count`` sparse segment files and one tombstone."""
    start = hour_at(hours_ago)
    hour = base / "chan" / quality / hour_name(start)
    hour.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        ident = content_id(hashlib.sha256(f"{quality}{hours_ago}/{i}".encode()))
        name = segment_name(start + dt.timedelta(seconds=2 * i), dt.timedelta(seconds=2),
                            "full", ident)  # fmt: skip
        path = hour / name
        with open(path, "wb") as f:
            f.truncate(size)  # sparse: costs no disk
        paths.append(path)
    Path(tombstone_path(str(paths[0]))).touch()
    return hour, paths


def test_old_hours_go_with_every_file_recent_ones_stay(tmp_path):
    old, _ = make_hour(tmp_path, 5)
    older, _ = make_hour(tmp_path, 9, quality="480p")
    recent, _ = make_hour(tmp_path, 3)
    current, _ = make_hour(tmp_path, 0)
    counts = retire_old_hours(str(tmp_path), 4, [], NOW)
    assert (counts.retired, counts.files, counts.bytes) == (2, 8, 6 * 4 * MIB)
    assert not old.exists()
    assert not older.exists()
    assert recent.exists()
    assert current.exists()
    assert len(os.listdir(recent)) == 4
    # An hour that ends exactly at the cut-off is old enough; the current one is not.
    assert retire_old_hours(str(tmp_path), 2.5, [], NOW).retired == 1
    assert not recent.exists()
    assert current.exists()


def test_events_not_done_keep_their_hours_until_done(tmp_path, db):
    edited_hour, _ = make_hour(tmp_path, 10)
    sheet_hour, _ = make_hour(tmp_path, 8)
    open_hours = [make_hour(tmp_path, h)[0] for h in (6, 7)]
    free_hour, _ = make_hour(tmp_path, 12)
    before_sheet_hour, _ = make_hour(tmp_path, 9)
    edited = states.add_event(db, "edited")
    states.edit(db, edited, video_start=hour_at(10) + dt.timedelta(minutes=20),
                video_end=hour_at(10) + dt.timedelta(minutes=25), video_title="t",
                video_channel="chan", upload_location="clips", editor="e@x")  # fmt: skip
    # A sheet range starting on the hour keeps the hour before too (a minute's lead).
    sheet_end = hour_at(8) + dt.timedelta(minutes=5)
    states.add_event(db, "sheet", event_start=hour_at(8), event_end=sheet_end)
    states.add_event(db, "open", event_start=hour_at(7) + dt.timedelta(minutes=59))
    states.add_event(db, "no times")
    done = states.add_event(db, "done", event_start=hour_at(12), event_end=hour_at(11))
    states.manual_upload(db, done, "https://example.com/v")

    counts = retire_old_hours(str(tmp_path), 5, needed_ranges(db), NOW)
    assert counts.retired == 1
    assert not free_hour.exists()
    assert counts.needed == 5
    assert edited_hour.exists()
    assert sheet_hour.exists()
    assert before_sheet_hour.exists()
    assert all(h.exists() for h in open_hours)

    states.manual_upload(db, edited, "https://example.com/w")
    counts = retire_old_hours(str(tmp_path), 5, needed_ranges(db), NOW)
    assert counts.retired == 1
    assert not edited_hour.exists()


def test_an_hour_being_served_waits_and_a_retiring_hour_serves_nothing(tmp_path):
    hour, paths = make_hour(tmp_path, 5)
    parts = ("chan", "source", hour.name, paths[1].name)
    serving = Segment(str(tmp_path), *parts)
    body = serving.body(0, serving.size)
    counts = retire_old_hours(str(tmp_path), 4, [], NOW)
    assert (counts.busy, counts.retired) == (1, 0)
    assert paths[1].exists()
    body.close()  # the response is finished: the hour's lock goes with it
    lock = hourlock.retire_lock(str(hour))
    try:
        with pytest.raises(Exception, match="hour retired"):
            Segment(str(tmp_path), *parts)
    finally:
        hourlock.release(lock)
    assert retire_old_hours(str(tmp_path), 4, [], NOW).retired == 1


def test_a_file_opened_or_added_meanwhile_is_tolerated(tmp_path):
    hour, paths = make_hour(tmp_path, 5, size=1000)
    with open(paths[2], "rb") as reader:  # opened without the restreamer's lock
        files, size, removed = retire_hour(str(hour))
        assert (files, size, removed) == (4, 3000, True)
        assert len(reader.read()) == 1000  # an open file keeps its bytes until closed
    hour, paths = make_hour(tmp_path, 6, size=1000)
    (hour / "late.ts").mkdir()  # something that unlink cannot take: the hour stays
    counts = retire_old_hours(str(tmp_path), 4, [], NOW)
    assert (counts.retired, counts.unfinished, counts.files) == (0, 1, 4)
    assert os.listdir(hour) == ["late.ts"]


def test_metrics_count_and_a_broken_database_deletes_nothing(tmp_path, db):
    make_hour(tmp_path, 5)
    registry = prometheus_client.CollectorRegistry()
    metrics = RetireMetrics.of(registry)
    _retire(str(tmp_path), 4, db, metrics)
    assert registry.get_sample_value("fastseg_janitor_hours_retired_total") == 1
    assert registry.get_sample_value("fastseg_janitor_retired_files_total") == 4
    assert registry.get_sample_value("fastseg_janitor_retired_bytes_total") == 3 * 4 * MIB

    hour, _ = make_hour(tmp_path, 6)
    db.query("DROP TABLE events")
    _retire(str(tmp_path), 4, db, metrics)
    assert hour.exists()
    assert registry.get_sample_value("fastseg_janitor_hours_retired_total") == 1


def janitor(*args):
    return subprocess.run([sys.executable, "-m", "services.janitor", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip


def test_command_retires_with_a_database(tmp_path, db, pg_dsn):
    old, _ = make_hour(tmp_path, 30)
    kept, _ = make_hour(tmp_path, 40)
    states.add_event(db, "kept", event_start=hour_at(40), event_end=hour_at(40))
    done = janitor("--base-dir", str(tmp_path), "--keep-hours", "24", "--db", pg_dsn)
    assert done.returncode == 0, done.stderr
    assert not old.exists()
    assert kept.exists()
    assert "1 retired (4 files" in done.stderr


@pytest.mark.parametrize("value", ["0", "-3", "nan", "soon"])
def test_bad_keep_hours_is_one_clear_line(tmp_path, value):
    done = janitor("--base-dir", str(tmp_path), f"--keep-hours={value}")
    assert done.returncode == 2
    assert f"got {value!r}" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_says_what_happens_without_a_database():
    done = janitor("--help")
    text = " ".join(done.stdout.split())
    assert "--keep-hours" in text
    assert "embedded cluster" in text


def test_node_passes_keep_hours_to_janitor_and_backfiller():
    args = build_parser().parse_args(
        ["--base-dir", "/b", "--channel", "c", "--url", "http://x/m.m3u8", "--keep-hours", "48"]
    )
    argv = service_argv(args, "dbname=x", 8000)
    assert argv["janitor"][-4:] == ["--keep-hours", "48.0", "--db", "dbname=x"]
    assert argv["backfiller"][-2:] == ["--start", "48.0"]

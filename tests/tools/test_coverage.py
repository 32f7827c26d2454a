"""``fastseg coverage`` over a small tree with a hole, a partial and junk."""

import datetime as dt
import json
import os
import subprocess
import sys

from tests.fastseg.trees import put, put_run

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "coverage", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def make(tmp_path):
    hours = tmp_path / "chan" / "source"
    put_run(hours, T0, 5)  # 17:59:50 .. 18:00:00, straddles into hour 18
    put(hours, T0 + dt.timedelta(seconds=20), type="partial")  # 18:00:10 .. 18:00:12
    put_run(hours, T0 + dt.timedelta(seconds=30), 2)  # 18:00:20 .. 18:00:24
    (hours / "2026-11-27T18" / "junk.ts").touch()
    return hours


def test_coverage_reports_hours_segments_and_holes(tmp_path):
    make(tmp_path)
    out = run("--base-dir", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    (report,) = json.loads(out.stdout)
    assert report["hours"] == 2
    assert report["segments"] == 8
    assert report["complete"] == 7
    assert report["covered_seconds"] == 14.0
    assert report["partial_seconds"] == 2.0
    assert report["first"] == "2026-11-27T17:59:50Z"
    assert report["last"] == "2026-11-27T18:00:24Z"
    assert report["holes"] == [
        {"start": "2026-11-27T18:00:00Z", "end": "2026-11-27T18:00:10Z", "seconds": 10.0},
        {"start": "2026-11-27T18:00:12Z", "end": "2026-11-27T18:00:20Z", "seconds": 8.0},
    ]
    text = run("--base-dir", str(tmp_path))
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == (
        "chan/source: 2 hours, 8 segments (7 complete), 14 s complete and 2 s partial or "
        "suspect, from 2026-11-27T17:59:50Z to 2026-11-27T18:00:24Z, 2 holes (18 s missing)"
    )
    assert lines[1:] == [
        "  hole 2026-11-27T18:00:00Z to 2026-11-27T18:00:10Z (10 s)",
        "  hole 2026-11-27T18:00:12Z to 2026-11-27T18:00:20Z (8 s)",
    ]
    assert "junk.ts" in text.stderr  # logged, not fatal


def test_singular_words(tmp_path):
    put(tmp_path / "chan" / "source", T0 - dt.timedelta(minutes=5))
    out = run("--base-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("chan/source: 1 hour, 1 segment (1 complete), 2 s complete,")
    assert out.stdout.rstrip().endswith(", 0 holes")


def test_unknown_channel_or_quality_is_exit_1_naming_what_exists(tmp_path):
    make(tmp_path)
    out = run("--base-dir", str(tmp_path), "--channel", "nope")
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f"fastseg coverage: no channel 'nope' in {tmp_path} (channels there: chan)"
    )
    out = run("--base-dir", str(tmp_path), "--channel", "chan", "--quality", "720p")
    assert out.returncode == 1
    assert "no quality '720p'" in out.stderr
    assert "qualities there: source" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_quality_only_some_channels_have(tmp_path):
    make(tmp_path)
    put(tmp_path / "other" / "480p", T0)
    out = run("--base-dir", str(tmp_path), "--quality", "480p")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("other/480p: 1 hour, 1 segment")
    assert "chan/" not in out.stdout


def test_svg_map_is_written(tmp_path):
    make(tmp_path)
    svg = tmp_path / "map.svg"
    out = run("--base-dir", str(tmp_path), "--svg", str(svg))
    assert out.returncode == 0, out.stderr
    text = svg.read_text()
    assert text.startswith("<svg")
    assert text.rstrip().endswith("</svg>")
    assert 'data-hour="2026-11-27T17"' in text
    assert 'data-hour="2026-11-27T18"' in text
    assert "2026-11-27T18:00:12Z for 8 s" in text
    bad = run("--base-dir", str(tmp_path), "--svg", str(tmp_path / "no" / "dir.svg"))
    assert bad.returncode == 1
    assert "cannot write --svg" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_closed_pipe_is_no_traceback(tmp_path):
    hours = tmp_path / "chan" / "source"
    for i in range(300):  # a hole every other segment: many lines of output
        put(hours, T0 + dt.timedelta(seconds=4 * i))
    for q in range(40):
        os.symlink(hours, tmp_path / "chan" / f"q{q:02d}")
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "coverage", "--base-dir", str(tmp_path)],
        stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
    )  # fmt: skip
    os.close(write)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipe" not in proc.stderr, proc.stderr


def test_coverage_of_a_missing_dir_is_an_error(tmp_path):
    out = run("--base-dir", str(tmp_path / "nope"))
    assert out.returncode == 2
    assert "is not a directory" in out.stderr


def test_coverage_of_an_empty_archive(tmp_path):
    out = run("--base-dir", str(tmp_path))
    assert out.returncode == 0
    assert out.stdout.strip() == "no segments found"


def test_coverage_follows_the_tombstone_rule(tmp_path):
    hours = tmp_path / "chan" / "source"
    a, b, c = put_run(hours, T0, 3)
    (b.parent / f"{b.stem}.tombstone").touch()  # hides b: a hole
    (c.parent / f"{c.name}.tombstone").touch()  # hides nothing
    out = run("--base-dir", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    (report,) = json.loads(out.stdout)
    assert report["segments"] == 2
    assert report["holes"] == [
        {"start": "2026-11-27T17:59:52Z", "end": "2026-11-27T17:59:54Z", "seconds": 2.0}
    ]

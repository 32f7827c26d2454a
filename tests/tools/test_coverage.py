"""``fastseg coverage`` over a small tree with a hole, a partial and junk."""

import datetime as dt
import json
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


def test_coverage_reports_hours_segments_and_holes(tmp_path):
    hours = tmp_path / "chan" / "source"
    put_run(hours, T0, 5)  # 17:59:50 .. 18:00:00, straddles into hour 18
    put(hours, T0 + dt.timedelta(seconds=20), type="partial")
    put_run(hours, T0 + dt.timedelta(seconds=30), 2)
    (hours / "2026-11-27T18" / "junk.ts").touch()
    out = run("--base-dir", str(tmp_path), "--json")
    assert out.returncode == 0, out.stderr
    (report,) = json.loads(out.stdout)
    assert report["hours"] == 2
    assert report["segments"] == 8
    assert report["complete"] == 7
    assert report["first"] == "2026-11-27T17:59:50"
    assert report["last"] == "2026-11-27T18:00:24"
    assert report["holes"] == [
        ["2026-11-27T18:00:00", "2026-11-27T18:00:10"],
        ["2026-11-27T18:00:12", "2026-11-27T18:00:20"],  # nothing follows a partial safely
    ]
    text = run("--base-dir", str(tmp_path))
    assert "chan/source: 2 hours, 8 segments (7 complete)" in text.stdout
    assert "junk.ts" in text.stderr  # logged, not fatal


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
    assert report["holes"] == [["2026-11-27T17:59:52", "2026-11-27T17:59:54"]]

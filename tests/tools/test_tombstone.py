"""``fastseg tombstone``: STEM.tombstone beside each segment, idempotent, bad paths refused."""

import datetime as dt
import os
import subprocess
import sys

import pytest

import fastseg
from services.tombstone import NotASegment, check
from tests.fastseg.trees import put, put_run

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "tombstone", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )


def test_tombstone_hides_segments_and_is_idempotent(tmp_path):
    hours = tmp_path / "chan" / "source"
    a, b, c = put_run(hours, T0, 3)
    out = run(str(a), str(c))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"hid chan/source/2026-11-27T17/{a.name} (full, 2026-11-27T17:59:50): "
        f"wrote {a.stem}.tombstone",
        f"hid chan/source/2026-11-27T17/{c.name} (full, 2026-11-27T17:59:54): "
        f"wrote {c.stem}.tombstone",
    ]
    assert (a.parent / f"{a.stem}.tombstone").stat().st_size == 0
    assert a.exists()  # the bytes are kept
    assert c.exists()
    assert fastseg.list_segment_files(str(a.parent)) == [b.name]
    again = run(str(a), str(b), cwd=a.parent)  # an absolute and a plain name from the hour
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == (
        f"already hidden: chan/source/2026-11-27T17/{a.name} ({a.stem}.tombstone exists)"
    )
    assert again.stdout.splitlines()[1].startswith(f"hid chan/source/2026-11-27T17/{b.name}")
    assert fastseg.list_segment_files(str(a.parent)) == []


def test_bad_paths_hide_nothing_and_say_why(tmp_path):
    hours = tmp_path / "chan" / "source"
    good = put(hours, T0)
    temp = put(hours, T0 + dt.timedelta(seconds=2), type="temp")
    missing = good.with_name(good.name.replace("59:50", "59:58"))
    out = run(str(good), str(tmp_path / "notes.txt"), str(temp), str(missing), good.name)
    assert out.returncode == 2
    lines = out.stderr.splitlines()
    assert lines == [
        f"fastseg tombstone: {str(tmp_path / 'notes.txt')!r} is not a segment file: name does "
        "not end in '.ts'; give segment files as "
        "BASE/CHANNEL/QUALITY/HOUR/MM:SS.ffffff-DURATION-TYPE-HASH.ts",
        f"fastseg tombstone: {str(temp)!r} is a temp file still being written: tombstone the "
        "segment it becomes",
        f"fastseg tombstone: {str(missing)!r} does not exist: check the name with 'ls' or /files",
        f"fastseg tombstone: {good.name!r} is not a segment file: directory "
        f"{os.path.basename(os.getcwd())!r} is not an hour (YYYY-MM-DDTHH); give segment files "
        "as BASE/CHANNEL/QUALITY/HOUR/MM:SS.ffffff-DURATION-TYPE-HASH.ts",
        "fastseg tombstone: nothing hidden (fix the paths above and run it again)",
    ]
    assert not (good.parent / f"{good.stem}.tombstone").exists()
    assert run().returncode == 2  # argparse: PATH is required


def test_a_segment_outside_a_channel_and_quality_is_refused():
    name = fastseg.segment_name(T0, dt.timedelta(seconds=2), "full", "A" * 43)
    with pytest.raises(NotASegment, match=r"is not under CHANNEL/QUALITY/HOUR; give segment"):
        check(f"/2026-11-27T17/{name}")


def test_undo_removes_the_tombstone_and_shows_the_segment_again(tmp_path):
    hours = tmp_path / "chan" / "source"
    a, b = put_run(hours, T0, 2)
    assert run(str(a), str(b)).returncode == 0
    stone = a.parent / f"{a.stem}.tombstone"
    out = run("--undo", str(stone))
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        f"showed chan/source/2026-11-27T17/{a.name} (full, 2026-11-27T17:59:50): "
        f"removed {a.stem}.tombstone"
    ]
    assert not stone.exists()
    assert a.exists()
    assert fastseg.list_segment_files(str(a.parent)) == [a.name]  # b stays hidden


def test_undo_refuses_what_is_not_a_tombstone_of_a_segment_held_here(tmp_path):
    hours = tmp_path / "chan" / "source"
    a, b = put_run(hours, T0, 2)
    assert run(str(a), str(b)).returncode == 0
    kept = b.parent / f"{b.stem}.tombstone"
    orphan = a.parent / (a.name.replace("59:50", "59:40")[:-3] + ".tombstone")
    orphan.touch()  # a tombstone of a segment this node does not hold
    absent = a.parent / (a.name.replace("59:50", "59:30")[:-3] + ".tombstone")
    out = run("--undo", str(kept), str(a), str(orphan), str(absent))
    assert out.returncode == 2
    missing = str(a.parent / orphan.name.replace(".tombstone", ".ts"))
    assert out.stderr.splitlines() == [
        f"fastseg tombstone: {str(a)!r} is not a tombstone (STEM.tombstone): give the "
        ".tombstone file beside the segment to show again",
        f"fastseg tombstone: {str(orphan)!r} hides no segment here: {missing!r} does not "
        "exist: check the name with 'ls' or /files",
        f"fastseg tombstone: {str(absent)!r} does not exist: check the name with 'ls'",
        "fastseg tombstone: nothing shown (fix the paths above and run it again)",
    ]
    assert kept.exists()  # checked first: nothing removed
    assert orphan.exists()

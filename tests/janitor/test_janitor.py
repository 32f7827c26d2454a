"""``fastseg janitor``: orphaned temp segments become partials once old; nothing else moves."""

import datetime as dt
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fastseg import (
    content_id,
    hour_name,
    list_segment_files,
    parse_segment_path,
    segment_name,
    tombstone_path,
)
from services.janitor.sweep import Counts, settle, sweep
from tests.media import store_segment
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 11, 27, 17, 5, 12, 345000)
HOUR = 3600


def temp_segment(base, data, start=START, age=0.0, quality="source", ident="a1b2c3"):
    """A temp file as a writer that died would leave it, last written ``age`` seconds ago."""
    hour = base / "chan" / quality / hour_name(start)
    hour.mkdir(parents=True, exist_ok=True)
    path = hour / segment_name(start, dt.timedelta(seconds=2), "temp", ident)
    path.write_bytes(data)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def janitor(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "services.janitor", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def names(base):
    return sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())


def test_one_sweep_keeps_old_temps_as_partials_and_leaves_the_rest(tmp_path, ts_segment):
    base = tmp_path
    old = temp_segment(base, ts_segment[:1000], age=HOUR)
    young = temp_segment(base, ts_segment[:2000], start=START + dt.timedelta(seconds=2))
    empty = temp_segment(base, b"", start=START + dt.timedelta(seconds=4), age=HOUR)
    full = store_segment(base, "chan", "source", START, 2, ts_segment)
    # Same bytes already kept as a partial: the temp just goes.
    dup = temp_segment(base, ts_segment[:1000], age=HOUR, quality="480p")
    store_segment(base, "chan", "480p", START, 2, ts_segment[:1000], type="partial")
    # Not ours to touch: hidden trees (a node's private PostgreSQL), odd names, other files.
    hidden = base / ".fastseg" / "pg" / "x" / "y"
    hidden.mkdir(parents=True)
    (hidden / "00:00-1-temp-z.ts").write_bytes(b"pg")
    odd = old.parent / "99:99-2-temp-zz.ts"
    odd.write_bytes(b"odd")
    os.utime(odd, (0, 0))

    result = janitor("--base-dir", str(base), "--min-age", "600")
    assert result.returncode == 0, result.stderr
    partial = old.parent / segment_name(
        START, dt.timedelta(seconds=2), "partial", content_id(hashlib.sha256(ts_segment[:1000]))
    )
    assert partial.read_bytes() == ts_segment[:1000]
    assert not old.exists()
    assert young.read_bytes() == ts_segment[:2000]
    assert not empty.exists()
    assert full.read_bytes() == ts_segment
    assert not dup.exists()
    assert len(list(dup.parent.iterdir())) == 1
    assert (hidden / "00:00-1-temp-z.ts").exists()
    assert odd.exists()
    assert "skipping bad segment path" in result.stderr
    assert "99:99" in result.stderr
    assert "2 kept as partial, 1 empty removed, 1 too young" in result.stderr
    info = parse_segment_path(str(partial))
    assert (info.start, info.duration, info.type) == (START, dt.timedelta(seconds=2), "partial")
    assert info.hash == hashlib.sha256(ts_segment[:1000]).digest()


def test_min_age_zero_takes_every_temp(tmp_path, ts_segment):
    temp_segment(tmp_path, ts_segment)
    result = janitor("--base-dir", str(tmp_path), "--min-age", "0")
    assert result.returncode == 0, result.stderr
    (name,) = names(tmp_path)
    assert "-partial-" in name


def test_a_tombstoned_temp_stays_hidden_as_a_partial(tmp_path, ts_segment):
    hidden = temp_segment(tmp_path, ts_segment[:1000], age=HOUR)
    (hidden.parent / f"{hidden.stem}.tombstone").touch()
    shown = temp_segment(tmp_path, ts_segment[:2000], START + dt.timedelta(seconds=2), HOUR)
    (shown.parent / f"{shown.name}.tombstone").touch()  # STEM.ts.tombstone hides nothing
    assert sweep(str(tmp_path), 600) == Counts(kept=2)
    kept = sorted(n for n in os.listdir(hidden.parent) if n.endswith(".ts") and "-partial-" in n)
    assert len(kept) == 2
    assert os.path.exists(hidden.parent / tombstone_path(kept[0]))
    assert list_segment_files(str(hidden.parent)) == [kept[1]]


def test_a_temp_that_vanishes_is_counted_not_an_error(tmp_path):
    path = temp_segment(tmp_path, b"x", age=HOUR)
    info = parse_segment_path(str(path))
    path.unlink()
    counts = Counts()
    settle(str(path), info, 600, time.time(), counts)
    assert counts == Counts(vanished=1)


def test_sweep_of_an_empty_or_missing_base_does_nothing(tmp_path):
    assert sweep(str(tmp_path / "nowhere"), 600) == Counts()
    assert sweep(str(tmp_path), 600) == Counts()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--min-age", "-1"], r"expected a number of seconds >= 0, got '-1'", id="negative age"
        ),
        pytest.param(
            ["--min-age", "soon"], r"expected a number of seconds >= 0, got 'soon'", id="word"
        ),
        pytest.param(
            ["--interval", "0"],
            "expected a positive number of seconds, got '0'",
            id="zero interval",
        ),
    ],
)
def test_bad_arguments_are_refused_with_the_reason(tmp_path, args, message):
    result = janitor("--base-dir", str(tmp_path), *args)
    assert result.returncode == 2
    assert re.search(message, result.stderr), result.stderr


def test_a_missing_base_dir_is_refused(tmp_path):
    result = janitor("--base-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "is not a directory: give the archive root" in result.stderr


def test_periodic_sweeps_take_temps_as_they_age_and_stop_on_sigterm(tmp_path, ts_segment):
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.janitor", "--base-dir", str(tmp_path),
         "--min-age", "1", "--interval", "0.2"],
        cwd=ROOT, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        path = temp_segment(tmp_path, ts_segment[:500])
        wait_until(lambda: not path.exists(), "the temp file to be taken", timeout=30)
        (name,) = names(tmp_path)
        assert "-partial-" in name
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stop signal received" in err

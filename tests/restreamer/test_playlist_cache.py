"""The restreamer's rendered-hours cache stays within its stated size in bytes."""

import datetime as dt
import gc
import subprocess
import sys
import tracemalloc
from pathlib import Path

import fastseg
from services.restreamer.hls import MediaCache, media_playlist
from tests.restreamer.trees import make_tree

ROOT = Path(__file__).resolve().parents[2]
T0 = dt.datetime(2026, 11, 27, 10)
PER_HOUR = 360  # 10-second segments: cheap to make, the same code path as 2-second ones


def hours(tmp_path, count):
    make_tree(tmp_path, "ch", "q", T0, PER_HOUR * count, duration=10)
    path = str(tmp_path / "ch" / "q")
    return [
        fastseg.get_best_segments(path, T0 + dt.timedelta(hours=h), T0 + dt.timedelta(hours=h + 1))
        for h in range(count)
    ]


def test_the_cache_keeps_the_latest_hours_within_its_size(tmp_path):
    runs = hours(tmp_path, 8)
    one = MediaCache()
    media_playlist(runs[0], "ch", "q", True, one)
    per_hour = one.nbytes
    cache = MediaCache(max_bytes=3 * per_hour + per_hour // 2)
    texts = [media_playlist(run, "ch", "q", True, cache) for run in runs]
    assert len(cache) == 3
    assert cache.nbytes <= cache.max_bytes
    assert cache.cached_hours() == [run[0].hour_path for run in runs[-3:]]
    # What was evicted renders the same when it comes back.
    assert media_playlist(runs[0], "ch", "q", True, cache) == texts[0]
    assert cache.nbytes <= cache.max_bytes


def test_an_hour_larger_than_the_cache_is_served_but_not_kept(tmp_path):
    (run,) = hours(tmp_path, 1)
    cache = MediaCache(max_bytes=1000)
    text = media_playlist(run, "ch", "q", True, cache)
    assert text == media_playlist(run, "ch", "q", True, MediaCache())
    assert (len(cache), cache.nbytes) == (0, 0)


def test_the_size_counted_covers_the_memory_really_held(tmp_path):
    runs = hours(tmp_path, 6)
    gc.collect()
    tracemalloc.start()
    try:
        cache = MediaCache(max_bytes=10**9)
        for run in runs:
            media_playlist(run, "ch", "q", True, cache)
        del runs
        fastseg.clear_cache()  # the cached hours now alone keep the segments alive
        gc.collect()
        with_cache = tracemalloc.get_traced_memory()[0]
        counted = cache.nbytes
        del cache
        gc.collect()
        held = with_cache - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert 0 < held <= counted


def test_a_bad_cache_size_is_one_clear_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "services.restreamer", "--base-dir", str(tmp_path),
         "--playlist-cache-mb", "-1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert "--playlist-cache-mb -1.0 is out of range" in done.stderr

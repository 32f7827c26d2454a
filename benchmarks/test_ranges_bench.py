"""A fast cut of several ranges costs about what fast cuts of each range alone do.

Gate, as a ratio measured in one run: the fast cut of three ranges (each starting
and ending inside a segment, so six edges are re-encoded) takes at most 1.5x the
sum of the three ranges' single fast cuts. A cut with a 1 s crossfade is timed
too, for the report.

The 90-second 640x360 archive is made once and kept in $FASTSEG_BENCH_DIR
(default /var/tmp/fastseg-bench); delete it to remake it.
"""

import datetime as dt
import os
import time
from pathlib import Path

import pytest

import fastseg
from services.cutting import Transition, fast_cut, fast_cut_ranges, parts_for
from tests.media import make_stream, store_stream

T0 = dt.datetime(2026, 11, 27, 17, 59, 0)
RANGES = [(3.5, 23.3), (31.1, 52.7), (60.4, 84.9)]
SMOKE_RANGES = [(0.5, 4.5), (6.2, 9.9), (12.3, 17.1)]  # CI's 20-second archive


def cache_dir() -> Path:
    return Path(os.environ.get("FASTSEG_BENCH_DIR", "/var/tmp/fastseg-bench")) / "360p30-90s"


@pytest.fixture(scope="module")
def hours(request, tmp_path_factory) -> str:
    config = request.config
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        tmp = tmp_path_factory.mktemp("ranges-smoke")
        store_stream(make_stream(tmp / "stream", seconds=20), tmp / "base", "ch", "360p", T0)
        return str(tmp / "base" / "ch" / "360p")
    cache = cache_dir()
    if not (cache / "done").exists():
        stream = make_stream(cache / "stream", seconds=90, size="640x360", rate=30)
        store_stream(stream, cache / "base", "ch", "360p", T0)
        (cache / "done").touch()
    fastseg.clear_cache()
    return str(cache / "base" / "ch" / "360p")


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def drain(chunks) -> int:
    return sum(len(c) for c in chunks)


def best_of(rounds: int, fn) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


@pytest.mark.timeout(1200)
@pytest.mark.benchmark(group="cutting-ranges")
def test_multi_range_fast_cut_speed(benchmark, hours):
    ranges = [(at(a), at(b)) for a, b in (SMOKE_RANGES if benchmark.disabled else RANGES)]
    parts = parts_for(hours, ranges, False)

    def multi():
        return drain(fast_cut_ranges(parts))

    def singles():
        for segments, start, end in parts:
            drain(fast_cut(segments, start, end))

    crossfades = [None, Transition("crossfade", 1.0)]
    size = benchmark.pedantic(multi, rounds=1)
    assert size > 0
    if benchmark.disabled:  # CI smoke run: it works; no timing, no gate
        assert drain(fast_cut_ranges(parts, crossfades)) > 0
        return
    multi_s = best_of(3, multi)
    singles_s = best_of(3, singles)
    crossfade_s = best_of(2, lambda: drain(fast_cut_ranges(parts, crossfades)))
    report = {
        "three_ranges_s": round(multi_s, 3),
        "sum_of_single_cuts_s": round(singles_s, 3),
        "with_a_crossfade_s": round(crossfade_s, 3),
        "ranges_over_singles": round(multi_s / singles_s, 2),
    }
    benchmark.extra_info.update(report)
    print("\nfast cut of three ~20 s ranges of 360p30:", report)
    assert multi_s <= 1.5 * singles_s, report

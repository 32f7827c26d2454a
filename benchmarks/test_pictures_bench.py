"""Speed of the archive's pictures: the coverage map of a week, and a cold thumbnail.

* The 170-hour map of two qualities (benchmarks/treegen.py: ~630,000 sparse files
  with duplicates, partials, temps and holes), cold (both fastseg's and the map's
  caches empty) and warm, against merely listing the same 342 directories.
  Goals: warm cheaper than the listing; cold within 3x of the selection's cold read.
* A thumbnail of a segment never decoded before (720p30, 2 s), through the route,
  against the least any decode of that frame costs: one ffmpeg told which frame.
  Goal: cold within 3x of that (the route also reads and probes the segment to
  find the frame on screen); warm (from the disk cache) is reported.

Ratios come from one run with the sides interleaved; the machine is shared, so
absolute figures are noisy. With ``--benchmark-disable`` (CI) a small tree and
one round stand in and no goal is checked.
"""

import datetime as dt
import os
import shutil
import subprocess
import time

import prometheus_client
import pytest

import fastseg
from benchmarks.measure import ratio
from benchmarks.treegen import START, make_tree
from fastseg import DEFAULT_CACHE_HOURS
from services.archive import coverage
from services.archive.coverage_svg import render_svg
from services.restreamer.app import create_app
from services.restreamer.frames import forget_frame_times
from tests.media import make_stream, store_stream


def smoke(benchmark) -> bool:
    return benchmark.disabled


def draw_map(base, first, last) -> str:
    qualities = sorted(os.listdir(base / "bench"))
    cells = {q: coverage.quality_cells(str(base / "bench" / q), q, first, last) for q in qualities}
    return render_svg("bench", qualities, cells)


def clear() -> None:
    fastseg.clear_cache()
    coverage.clear_cache()


def listing(base) -> int:
    return sum(
        len(os.listdir(base / "bench" / q / h))
        for q in os.listdir(base / "bench")
        for h in os.listdir(base / "bench" / q)
    )


def selection(base, first, last) -> int:
    fastseg.clear_cache()
    end = last + dt.timedelta(hours=1)
    return sum(
        len(fastseg.get_best_segments(str(base / "bench" / q), first, end))
        for q in os.listdir(base / "bench")
    )


@pytest.mark.timeout(3600)  # the first run makes the 170-hour tree (a few minutes)
@pytest.mark.benchmark(group="coverage-map")
def test_coverage_map_170_hours(benchmark):
    hours = 3 if smoke(benchmark) else 170
    base = make_tree(hours)
    first, last = START, START + dt.timedelta(hours=hours - 1)
    rounds = 1 if smoke(benchmark) else 3
    fastseg.set_cache_size(2 * hours + 8)  # the selection baseline would thrash the default
    try:
        clear()
        svg = draw_map(base, first, last)
        assert svg.count("<g class=") == 2 * hours
        benchmark.pedantic(lambda: draw_map(base, first, last), rounds=rounds, iterations=1)
        cold, warm, cold_over_warm = ratio(
            lambda: draw_map(base, first, last),
            lambda: draw_map(base, first, last),
            rounds=rounds,
            slow_setup=clear,
        )
        listed, _, warm_gain = ratio(lambda: listing(base), lambda: draw_map(base, first, last),
                                     rounds=rounds)  # fmt: skip
        selected = min(_timed(lambda: selection(base, first, last)) for _ in range(rounds))
    finally:
        fastseg.set_cache_size(DEFAULT_CACHE_HOURS)
        clear()
    report = {
        "hours": hours,
        "map_cold_s": round(cold, 3),
        "map_warm_s": round(warm, 4),
        "listing_s": round(listed, 3),
        "selection_cold_s": round(selected, 3),
        "cold_over_warm": round(cold_over_warm, 1),
        "listing_over_warm": round(warm_gain, 1),
        "cold_over_selection": round(cold / selected, 2),
    }
    benchmark.extra_info.update(report)
    print(f"\ncoverage map, {hours} h x 2 qualities:", report)
    if not smoke(benchmark):
        assert warm_gain > 1, report
        assert cold / selected <= 3, report


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


@pytest.fixture(scope="module")
def hd_base(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("thumb-bench")
    stream = make_stream(tmp / "stream", seconds=8, size="1280x720")
    store_stream(stream, tmp / "base", "ch", "720p", dt.datetime(2026, 11, 27, 17))
    return tmp


@pytest.mark.timeout(600)
@pytest.mark.benchmark(group="thumbnail")
def test_thumbnail_of_a_cold_segment(benchmark, hd_base):
    cache_dir = hd_base / "thumbs"
    app = create_app({"BASE_DIR": str(hd_base / "base"), "THUMBNAIL_DIR": str(cache_dir),
                      "METRICS_REGISTRY": prometheus_client.CollectorRegistry()})  # fmt: skip
    client = app.test_client()
    url = "/thumbnail/ch/720p.png?timestamp=2026-11-27T17:00:03.5Z&width=320"
    segment = sorted((hd_base / "base" / "ch" / "720p" / "2026-11-27T17").iterdir())[1]

    def cold() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)
        forget_frame_times()
        response = client.get(url)
        assert response.status_code == 200, response.text

    def warm() -> None:
        assert client.get(url).status_code == 200

    def baseline() -> None:
        # the same frame (1.5 s into the segment: frame 45) by one ffmpeg that is told it
        subprocess.run(
            ["ffmpeg", "-nostdin", "-v", "error", "-i", f"file:{segment}", "-frames:v", "1",
             "-vf", "select=gte(n\\,45),scale=320:-2", "-f", "image2pipe", "-c:v", "png",
             "pipe:1"],
            check=True, capture_output=True,
        )  # fmt: skip

    rounds = 1 if smoke(benchmark) else 7
    benchmark.pedantic(cold, rounds=rounds, iterations=1)
    cold_s, base_s, over_base = ratio(cold, baseline, rounds=rounds)
    warm_s = min(_timed(warm) for _ in range(rounds))
    report = {
        "cold_s": round(cold_s, 3),
        "warm_s": round(warm_s, 4),
        "one_ffmpeg_same_frame_s": round(base_s, 3),
        "cold_over_one_ffmpeg": round(over_base, 2),
    }
    benchmark.extra_info.update(report)
    print("\nthumbnail of a 720p segment:", report)
    if not smoke(benchmark):
        assert over_base <= 3, report


@pytest.fixture(scope="module")
def hour_base(tmp_path_factory, request):
    """An hour of tiny video with its test audio (a minute for the smoke run)."""
    options = request.config.getoption
    seconds = 60 if options("benchmark_disable") and not options("benchmark_enable") else 3600
    tmp = tmp_path_factory.mktemp("wave-bench")
    stream = make_stream(tmp / "stream", seconds=seconds, size="160x90")
    store_stream(stream, tmp / "base", "ch", "low", dt.datetime(2026, 11, 27, 17))
    return tmp, seconds


@pytest.mark.timeout(1800)
@pytest.mark.benchmark(group="waveform")
def test_waveform_of_an_hour(benchmark, hour_base):
    """An hour's waveform through the route: cold (every segment's audio decoded), then
    warm (the hour's peaks from the disk cache, drawn and encoded). Goal: warm under
    10 ms; the same-run ratio checked is warm against cold (at most 1/50)."""
    tmp, seconds = hour_base
    cache_dir = tmp / "waves"
    app = create_app({"BASE_DIR": str(tmp / "base"), "WAVEFORM_DIR": str(cache_dir),
                      "METRICS_REGISTRY": prometheus_client.CollectorRegistry()})  # fmt: skip
    client = app.test_client()
    end = dt.datetime(2026, 11, 27, 17) + dt.timedelta(seconds=seconds)
    url = f"/waveform/ch/low.png?start=2026-11-27T17:00:00Z&end={end:%Y-%m-%dT%H:%M:%S}Z"

    def cold() -> None:
        shutil.rmtree(cache_dir, ignore_errors=True)
        response = client.get(url)
        assert response.status_code == 200, response.text

    def warm() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.text

    cold_s = _timed(cold)
    rounds = 1 if smoke(benchmark) else 20
    benchmark.pedantic(warm, rounds=rounds, iterations=1)
    warm_s = benchmark.stats.stats.min if not smoke(benchmark) else _timed(warm)
    report = {"seconds": seconds, "cold_s": round(cold_s, 2), "warm_ms": round(warm_s * 1000, 2),
              "cold_over_warm": round(cold_s / warm_s)}  # fmt: skip
    benchmark.extra_info.update(report)
    print("\nwaveform of an hour:", report)
    if not smoke(benchmark):
        assert cold_s / warm_s >= 50, report

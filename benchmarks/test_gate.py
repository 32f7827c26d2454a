"""The CI speed gate (``make bench-gate``): quick ratios that fail when fastseg regresses.

Each check measures both sides in one run, interleaved, on a 12-hour tree, and
compares the ratio with a floor set well below what this machine measures (so
noise does not fail it, but losing the compiled twin's advantage does). The
figures are printed for the log. Goals and typical figures are in issue #2's
closing note; ``make bench`` gives the full picture.
"""

import datetime as dt

import pytest

from benchmarks import baselines, measure
from benchmarks.conftest import path_batch
from benchmarks.treegen import START
from fastseg import _segments_py

_segments_c = pytest.importorskip("fastseg._segments_c", reason="the compiled twin is not built")

pytestmark = pytest.mark.gate

HOURS = 11
RANGE = (START + dt.timedelta(hours=1, seconds=1), START + dt.timedelta(hours=HOURS, minutes=59))


def report(what, slow, fast, ratio, floor):
    print(f"\n{what}: {slow * 1e3:.2f} ms vs {fast * 1e3:.2f} ms = {ratio:.1f}x (floor {floor}x)")
    assert ratio >= floor, f"{what} fell to {ratio:.2f}x, below the floor of {floor}x"


@pytest.fixture(scope="module")
def batch(tree12):
    return path_batch(tree12, 2000)


def parse_all(fn, batch):
    return lambda: [fn(p) for p in batch]


def test_parse_compiled_vs_strptime(batch):
    # goal 30x; measured 45-100x here
    slow, fast, r = measure.ratio(
        parse_all(baselines.strptime_parse, batch), parse_all(_segments_c.parse_segment_path, batch)
    )
    report("parse compiled vs strptime", slow, fast, r, floor=20)


def test_parse_compiled_vs_pure(batch):
    # goal 5x; measured 20-25x here
    slow, fast, r = measure.ratio(
        parse_all(_segments_py.parse_segment_path, batch),
        parse_all(_segments_c.parse_segment_path, batch),
    )
    report("parse compiled vs pure", slow, fast, r, floor=5)


def select(impl, tree):
    return lambda: impl.get_best_segments(str(tree), *RANGE)


def test_cold_selection_compiled_vs_pure(tree12):
    slow, fast, r = measure.ratio(
        select(_segments_py, tree12),
        select(_segments_c, tree12),
        rounds=3,
        slow_setup=_segments_py.clear_cache,
        fast_setup=_segments_c.clear_cache,
    )
    report("cold selection compiled vs pure", slow, fast, r, floor=2.5)  # measured 4-8x


def test_cold_selection_vs_listing(tree12):
    # goal: within 2x of merely listing the same directories (ratio >= 0.5)
    dirs = baselines.hour_dirs(tree12, RANGE[0], HOURS)
    slow, fast, r = measure.ratio(
        lambda: baselines.list_all(dirs),
        select(_segments_c, tree12),
        rounds=5,
        fast_setup=_segments_c.clear_cache,
    )
    report("listing vs cold selection", slow, fast, r, floor=0.35)


def test_warm_selection_vs_listing(tree12):
    # goal: cheaper than listing (ratio > 1); measured ~50x here
    dirs = baselines.hour_dirs(tree12, RANGE[0], HOURS)
    run = select(_segments_c, tree12)
    run()
    slow, fast, r = measure.ratio(lambda: baselines.list_all(dirs), run, rounds=5)
    report("listing vs warm selection", slow, fast, r, floor=5)


def test_memory_per_segment(tree12):
    # goal: 25 MiB for 86,000 segments = 305 bytes each; measured ~295 for 47
    # hours and ~335 for these 11 (one hour's scratch space counts for more).
    # Allocation is deterministic, so this ceiling is tight.
    run = select(_segments_c, tree12)
    run()
    _segments_c.clear_cache()
    peak, result = measure.peak_memory(run)
    per = peak / len(result)
    print(f"\ncold selection memory: {peak / 2**20:.1f} MiB, {per:.0f} bytes per segment")
    assert per <= 350, f"a cold selection costs {per:.0f} bytes per segment, over 350"

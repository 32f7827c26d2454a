"""A week of archive at once: the coverage map and the memory of fastseg's cache.

What ``test_week_bench.py`` reports and ``test_gate_week.py`` checks, on the
170-hour tree of two qualities (benchmarks/treegen.py: ~630,000 sparse files,
made once under ``$FASTSEG_BENCH_DIR``, about a minute the first time).
"""

import datetime as dt
import gc
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import fastseg
from benchmarks import measure
from benchmarks.treegen import QUALITIES, START
from services.archive import coverage
from services.archive.coverage_svg import render_svg

HOURS = 170
FIRST = START
LAST = START + dt.timedelta(hours=HOURS - 1)  # the last hour's start
HOUR = dt.timedelta(hours=1)


def cells(tree: Path) -> dict[str, list[coverage.Cell]]:
    """What the map of the week computes: a cell per hour and quality."""
    return {q: coverage.quality_cells(str(tree / q), q, FIRST, LAST) for q in QUALITIES}


def draw(tree: Path) -> str:
    """The whole map: the cells and their SVG."""
    return render_svg("bench", list(QUALITIES), cells(tree))


def selection(tree: Path, hours: int = HOURS) -> int:
    """A selection of the same hours (or the first ``hours``), both qualities, results dropped."""
    end = FIRST + hours * HOUR
    return sum(len(fastseg.get_best_segments(str(tree / q), FIRST, end)) for q in QUALITIES)


def clear() -> None:
    fastseg.clear_cache()
    coverage.clear_cache()


def cold_ratio(tree: Path, rounds: int) -> tuple[float, float, float]:
    """(cold map cells s, cold selection s, cells / selection) in CPU time, interleaved."""
    return measure.ratio(
        lambda: cells(tree),
        lambda: selection(tree),
        rounds=rounds,
        slow_setup=clear,
        fast_setup=clear,
        clock=time.thread_time,
    )


def best_warm(work: Callable[[], object], rounds: int) -> float:
    """Best CPU seconds of ``work`` once it has run (its caches warm)."""
    work()
    return min(measure.best_time(work, clock=time.thread_time) for _ in range(rounds))


def held_after_the_week(tree: Path, hours: int = HOURS) -> tuple[int, int]:
    """Bytes fastseg's cache holds once the whole week (or its first ``hours``) was
    selected, results dropped, and the segments it holds: the most a week held
    warm costs (the objects' budget full, every other hour in names)."""
    clear()
    gc.collect()
    tracemalloc.start()
    try:
        selection(tree, hours)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    paths = [path for path, _ in fastseg.cache_info()]
    assert len(paths) >= 2 * hours, "the hours must fit the cache"
    segments = sum(fastseg.hour_coverage(path).segments for path in paths)  # cached: no change
    clear()
    return held, segments

"""A week at once (170 h x 2 qualities): the coverage map, cold and warm, and a warm week's memory.

``make bench`` prints the map's times; the figures the README states are
``test_gate_week.py``'s, measured the same way (``benchmarks/week.py``). The
memory benchmark also gives the pure twin's figure (it keeps every cached
segment as a ``SegmentInfo``, so 48 hours give its figure per segment, in a
quarter of the time the whole week takes under tracemalloc). With
``--benchmark-disable`` (CI's smoke run) each runs once, unchecked.
"""

import contextlib

import pytest

import fastseg
from benchmarks import week
from fastseg import _segments_py


@contextlib.contextmanager
def on(twin: str):
    """The public API on one twin (the pure one as ``FASTSEG_PURE=1`` would load it)."""
    if twin == "compiled" and fastseg.IMPLEMENTATION != "compiled":
        pytest.skip("the compiled twin is not built")
    loaded = fastseg._impl
    fastseg._impl = _segments_py if twin == "pure" else loaded
    try:
        yield
    finally:
        fastseg._impl = loaded
        week.clear()


@pytest.mark.timeout(1800)  # the first run makes the week's tree
@pytest.mark.benchmark(group="week: coverage map cells, 170 h x 2 qualities")
@pytest.mark.parametrize("state", ["cold", "warm"])
def test_week_map(benchmark, tree_week, state):
    """The map's cells, cold (every cache empty) or warm; cold also against a cold selection."""
    rounds = 1 if benchmark.disabled else 3
    with on("compiled"):
        if state == "cold":
            benchmark.pedantic(week.cells, (tree_week,), setup=week.clear, rounds=rounds)
            cells, selected, r = week.cold_ratio(tree_week, rounds)
            report = {"cells_ms": cells * 1e3, "selection_ms": selected * 1e3, "ratio": r}
        else:
            week.cells(tree_week)
            benchmark.pedantic(week.cells, (tree_week,), rounds=rounds * 5)
            report = {"with_svg_ms": week.best_warm(lambda: week.draw(tree_week), rounds) * 1e3}
    report = {k: round(v, 3) for k, v in report.items()}
    benchmark.extra_info.update(report)
    print(f"\nweek map, {state}:", report)


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("twin", ["compiled", "pure"])
def test_week_held_warm(benchmark, tree_week, twin):
    """Bytes fastseg's cache holds after a selection of the whole week, per cached segment."""
    with on(twin):
        hours = week.HOURS if twin == "compiled" else 48
        held, segments = benchmark.pedantic(week.held_after_the_week, (tree_week, hours), rounds=1)
    report = {"hours": hours, "MiB": round(held / 2**20, 1), "segments": segments,
              "bytes_per_segment": round(held / segments)}  # fmt: skip
    benchmark.extra_info.update(report)
    print(f"\na week held warm, {twin}:", report)
    assert segments > 3500 * hours

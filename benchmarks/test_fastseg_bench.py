"""fastseg's speed: parsing and selection, compiled vs pure vs plain baselines.

``make bench`` prints each group side by side. The README's speed table gives
the figures; ``test_gate.py`` checks each of them in CI as a same-run ratio.
"""

import datetime as dt

import pytest

from benchmarks import baselines, measure
from benchmarks.conftest import path_batch
from benchmarks.treegen import START
from fastseg import _segments_py

try:
    from fastseg import _segments_c
except ImportError:
    _segments_c = None

TWINS = {"compiled": _segments_c, "pure": _segments_py}
RANGE_START = START + dt.timedelta(hours=1, seconds=1)  # the tree has an hour before it


def twin(name):
    if TWINS[name] is None:
        pytest.skip("the compiled twin is not built")
    return TWINS[name]


@pytest.fixture(scope="module")
def batch(tree48):
    return path_batch(tree48, 2000)


@pytest.mark.benchmark(group="parse: 2,000 paths")
@pytest.mark.parametrize("parser", ["compiled", "pure", "strptime"])
def test_parse(benchmark, batch, parser):
    """Parse 2,000 real paths in walk order; ns per name = time / 2,000."""
    fn = baselines.strptime_parse if parser == "strptime" else twin(parser).parse_segment_path
    result = benchmark(lambda: [fn(p) for p in batch])
    assert len(result) == len(batch)
    if benchmark.stats is not None:  # None with --benchmark-disable (CI's smoke run)
        benchmark.extra_info["ns_per_name"] = benchmark.stats.stats.min / len(batch) * 1e9


def selection(impl, hours_path, hours):
    end = RANGE_START + dt.timedelta(hours=hours) - dt.timedelta(minutes=1)
    return lambda: impl.get_best_segments(str(hours_path), RANGE_START, end)


@pytest.mark.parametrize("hours", [1, 24, 47])
@pytest.mark.parametrize("side", ["compiled", "pure", "listdir"])
@pytest.mark.parametrize("state", ["cold", "warm"])
def test_select(benchmark, tree48, hours, side, state):
    """get_best_segments over N hours, cold (cache cleared) or warm, against os.listdir."""
    benchmark.group = f"select {hours}h {state}"
    if side == "listdir":
        dirs = baselines.hour_dirs(tree48, RANGE_START, hours)
        assert benchmark(baselines.list_all, dirs) > 1800 * hours
        return
    impl = twin(side)
    run = selection(impl, tree48, hours)
    if state == "cold":
        result = benchmark.pedantic(run, setup=impl.clear_cache, rounds=5 if hours > 1 else 20)
    else:
        run()
        result = benchmark(run)
    assert len(result) > 1700 * hours


@pytest.mark.parametrize("state", ["cold", "warm"])
def test_loop_stall(benchmark, tree48, state):
    """The longest the gevent loop is blocked while a 47-hour selection runs (goal <= 5 ms).

    Wall time (what another greenlet waits, load included) and CPU time (the
    longest stretch of work between two yields, which the gate checks).
    """
    impl = twin("compiled")
    run = selection(impl, tree48, 47)
    run()
    stalls, cpus = [], []

    def once():
        if state == "cold":
            impl.clear_cache()
        stall, cpu, result = measure.longest_stall(run)
        stalls.append(stall)
        cpus.append(cpu)
        return result

    benchmark.pedantic(once, rounds=5)
    benchmark.extra_info["longest_stall_ms"] = max(stalls) * 1e3
    benchmark.extra_info["median_stall_ms"] = sorted(stalls)[len(stalls) // 2] * 1e3
    benchmark.extra_info["least_cpu_stall_ms"] = min(cpus) * 1e3
    print(
        f"\nloop stall {state}: wall max {max(stalls) * 1e3:.2f} ms, CPU best "
        f"{min(cpus) * 1e3:.2f} ms over {len(stalls)} runs"
    )


@pytest.mark.parametrize("side", ["compiled", "pure"])
def test_memory(benchmark, tree48, side):
    """Peak memory added by a cold 47-hour selection (~86,000 segments; goal <= 25 MiB)."""
    impl = twin(side)
    run = selection(impl, tree48, 47)
    run()
    impl.clear_cache()
    peak, result = benchmark.pedantic(lambda: measure.peak_memory(run), setup=impl.clear_cache,
                                      rounds=1)  # fmt: skip
    benchmark.extra_info["peak_mib"] = peak / 2**20
    benchmark.extra_info["bytes_per_segment"] = peak / len(result)
    print(f"\n{side}: peak {peak / 2**20:.1f} MiB for {len(result)} segments")

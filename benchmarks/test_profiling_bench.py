"""What the stack sampler costs: a CPU-bound workload with the sampler off and at 200 Hz.

``make bench`` shows the two pytest-benchmark groups side by side and
``test_sampler_overhead_ratio`` reports the overhead as one ratio, measured with
both settings interleaved in the same run (goal: at most 2 %). It also reports
how many samples were really taken: ``ITIMER_VIRTUAL`` is charged in scheduler
ticks, so the rate achieved can be well below the one asked for, and
``test_sampler_handler_cost`` gives the cost of one sample, from which the
overhead at a true 200 Hz follows (cost × 200). The ``gate`` test checks that
direct cost (a real signal delivered, the stack walked, the timer re-armed) ×
200 Hz against the 2 % goal: its noise is a small fraction of that, unlike the
end-to-end ratio's on a shared machine.
"""

import signal
import statistics
import sys
import time

import prometheus_client
import pytest

from profiling import StackSampler

RATE_HZ = 200
GOAL = 0.02


def workload(n=1_000_000):
    """Pure-Python CPU work through a few call levels, like a request handler (~0.3 s)."""

    def leaf(i):
        return (i * 2654435761) % 1_000_003

    def middle(start):
        return sum(leaf(i) for i in range(start, start + 1000))

    return sum(middle(s) for s in range(0, n, 1000))


def cpu_seconds(fn):
    start = time.process_time()
    fn()
    return time.process_time() - start


def measure_overhead(pairs=15, rate_hz=RATE_HZ, n=500_000):
    """(overhead, samples, CPU seconds sampled) of the workload with the sampler on vs off.

    Runs ``pairs`` back-to-back pairs, one side then the other, swapping which
    goes first each time so neither side always follows the other, and takes
    the median of the per-pair ratios: neighbouring runs see the same load, and
    the median ignores the pairs a burst of load split. Time is this process's
    CPU time, which holds the sampler's cost but not time other processes take.
    ``overhead`` is that median ratio - 1.
    """
    sampler = StackSampler(1 / rate_hz, registry=prometheus_client.CollectorRegistry())

    def off():
        return cpu_seconds(lambda: workload(n))

    def on():
        sampler.start()
        try:
            return cpu_seconds(lambda: workload(n))
        finally:
            sampler.stop()

    ratios, sampled_cpu = [], 0.0
    for i in range(pairs):
        if i % 2:
            with_sampler, without = on(), off()
        else:
            without, with_sampler = off(), on()
        ratios.append(with_sampler / without)
        sampled_cpu += with_sampler
    samples = round(sum(sampler.counts().values()) * rate_hz)
    return statistics.median(ratios) - 1, samples, sampled_cpu


@pytest.mark.benchmark(group="profiling-sampler")
def test_workload_sampler_off(benchmark):
    assert benchmark(workload) > 0


@pytest.mark.benchmark(group="profiling-sampler")
def test_workload_sampler_200hz(benchmark):
    sampler = StackSampler(1 / RATE_HZ, registry=prometheus_client.CollectorRegistry())
    sampler.start()
    try:
        assert benchmark(workload) > 0
    finally:
        sampler.stop()
    assert sampler.counts(), "the sampler took no samples during the benchmark"


@pytest.mark.benchmark(group="profiling-sampler-cost")
def test_sampler_handler_cost(benchmark):
    """One sample's cost: the handler on pytest's stack plus 20 frames (stopped: no re-arm)."""
    sampler = StackSampler(1 / RATE_HZ, registry=prometheus_client.CollectorRegistry())

    def deep(n):
        if n:
            return deep(n - 1)
        frame = sys._getframe()
        return benchmark(sampler._on_signal, signal.SIGVTALRM, frame)

    deep(20)
    assert len(sampler.counts()) == 1
    per_sample = benchmark.stats.stats.median if benchmark.stats else None
    if per_sample is not None:
        benchmark.extra_info["overhead_at_200hz"] = per_sample * RATE_HZ
        print(f"\none sample: {per_sample * 1e6:.1f} us = {per_sample * RATE_HZ:.3%} at 200 Hz")


@pytest.mark.benchmark(group="profiling-sampler")
def test_sampler_overhead_ratio(benchmark):
    overhead, samples, cpu = benchmark.pedantic(measure_overhead, kwargs={"pairs": 21}, rounds=1)
    benchmark.extra_info.update(overhead=overhead, samples=samples, goal=GOAL)
    print(
        f"\nsampler overhead at {RATE_HZ} Hz asked: {overhead:+.2%} "
        f"({samples} samples in {cpu:.2f} CPU s = {samples / cpu:.0f} Hz achieved; goal {GOAL:.0%})"
    )
    assert samples > 0, "the sampler took no samples: nothing was measured"


def sample_cost(rounds: int = 9, count: int = 2000, depth: int = 20) -> float:
    """Seconds one delivered sample costs, best of ``rounds``: signal, stack walk, re-arm.

    The sampler runs (armed for an hour of CPU time, so the timer itself never
    fires) while the main thread, ``depth`` frames deep, raises SIGVTALRM
    ``count`` times: each raise is a real signal delivered through Python's
    handler machinery to ``_on_signal``, which walks the stack, counts it and
    re-arms the timer, as every sample does. The same loop without the signal is
    subtracted. A microbenchmark's best round barely moves under load, unlike the
    end-to-end comparison above, whose noise on a shared machine (±5 %) exceeds
    the 2 % goal; what it leaves out is the workload's own slowdown after each
    interruption (caches), which that comparison shows when the machine is quiet.
    """
    sampler = StackSampler(3600.0, registry=prometheus_client.CollectorRegistry())

    def timed(raise_signal: bool) -> float:
        start = time.thread_time()  # CPU time: the time other processes take is left out
        for _ in range(count):
            if raise_signal:
                signal.raise_signal(signal.SIGVTALRM)
        return time.thread_time() - start

    def deep(n):
        return deep(n - 1) if n else [(timed(True), timed(False)) for _ in range(rounds)]

    sampler.start()
    try:
        pairs = deep(depth)
    finally:
        sampler.stop()
    assert sum(sampler.counts().values()) == 3600.0 * rounds * count, "samples went missing"
    return min(with_signal - without for with_signal, without in pairs) / count


@pytest.mark.gate
def test_sampler_overhead_gate():
    """Fails when a sample's direct cost at a true 200 Hz is over the 2 % goal."""
    cost = sample_cost()
    overhead = cost * RATE_HZ
    print(
        f"\none sample (signal, 20-frame stack, re-arm): {cost * 1e6:.1f} us, "
        f"{overhead:.2%} of CPU at {RATE_HZ} Hz (goal {GOAL:.0%})"
    )
    assert overhead <= GOAL, (
        f"a stack sample costs {cost * 1e6:.1f} us: {overhead:.1%} of the CPU at {RATE_HZ} Hz, "
        f"over the {GOAL:.0%} goal: look at StackSampler._on_signal"
    )

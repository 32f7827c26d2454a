"""Measurements that pytest-benchmark does not make: ratios, loop stalls, memory.

Ratios are taken in one run with the two sides interleaved, so a noisy
neighbour slows both alike; each side's best of several rounds is used.
"""

import gc
import time
import tracemalloc
from collections.abc import Callable

import gevent


def best_time(fn: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    if setup is not None:
        setup()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ratio(
    slow: Callable[[], object],
    fast: Callable[[], object],
    rounds: int = 7,
    slow_setup: Callable[[], object] | None = None,
    fast_setup: Callable[[], object] | None = None,
) -> tuple[float, float, float]:
    """(best slow seconds, best fast seconds, slow/fast), sides interleaved."""
    slow_best = fast_best = float("inf")
    for _ in range(rounds):
        slow_best = min(slow_best, best_time(slow, slow_setup))
        fast_best = min(fast_best, best_time(fast, fast_setup))
    return slow_best, fast_best, slow_best / fast_best


def longest_stall(work: Callable[[], object], tick: float = 0.001) -> tuple[float, object]:
    """The longest the gevent loop went without running a greenlet that sleeps ``tick``.

    Returns (seconds the loop was blocked beyond the tick, work's result). Garbage
    collections that happen during ``work`` are included, as in production.
    """
    gaps = []
    running = True

    def ticker():
        last = time.perf_counter()
        while running:
            gevent.sleep(tick)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    watcher = gevent.spawn(ticker)
    gevent.sleep(tick * 3)  # let the ticker settle into its rhythm
    result = work()
    running = False
    watcher.join()
    return max(gaps) - tick, result


def peak_memory(work: Callable[[], object]) -> tuple[int, object]:
    """Peak bytes allocated through Python's allocators while ``work`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        result = work()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result

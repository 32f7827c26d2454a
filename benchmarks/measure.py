"""Measurements that pytest-benchmark does not make: ratios, loop stalls, memory.

Ratios are taken in one run with the two sides interleaved, so a noisy
neighbour slows both alike; each side's best of several rounds is used.
"""

import gc
import time
import tracemalloc
from collections.abc import Callable

import gevent


def best_time(
    fn: Callable[[], object],
    setup: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Seconds one call of ``fn`` takes on ``clock`` (after ``setup``, which is not timed)."""
    if setup is not None:
        setup()
    t0 = clock()
    fn()
    return clock() - t0


def ratio(
    slow: Callable[[], object],
    fast: Callable[[], object],
    rounds: int = 7,
    slow_setup: Callable[[], object] | None = None,
    fast_setup: Callable[[], object] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[float, float, float]:
    """(best slow seconds, best fast seconds, slow/fast), sides interleaved.

    ``clock=time.thread_time`` times CPU time (user + system) of this thread: the
    wall time on a quiet machine, without the time the kernel gives other
    processes on a loaded one.
    """
    slow_best = fast_best = float("inf")
    for _ in range(rounds):
        slow_best = min(slow_best, best_time(slow, slow_setup, clock))
        fast_best = min(fast_best, best_time(fast, fast_setup, clock))
    return slow_best, fast_best, slow_best / fast_best


def longest_stall(work: Callable[[], object], tick: float = 0.001) -> tuple[float, float, object]:
    """How long the gevent loop went without running a greenlet that sleeps ``tick``.

    Returns (wall seconds, CPU seconds, work's result): the longest gap between the
    ticker's wake-ups beyond the tick, in wall-clock time and in this thread's CPU
    time. On a loaded machine the wall figure also holds the time the kernel gave
    other processes; the CPU figure is the longest stretch of work that ran
    without yielding, which is what the code decides. Garbage collections that
    happen during ``work`` are included in both, as in production.
    """
    walls, cpus = [], []
    running = True

    def ticker():
        last, last_cpu = time.perf_counter(), time.thread_time()
        while running:
            gevent.sleep(tick)
            now, now_cpu = time.perf_counter(), time.thread_time()
            walls.append(now - last)
            cpus.append(now_cpu - last_cpu)
            last, last_cpu = now, now_cpu

    watcher = gevent.spawn(ticker)
    gevent.sleep(tick * 3)  # let the ticker settle into its rhythm
    result = work()
    running = False
    watcher.join()
    return max(walls) - tick, max(cpus), result


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

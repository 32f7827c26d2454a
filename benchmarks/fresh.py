"""A cold selection in a fresh process, as a restreamer meets it: loop stall and peak RSS.

``python -m benchmarks.fresh HOURS_PATH START END [--no-freeze] [--control]`` is
the child: a new interpreter, the standard library patched for gevent as a
service patches it, ``import fastseg`` (whichever twin loads), the startup heap
frozen as every service's ``setup`` freezes it (unless ``--no-freeze``), then a
greenlet that sleeps 1 ms in a loop while one cold ``get_best_segments`` runs,
with the garbage collector on as in production. With ``--control`` the
selection is replaced by as long a stretch of CPU work that yields every
0.1 ms: the longest gap the machine's load alone makes in a busy process. It
prints one JSON object: the longest wall-clock gap between the ticker's wake-ups
beyond its tick (and the CPU time inside it), the longest CPU time between two
wake-ups beyond the tick, the garbage collections that ran (by generation, with
the longest), and how much the selection raised the peak resident set size
(``VmHWM``, reset to the current size just before).

:func:`fresh_selection` runs the child and returns that object. The child runs
at a raised priority where that is allowed (root, or CAP_SYS_NICE). Wall time on
a loaded machine still includes the time the kernel gives other processes, so
callers take the best of several children, beside the best of as many controls.
"""

if __name__ == "__main__":  # the child: patched first, as a service is
    from gevent import monkey

    monkey.patch_all()

import datetime as dt  # noqa: E402 - after patching, as gevent asks
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

TICK = 0.001
CONTROL_SECONDS = 0.3  # about as long as a cold 48-hour selection takes
CONTROL_STEP = 0.0001
ROOT = Path(__file__).resolve().parent.parent


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(f"{field} is not in /proc/self/status")


def _reset_peak() -> bool:
    """Set VmHWM to the current RSS (Linux 4.0+); False if the kernel refuses."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def child(
    hours_path: str,
    start: dt.datetime,
    end: dt.datetime,
    freeze: bool = True,
    control: bool = False,
) -> dict:
    """Measure one cold selection in this (fresh) process; see the module docstring."""
    import fastseg  # noqa: PLC0415 - what is measured starts here, as a service imports it

    if freeze:
        from services.runtime.service import freeze_startup_heap  # noqa: PLC0415

        freeze_startup_heap()

    collections: list[tuple[int, float, float]] = []  # generation, wall and CPU seconds
    began: dict[int, tuple[float, float]] = {}

    def on_gc(phase, info):
        gen = info["generation"]
        if phase == "start":
            began[gen] = (time.perf_counter(), time.thread_time())
        else:
            wall, cpu = began[gen]
            collections.append((gen, time.perf_counter() - wall, time.thread_time() - cpu))

    gaps: list[tuple[float, float, float]] = []  # wall, CPU, when it ended
    running = True

    def ticker():
        last, last_cpu = time.perf_counter(), time.thread_time()
        while running:
            gevent.sleep(TICK)
            now, now_cpu = time.perf_counter(), time.thread_time()
            gaps.append((now - last, now_cpu - last_cpu, now))
            last, last_cpu = now, now_cpu

    watcher = gevent.spawn(ticker)
    gevent.sleep(TICK * 5)  # the ticker settles into its rhythm
    reset = _reset_peak()
    rss_before, hwm_before = _status_kib("VmRSS"), _status_kib("VmHWM")
    gc.callbacks.append(on_gc)
    t0 = time.perf_counter()
    if control:
        stop = time.perf_counter() + CONTROL_SECONDS
        while (now := time.perf_counter()) < stop:
            while time.perf_counter() < now + CONTROL_STEP:
                pass
            gevent.idle()
        result = []
    else:
        result = fastseg.get_best_segments(hours_path, start, end)
    took = time.perf_counter() - t0
    gevent.sleep(TICK * 3)  # the ticker's gap that ends after the selection counts too
    gc.callbacks.remove(on_gc)
    running = False
    watcher.join()
    hwm_after = _status_kib("VmHWM")
    gaps = [g for g in gaps if g[2] > t0]  # those that ended once the selection began
    wall, cpu, _ = max(gaps)
    longest = sorted(gaps, reverse=True)[:5]
    return {
        "implementation": fastseg.IMPLEMENTATION,
        "segments": len(result),
        "seconds": took,
        "stall_ms": (wall - TICK) * 1e3,
        "stall_cpu_ms": cpu * 1e3,
        # CPU time between two ticks beyond the tick: what ran without letting the ticker in
        "max_cpu_gap_ms": max(0.0, max(c for _, c, _ in gaps) - TICK) * 1e3,
        "longest_gaps": [  # wall ms, CPU ms, ms into the selection when it ended
            [round(w * 1e3, 2), round(c * 1e3, 2), round((at - t0) * 1e3, 1)]
            for w, c, at in longest
        ],
        "gc": {str(g): sum(1 for gen, *_ in collections if gen == g) for g in range(3)},
        "gc_longest_ms": max((w for _, w, _ in collections), default=0.0) * 1e3,
        "gc_longest_cpu_ms": max((c for *_, c in collections), default=0.0) * 1e3,
        "hwm_added_mib": (hwm_after - (rss_before if reset else hwm_before)) / 1024,
        "rss_before_mib": rss_before / 1024,
        "peak_reset": reset,
        "nice": os.nice(0),
    }


def _prioritize() -> None:
    """In the child before it runs: ahead of the other processes, where allowed.

    A restreamer has its node's CPU; on a shared machine the kernel would
    otherwise hand the core to others in the middle of a measurement. Where
    raising the priority is not allowed the child runs as it is (it reports
    its niceness).
    """
    try:
        os.nice(-15)
    except OSError:
        pass


def fresh_selection(
    hours_path: os.PathLike | str,
    start: dt.datetime,
    end: dt.datetime,
    pure: bool = False,
    freeze: bool = True,
    control: bool = False,
) -> dict:
    """Run :func:`child` in a new interpreter and return what it measured."""
    env = dict(os.environ)
    env.pop("FASTSEG_PURE", None)
    if pure:
        env["FASTSEG_PURE"] = "1"
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.fresh", os.fspath(hours_path),
         start.isoformat(), end.isoformat(), *([] if freeze else ["--no-freeze"]),
         *(["--control"] if control else [])],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        preexec_fn=_prioritize,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"fresh selection child failed ({out.returncode}): {out.stderr}")
    return json.loads(out.stdout)


if __name__ == "__main__":
    hours_path, start, end = sys.argv[1:4]
    times = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    flags = sys.argv[4:]
    print(json.dumps(child(hours_path, *times, "--no-freeze" not in flags, "--control" in flags)))

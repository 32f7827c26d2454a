"""The CI gate for a cold 48-hour selection in a fresh process: loop stall and peak RSS.

The figures the README states for what a restreamer meets right after it starts:
each child is a new interpreter that starts as a service does (gevent patched,
``fastseg`` imported, the startup heap frozen), ticks a greenlet every 1 ms and
runs one cold selection of the 48-hour tree with the garbage collector on (see
``benchmarks/fresh.py``). Control children alternate with them: the same
ticker beside as long a stretch of CPU work that yields every 0.1 ms, so their
longest gap is what the machine's load alone does to a busy process.

* CPU: the longest stretch the process ran without letting the ticker in,
  beyond the tick, collections included (load does not change it), best child;
* wall: the best child's longest gap beyond the best control's. On a loaded
  machine the kernel's time slices dominate both; the best of several fresh
  processes is the fair figure;
* peak RSS: how much the selection raised VmHWM (deterministic to a few pages).
"""

import datetime as dt

import pytest

from benchmarks.fresh import fresh_selection
from benchmarks.gate import Claim, compiled_loaded  # noqa: F401 (an autouse fixture)
from benchmarks.treegen import START

pytestmark = pytest.mark.gate

ROUNDS = 5
RANGE = (START, START + dt.timedelta(hours=48))

# The README's rows for a fresh process (keep the two in step).
CLAIMS = {
    "stall_wall": Claim(
        "fresh process, cold 48 h: longest loop stall beyond a busy control's, wall ms",
        5, 0, higher=False,
    ),
    "stall_cpu": Claim(
        "fresh process, cold 48 h: longest CPU stretch beyond the tick, GC included, ms",
        2, 0, higher=False,
    ),
    "peak_rss": Claim(
        "fresh process, cold 48 h: peak RSS added (VmHWM), MiB", 25, 0, higher=False
    ),
}  # fmt: skip


def test_fresh_process_selection(tree48):
    runs, controls = [], []
    for _ in range(ROUNDS):
        runs.append(fresh_selection(tree48, *RANGE))
        controls.append(fresh_selection(tree48, *RANGE, control=True))
    unfrozen = fresh_selection(tree48, *RANGE, freeze=False)
    assert {r["implementation"] for r in runs} == {"compiled"}
    assert all(r["segments"] > 1700 * 48 for r in runs)
    walls = [r["stall_ms"] for r in runs]
    floors = [r["stall_ms"] for r in controls]
    cpus = [r["max_cpu_gap_ms"] for r in runs]
    detail = (
        f"; wall ms per run {', '.join(f'{w:.1f}' for w in walls)}; control "
        f"{', '.join(f'{w:.1f}' for w in floors)}; CPU ms {', '.join(f'{c:.1f}' for c in cpus)}; "
        f"collections by generation {runs[0]['gc']}; niceness {runs[0]['nice']}; without "
        f"the startup freeze: wall {unfrozen['stall_ms']:.1f} ms, CPU "
        f"{unfrozen['max_cpu_gap_ms']:.1f} ms, collections {unfrozen['gc']}"
    )
    CLAIMS["stall_cpu"].check(min(cpus), detail)
    CLAIMS["stall_wall"].check(max(0.0, min(walls) - min(floors)))
    CLAIMS["peak_rss"].check(
        min(r["hwm_added_mib"] for r in runs),
        f" for {runs[0]['segments']} segments "
        f"({min(r['hwm_added_mib'] for r in runs) * 2**20 / runs[0]['segments']:.0f} bytes each)",
    )

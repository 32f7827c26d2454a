"""The CI gate for a week at once: the coverage map of 170 hours and what a warm week holds.

On the week-long tree (two qualities, ~612,000 segments chosen; see
``benchmarks/week.py``):

* cold map: the map's cells (``services.archive.coverage``, every cache empty)
  against a cold selection of the same hours, in CPU time, interleaved, best
  round of each: reading the directories is most of both, and the map must
  cost no more (it builds no ``SegmentInfo``);
* warm map: the cells again, everything cached, best CPU time;
* memory: what fastseg's cache holds (tracemalloc) once the whole week was
  selected, per cached segment: the hours selected last keep their segments as
  objects (up to 100,000), the others only their names. Deterministic.
"""

import pytest

from benchmarks import week
from benchmarks.gate import Claim, compiled_loaded  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.gate

# The README's week rows (keep the two in step).
CLAIMS = {
    "cold": Claim("week map, cold: cells / cold selection of the same hours", 1.0, 0, False),
    "warm": Claim("week map, warm: cells of 170 h x 2 qualities, CPU ms", 10, 0, False),
    "memory": Claim("week held warm, compiled: bytes per cached segment", 115, 0.05, False),
}


def test_week_map_cold_against_selection(tree_week):
    cells, selected, r = week.cold_ratio(tree_week, rounds=5)
    CLAIMS["cold"].check(r, f": cells {cells * 1e3:.0f} ms, selection {selected * 1e3:.0f} ms")


def test_week_map_warm(tree_week):
    warm = week.best_warm(lambda: week.cells(tree_week), rounds=7)
    svg = week.best_warm(lambda: week.draw(tree_week), rounds=3)
    week.clear()
    CLAIMS["warm"].check(warm * 1e3, f" (with its SVG: {svg * 1e3:.1f} ms)")


def test_week_held_warm(tree_week):
    held, segments = week.held_after_the_week(tree_week)
    CLAIMS["memory"].check(held / segments, f": {held / 2**20:.1f} MiB for {segments} segments")

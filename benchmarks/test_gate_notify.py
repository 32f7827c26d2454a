"""The CI gate for an edit's wait beyond its cut (a restreamer and a cutter woken by NOTIFY).

Three edits of 4 s clips through the events API; the README's row is the median
of ten (``test_edit_to_done_bench.py``). Without the notification the cutter would
find each edit at its next 5 s poll: 2.5 s on average.
"""

import statistics

import pytest

from benchmarks.edit_to_done import measure
from benchmarks.gate import Claim, compiled_loaded  # noqa: F401 (an autouse fixture)

pytestmark = pytest.mark.gate

EDITS = 3
# The README's row (keep the two in step); 50 % margin for a loaded CI machine.
CLAIM = Claim("edit to DONE beyond the cut, median of 3 edits, s", 0.3, 0.5, higher=False)


def test_edit_to_done_wait(pg_dsn, tmp_path, stream_factory):
    result = measure(pg_dsn, tmp_path, stream_factory(seconds=20), EDITS)
    waits = ", ".join(f"{w:.3f}" for w in result["waits"])
    CLAIM.check(statistics.median(result["waits"]), f"; waits, s: {waits}")

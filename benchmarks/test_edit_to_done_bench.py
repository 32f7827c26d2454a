"""An edit's wait before it is DONE, beyond its cut: 10 edits through a restreamer and cutter."""

import pytest

from benchmarks.edit_to_done import measure

EDITS = 10
MEDIAN_WAIT = 0.3  # seconds: the README's claim


@pytest.mark.benchmark(group="edit-to-done")
def test_edit_to_done_beyond_the_cut(pg_dsn, tmp_path, stream_factory):
    """Median of 10 edits: time from the edit's 200 to DONE, less the cut's own time."""
    result = measure(pg_dsn, tmp_path, stream_factory(seconds=20), EDITS)
    waits = ", ".join(f"{w:.3f}" for w in result["waits"])
    cuts = ", ".join(f"{c:.3f}" for c in result["cuts"])
    print(f"\nedit to DONE beyond the cut, s: {waits} (median {result['median_wait']:.3f});"
          f" cuts, s: {cuts}")  # fmt: skip
    assert result["median_wait"] <= MEDIAN_WAIT

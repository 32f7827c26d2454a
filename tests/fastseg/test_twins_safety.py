"""Each twin is a safe API on its own: bad arguments fail the same way, lists are fresh.

The public functions used to check arguments before calling a twin; now the
twins check them themselves, so calling one directly can never read a
non-datetime's memory or hand out the cache's own list.
"""

import datetime as dt
import pathlib

import pytest

from fastseg import DEFAULT_CACHE_HOURS, _segments_py
from tests.fastseg.trees import put

try:
    from fastseg import _segments_c
except ImportError:
    _segments_c = None

T0 = dt.datetime(2026, 11, 27, 17)


class Moment:
    """Not a datetime, though it looks like one to duck typing."""

    year, month, day, hour, minute, second, microsecond, tzinfo = 2026, 11, 27, 17, 0, 0, 0, None


BAD_CALLS = [
    ("get_best_segments", ("/x", 5, T0)),
    ("get_best_segments", ("/x", Moment(), T0)),
    ("get_best_segments", ("/x", T0, "2026-11-27T18:00:00")),
    ("get_best_segments", ("/x", T0.replace(tzinfo=dt.UTC), T0)),
    ("get_best_segments", ("/x", T0, T0.replace(tzinfo=dt.timezone(dt.timedelta(hours=1))))),
    ("get_best_segments", ("/x", T0.date(), T0)),
    ("get_best_segments", ("/x", T0 + dt.timedelta(hours=1), T0)),
    ("get_best_segments", ("/x", dt.datetime(1, 1, 1), T0)),
    ("get_best_segments", ("/x", T0, dt.datetime(9999, 12, 31, 23, 30))),
    ("get_best_segments", (b"/x", T0, T0)),
    ("get_best_segments", (None, T0, T0)),
    ("best_segments_by_start", (b"/x/2026-11-27T17",)),
    ("best_segments_by_start", (17,)),
    ("best_segments_by_start", ("/x/17",)),
    ("hour_coverage", (b"/x/2026-11-27T17",)),
    ("hour_coverage", (None,)),
    ("hour_coverage", ("/x/2026-11-27T17:00",)),
    ("hour_coverage", ("/x/2026-02-30T17",)),
    ("set_cache_size", (-1,)),
    ("set_cache_size", ("10",)),
    ("set_cache_size", (2.0,)),
    ("set_cache_size", (True,)),
    ("set_cache_size", (None,)),
    ("parse_segment_path", (b"00:00-2-full-x.ts",)),
    ("parse_segment_path", (None,)),
]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # compared, never swallowed
        return ("raised", type(exc), str(exc))


@pytest.fixture
def twins():
    if _segments_c is None:
        pytest.skip("the compiled twin is not built")
    yield _segments_py, _segments_c
    for twin in (_segments_py, _segments_c):
        twin.set_cache_size(DEFAULT_CACHE_HOURS)
        twin.clear_cache()


@pytest.mark.parametrize(("name", "args"), BAD_CALLS, ids=lambda v: repr(v)[:40])
def test_bad_arguments_fail_the_same_way_in_both_twins(twins, name, args):
    py, c = (outcome(getattr(twin, name), *args) for twin in twins)
    assert py[0] == "raised", py
    assert py == c
    assert issubclass(py[1], (ValueError, TypeError))


@pytest.mark.parametrize("twin", [_segments_py, _segments_c], ids=["pure", "compiled"])
def test_each_twin_returns_fresh_lists_and_takes_pathlike(twin, tmp_path):
    if twin is None:
        pytest.skip("the compiled twin is not built")
    hours = tmp_path / "ch" / "q"
    put(hours, T0)
    twin.clear_cache()
    hour = pathlib.Path(hours / "2026-11-27T17")
    first = twin.best_segments_by_start(hour)
    first.append("junk")
    assert [s.start for s in twin.best_segments_by_start(str(hour))] == [T0]
    empty = twin.best_segments_by_start(hours / "2026-11-27T18")
    empty.append("junk")
    assert twin.best_segments_by_start(hours / "2026-11-27T18") == []
    got = twin.get_best_segments(hours, T0, T0 + dt.timedelta(seconds=1))
    assert [s.start for s in got] == [T0]
    twin.clear_cache()

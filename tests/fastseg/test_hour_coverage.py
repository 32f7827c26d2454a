"""``fastseg.hour_coverage`` on both twins, and how the compiled twin keeps cached hours.

The compiled twin keeps the most recently selected hours' segments as objects
(within a budget of segments) and only the names of the others; whichever an
hour holds, every answer must be the same.
"""

import datetime as dt
import logging
import os
import tracemalloc
from pathlib import Path

import gevent
import pytest

from conftest import _segments_c
from fastseg import HourCoverage
from tests.fastseg.trees import age, put, put_run

T0 = dt.datetime(2026, 11, 27, 17)
S = dt.timedelta(seconds=1)
MS = dt.timedelta(milliseconds=1)
US = 1_000_000

compiled_only = pytest.mark.parametrize(
    "impl", [pytest.param(_segments_c, id="compiled", marks=pytest.mark.compiled)], indirect=True
)


@pytest.fixture
def hours(tmp_path):
    """BASE/CH/Q for one quality."""
    return tmp_path / "chan" / "source"


def hour(hours: Path, start: dt.datetime = T0) -> str:
    return str(hours / start.strftime("%Y-%m-%dT%H"))


def test_spans_are_merged_within_fudge_and_split_by_type(impl, hours):
    put(hours, T0, seconds=2)
    put(hours, T0 + 2 * S + 10 * MS, seconds=2)  # 10 ms late: joins
    put(hours, T0 + 4 * S + 21 * MS, seconds=2)  # 11 ms after the last end: a new span
    put(hours, T0 + 5 * S, seconds=2, type="partial")  # under a full one: partial all the same
    put(hours, T0 + 7 * S, seconds=1, type="suspect")  # joins the partial before it
    put(hours, T0 + 60 * S, seconds=2, type="temp")  # never chosen
    got = impl.hour_coverage(hour(hours))
    assert isinstance(got, HourCoverage)
    assert got == HourCoverage(
        full=((0, 4_010_000), (4_021_000, 6_021_000)),
        partial=((5 * US, 8 * US),),
        segments=5,
        complete=3,
    )


def test_spans_may_run_past_the_hour_and_long_segments_count_whole(impl, hours):
    put(hours, T0 + 3599 * S, seconds=2)
    put(hours, T0 + 600 * S, seconds=1500, type="partial")  # 25 min: past 2**30 µs
    put(hours, T0 + 3000 * S, seconds=1500)
    got = impl.hour_coverage(hour(hours))
    assert got.full == ((3000 * US, 4500 * US),)
    assert got.partial == ((600 * US, 2100 * US),)
    assert (got.segments, got.complete) == (3, 2)


def test_the_choice_is_the_selections(impl, hours):
    put(hours, T0, size=100)
    put(hours, T0, type="partial", size=5000)  # a worse copy of the same start
    hidden = put(hours, T0 + 2 * S, seconds=30)
    hidden.with_name(hidden.stem + ".tombstone").touch()
    (hours / "2026-11-27T17" / "notes.txt").write_text("not a segment")
    got = impl.hour_coverage(hour(hours) + "/")
    assert got == HourCoverage(((0, 2 * US),), (), 1, 1)
    assert impl.best_segments_by_start(hour(hours))[0].type == "full"


def test_a_missing_or_empty_hour_and_bad_paths(impl, hours):
    assert impl.hour_coverage(hour(hours)) == HourCoverage((), (), 0, 0)
    (hours / "2026-11-27T17").mkdir(parents=True)
    assert impl.hour_coverage(hours / "2026-11-27T17") == HourCoverage((), (), 0, 0)
    with pytest.raises(ValueError, match="is not an hour directory"):
        impl.hour_coverage(str(hours))
    with pytest.raises(TypeError, match="hour_path must be a str path"):
        impl.hour_coverage(17)


def test_the_cache_notices_a_change(impl, hours):
    put(hours, T0)
    age(hours / "2026-11-27T17")
    assert impl.hour_coverage(hour(hours)).segments == 1
    assert impl.cache_info()[-1] == (hour(hours), True)
    put(hours, T0 + 2 * S)
    assert impl.hour_coverage(hour(hours)).full == ((0, 4 * US),)


def test_other_greenlets_run_while_a_long_hour_is_read(impl, hours):
    put_run(hours, T0, 1600)
    turns = []
    done = False

    def other():
        while not done:
            turns.append(1)
            gevent.idle()

    watcher = gevent.spawn(other)
    got = impl.hour_coverage(hour(hours))
    done = True
    watcher.join()
    assert got.segments == 1600
    assert len(turns) >= 2


@compiled_only
def test_coverage_of_a_cold_hour_builds_no_segment(impl, hours):
    put_run(hours, T0, 1600)
    impl.hour_coverage(hour(hours))  # what a first call makes once
    impl.clear_cache()
    tracemalloc.start()
    try:
        got = impl.hour_coverage(hour(hours))
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got.segments == 1600
    assert _segments_c._object_info() == (0, [])
    # Names and slots only: a SegmentInfo with its name and start alone is 272 bytes.
    assert held / 1600 < 100, f"{held / 1600:.0f} bytes a segment"


@compiled_only
def test_hours_past_the_object_budget_keep_names_and_answer_the_same(impl, hours):
    for h in range(4):
        put_run(hours, T0 + h * 3600 * S, 100, type="full" if h % 2 else "suspect")
        put(hours, T0 + h * 3600 * S + 300 * S, seconds=1500)  # a long one: parsed from its name
        age(hours / (T0 + h * 3600 * S).strftime("%Y-%m-%dT%H"))
    end = T0 + 4 * 3600 * S
    expected = impl.get_best_segments(str(hours), T0, end)
    coverage = [impl.hour_coverage(hour(hours, T0 + h * 3600 * S)) for h in range(4)]
    by_start = impl.best_segments_by_start(hour(hours))
    assert _segments_c._object_info()[0] == 404
    _segments_c._set_object_budget(150)  # one hour and a bit: the oldest let go
    try:
        count, kept = _segments_c._object_info()
        assert (count, kept) == (101, [hour(hours)])  # the last one used
        assert [impl.hour_coverage(hour(hours, T0 + h * 3600 * S)) for h in range(4)] == coverage
        assert _segments_c._object_info()[0] == 101  # coverage builds no objects
        again = impl.get_best_segments(str(hours), T0, end)
        assert again == expected
        assert [s.duration for s in again if s] == [s.duration for s in expected if s]
        assert impl.best_segments_by_start(hour(hours)) == by_start
        assert _segments_c._object_info()[1] == [hour(hours)]  # the last one used
    finally:
        _segments_c._set_object_budget(100_000)


@compiled_only
def test_hours_in_objects_hand_out_the_same_segments(impl, hours):
    put_run(hours, T0, 3)
    age(hours / "2026-11-27T17")
    first = impl.best_segments_by_start(hour(hours))
    impl.hour_coverage(hour(hours))
    again = impl.best_segments_by_start(hour(hours))
    assert all(a is b for a, b in zip(first, again, strict=True))
    _segments_c._set_object_budget(0)  # the newest hour always keeps its objects
    try:
        assert _segments_c._object_info() == (3, [hour(hours)])
    finally:
        _segments_c._set_object_budget(100_000)
    with pytest.raises(ValueError, match="whole number"):
        _segments_c._set_object_budget(-1)


@compiled_only
def test_evicted_and_cleared_hours_are_no_longer_counted(impl, hours):
    for h in range(3):
        put_run(hours, T0 + h * 3600 * S, 5)
    impl.set_cache_size(2)
    try:
        impl.get_best_segments(str(hours), T0, T0 + 3 * 3600 * S)
        assert _segments_c._object_info() == (10, [hour(hours, T0 + h * 3600 * S) for h in (1, 2)])
        os.rename(hours / "2026-11-27T19", hours / "gone")
        impl.best_segments_by_start(hour(hours, T0 + 2 * 3600 * S))
        assert _segments_c._object_info() == (5, [hour(hours, T0 + 3600 * S)])
    finally:
        impl.set_cache_size(512)
    impl.clear_cache()
    assert _segments_c._object_info() == (0, [])


@compiled_only
def test_an_hour_let_go_in_the_middle_of_a_walk_is_built_again(impl, hours):
    """A log handler that runs other code mid-hour (as a greenlet switch could) is harmless."""
    put_run(hours, T0, 10)
    put(hours, T0 + 3 * S, seconds=2.5)  # overlaps 00:04 by 0.5 s: logged, the walk goes on
    put(hours, T0 + 7200 * S)
    other = hour(hours, T0 + 7200 * S)
    expected = impl.get_best_segments(str(hours), T0, T0 + 20 * S)
    impl.clear_cache()

    kept = []

    class LetGo(logging.Handler):
        def emit(self, record):
            _segments_c._set_object_budget(0)
            impl.best_segments_by_start(other)  # now the newest: the walk's hour lets go
            kept.append(_segments_c._object_info()[1])

    handler = LetGo(logging.INFO)
    logger = logging.getLogger("fastseg._segments_py")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        got = impl.get_best_segments(str(hours), T0, T0 + 20 * S)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        _segments_c._set_object_budget(100_000)
    assert kept == [[other]]
    assert got == expected


@compiled_only
def test_other_greenlets_run_while_a_long_hour_is_built_from_its_names(impl, hours):
    put_run(hours, T0, 1600)
    age(hours / "2026-11-27T17")
    impl.hour_coverage(hour(hours))  # names only
    turns = []
    done = False

    def other():
        while not done:
            turns.append(1)
            gevent.idle()

    watcher = gevent.spawn(other)
    got = impl.get_best_segments(str(hours), T0, T0 + 3000 * S)
    done = True
    watcher.join()
    assert len(got) == 1500
    # Once between the hour before and this one, and more while its objects are built.
    assert len(turns) >= 3


@compiled_only
def test_two_greenlets_building_one_hour_share_the_result(impl, hours):
    put_run(hours, T0, 1000)
    age(hours / "2026-11-27T17")
    expected = impl.best_segments_by_start(hour(hours))
    _segments_c._set_object_budget(0)
    try:
        impl.best_segments_by_start(hour(hours, T0 + 3600 * S))  # an empty hour: not counted
        put(hours, T0 + 7200 * S)
        impl.best_segments_by_start(hour(hours, T0 + 7200 * S))  # the 17:00 hour lets go
        assert _segments_c._object_info()[1] == [hour(hours, T0 + 7200 * S)]
        runs = [gevent.spawn(impl.get_best_segments, str(hours), T0, T0 + 2000 * S)
                for _ in range(2)]  # fmt: skip
        gevent.joinall(runs, raise_error=True)
    finally:
        _segments_c._set_object_budget(100_000)
    first, second = (run.value for run in runs)
    assert first == second == expected
    assert all(a is b for a, b in zip(first, second, strict=True))  # one build kept

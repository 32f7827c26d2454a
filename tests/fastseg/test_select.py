"""Choosing segments (docs/DESIGN.md#choosing-segments), on both twins, over real trees."""

import datetime as dt
import gc
import logging
import os

import gevent
import pytest
from prometheus_client import REGISTRY

from conftest import _segments_c
from fastseg import DEFAULT_CACHE_HOURS, ContainsHoles, list_segment_files
from tests.fastseg.trees import age, fake_id, names, put, put_run

T0 = dt.datetime(2026, 11, 27, 17)
S = dt.timedelta(seconds=1)
MS = dt.timedelta(milliseconds=1)


@pytest.fixture
def hours(tmp_path):
    """BASE/CH/Q for one quality."""
    return tmp_path / "chan" / "source"


def select(impl, hours, start, end, **kw):
    return impl.get_best_segments(str(hours), start, end, **kw)


def test_contiguous_run(impl, hours):
    paths = put_run(hours, T0, 10)
    got = select(impl, hours, T0 + 3 * S, T0 + 9 * S)
    assert names(got) == [p.name for p in paths[1:5]]  # 00:02-00:04 covers 00:03
    assert (got[0].channel, got[0].quality) == ("chan", "source")
    assert got[0].path == str(paths[1])


def test_segment_straddling_the_hour(impl, hours):
    paths = put_run(hours, T0 - 3 * S, 4)  # 16:59:57, :59, then 17:00:01, :03
    got = select(impl, hours, T0, T0 + 4 * S)
    assert names(got) == [p.name for p in paths[1:4]]
    assert got[0].start == T0 - S


def test_start_exactly_on_hour_boundary(impl, hours):
    paths = put_run(hours, T0 - 4 * S, 4)  # ends exactly at 17:00:04
    got = select(impl, hours, T0, T0 + 4 * S)
    assert names(got) == [p.name for p in paths[2:]]  # 16:59:56 ends at T0: not needed


def test_start_and_end_on_segment_boundaries(impl, hours):
    paths = put_run(hours, T0, 5)
    got = select(impl, hours, T0 + 2 * S, T0 + 6 * S)
    assert names(got) == [p.name for p in paths[1:3]]


def test_zero_length_range_gives_the_covering_segment(impl, hours):
    paths = put_run(hours, T0, 3)
    assert names(select(impl, hours, T0 + 3 * S, T0 + 3 * S)) == [paths[1].name]
    assert names(select(impl, hours, T0 + 2 * S, T0 + 2 * S)) == [paths[1].name]
    assert select(impl, hours, T0 + 9 * S, T0 + 9 * S) == [None]


def test_end_inside_a_hole(impl, hours):
    paths = put_run(hours, T0, 3)
    put(hours, T0 + 20 * S)
    got = select(impl, hours, T0, T0 + 10 * S)
    assert names(got) == [p.name for p in paths] + [None]
    with pytest.raises(ContainsHoles, match="no complete video from 2026-11-27T17:00:06 to") as e:
        select(impl, hours, T0, T0 + 10 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 6 * S, T0 + 10 * S)


def test_hole_in_the_middle_and_at_the_start(impl, hours):
    first = put_run(hours, T0 + 4 * S, 2)
    second = put_run(hours, T0 + 12 * S, 2)
    got = select(impl, hours, T0, T0 + 16 * S)
    assert names(got) == [None, first[0].name, first[1].name, None, second[0].name, second[1].name]
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0 + 4 * S, T0 + 16 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 8 * S, T0 + 12 * S)
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0, T0 + 5 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0, T0 + 4 * S)


def test_range_with_nothing(impl, hours):
    put_run(hours, T0, 2)
    assert select(impl, hours, T0 + 60 * S, T0 + 90 * S) == [None]
    assert select(impl, hours.parent / "other", T0, T0 + S) == [None]
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0 + 60 * S, T0 + 90 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 60 * S, T0 + 90 * S)


def test_backwards_range(impl, hours):
    with pytest.raises(ValueError, match="start 2026-11-27T17:00:01 is after end 2026-11-27T17:00"):
        select(impl, hours, T0 + S, T0)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("2026-11-27T17:00:00", id="string"),
        pytest.param(T0.replace(tzinfo=dt.UTC), id="aware"),
        pytest.param(dt.datetime(1, 1, 1), id="before year 1 hour 1"),
    ],
)
def test_bad_times(impl, hours, value):
    with pytest.raises(ValueError, match="start"):
        select(impl, hours, value, T0)


def test_full_copies_longest_duration_wins(impl, hours):
    put(hours, T0, 2.0, ident=fake_id("a"))
    longest = put(hours, T0, 2.5, ident=fake_id("b"))
    assert names(select(impl, hours, T0, T0 + S)) == [longest.name]


def test_full_copies_then_largest_file(impl, hours):
    put(hours, T0, size=100, ident=fake_id("a"))
    largest = put(hours, T0, size=200, ident=fake_id("b"))
    assert names(select(impl, hours, T0, T0 + S)) == [largest.name]


def test_full_copies_then_highest_hash(impl, hours):
    low = "A" * 42 + "A"
    high = "_" * 42 + "w"  # '_' is the highest base64url digit, though lowest in ASCII
    mid = "z" * 42 + "w"
    for ident in (low, high, mid):
        put(hours, T0, size=100, ident=ident)
    assert select(impl, hours, T0, T0 + S)[0].name.endswith(f"{high}.ts")
    assert select(impl, hours, T0, T0 + S)[0].hash == b"\xff" * 31 + b"\xfc"


def test_one_duration_written_two_ways(impl, hours):
    a = put(hours, T0, 2, ident=fake_id("x"))
    other = a.with_name(a.name.replace("-2-", "-2.0-"))
    os.rename(a, other)
    put(hours, T0, 2, ident=fake_id("x"))
    # same start, duration, size and hash: the higher name decides, on both twins
    assert select(impl, hours, T0, T0 + S)[0].name == other.name


def test_full_beats_larger_suspect_and_partial(impl, hours):
    full = put(hours, T0, size=10)
    put(hours, T0, type="suspect", size=1000)
    put(hours, T0, type="partial", size=1000)
    assert names(select(impl, hours, T0, T0 + S)) == [full.name]


def test_suspect_before_partial_then_largest(impl, hours):
    put(hours, T0, type="partial", size=1000)
    put(hours, T0, type="suspect", size=10)
    best = put(hours, T0, type="suspect", size=20)
    got = select(impl, hours, T0, T0 + S)
    assert names(got) == [best.name, None]  # a suspect segment ends in a hole


def test_largest_partial(impl, hours):
    put(hours, T0, type="partial", size=10)
    best = put(hours, T0, type="partial", size=30)
    assert names(select(impl, hours, T0, T0 + S)) == [best.name, None]


def test_equal_size_non_full_copies_take_the_first_name(impl, hours):
    for type_ in ("partial", "suspect"):
        first = put(hours, T0, type=type_, size=50, ident="A" * 43)
        put(hours, T0, type=type_, size=50, ident="B" * 42 + "A")
        put(hours, T0, type=type_, size=50, ident="_" * 42 + "w")
        impl.clear_cache()
        assert names(select(impl, hours, T0, T0 + S)) == [first.name, None]


def test_partial_in_the_middle_is_followed_by_a_hole(impl, hours):
    a = put(hours, T0)
    b = put(hours, T0 + 2 * S, type="partial")
    c = put(hours, T0 + 4 * S)
    assert names(select(impl, hours, T0, T0 + 6 * S)) == [a.name, b.name, None, c.name]
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0, T0 + 6 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 2 * S, T0 + 4 * S)


def test_temp_only_start_is_a_hole(impl, hours):
    a = put(hours, T0)
    put(hours, T0 + 2 * S, type="temp")
    c = put(hours, T0 + 4 * S)
    assert names(select(impl, hours, T0, T0 + 6 * S)) == [a.name, None, c.name]


def test_tombstones(impl, hours):
    a, b, c = put_run(hours, T0, 3)
    hour = hours / "2026-11-27T17"
    hidden_copy = put(hours, T0 + 2 * S, size=5000, ident=fake_id("big"))
    # STEM.tombstone hides STEM.ts; STEM.ts.tombstone hides nothing
    (hour / f"{hidden_copy.stem}.tombstone").touch()
    (hour / f"{c.stem}.tombstone").touch()
    (hour / f"{a.name}.tombstone").touch()
    (hour / "00:00-2-full-nothing-here.tombstone").touch()
    (hour / ".00:00-2-full-hidden.tombstone").touch()
    assert names(select(impl, hours, T0, T0 + 6 * S)) == [a.name, b.name, None]
    listed = list_segment_files(str(hour))
    assert listed == sorted([a.name, b.name])
    with_tombstones = list_segment_files(str(hour), include_tombstones=True)
    assert with_tombstones == sorted([
        a.name, b.name, f"{a.name}.tombstone", f"{c.stem}.tombstone",
        f"{hidden_copy.stem}.tombstone", "00:00-2-full-nothing-here.tombstone",
    ])  # fmt: skip
    assert [s.name for s in impl.best_segments_by_start(str(hour))] == [a.name, b.name]


def test_tombstone_path_is_the_one_rule(impl):
    assert impl.tombstone_path("a/b/00:00-2-full-x.ts") == "a/b/00:00-2-full-x.tombstone"
    assert impl.tombstoned_name("00:00-2-full-x.tombstone") == "00:00-2-full-x.ts"
    assert impl.tombstoned_name("00:00-2-full-x.ts.tombstone") == "00:00-2-full-x.ts.ts"
    assert impl.tombstoned_name("00:00-2-full-x.ts") is None
    with pytest.raises(ValueError, match=r"'a/b\.tombstone' is not a segment path"):
        impl.tombstone_path("a/b.tombstone")


def test_jitter_within_10ms_joins(impl, hours):
    starts = [T0, T0 + 2 * S + 3 * MS, T0 + 4 * S - 3 * MS, T0 + 6 * S + 2 * MS]
    paths = [put(hours, s) for s in starts]
    assert names(select(impl, hours, T0, T0 + 8 * S)) == [p.name for p in paths]
    assert select(impl, hours, T0 - 3 * MS, T0 + S, allow_holes=False)[0].name == paths[0].name


def test_gap_over_10ms_is_a_hole(impl, hours):
    a = put(hours, T0)
    b = put(hours, T0 + 2 * S + 11 * MS)
    assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, None, b.name]


def test_overlap_over_10ms_drops_the_later_segment(impl, hours):
    a = put(hours, T0, 2)
    put(hours, T0 + 1 * S, 2)  # overlaps a by a second: dropped
    c = put(hours, T0 + 2 * S, 2)
    put(hours, T0 + 4 * S - 9 * MS, 2)  # overlap of 9 ms is tolerated: kept
    got = select(impl, hours, T0, T0 + 6 * S)
    assert names(got)[:2] == [a.name, c.name]
    assert len(got) == 3
    assert got[2] is not None


def test_junk_is_logged_once_and_skipped(impl, hours, caplog):
    a, b = put_run(hours, T0, 2)
    hour = hours / "2026-11-27T17"
    (hour / "not-a-segment.ts").touch()
    (hour / "notes.txt").touch()
    (hour / ".hidden.ts").touch()
    (hour / f".{a.name}").touch()
    with caplog.at_level(logging.WARNING, logger="fastseg"):
        assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, b.name]
        impl.clear_cache()
        select(impl, hours, T0, T0 + 4 * S)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("not-a-segment.ts" in m for m in messages) <= 1
    assert any("notes.txt" in m and "does not end in '.ts'" in m for m in messages)
    assert not any("hidden" in m for m in messages)


def test_many_hours_and_the_hour_before_start(impl, hours):
    paths = put_run(hours, T0 - 2 * S, 3, seconds=3600)  # one-hour segments
    got = select(impl, hours, T0, T0 + 2 * 3600 * S)
    assert names(got) == [p.name for p in paths]


def test_missing_directory_is_an_empty_hour(impl, hours):
    a = put(hours, T0)
    b = put(hours, T0 + 2 * 3600 * S)
    got = select(impl, hours, T0, T0 + 2 * 3600 * S + S)
    assert names(got) == [a.name, None, b.name]


def test_holes_false_stops_reading_at_the_first_hole(impl, hours):
    put(hours, T0)
    put(hours, T0 + 3 * 3600 * S)
    impl.clear_cache()
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0, T0 + 4 * 3600 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 2 * S, T0 + 3600 * S)
    cached = [os.path.basename(p) for p, _ in impl.cache_info()]
    assert cached == ["2026-11-27T17"]  # 16 is missing (not cached), 18 and later unread
    # a range that starts in a missing hour fails as soon as that hour is read
    impl.clear_cache()
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0 + 3600 * S, T0 + 4 * 3600 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 3600 * S, T0 + 2 * 3600 * S)
    # partial at the end of an hour: certain hole, the next hours stay unread
    impl.clear_cache()
    put(hours, T0 + 3600 * S - 2 * S, type="partial")
    with pytest.raises(ContainsHoles) as e:
        select(impl, hours, T0 + 3599 * S, T0 + 4 * 3600 * S, allow_holes=False)
    assert (e.value.hole_start, e.value.hole_end) == (T0 + 3598 * S, T0 + 3600 * S)
    assert len(impl.cache_info()) == 1


def test_best_segments_by_start(impl, hours):
    put(hours, T0 + 4 * S)
    put(hours, T0 + 2 * S, type="temp")
    put(hours, T0, type="partial")
    got = impl.best_segments_by_start(str(hours / "2026-11-27T17") + "/")
    assert [s.start for s in got] == [T0, T0 + 4 * S]
    assert impl.best_segments_by_start(str(hours / "2026-11-27T18")) == []
    with pytest.raises(ValueError, match="is not an hour directory"):
        impl.best_segments_by_start(str(hours))


def test_cache_notices_a_new_file_in_an_old_directory(impl, hours):
    a = put(hours, T0)
    age(hours / "2026-11-27T17")
    assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, None]
    assert impl.cache_info()[-1][1] is True  # old mtime: trusted
    b = put(hours, T0 + 2 * S)
    assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, b.name]


def test_cache_rereads_a_racily_clean_directory(impl, hours):
    a = put(hours, T0)
    hour = hours / "2026-11-27T17"
    assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, None]
    assert impl.cache_info()[-1][1] is False  # changed just now: not trusted
    mtime = os.stat(hour).st_mtime_ns
    b = put(hours, T0 + 2 * S)
    os.utime(hour, ns=(mtime, mtime))  # a change within the same timestamp tick
    assert names(select(impl, hours, T0, T0 + 4 * S)) == [a.name, b.name]


def test_cache_hit_returns_the_same_choice(impl, hours):
    put_run(hours, T0, 3)
    age(hours / "2026-11-27T17")
    first = impl.best_segments_by_start(str(hours / "2026-11-27T17"))
    again = impl.best_segments_by_start(str(hours / "2026-11-27T17"))
    assert again == first
    assert again is not first  # a fresh list: changing it cannot change the cache
    assert all(a is b for a, b in zip(again, first, strict=True))  # the same cached segments
    first.clear()
    assert impl.best_segments_by_start(str(hours / "2026-11-27T17")) == again
    missing = impl.best_segments_by_start(str(hours / "2026-11-27T19"))
    missing.append("junk")
    assert impl.best_segments_by_start(str(hours / "2026-11-27T19")) == []


def test_cache_size_bounds_the_cache(impl, hours):
    for h in range(5):
        put(hours, T0 + h * 3600 * S)
    impl.set_cache_size(2)
    try:
        select(impl, hours, T0, T0 + 5 * 3600 * S)
        assert len(impl.cache_info()) == 2
    finally:
        impl.set_cache_size(DEFAULT_CACHE_HOURS)
    with pytest.raises(ValueError, match="cache size must be"):
        impl.set_cache_size(-1)


def test_other_greenlets_run_between_hours(impl, hours):
    put_run(hours, T0, 4, seconds=3600)
    ran = []
    gevent.spawn(ran.append, "other greenlet")
    select(impl, hours, T0, T0 + 4 * 3600 * S)
    assert ran == ["other greenlet"]


def test_other_greenlets_run_while_a_long_hour_is_read(impl, hours):
    put_run(hours, T0, 1600, seconds=2)  # one cold hour of 1,600 entries
    turns = []
    done = False

    def other():
        while not done:
            turns.append(1)
            gevent.idle()

    watcher = gevent.spawn(other)
    got = select(impl, hours, T0, T0 + 3000 * S)
    done = True
    watcher.join()
    assert len(got) == 1500
    # Once between the hour before and this one, and more while this one is read.
    assert len(turns) >= 3


# Only the compiled twin: the pure twin's tuples are tracked like any Python object's.
@pytest.mark.parametrize(
    "impl", [pytest.param(_segments_c, id="compiled", marks=pytest.mark.compiled)], indirect=True
)
def test_compiled_segments_cost_the_collector_nothing(impl, hours):
    put_run(hours, T0, 1600, seconds=2)
    select(impl, hours, T0, T0 + S)  # what a first call makes once (imports, caches)
    impl.clear_cache()
    threshold = gc.get_threshold()
    gc.collect()
    gc.set_threshold(10**9)  # no collection meanwhile: the young count is then exact
    try:
        before = gc.get_count()[0]
        got = select(impl, hours, T0, T0 + 3000 * S)
        counted = gc.get_count()[0] - before
    finally:
        gc.set_threshold(*threshold)
    assert len(got) == 1500
    assert not any(gc.is_tracked(s) for s in got)  # they can be in no cycle
    assert gc.is_tracked(got)  # the list is the caller's, collected as any other
    # Tracked segments would count 1,500 allocations towards the next collection.
    assert counted < 300, f"{counted} allocations counted towards a collection"


def test_list_segment_files(tmp_path):
    hour = tmp_path / "2026-11-27T17"
    assert list_segment_files(str(hour)) == []
    hour.mkdir()
    for name in ["b.ts", "a.ts", ".hidden.ts", "x.txt"]:
        (hour / name).touch()
    assert list_segment_files(str(hour)) == ["a.ts", "b.ts"]


def test_selection_is_timed(impl, hours):
    put_run(hours, T0, 2)
    labels = {"channel": "chan", "quality": "source", "holes": "False", "error": ""}

    def count():
        value = REGISTRY.get_sample_value("fastseg_library_get_best_segments_latency_count", labels)
        return value or 0

    before = count()
    select(impl, hours, T0, T0 + 4 * S)
    assert count() == before + 1

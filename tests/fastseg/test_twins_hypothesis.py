"""Differential tests: random names and random trees give identical answers on both twins."""

import base64
import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fastseg import (  # noqa: E402
    DEFAULT_CACHE_HOURS,
    HourCoverage,
    _segments_py,
    hour_name,
    merge_spans,
    segment_name,
)
from fastseg._common import DEFAULT_OBJECT_SEGMENTS  # noqa: E402 - the compiled twin's alone
from tests.fastseg.trees import put  # noqa: E402

_segments_c = pytest.importorskip("fastseg._segments_c", reason="the compiled twin is not built")

EMPTY_ID = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def outcome(fn, *args):
    """What a call returned, or the class and message of what it raised."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # compared, never swallowed: both twins must agree
        return ("raised", type(exc), str(exc))


# Names built from pieces that are each sometimes valid and sometimes one
# character off, so most examples land near the grammar's edges.
piece = st.sampled_from
times = st.one_of(
    st.builds(
        lambda m, s, f: f"{m:02d}:{s:02d}{f}",
        st.integers(0, 59),
        st.integers(0, 59),
        piece(["", ".5", ".123456"]),
    ),
    st.builds(
        lambda m, s, f: f"{m:02d}:{s:02d}{f}",
        st.integers(0, 61),
        st.integers(0, 61),
        piece(["", ".", ".5", ".123456", ".1234567", ".00000x"]),
    ),
    st.text(alphabet="0123456789:.-", max_size=8),
)
durations = st.one_of(
    piece(["2", "2.0", "2.002", "0", "1.9999999999999998", "1.0000005", "123456789", "1234567890"]),
    st.text(alphabet="0123456789.e+-", max_size=12),
)
types = piece(["full", "suspect", "partial", "temp", "FULL", "ful", ""])
idents = st.one_of(
    piece([EMPTY_ID, EMPTY_ID[:-1] + "V", EMPTY_ID + "A", "abc", "", "a" * 64, "a" * 65]),
    st.text(alphabet=B64 + "=+.é", min_size=42, max_size=44),
    st.text(alphabet=B64 + "=.", max_size=8),
)
suffixes = piece([".ts"] * 8 + [".TS", ".tsx", ""])
hours = st.one_of(
    piece(["2026-11-27T17", "2024-02-29T00", "2025-02-29T00", "0000-01-01T00", "9999-12-31T23",
           "2026-1-27T17", "2026-11-27 17", "x", "", "."]),
    st.text(alphabet="0123456789-T", max_size=14),
)  # fmt: skip
dirs = st.lists(piece(["b", "ch", "", "sourcé", "源", "..", "a b"]), max_size=3)


@st.composite
def paths(draw):
    name = f"{draw(times)}-{draw(durations)}-{draw(types)}-{draw(idents)}{draw(suffixes)}"
    mangle = draw(st.integers(0, 9))  # mostly well-formed: the edges are inside the grammar
    if mangle == 0:
        name = draw(st.text(max_size=30))
    elif mangle == 1:
        name = name.replace("-", "", 1)
    parts = [*draw(dirs), draw(hours), name] if draw(st.booleans()) else [name]
    return "/".join(parts)


@settings(max_examples=1500, deadline=None)
@given(paths())
def test_parse_agrees(path):
    assert outcome(_segments_c.parse_segment_path, path) == outcome(
        _segments_py.parse_segment_path, path
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_parse_agrees_on_any_text(path):
    assert outcome(_segments_c.parse_segment_path, path) == outcome(
        _segments_py.parse_segment_path, path
    )


T0 = dt.datetime(2026, 11, 27, 17, 59)
MS = dt.timedelta(milliseconds=1)
HOUR = dt.timedelta(hours=1)

segment_specs = st.lists(
    st.tuples(
        st.integers(0, 240_000),  # start, ms after T0 (so some straddle into the next hour)
        piece([2000, 2000, 2000, 1997, 2003, 1500, 4000, 0, 1_500_000]),  # ms; 25 min: long
        piece(["full", "full", "full", "suspect", "partial", "temp"]),
        st.integers(1, 4),  # size class, for the tie-breaks
        st.integers(0, 3),  # which of a few hashes
        st.booleans(),  # a whole-second duration written "2.0" rather than "2"
    ),
    max_size=80,
)
# Copies of one start that are not full and have one size: the first name must win.
tie_groups = st.lists(
    st.tuples(st.integers(0, 240_000), piece(["suspect", "partial"]), st.integers(2, 4)),
    max_size=4,
)
# Files that are not segments, or are hidden: both twins must skip them alike.
JUNK = ["notes.txt", "00:00-2-full-short.ts", "99:00-2-full-" + EMPTY_ID + ".ts",
        "00:00-2-FULL-" + EMPTY_ID + ".ts", "00:01.1234567-2-full-" + EMPTY_ID + ".ts",
        "junk.tombstone", "00:00-2-full-" + EMPTY_ID + ".tsx"]  # fmt: skip
extras = st.lists(st.one_of(piece(JUNK), st.just("hidden")), max_size=4)
dir_names = piece([("ch", "q"), ("sourcé", "源"), ("a b", "q-1")])


def ident_of(h: int) -> str:
    return EMPTY_ID[:-2] + B64[h * 4] + "A"


def build_tree(root: Path, specs, groups=(), extra=(), dirs=("ch", "q")) -> Path:
    hours_path = root.joinpath(*dirs)
    for start_ms, dur_ms, type_, size, h, written_long in specs:
        ident = ident_of(h) if type_ != "temp" else f"t{h}"
        path = put(hours_path, T0 + start_ms * MS, dur_ms / 1000, type_, size * 100, ident)
        whole = dur_ms % 1000 == 0
        if written_long and whole:
            seconds = dur_ms // 1000
            path.rename(path.with_name(path.name.replace(f"-{seconds}-", f"-{seconds}.0-", 1)))
    for start_ms, type_, count in groups:
        for h in range(count):
            put(hours_path, T0 + start_ms * MS, 2, type_, 700, ident_of(h))
    for i, junk in enumerate(extra):
        hour_dirs = sorted(p for p in hours_path.glob("*") if p.is_dir())
        if not hour_dirs:
            break
        hour_dir = hour_dirs[i % len(hour_dirs)]
        if junk == "hidden":  # a hidden copy of a real segment, bigger than it
            segments = sorted(hour_dir.glob("*.ts"))
            if segments:
                hidden = hour_dir / f".{segments[0].name}"
                hidden.write_bytes(b"x" * 5000)
        else:
            (hour_dir / junk).write_bytes(b"junk")
    return hours_path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    segment_specs,
    tie_groups,
    extras,
    dir_names,
    st.integers(-10_000, 250_000),
    st.one_of(st.integers(0, 60_000), st.integers(0, 3 * 3600_000)),  # long: missing hours
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 79), st.booleans()), max_size=5),
    st.sampled_from([256, 256, 0, 1, 2]),  # hours cached: small sizes evict mid-walk
    st.sampled_from([100_000, 0, 20]),  # segments the compiled twin keeps as objects
    st.booleans(),  # read the hours for their coverage first (the compiled twin: names only)
)
def test_selection_agrees(specs, groups, extra, dirs, start_ms, length_ms, allow_holes,
                          tombstoned, cache_size, object_budget, coverage_first):  # fmt: skip
    root = Path(tempfile.mkdtemp(prefix="twins-"))
    for twin in (_segments_py, _segments_c):
        twin.set_cache_size(cache_size)
    _segments_c._set_object_budget(object_budget)
    try:
        hours_path = build_tree(root, specs, groups, extra, dirs)
        for i, stem_form in tombstoned:  # both spellings: only STEM.tombstone hides
            matches = sorted((hours_path).glob("*/*.ts"))
            if matches:
                target = matches[i % len(matches)]
                name = f"{target.stem}.tombstone" if stem_form else f"{target.name}.tombstone"
                target.with_name(name).touch()
        start = T0 + start_ms * MS
        end = start + length_ms * MS
        results = []
        args = (str(hours_path), start, end, allow_holes)
        first_hour = T0.replace(minute=0) - dt.timedelta(hours=1)
        hour_paths = [f"{hours_path}/{hour_name(first_hour + h * HOUR)}" for h in range(4)]
        coverages = []
        for twin in (_segments_py, _segments_c):
            twin.clear_cache()
            if coverage_first:
                coverages.append([twin.hour_coverage(p) for p in hour_paths])
            results.append(outcome(twin.get_best_segments, *args))
            results.append(outcome(twin.get_best_segments, *args))  # again, from the cache
            coverages.append([twin.hour_coverage(p) for p in hour_paths])
        assert results[0] == results[1] == results[2] == results[3]
        assert all(c == coverages[0] for c in coverages)
        for path, got in zip(hour_paths, coverages[0], strict=True):
            assert got == reduced(_segments_py.best_segments_by_start(path))
        if results[0][0] == "ok":
            chosen = [s for s in results[0][1] if s is not None]
            assert all(s.type != "temp" for s in chosen)
            assert [s.start for s in chosen] == sorted(s.start for s in chosen)
        assert _segments_py.cache_info() == _segments_c.cache_info()
        hour = T0.replace(minute=0) - dt.timedelta(hours=1)
        for _ in range(4):  # the hour before T0 and the one after the tree are missing
            hour_path = f"{hours_path}/{hour_name(hour)}"
            pure = _segments_py.best_segments_by_start(hour_path)
            assert pure == _segments_c.best_segments_by_start(hour_path)
            hour += dt.timedelta(hours=1)
        assert _segments_py.cache_info() == _segments_c.cache_info()
        assert len(_segments_c.cache_info()) <= cache_size
    finally:
        for twin in (_segments_py, _segments_c):
            twin.set_cache_size(DEFAULT_CACHE_HOURS)
            twin.clear_cache()
        _segments_c._set_object_budget(DEFAULT_OBJECT_SEGMENTS)
        shutil.rmtree(root)


def reduced(segments) -> HourCoverage:
    """What hour_coverage must say of an hour's choice, from the segments themselves."""
    spans = {"full": [], "other": []}
    for seg in segments:
        a = (seg.start - seg.start.replace(minute=0, second=0, microsecond=0)) // dt.timedelta(
            microseconds=1
        )
        spans["full" if seg.type == "full" else "other"].append(
            (a, a + seg.duration // dt.timedelta(microseconds=1))
        )
    full, other = (tuple(merge_spans(spans[k])) for k in ("full", "other"))
    return HourCoverage(full, other, len(segments), len(spans["full"]))


@settings(max_examples=500, deadline=None)
@given(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31, 23)),
    st.integers(0, 999_999_999_999_999),
    piece(["full", "suspect", "partial", "temp"]),
    st.binary(min_size=32, max_size=32),
    st.lists(st.text(alphabet="abcé源 -_.", min_size=1, max_size=6), max_size=3),
)
def test_valid_names_round_trip_on_both(start, duration_us, type_, digest, dirs):
    ident = "tmp-" + digest.hex()[:8] if type_ == "temp" else id_of(digest)
    duration = dt.timedelta(microseconds=duration_us)
    path = "/".join([*dirs, hour_name(start), segment_name(start, duration, type_, ident)])
    c = _segments_c.parse_segment_path(path)
    assert c == _segments_py.parse_segment_path(path)
    assert (c.start, c.duration, c.type, c.path) == (start, duration, type_, path)
    assert c.hash == (None if type_ == "temp" else digest)


def id_of(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")

"""Parsing and building segment names (docs/DESIGN.md#segment-names), on both twins."""

import datetime as dt
import hashlib
import pickle

import pytest

from fastseg import SegmentInfo, SegmentPathError, content_id, hour_name, segment_name

# sha256(b"") in url-safe base64 ('+' -> '-', '/' -> '_', RFC 4648 §5), as
# docs/DESIGN.md#segment-names gives it; with '-' and '_' swapped it encodes nothing.
EMPTY_ID = "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"
NAME = f"05:12.345000-2.002-full-{EMPTY_ID}.ts"
PATH = f"/srv/base/chan/source/2026-11-27T17/{NAME}"
START = dt.datetime(2026, 11, 27, 17, 5, 12, 345000)


def test_design_example(impl):
    seg = impl.parse_segment_path(PATH)
    assert seg.path == PATH
    assert seg.hour_path == "/srv/base/chan/source/2026-11-27T17"
    assert seg.name == NAME
    assert (seg.channel, seg.quality) == ("chan", "source")
    assert seg.start == dt.datetime(2026, 11, 27, 17, 5, 12, 345000)
    assert seg.duration == dt.timedelta(seconds=2.002)
    assert seg.end == dt.datetime(2026, 11, 27, 17, 5, 14, 347000)
    assert seg.type == "full"
    assert not seg.is_partial
    assert seg.hash == hashlib.sha256(b"").digest()
    assert isinstance(seg, SegmentInfo)


def test_content_id_of_empty_bytes():
    assert content_id(b"") == EMPTY_ID
    assert content_id(hashlib.sha256(b"")) == EMPTY_ID


@pytest.mark.parametrize(
    ("path", "channel", "quality", "start"),
    [
        pytest.param(NAME, None, None, None, id="bare name"),
        pytest.param(f"2026-11-27T17/{NAME}", None, None, START, id="hour/name"),
        pytest.param(f"source/2026-11-27T17/{NAME}", None, "source", START, id="quality/hour/name"),
        pytest.param(
            f"chan/source/2026-11-27T17/{NAME}",
            "chan",
            "source",
            START,
            id="channel/quality/hour/name",
        ),
        pytest.param(f"/2026-11-27T17/{NAME}", None, None, START, id="hour at the root"),
        pytest.param(
            f"/b/chañ/sourcé€/2026-11-27T17/{NAME}",
            "chañ",
            "sourcé€",
            START,
            id="non-ascii directories",
        ),
    ],
)
def test_trailing_parts(impl, path, channel, quality, start):
    seg = impl.parse_segment_path(path)
    assert (seg.channel, seg.quality, seg.start) == (channel, quality, start)
    assert seg.path == path
    assert seg.name == NAME


@pytest.mark.parametrize(
    ("time", "duration", "start_us", "duration_us"),
    [
        pytest.param("05:12", "2", 312_000_000, 2_000_000, id="no fractions"),
        pytest.param("05:12.3", "2.0", 312_300_000, 2_000_000, id="one digit"),
        pytest.param("59:59.999999", "0.000001", 3_599_999_999, 1, id="six digits, end of hour"),
        pytest.param("00:00.000000", "0", 0, 0, id="zero"),
        pytest.param("00:00", "1.9999999999999998", 0, 2_000_000, id="float repr rounds up"),
        pytest.param("00:00", "1.0000004", 0, 1_000_000, id="seventh digit rounds down"),
        pytest.param("00:00", "1.0000005", 0, 1_000_001, id="seventh digit 5 rounds up"),
        pytest.param("00:00", "999999999.5", 0, 999_999_999_500_000, id="longest duration"),
    ],
)
def test_times_and_durations(impl, time, duration, start_us, duration_us):
    seg = impl.parse_segment_path(f"2026-01-01T00/{time}-{duration}-partial-{EMPTY_ID}.ts")
    assert seg.start == dt.datetime(2026, 1, 1) + dt.timedelta(microseconds=start_us)
    assert seg.duration == dt.timedelta(microseconds=duration_us)


@pytest.mark.parametrize(
    ("type_", "partial"), [("full", False), ("suspect", True), ("partial", True), ("temp", True)]
)
def test_types(impl, type_, partial):
    ident = EMPTY_ID if type_ != "temp" else "0b6e2b6f-6d0e-4a43-9b8e-5f7f5d5c4b3a"
    seg = impl.parse_segment_path(f"00:01-2-{type_}-{ident}.ts")
    assert seg.type == type_
    assert seg.is_partial is partial
    assert (seg.hash is None) == (type_ == "temp")


def test_leap_day_hour(impl):
    assert impl.parse_segment_path(f"2024-02-29T23/{NAME}").start.day == 29


BAD = [
    ("x", "name does not end in '.ts'"),
    ("", "name does not end in '.ts'"),
    (f"{NAME}.tmp", "name does not end in '.ts'"),
    ("05:12-2-full.ts", "name is not MM:SS.ffffff-DURATION-TYPE-ID.ts"),
    (f"5:12-2-full-{EMPTY_ID}.ts", "start '5:12' is not MM:SS"),
    (f"60:00-2-full-{EMPTY_ID}.ts", "start '60:00' is not MM:SS"),
    (f"05:60-2-full-{EMPTY_ID}.ts", "start '05:60' is not MM:SS"),
    (f"05:12.-2-full-{EMPTY_ID}.ts", r"start '05:12\.' is not MM:SS"),
    (f"05:12.1234567-2-full-{EMPTY_ID}.ts", r"start '05:12\.1234567' is not MM:SS"),
    (f"05:12--full-{EMPTY_ID}.ts", "duration '' is not a non-negative decimal"),
    (f"05:12-+2-full-{EMPTY_ID}.ts", r"duration '\+2' is not a non-negative decimal"),
    (f"05:12-2.-full-{EMPTY_ID}.ts", r"duration '2\.' is not a non-negative decimal"),
    (f"05:12-1e3-full-{EMPTY_ID}.ts", "duration '1e3' is not a non-negative decimal"),
    (f"05:12-1234567890-full-{EMPTY_ID}.ts", "duration '1234567890' is not"),
    (f"05:12-2-whole-{EMPTY_ID}.ts", "type 'whole' is not one of full, suspect, partial, temp"),
    (f"05:12-2-FULL-{EMPTY_ID}.ts", "type 'FULL' is not one of"),
    ("05:12-2-full-abc.ts", "hash 'abc' is not a sha256 in url-safe base64"),
    (f"05:12-2-full-{EMPTY_ID}=.ts", "is not a sha256 in url-safe base64"),
    (f"05:12-2-full-{EMPTY_ID[:-1]}V.ts", "is not a sha256"),  # non-zero trailing bits
    (f"05:12-2-full-{EMPTY_ID[:-2]}+U.ts", "is not a sha256"),  # '+' is not url-safe
    ("05:12-2-temp-.ts", "temp id '' is not 1-64 letters"),
    (f"05:12-2-temp-{'a' * 65}.ts", "temp id 'a+' is not 1-64 letters"),
    ("05:12-2-temp-a.b.ts", r"temp id 'a\.b' is not 1-64 letters"),
    (f"2026-13-01T00/{NAME}", "directory '2026-13-01T00' is not an hour"),
    (f"2025-02-29T00/{NAME}", "directory '2025-02-29T00' is not an hour"),
    (f"2026-01-01T24/{NAME}", "directory '2026-01-01T24' is not an hour"),
    (f"0000-01-01T00/{NAME}", "directory '0000-01-01T00' is not an hour"),
    (f"2026-01-01 00/{NAME}", "directory '2026-01-01 00' is not an hour"),
    (f"2026-01-01T00/x/{NAME}", "directory 'x' is not an hour"),
    (f"./{NAME}", r"directory '\.' is not an hour"),
    (f"/{NAME}", "directory '' is not an hour"),
    (f"/b/ch/qüality/2026-1-01T00/{NAME}", "directory '2026-1-01T00' is not an hour"),
    (f"/b/ch/q/2026-01-01T00/05:12-2-full-{EMPTY_ID[:-1]}é.ts", "is not a sha256"),
    (f"05:12-2-full-{EMPTY_ID}.ts\x00", "name does not end in '.ts'"),
]


@pytest.mark.parametrize(("path", "reason"), BAD, ids=[p for p, _ in BAD])
def test_malformed_names(impl, path, reason):
    with pytest.raises(SegmentPathError, match=reason) as info:
        impl.parse_segment_path(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(f"bad segment path {path!r}: ")
    assert info.value.path == path


@pytest.mark.parametrize("value", [None, 5, b"00:00-2-full-x.ts"])
def test_not_a_string(impl, value):
    with pytest.raises(SegmentPathError, match="expected a str path, got"):
        impl.parse_segment_path(value)


@pytest.mark.parametrize(
    ("start", "duration", "type_"),
    [
        (dt.datetime(2026, 11, 27, 17, 5, 12, 345000), dt.timedelta(seconds=2.002), "full"),
        (dt.datetime(2026, 11, 27, 0, 0), dt.timedelta(0), "suspect"),
        (dt.datetime(1999, 12, 31, 23, 59, 59, 999999), dt.timedelta(microseconds=1), "partial"),
        (dt.datetime(2026, 1, 1, 5, 6, 7, 10), dt.timedelta(seconds=3600, microseconds=5), "full"),
    ],
)
def test_builders_round_trip(impl, start, duration, type_):
    ident = content_id(repr(start).encode())
    path = f"/b/c/q/{hour_name(start)}/{segment_name(start, duration, type_, ident)}"
    seg = impl.parse_segment_path(path)
    assert (seg.start, seg.duration, seg.type) == (start, duration, type_)
    assert seg.hash == hashlib.sha256(repr(start).encode()).digest()


def test_builder_errors():
    start = dt.datetime(2026, 1, 1)
    with pytest.raises(ValueError, match="segment type 'whole' is not one of"):
        segment_name(start, dt.timedelta(seconds=2), "whole", EMPTY_ID)
    with pytest.raises(ValueError, match="is negative"):
        segment_name(start, dt.timedelta(seconds=-1), "full", EMPTY_ID)
    with pytest.raises(ValueError, match="segment id is empty"):
        segment_name(start, dt.timedelta(seconds=1), "full", "")


def test_hour_name():
    assert hour_name(dt.datetime(2026, 11, 27, 17, 59)) == "2026-11-27T17"
    assert hour_name(dt.datetime(7, 1, 2, 3)) == "0007-01-02T03"


def test_segment_info_pickles_and_compares(impl):
    seg = impl.parse_segment_path(PATH)
    assert pickle.loads(pickle.dumps(seg)) == seg
    again = SegmentInfo(seg.path, seg.channel, seg.quality, seg.start, seg.duration, seg.type)
    assert again == seg
    assert hash(again) == hash(seg)
    assert "2026-11-27T17:05:12.345000" in repr(seg)

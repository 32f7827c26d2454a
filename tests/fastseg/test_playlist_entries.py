"""playlist_entries: an hour's HLS lines, the same bytes from both twins."""

import datetime as dt
from array import array

import pytest

from fastseg import SegmentInfo, _segments_py
from tests.fastseg.trees import fake_id, put

try:
    from fastseg import _segments_c
except ImportError:
    _segments_c = None

HOUR = dt.datetime(2026, 11, 27, 17)
URL = "/segments/ch/q/2026-11-27T17/"


def plain(segments, url):
    """The entries written the plain way: datetimes and floats formatted one by one."""
    entries = [
        f"#EXT-X-PROGRAM-DATE-TIME:{s.start.isoformat(timespec='microseconds')}Z\n"
        f"#EXTINF:{s.duration.total_seconds():.6f}".rstrip("0").rstrip(".")
        + f",\n{url}{s.name}\n"
        for s in segments
    ]
    offsets = [0]
    for entry in entries:
        offsets.append(offsets[-1] + len(entry))
    seconds = [s.duration.total_seconds() for s in segments]
    return "".join(entries).encode(), array("q", offsets), array("d", seconds)


def other_tool(hours, start, fraction, seconds):
    """A segment named by another tool: a shorter start fraction (or none)."""
    hour_dir = hours / f"{start:%Y-%m-%dT%H}"
    hour_dir.mkdir(parents=True, exist_ok=True)
    name = f"{start:%M:%S}{fraction}-{seconds}-full-{fake_id((start, seconds))}.ts"
    (hour_dir / name).touch()


def test_an_hour_of_entries_is_the_plain_formatting(impl, tmp_path):
    hours = tmp_path / "ch" / "q"
    t = HOUR
    for seconds in (2.0, 2.5, 0.5, 2.002, 1.999999, 2.0, 10.0):
        put(hours, t, seconds)
        t += dt.timedelta(seconds=seconds)
    put(hours, t + dt.timedelta(microseconds=1234), 2.0)  # a start with a fraction
    other_tool(hours, HOUR + dt.timedelta(minutes=5, seconds=30.5), ".5", "0.5")
    other_tool(hours, HOUR + dt.timedelta(minutes=6), "", "2")
    other_tool(hours, HOUR + dt.timedelta(minutes=7, seconds=1.25), ".25", "1.0000005")
    segments = impl.best_segments_by_start(hours / "2026-11-27T17")
    assert len(segments) == 11
    data, offsets, seconds = impl.playlist_entries(segments, URL)
    assert (data, offsets, seconds) == plain(segments, URL)
    assert b"#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:05:30.500000Z\n#EXTINF:0.5,\n" in data
    assert b"#EXTINF:1.000001,\n" in data  # rounded half up to the microsecond, as parsed
    assert data[offsets[3] : offsets[4]].decode().endswith(f"{URL}{segments[3].name}\n")


def test_entries_are_dated_by_their_own_hour_and_none_is_empty(impl):
    ident = fake_id("x")
    segments = [
        SegmentInfo(f"/b/ch/q/{h}/59:58.000000-2-full-{ident}.ts", "ch", "q",
                    dt.datetime.fromisoformat(h) + dt.timedelta(minutes=59, seconds=58),
                    dt.timedelta(seconds=2), "full")
        for h in ("2026-11-27T17", "2026-11-27T18", "2026-12-31T23")
    ]  # fmt: skip
    data, offsets, seconds = impl.playlist_entries(segments, "/u/")
    assert data.decode().count("#EXT-X-PROGRAM-DATE-TIME:2026-11-27T18:59:58.000000Z\n") == 1
    assert (data, offsets, seconds) == plain(segments, "/u/")
    assert impl.playlist_entries([], "/u/") == (b"", array("q", [0]), array("d"))


def test_a_url_outside_ascii_or_not_a_segment_is_refused(impl, tmp_path):
    put(tmp_path / "ch" / "q", HOUR)
    segments = impl.best_segments_by_start(tmp_path / "ch" / "q" / "2026-11-27T17")
    for item in (None, ("a", "b")):
        with pytest.raises(TypeError, match="expected a SegmentInfo, got"):
            impl.playlist_entries([*segments, item], "/u/")
    for url in ("/segments/sourcé/", b"/segments/"):
        with pytest.raises(ValueError, match=r"playlist URL .* is not ASCII text: quote it"):
            impl.playlist_entries(segments, url)


# ---------------------------------------------------------------------------
# Differential: random names, the compiled twin's bytes against the pure twin's.

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

fractions = st.sampled_from(["", ".5", ".12", ".123456", ".000001"])
durations = st.sampled_from(["2", "2.0", "2.5", "0", "0.000001", "1.0000005", "123456789"])
types = st.sampled_from(["full", "suspect", "partial"])
hour_names = st.sampled_from(["2026-11-27T17", "2024-02-29T00", "0001-01-01T00", "9999-12-31T22"])
heads = st.sampled_from(["", "b/", "/base/", "/base/sourcé/", "/源/"])
urls = st.one_of(st.sampled_from(["", "/segments/ch/q/2026-11-27T17/", "/a%20b/"]), st.text())


@st.composite
def segment_lists(draw):
    paths = []
    for _ in range(draw(st.integers(0, 12))):
        m, s = draw(st.integers(0, 59)), draw(st.integers(0, 59))
        name = f"{m:02d}:{s:02d}{draw(fractions)}-{draw(durations)}-{draw(types)}-"
        paths.append(f"{draw(heads)}ch/q/{draw(hour_names)}/{name}{fake_id(len(paths))}.ts")
    return [_segments_py.parse_segment_path(p) for p in paths]


def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # compared, never swallowed: both twins must agree
        return ("raised", type(exc), str(exc))


@pytest.mark.skipif(_segments_c is None, reason="the compiled twin is not built")
@settings(max_examples=300, deadline=None)
@given(segments=segment_lists(), url=urls)
def test_both_twins_render_the_same_bytes(segments, url):
    expected = outcome(_segments_py.playlist_entries, segments, url)
    assert outcome(_segments_c.playlist_entries, segments, url) == expected

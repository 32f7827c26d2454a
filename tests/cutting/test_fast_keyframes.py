"""Fast cuts of segments with several keyframes: only the frames between each cut and
the keyframe next to it are re-encoded; the GOPs after and before are copied."""

from fractions import Fraction

import pytest

from services.cutting import fast_cut, fast_cut_ranges, parts_for, source
from services.cutting.fast import edge_pieces
from tests.cutting import checks
from tests.cutting.conftest import Archive
from tests.cutting.test_fast import expected_frames

KEYFRAME_SECONDS = 0.5  # four GOPs in each 2-second segment


def _gop_archive(stream_factory, tmp_path_factory, fmp4: bool) -> Archive:
    stream = stream_factory(seconds=8, keyframe_seconds=KEYFRAME_SECONDS, fmp4=fmp4)
    tmp = tmp_path_factory.mktemp("gops")
    return Archive(stream, tmp / "base", tmp)


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def gop_archive(request, stream_factory, tmp_path_factory) -> Archive:
    """An 8-second 320x180 stream with a keyframe every half second, as TS or fMP4."""
    return _gop_archive(stream_factory, tmp_path_factory, request.param == "fmp4")


@pytest.fixture(scope="module")
def gop_ts_archive(stream_factory, tmp_path_factory) -> Archive:
    return _gop_archive(stream_factory, tmp_path_factory, False)


def cut(archive: Archive, tmp_path, start_s: float, end_s: float):
    start, end = archive.at(start_s), archive.at(end_s)
    out = tmp_path / "cut.ts"
    out.write_bytes(b"".join(fast_cut(archive.segments(start, end), start, end)))
    return out


def copied_frames(archive: Archive, first: int, stop: int) -> set[int]:
    """Source frames of the GOPs a cut of [first, stop) keeps whole: from the first
    keyframe at or after ``first`` to the last one at or before ``stop``."""
    gop = round(archive.stream.rate * KEYFRAME_SECONDS)
    after = -(-first // gop) * gop if first % gop else first
    before = stop // gop * gop
    return set(range(after, before))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("start_s", "end_s"),
    [
        pytest.param(0.7, 5.3, id="across segments"),
        pytest.param(2.3, 3.6, id="across keyframes of one segment"),
        pytest.param(4.1, 4.4, id="within one GOP"),
    ],
)
def test_cut_is_exact_clean_and_copies_whole_gops(gop_archive, tmp_path, start_s, end_s):
    out = cut(gop_archive, tmp_path, start_s, end_s)
    first, stop = expected_frames(gop_archive, start_s, end_s)

    pk = checks.clean(out)
    assert checks.ffprobe_cc_reports(out) == []
    joins = checks.audio_joins(pk)
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"

    frames = checks.gray_frames(out, gop_archive.stream.size)
    assert len(frames) == stop - first
    matched = checks.match_frames(frames, gop_archive.frames, first)
    assert (matched[0], matched[-1]) == (first, stop - 1)
    assert matched == list(range(first, stop))
    # a copied GOP is the source's own bytes, so its frames decode bit-identical;
    # re-encoded ones do not
    source_frames = gop_archive.frames
    identical = {first + j for j, f in enumerate(frames) if (f == source_frames[first + j]).all()}
    copied = copied_frames(gop_archive, first, stop)
    assert copied <= identical, f"copied frames that differ: {sorted(copied - identical)}"
    reencoded = set(range(first, stop)) - copied
    assert reencoded, "each cut lies inside a GOP, so something is re-encoded"
    assert not reencoded & identical, "frames re-encoded that could have been copied"


@pytest.mark.slow
def test_ranges_joined_hard_copy_their_inner_gops(gop_ts_archive, tmp_path):
    """Each range of a multi-range cut is split at its edge segments' keyframes too."""
    ranges = [(0.7, 2.9), (4.3, 6.6)]
    parts = parts_for(
        gop_ts_archive.hours,
        [(gop_ts_archive.at(a), gop_ts_archive.at(b)) for a, b in ranges],
        False,
    )
    out = tmp_path / "cut.ts"
    out.write_bytes(b"".join(fast_cut_ranges(parts)))
    pk = checks.clean(out)
    joins = checks.audio_joins(pk)
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"
    expected = []
    for a, b in ranges:
        first, stop = expected_frames(gop_ts_archive, a, b)
        expected += list(range(first, stop))
    checks.frames_in_order(out, gop_ts_archive, expected)


def test_segments_split_at_their_inner_keyframes_only_where_cut(gop_ts_archive):
    """The plan: an edge is re-encoded only from the cut to the next keyframe, or from
    the keyframe before the cut; the GOPs between are copied."""
    seg = gop_ts_archive.segments(gop_ts_archive.at(2), gop_ts_archive.at(4))[0]
    data = source.read(seg)
    probe = source.probe(data, seg.path)
    keys = source.clean_keyframes(probe)
    first = min(p.pts for p in probe.video_packets)
    step = 45_000  # half a second at 90 kHz
    assert keys == [first + step, first + 2 * step, first + 3 * step]
    frame = 3000

    head = edge_pieces(seg, data, probe, first + 10 * frame, None)
    assert [(e.lo, e.hi, e.copy_video) for e in head] == [
        (first + 10 * frame, first + step, False),
        (first + step, None, True),
    ]
    tail = edge_pieces(seg, data, probe, None, first + 50 * frame)
    assert [(e.lo, e.hi, e.copy_video) for e in tail] == [
        (None, first + 3 * step, True),
        (first + 3 * step, first + 50 * frame, False),
    ]
    both = edge_pieces(seg, data, probe, first + 10 * frame, first + 50 * frame)
    assert [(e.lo, e.hi, e.copy_video) for e in both] == [
        (first + 10 * frame, first + step, False),
        (first + step, first + 3 * step, True),
        (first + 3 * step, first + 50 * frame, False),
    ]
    inside = edge_pieces(seg, data, probe, first + 2 * frame, first + 5 * frame)
    assert [(e.lo, e.hi, e.copy_video) for e in inside] == [
        (first + 2 * frame, first + 5 * frame, False)
    ]


def _probe(packets: list[tuple[int, bool]]) -> source.Probe:
    video = source.Stream(index=0, kind="video", codec="h264", time_base=Fraction(1, 90000))
    pk = [source.Packet(pts, pts, 3000, key) for pts, key in packets]
    return source.Probe("ts", video, None, pk, [])


def test_only_keyframes_that_start_a_closed_gop_split_a_segment():
    # decode order; an open GOP's leading B-frames (shown before their keyframe) follow it
    closed = _probe([(0, True), (6000, False), (3000, False), (9000, True), (15000, False),
                     (12000, False)])  # fmt: skip
    assert source.clean_keyframes(closed) == [9000]
    open_gop = _probe([(0, True), (9000, False), (3000, False), (18000, True), (12000, False),
                       (15000, False)])  # fmt: skip
    assert source.clean_keyframes(open_gop) == []
    assert source.clean_keyframes(_probe([(0, True), (3000, False)])) == []

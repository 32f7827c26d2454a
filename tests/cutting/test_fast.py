"""Fast cuts: frame-exact, clean at every join, untouched middles, on TS and fMP4."""

import math
import statistics
from fractions import Fraction

import pytest

from services.cutting import fast_cut
from tests.cutting import checks
from tests.cutting.conftest import Archive

RANGES = [
    pytest.param(2.0, 8.0, id="on segment boundaries"),
    pytest.param(2.010, 8.010, id="inside the first frame of a segment"),
    pytest.param(3.990, 9.990, id="inside the last frame of a segment"),
    pytest.param(0.7, 5.3, id="random: from the first segment"),
    pytest.param(4.45, 11.2, id="random: to the last segment"),
    pytest.param(6.2, 7.5, id="within one segment"),
    pytest.param(1.0 / 3, 12.0, id="on a frame's exact time, to the end"),
]


def expected_frames(archive, start_s: float, end_s: float) -> tuple[int, int]:
    """First frame index and one past the last: frame k is shown at T0 + k/rate."""
    rate = archive.stream.rate
    total = len(archive.frames)
    start_us = round(start_s * 1_000_000)
    end_us = round(end_s * 1_000_000)
    first = math.ceil(Fraction(start_us * rate, 1_000_000))
    stop = min(total, math.ceil(Fraction(end_us * rate, 1_000_000)))
    return first, stop


def cut_to_file(archive, tmp_path, start_s, end_s, **kwargs):
    start, end = archive.at(start_s), archive.at(end_s)
    out = tmp_path / "cut.ts"
    out.write_bytes(b"".join(fast_cut(archive.segments(start, end), start, end, **kwargs)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(("start_s", "end_s"), RANGES)
def test_fast_cut_is_exact_and_clean(archive, tmp_path, start_s, end_s):
    out = cut_to_file(archive, tmp_path, start_s, end_s)
    first, stop = expected_frames(archive, start_s, end_s)

    pk = checks.clean(out)
    assert checks.ffprobe_cc_reports(out) == []
    joins = checks.audio_joins(pk)
    assert joins, "the cut has audio"
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"

    frames = checks.gray_frames(out, archive.stream.size)
    assert len(frames) == stop - first
    assert checks.match_frames(frames, archive.frames, first) == list(range(first, stop))

    # Frames of segments copied whole are bit-identical; re-encoded ones do not dip.
    per = archive.frames_per_segment
    reencoded_segments = {first // per} if first % per else set()
    if stop % per and stop < len(archive.frames):
        reencoded_segments.add(stop // per)
    scores = []
    for j, frame in enumerate(frames):
        k = first + j
        if k // per in reencoded_segments:
            scores.append(checks.ssim(frame, archive.frames[k], archive.stream.size))
        else:
            assert (frame == archive.frames[k]).all(), f"untouched frame {k} differs"
    if scores:
        median = statistics.median(scores)
        assert min(scores) >= median - 0.01, f"quality dip: {min(scores):.4f} vs {median:.4f}"
        assert min(scores) > 0.95

    # A/V: each beep sits where it does in the source, to 1 ms.
    rate = archive.stream.rate
    source_onsets = archive.onsets
    cut_onsets = [first / rate + t for t in checks.beep_onsets(out)]
    assert cut_onsets, "the cut holds at least one beep"
    for t in cut_onsets:
        nearest = min(source_onsets, key=lambda s: abs(s - t))
        assert abs(nearest - t) <= 0.001, f"beep at {t:.4f}s in the cut, {nearest:.4f}s in source"


@pytest.mark.slow
@pytest.mark.parametrize("fmp4", [False, True], ids=["ts", "fmp4"])
def test_fast_cut_without_bframes_or_audio(stream_factory, tmp_path, fmp4):
    """DTS equals PTS in such a source, and every audio path is skipped."""
    stream = stream_factory(seconds=6, bframes=False, audio=False, fmp4=fmp4)
    archive = Archive(stream, tmp_path / "base", tmp_path)
    out = cut_to_file(archive, tmp_path, 0.9, 4.1)
    first, stop = expected_frames(archive, 0.9, 4.1)
    assert checks.decode_warnings(out) == ""
    pk = checks.packets(out)
    assert pk["audio"] == []
    assert checks.dts_problems(pk) == []
    assert checks.cc_breaks(out) == []
    frames = checks.gray_frames(out, stream.size)
    assert checks.match_frames(frames, archive.frames, first) == list(range(first, stop))

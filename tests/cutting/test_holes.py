"""Holes: refused unless allowed; allowed, each becomes a clean discontinuity."""

import datetime as dt
import logging
from pathlib import Path

import pytest

import fastseg
from fastseg import ContainsHoles
from services.cutting import Encoding, fast_cut, full_cut, rough_cut
from tests.cutting import checks
from tests.cutting.conftest import T0, Archive
from tests.media import store_stream

_holey: dict = {}


def _make_holey(kind, stream_factory, tmp_path_factory) -> Archive:
    """The 12-second archive with its third segment (4-6 s) missing."""
    if kind not in _holey:
        stream = stream_factory(seconds=12, fmp4=kind == "fmp4")
        tmp = tmp_path_factory.mktemp(f"holey-{kind}")
        archive = Archive(stream, tmp / "base", tmp)
        for path in archive.paths:
            path.unlink()
        archive.paths = store_stream(stream, tmp / "base", "ch", "src", T0, skip={2})
        _holey[kind] = archive
    return _holey[kind]


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def holey(request, stream_factory, tmp_path_factory):
    return _make_holey(request.param, stream_factory, tmp_path_factory)


@pytest.fixture(scope="module")
def holey_ts(stream_factory, tmp_path_factory):
    return _make_holey("ts", stream_factory, tmp_path_factory)


@pytest.mark.parametrize(
    "cut",
    [
        pytest.param(lambda s, a, b: rough_cut(s), id="rough"),
        pytest.param(lambda s, a, b: fast_cut(s, a, b), id="fast"),
        pytest.param(lambda s, a, b: full_cut(s, a, b, Encoding(container="ts")), id="full"),
    ],
)
def test_holes_are_refused_by_default(holey, cut):
    start, end = holey.at(3), holey.at(7)
    segments = holey.segments(start, end, allow_holes=True)
    assert None in segments
    with pytest.raises(ContainsHoles, match="no complete video from") as info:
        b"".join(cut(segments, start, end))
    assert info.value.hole_start == holey.at(4)
    assert info.value.hole_end == holey.at(6)


@pytest.mark.slow
def test_fast_cut_across_a_hole(holey, tmp_path):
    start, end = holey.at(3.5), holey.at(8.5)
    segments = holey.segments(start, end, allow_holes=True)
    out = tmp_path / "cut.ts"
    out.write_bytes(b"".join(fast_cut(segments, start, end, allow_holes=True)))

    assert checks.decode_warnings(out) == ""
    pk = checks.packets(out)
    assert checks.dts_problems(pk) == []
    assert checks.cc_breaks(out) == []
    # 105..119 before the hole, 180..254 after it
    checks.frames_in_order(out, holey, list(range(105, 120)) + list(range(180, 255)))
    # the only audio gap is the hole itself (2 s less the audio packet that straddled it)
    gaps = [g for g in checks.audio_joins(pk) if abs(g) > 0.001]
    assert len(gaps) == 1
    assert 1.9 < gaps[0] < 2.1


def test_rough_cut_across_a_hole_is_the_segments_concatenated(holey_ts):
    """Nothing is rewritten at a hole either: players may report a continuity error there."""
    holey = holey_ts
    start, end = holey.at(3), holey.at(7)
    segments = holey.segments(start, end, allow_holes=True)
    assert None in segments
    data = b"".join(rough_cut(segments, allow_holes=True))
    assert data == b"".join(Path(s.path).read_bytes() for s in segments if s is not None)


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def restarted_after_hole(request, stream_factory, tmp_path_factory):
    """A 6-second stream, a 2-second hole, then the stream again with its clock from zero."""
    fmp4 = request.param == "fmp4"
    stream = stream_factory(seconds=6, fmp4=fmp4)
    tmp = tmp_path_factory.mktemp(f"restart-{request.param}")
    store_stream(stream, tmp / "base", "ch", "src", T0)
    store_stream(stream, tmp / "base", "ch", "src", T0 + dt.timedelta(seconds=8))
    frames = checks.gray_frames(checks.concat_source(stream.segments, tmp / "s.bin", fmp4))
    return str(tmp / "base" / "ch" / "src"), frames


@pytest.mark.slow
def test_fast_cut_puts_a_restarted_clock_back_on_time(restarted_after_hole, tmp_path, caplog):
    hours, frames = restarted_after_hole
    start, end = T0 + dt.timedelta(seconds=2.5), T0 + dt.timedelta(seconds=11.5)
    fastseg.clear_cache()
    segments = fastseg.get_best_segments(hours, start, end, allow_holes=True)
    assert segments.count(None) == 1
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(fast_cut(segments, start, end, allow_holes=True)))
    assert "clock restarts after the hole" in caplog.text

    assert checks.decode_warnings(out) == ""
    pk = checks.packets(out)
    assert checks.dts_problems(pk) == []
    assert checks.cc_breaks(out) == []
    cut = checks.gray_frames(out)
    assert checks.match_frames(cut[:105], frames, 75) == list(range(75, 180))
    assert checks.match_frames(cut[105:], frames, 0) == list(range(105))
    # the second part shows 8 s after the first frame of the restarted stream would
    pts = sorted(float(p[0]) for p in pk["video"])
    assert pts[105] - pts[0] == pytest.approx(8 - 2.5, abs=1e-4)

"""A stream restarted with other settings mid-range: the fast cut says so and
re-encodes that stretch to the cut's settings instead of producing a broken file."""

import datetime as dt
import logging

import numpy as np
import pytest

import fastseg
from services.cutting import fast_cut
from tests.cutting import checks
from tests.cutting.conftest import T0
from tests.media import store_stream

SIZE = "320x180"


@pytest.fixture(scope="module", params=["ts", "fmp4"])
def restarted(request, stream_factory, tmp_path_factory):
    """6 s at 320x180, then the encoder restarts at 256x144 (its clock from zero again)."""
    fmp4 = request.param == "fmp4"
    a = stream_factory(seconds=6, fmp4=fmp4)
    b = stream_factory(seconds=6, fmp4=fmp4, size="256x144")
    tmp = tmp_path_factory.mktemp(f"restarted-{request.param}")
    base = tmp / "base"
    store_stream(a, base, "ch", "src", T0)
    store_stream(b, base, "ch", "src", T0 + dt.timedelta(seconds=6))
    frames_a = checks.gray_frames(checks.concat_source(a.segments, tmp / "a.bin", fmp4), SIZE)
    frames_b = checks.gray_frames(checks.concat_source(b.segments, tmp / "b.bin", fmp4), SIZE)
    return str(base / "ch" / "src"), frames_a, frames_b


@pytest.mark.slow
def test_fast_cut_across_a_codec_change(restarted, tmp_path, caplog):
    hours, frames_a, frames_b = restarted
    start, end = T0 + dt.timedelta(seconds=2.5), T0 + dt.timedelta(seconds=9.5)
    fastseg.clear_cache()
    segments = fastseg.get_best_segments(hours, start, end, allow_holes=False)
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(fast_cut(segments, start, end)))
    assert "codec parameters change at" in caplog.text
    assert "256x144, was h264 320x180" in caplog.text

    pk = checks.clean(out)
    joins = checks.audio_joins(pk)
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"
    # frames 75..179 of the first stream, then 0..104 of the restarted one, one clock
    frames = checks.gray_frames(out, SIZE)
    assert len(frames) == 105 + 105
    assert checks.match_frames(frames[:105], frames_a, 75) == list(range(75, 180))
    assert checks.match_frames(frames[105:], frames_b, 0) == list(range(105))
    video_pts = sorted(p[0] for p in pk["video"])
    steps = np.diff([float(t) for t in video_pts])
    assert np.allclose(steps, 1 / 30, atol=1e-4), "one frame every 1/30 s across the change"
    info = checks.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height",
                       "-of", "csv=p=0", str(out)]).stdout.decode().split()  # fmt: skip
    assert "320,180" in info

"""Full cuts: frame-exact re-encodes to every container; mp4 spooled, others streamed."""

import glob
import os
import tempfile

import pytest

from services.cutting import Encoding, full_cut
from services.cutting.full import SPOOL_PREFIX
from tests.cutting import checks
from tests.cutting.test_fast import expected_frames
from tests.media import ffprobe_json


def cut(archive, tmp_path, start_s, end_s, encoding, name):
    start, end = archive.at(start_s), archive.at(end_s)
    out = tmp_path / name
    out.write_bytes(b"".join(full_cut(archive.segments(start, end), start, end, encoding)))
    return out


@pytest.mark.slow
def test_full_mp4_is_exact_in_sync_and_faststart(archive, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    out = cut(archive, tmp_path, 1.25, 7.7, Encoding(), "cut.mp4")
    assert glob.glob(str(tmp_path / f"{SPOOL_PREFIX}*")) == [], "the spool file is removed"

    assert checks.decode_warnings(out) == ""
    first, stop = expected_frames(archive, 1.25, 7.7)
    frames = checks.gray_frames(out, archive.stream.size)
    assert len(frames) == stop - first
    assert checks.match_frames(frames, archive.frames, first) == list(range(first, stop))
    # faststart: the index (moov) comes before the media (mdat)
    data = out.read_bytes()
    assert 0 < data.index(b"moov") < data.index(b"mdat")
    # A/V: beeps where the source has them, to 1 ms (first frame's time + onset)
    rate = archive.stream.rate
    onsets = [first / rate + t for t in checks.beep_onsets(out)]
    assert onsets
    for t in onsets:
        nearest = min(archive.onsets, key=lambda s: abs(s - t))
        assert abs(nearest - t) <= 0.001, f"beep at {t:.4f}s in the cut, {nearest:.4f}s in source"


@pytest.mark.slow
@pytest.mark.parametrize("container", ["ts", "mkv", "fmp4"])
def test_full_streams_other_containers_scaled(ts_archive, tmp_path, monkeypatch, container):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    encoding = Encoding.parse(f"container={container},height=90,crf=30")
    start, end = ts_archive.at(3.1), ts_archive.at(5.2)
    cut_gen = full_cut(ts_archive.segments(start, end), start, end, encoding)
    first_chunk = next(cut_gen)
    assert os.listdir(tmp_path) == [], "streamed, not spooled"
    out = tmp_path / f"cut.{container}"
    out.write_bytes(first_chunk + b"".join(cut_gen))
    assert checks.decode_warnings(out) == ""
    info = ffprobe_json(out, "-count_frames", "-show_streams")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (160, 90)
    first, stop = expected_frames(ts_archive, 3.1, 5.2)
    assert int(video["nb_read_frames"]) == stop - first
    assert any(s["codec_type"] == "audio" for s in info["streams"])

"""Bad input and failing ffmpeg: clear errors carrying ffmpeg's stderr, nothing left behind."""

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

import fastseg
from services.cutting import CutError, Encoding, fast_cut, full_cut, rough_cut
from tests.cutting.conftest import SECONDS, T0
from tests.media import store_stream


def copy_archive(archive, tmp_path):
    """A private copy of an archive's tree, to corrupt."""
    base = tmp_path / "base"
    shutil.copytree(archive.base, base)
    fastseg.clear_cache()
    return str(base / "ch" / "src")


def segment_paths(hours, start, end):
    return [s.path for s in fastseg.get_best_segments(hours, start, end)]


def test_bad_ranges(ts_archive):
    start, end = ts_archive.at(2), ts_archive.at(4)
    segments = ts_archive.segments(start, end)
    # checked when the cut is made, before anything is iterated (or sent)
    with pytest.raises(ValueError, match="is not after start"):
        fast_cut(segments, end, start)
    with pytest.raises(ValueError, match="is not after start"):
        full_cut(segments, start, start, Encoding())
    with pytest.raises(ValueError, match="must be a naive UTC datetime, got '2026"):
        list(fast_cut(segments, "2026-11-27T17:00:00", end))
    with pytest.raises(ValueError, match="must be a naive UTC datetime"):
        list(fast_cut(segments, start.replace(tzinfo=dt.UTC), end))


def test_no_segments():
    start = T0
    with pytest.raises(CutError, match="no video segments from 2026-11-27T17:59:57 to"):
        list(fast_cut([None], start, start + dt.timedelta(seconds=1), allow_holes=True))
    with pytest.raises(CutError, match="no video segments"):
        list(rough_cut([], allow_holes=True))


def test_range_between_frames(ts_archive):
    # 10 ms inside frame 60's display time and before frame 61: no frame starts there
    start, end = ts_archive.at(2.005), ts_archive.at(2.02)
    with pytest.raises(CutError, match="no video frame from .* to .*between frames"):
        list(fast_cut(ts_archive.segments(start, end), start, end))


@pytest.mark.parametrize("kind", ["rough", "fast"])
def test_garbage_segment(ts_archive, tmp_path, kind):
    hours = copy_archive(ts_archive, tmp_path)
    start, end = ts_archive.at(2.5), ts_archive.at(7.5)
    paths = segment_paths(hours, start, end)
    with open(paths[0], "wb") as f:
        f.write(b"<html>not video</html>" * 100)
    segments = fastseg.get_best_segments(hours, start, end)
    with pytest.raises(
        CutError, match=r"is neither MPEG-TS nor fragmented MP4 \(starts with b'<html>"
    ):
        list(rough_cut(segments) if kind == "rough" else fast_cut(segments, start, end))


def test_lost_sync_in_a_middle_segment(ts_archive, tmp_path):
    hours = copy_archive(ts_archive, tmp_path)
    start, end = ts_archive.at(2.5), ts_archive.at(7.5)
    paths = segment_paths(hours, start, end)
    data = bytearray(Path(paths[1]).read_bytes())
    data[188 * 10] = 0x00  # the 11th packet's sync byte
    with open(paths[1], "wb") as f:
        f.write(data)
    segments = fastseg.get_best_segments(hours, start, end)
    # a rough cut is the archive's bytes as they are, damage included (as cat would give)
    assert b"".join(rough_cut(segments)) == b"".join(Path(p).read_bytes() for p in paths)
    with pytest.raises(CutError, match="lost MPEG-TS sync"):
        list(fast_cut(segments, start, end))


def test_segment_removed_after_listing(ts_archive, tmp_path):
    hours = copy_archive(ts_archive, tmp_path)
    start, end = ts_archive.at(2.5), ts_archive.at(7.5)
    segments = fastseg.get_best_segments(hours, start, end)
    os.unlink(segments[1].path)
    with pytest.raises(CutError, match="cannot read segment '.*No such file"):
        list(fast_cut(segments, start, end))


@pytest.mark.slow
def test_corrupt_video_fails_ffmpeg_with_its_stderr(stream_factory, tmp_path):
    """An fMP4 edge whose media data is zeroed: ffmpeg fails and says why."""
    stream = stream_factory(seconds=SECONDS, fmp4=True)
    paths = store_stream(stream, tmp_path / "base", "ch", "src", T0)
    data = paths[1].read_bytes()
    cut_at = len(stream.init) + 2000  # inside the mdat of the second segment
    paths[1].write_bytes(data[:cut_at] + bytes(len(data) - cut_at))
    fastseg.clear_cache()
    start, end = T0 + dt.timedelta(seconds=2.5), T0 + dt.timedelta(seconds=7.5)
    segments = fastseg.get_best_segments(str(tmp_path / "base" / "ch" / "src"), start, end)
    with pytest.raises(CutError, match="re-encode of .* failed") as info:
        list(fast_cut(segments, start, end))
    assert "Invalid NAL unit size" in info.value.stderr
    assert info.value.stderr.strip() in str(info.value)


def test_unknown_encoder_fails_with_stderr(ts_archive):
    start, end = ts_archive.at(2.5), ts_archive.at(3.5)
    encoding = Encoding(container="ts", video_codec="no_such_encoder")
    with pytest.raises(CutError, match="full cut to ts failed") as info:
        list(full_cut(ts_archive.segments(start, end), start, end, encoding))
    assert "no_such_encoder" in info.value.stderr

"""Rough cuts: whole segments joined untouched (TS: plain concatenation; fMP4: one init)."""

from pathlib import Path

import pytest

from services.cutting import rough_container, rough_cut
from tests.cutting import checks


@pytest.mark.slow
def test_rough_cut_is_the_segments_untouched(archive, tmp_path):
    start, end = archive.at(2.5), archive.at(7.5)
    segments = archive.segments(start, end)
    assert len(segments) == 3  # 2-4, 4-6, 6-8 s
    assert rough_container(segments) == ("fmp4" if archive.stream.fmp4 else "ts")
    out = tmp_path / "rough.bin"
    out.write_bytes(b"".join(rough_cut(segments)))

    assert checks.decode_warnings(out) == ""
    assert checks.dts_problems(checks.packets(out)) == []
    if not archive.stream.fmp4:
        assert checks.cc_breaks(out) == []
    frames = checks.gray_frames(out, archive.stream.size)
    per = archive.frames_per_segment
    assert len(frames) == 3 * per
    assert (frames == archive.frames[per : 4 * per]).all()


def test_rough_ts_is_the_segments_bytes_concatenated(ts_archive):
    """Byte for byte what ``cat`` of the chosen segment files gives."""
    start, end = ts_archive.at(0), ts_archive.at(6)
    segments = ts_archive.segments(start, end)
    out = b"".join(rough_cut(segments))
    assert out == b"".join(Path(s.path).read_bytes() for s in segments)

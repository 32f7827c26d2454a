"""Rough cuts: whole segments joined untouched, one clean stream (TS and fMP4)."""

from pathlib import Path

import pytest

from services.common.cutting import rough_container, rough_cut
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


def test_rough_ts_keeps_every_byte_but_the_counters(ts_archive):
    """Only continuity counters may change: every other byte is the segments'."""
    start, end = ts_archive.at(0), ts_archive.at(6)
    segments = ts_archive.segments(start, end)
    out = b"".join(rough_cut(segments))
    original = b"".join(Path(s.path).read_bytes() for s in segments)
    assert len(out) == len(original)
    a = bytearray(out)
    b = bytearray(original)
    for i in range(3, len(a), 188):  # mask the counter nibble of every packet
        a[i] &= 0xF0
        b[i] &= 0xF0
    assert a == b

"""Damaged segments (empty, truncated, not video): refused by name, or cut around as holes."""

import logging
import random
import shutil
from pathlib import Path

import pytest

import fastseg
from services.cutting import Damaged, Encoding, fast_cut, full_cut
from tests.cutting import checks


def damage(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2 + 5])
    elif how == "random":
        path.write_bytes(random.Random(7).randbytes(len(data)))
    elif how == "no streams":  # whole TS packets with sync bytes, nothing ffprobe can use
        path.write_bytes(b"".join(b"\x47" + bytes(187) for _ in range(len(data) // 188)))
    else:
        raise AssertionError(how)


class Damaged_:
    """A private copy of an archive with segment ``index`` damaged ``how``."""

    def __init__(self, archive, tmp_path, index, how):
        self.archive = archive
        shutil.copytree(archive.base, tmp_path / "base")
        self.hours = str(tmp_path / "base" / "ch" / "src")
        rel = archive.paths[index].relative_to(archive.base)
        self.path = tmp_path / "base" / rel
        damage(self.path, how)

    def segments(self, start_s, end_s, allow_holes=False):
        fastseg.clear_cache()
        start, end = self.archive.at(start_s), self.archive.at(end_s)
        return fastseg.get_best_segments(self.hours, start, end, allow_holes), start, end


def fast(segments, start, end, **kw):
    return fast_cut(segments, start, end, **kw)


def full(segments, start, end, **kw):
    return full_cut(segments, start, end, Encoding(container="ts", crf=18), **kw)


HOWS = ["empty", "truncated", "random"]


# (segment, damage): segment 1 is the head edge of 2.5-9.5, segment 2 a middle one;
# an edge is also probed, which finds damage the cheap check cannot ("no streams").
CASES = [(i, how) for i in (1, 2) for how in HOWS] + [(1, "no streams")]


@pytest.mark.parametrize(("index", "how"), CASES)
@pytest.mark.parametrize("cut", [fast, full], ids=["fast", "full"])
def test_without_allow_holes_the_error_names_the_file(ts_archive, tmp_path, how, cut, index):
    d = Damaged_(ts_archive, tmp_path, index, how)
    segments, start, end = d.segments(2.5, 9.5)
    assert str(d.path) in [s.path for s in segments]  # listed like any other segment
    # refused while the cut is planned, before any byte or process
    with pytest.raises(Damaged) as info:
        cut(segments, start, end)
    message = str(info.value).splitlines()[0]
    assert f"segment {str(d.path)!r} " in message
    assert f"hide it with 'fastseg tombstone {d.path}'" in message
    assert "allow holes" in message


@pytest.mark.slow
@pytest.mark.parametrize("how", HOWS)
def test_fast_cut_goes_around_a_damaged_middle(ts_archive, tmp_path, caplog, how):
    d = Damaged_(ts_archive, tmp_path, 2, how)  # 4-6 s
    segments, start, end = d.segments(2.5, 9.5)
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(fast(segments, start, end, allow_holes=True)))
    assert f"cutting around damaged segment {str(d.path)!r}" in caplog.text
    pk = checks.clean(out)
    expected = list(range(75, 120)) + list(range(180, 285))
    checks.frames_in_order(out, ts_archive, expected)
    gaps = [g for g in checks.audio_joins(pk) if abs(g) > 0.001]
    assert len(gaps) == 1  # the damaged segment's 2 s, nothing else
    assert 1.9 < gaps[0] < 2.1


@pytest.mark.slow
@pytest.mark.parametrize("how", ["random", "no streams"])
def test_fast_cut_goes_around_a_damaged_edge(ts_archive, tmp_path, caplog, how):
    d = Damaged_(ts_archive, tmp_path, 1, how)  # 2-4 s: the head edge of 2.5-9.5
    segments, start, end = d.segments(2.5, 9.5)
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(fast(segments, start, end, allow_holes=True)))
    assert str(d.path) in caplog.text
    checks.clean(out)
    frames = checks.gray_frames(out, ts_archive.stream.size)
    assert checks.match_frames(frames, ts_archive.frames, 120) == list(range(120, 285))


@pytest.mark.slow
def test_fast_cut_goes_around_a_truncated_fmp4_segment(fmp4_archive, tmp_path, caplog):
    archive = fmp4_archive
    d = Damaged_(archive, tmp_path, 2, "truncated")
    segments, start, end = d.segments(2.5, 9.5)
    with pytest.raises(Damaged, match="is truncated or corrupt"):
        fast(segments, start, end)
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(fast(segments, start, end, allow_holes=True)))
    assert str(d.path) in caplog.text
    checks.clean(out)
    frames = checks.gray_frames(out, archive.stream.size)
    expected = list(range(75, 120)) + list(range(180, 285))
    assert len(frames) == len(expected)


@pytest.mark.slow
@pytest.mark.parametrize("how", HOWS)
def test_full_cut_goes_around_a_damaged_segment(ts_archive, tmp_path, caplog, how):
    d = Damaged_(ts_archive, tmp_path, 2, how)
    segments, start, end = d.segments(2.5, 9.5)
    out = tmp_path / "cut.ts"
    with caplog.at_level(logging.WARNING, logger="services.cutting"):
        out.write_bytes(b"".join(full(segments, start, end, allow_holes=True)))
    assert f"cutting around damaged segment {str(d.path)!r}" in caplog.text
    assert checks.decode_warnings(out) == ""
    frames = checks.gray_frames(out, ts_archive.stream.size)
    # the frames either side of the hole, in order (a full cut re-encodes, so match loosely)
    assert checks.match_frames(frames[:45], ts_archive.frames, 75) == list(range(75, 120))
    assert checks.match_frames(frames[-105:], ts_archive.frames, 180) == list(range(180, 285))

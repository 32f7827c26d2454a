"""Clips of several ranges: exact frames in order, clean joins, A/V in sync, transitions."""

import datetime as dt
import math
from fractions import Fraction

import numpy as np
import pytest

import fastseg
from services.cutting import (
    Encoding,
    Transition,
    fast_cut_ranges,
    full_cut_ranges,
    parts_for,
)
from services.ranges import check_ranges, transitions_from_json
from tests.cutting import checks
from tests.cutting.conftest import T0


def frames_of(archive, start_s, end_s) -> list[int]:
    rate = archive.stream.rate
    first = math.ceil(Fraction(round(start_s * 1_000_000) * rate, 1_000_000))
    stop = min(len(archive.frames), math.ceil(Fraction(round(end_s * 1_000_000) * rate, 1_000_000)))
    return list(range(first, stop))


def parts_of(archive, ranges):
    fastseg.clear_cache()
    return parts_for(archive.hours, [(archive.at(a), archive.at(b)) for a, b in ranges], False)


def check_clean(out) -> dict:
    pk = checks.clean(out)
    assert checks.ffprobe_cc_reports(out) == []
    return pk


THREE = [(0.5, 2.7), (4.3, 6.1), (8.2, 10.9)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "ranges",
    [
        pytest.param(THREE, id="inside segments"),
        pytest.param([(0.0, 2.0), (4.0, 6.0), (8.0, 12.0)], id="on segment boundaries"),
        pytest.param([(1.1, 1.9), (2.35, 3.0), (3.5, 5.5)], id="close together"),
    ],
)
def test_three_range_hard_cut(archive, tmp_path, ranges):
    out = tmp_path / "cut.ts"
    out.write_bytes(b"".join(fast_cut_ranges(parts_of(archive, ranges))))
    pk = check_clean(out)
    joins = checks.audio_joins(pk)
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"

    expected = [frames_of(archive, a, b) for a, b in ranges]
    flat = [k for part in expected for k in part]
    checks.frames_in_order(out, archive, flat)

    # A/V: each beep sits where the source has it, relative to its own range's frames.
    rate = archive.stream.rate
    video_pts = sorted(p[0] for p in pk["video"])
    starts, j = [], 0
    for part in expected:
        starts.append((float(video_pts[j] - video_pts[0]), part[0]))
        j += len(part)
    beeps = checks.beep_onsets(out)
    in_range = [0] * len(ranges)
    for t in beeps:
        i = max(i for i, (s, _) in enumerate(starts) if s <= t + 1e-9)
        source_t = starts[i][1] / rate + (t - starts[i][0])
        nearest = min(archive.onsets, key=lambda s: abs(s - source_t))
        assert abs(nearest - source_t) <= 0.002, f"beep {t:.4f}s of range {i}: {source_t:.4f}"
        in_range[i] += 1
    assert all(in_range[1:]), f"a beep after each join: {in_range}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["crossfade", "fade"])
def test_one_second_transition(archive, tmp_path, kind):
    # the bodies (0-2 s, 8-12 s) are whole segments; the transition takes 2-3 s and 7-8 s
    ranges = [(0.0, 3.0), (7.0, 12.0)]
    out = tmp_path / "cut.ts"
    parts = parts_of(archive, ranges)
    out.write_bytes(b"".join(fast_cut_ranges(parts, [Transition(kind, 1.0)])))
    pk = check_clean(out)
    joins = checks.audio_joins(pk)
    assert max(abs(j) for j in joins) <= 0.001, f"audio gaps/overlaps: {joins}"

    frames = checks.gray_frames(out, archive.stream.size)
    assert len(frames) == 60 + 30 + 120  # 3 s + 5 s - 1 s
    video = sorted(p[0] for p in pk["video"])
    assert float(video[-1] - video[0] + Fraction(1, 30)) == pytest.approx(7.0, abs=0.012)
    src = archive.frames
    for j in range(60):
        assert (frames[j] == src[j]).all(), f"frame {j} before the transition differs"
    for j in range(120):
        assert (frames[90 + j] == src[240 + j]).all(), f"frame {240 + j} after it differs"
    # the transition goes from the first range's frames to the second's
    a, b = src[60:90].astype(np.float64), src[210:240].astype(np.float64)
    got = frames[60:90].astype(np.float64)

    def mse(x, y):
        return float(((x - y) ** 2).mean())

    assert mse(got[0], a[0]) < mse(got[0], b[0])
    assert mse(got[-1], b[-1]) < mse(got[-1], a[-1])
    if kind == "crossfade":
        blend = (a[15] + b[15]) / 2
        assert mse(got[15], blend) < min(mse(got[15], a[15]), mse(got[15], b[15])) / 4
    else:  # through black: darkest in the middle
        assert got[15].mean() < min(a[15].mean(), b[15].mean()) / 2


@pytest.mark.slow
def test_full_cut_of_ranges_with_a_crossfade(ts_archive, tmp_path):
    archive = ts_archive
    ranges = [(0.5, 2.7), (4.3, 6.1), (8.2, 10.9)]
    out = tmp_path / "cut.ts"
    transitions = [None, Transition("crossfade", 0.5)]
    encoding = Encoding(container="ts", crf=18)
    out.write_bytes(b"".join(full_cut_ranges(parts_of(archive, ranges), transitions, encoding)))
    assert checks.decode_warnings(out) == ""
    frames = checks.gray_frames(out, archive.stream.size)
    one, two, three = (frames_of(archive, a, b) for a, b in ranges)
    assert len(frames) == len(one) + len(two) + len(three) - 15
    assert checks.match_frames(frames[: len(one)], archive.frames, one[0]) == one
    tail = frames[len(one) : len(one) + len(two) - 15]
    assert checks.match_frames(tail, archive.frames, two[0]) == two[: len(two) - 15]
    assert checks.match_frames(frames[-len(three) + 15 :], archive.frames, three[15]) == three[15:]


def t(seconds):
    return T0 + dt.timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("ranges", "transitions", "message"),
    [
        ([], None, "no range to cut"),
        ([(t(2), t(1))], None, "is not after start"),
        ([(t(0), t(2)), (t(1), t(3))], None, "begins before the previous one ends"),
        ([(t(0), t(2)), (t(3), t(4))], [None, None], "2 transitions for 2 ranges"),
        ([(t(0), t(2)), (t(3), t(4))], [Transition("fade", 1.5)], "longer than the shorter"),
        (
            [(t(0), t(2)), (t(3), t(4)), (t(5), t(7))],
            [Transition("fade", 0.5), Transition("crossfade", 0.5)],
            "use all of it",
        ),
    ],
)
def test_bad_ranges_and_transitions(ranges, transitions, message):
    with pytest.raises(ValueError, match=message):
        check_ranges(ranges, transitions)


def test_transition_parsing():
    assert Transition.parse("fade:1.5") == Transition("fade", 1.5)
    assert Transition.parse("crossfade,2", sep=",") == Transition("crossfade", 2.0)
    assert Transition.parse("none") is None
    with pytest.raises(ValueError, match="transition type 'wipe' is not one of fade, crossfade"):
        Transition.parse("wipe:1")
    with pytest.raises(ValueError, match="is not TYPE:SECONDS"):
        Transition.parse("fade")
    with pytest.raises(ValueError, match="'x' is not a number"):
        Transition.parse("fade:x")
    with pytest.raises(ValueError, match="not a positive number"):
        Transition.parse("fade:0")
    assert Transition.parse("fade:60") == Transition("fade", 60.0)  # MAX_TRANSITION itself


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        pytest.param(float("inf"), "a fade of inf s is over the 60 s", id="inf"),
        pytest.param(1e300, "a fade of 1e\\+300 s is over the 60 s", id="1e300"),
        pytest.param(60.000001, "a fade of 60.000001 s is over the 60 s", id="just over"),
        pytest.param(10**400, "a fade of 1e20\\+ s is over", id="an int no float holds"),
        pytest.param(float("nan"), "seconds nan is not a positive number", id="nan"),
        pytest.param(True, "seconds True is not a", id="a bool"),
    ],
)
def test_a_transition_is_finite_and_at_most_a_minute(seconds, message):
    with pytest.raises(ValueError, match=message):
        Transition("fade", seconds)
    with pytest.raises(ValueError, match=message):
        transitions_from_json([{"type": "fade", "seconds": seconds}])

"""Clips of several ranges of the stream, joined in order, with optional transitions.

A fast cut of several ranges is the fast cuts of each range's *body* put on one
timeline: each later body is moved back (``shift``) so it follows the one
before. At a hard cut the shift makes the audio continue exactly (packets are
stream-copied whole, so the join falls on a packet boundary), which moves the
video join later by less than an audio packet: every frame and every beep stays
in sync with its own range, and only one frame's display time changes. A
transition re-encodes just its own seconds: the last seconds of one range and
the first of the next go through one ffmpeg (``xfade``, ``acrossfade``); the
bodies around it are cut as usual. A full cut builds one filter graph.
"""

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

from fastseg import SegmentInfo
from services.cutting import edges, fast, fmp4, full, mpegts, source
from services.cutting import params as params_
from services.cutting.bounds import Bounds, plan
from services.cutting.encoding import Encoding, require_encoding
from services.cutting.errors import CutError
from services.cutting.fast import Edge, Piece
from services.cutting.parts import Part
from services.cutting.source import Probe, audio_threshold
from services.cutting.transition import FadeAudio, TransitionPiece, seconds_of
from services.ranges import XFADE, Transition, check_ranges

logger = logging.getLogger(__name__)


def _bodies(
    parts: Sequence[Part], transitions: Sequence[Transition | None]
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Each range less the seconds its transitions take."""
    result = []
    for i, (_, start, end) in enumerate(parts):
        before = transitions[i - 1] if i else None
        after = transitions[i] if i < len(transitions) else None
        result.append(
            (start + (before.delta if before else dt.timedelta()),
             end - (after.delta if after else dt.timedelta()))
        )  # fmt: skip
    return result


def _same_container(bounds: Sequence[Bounds]) -> str:
    """The container every range is in ('ts' or 'fmp4'); CutError if they differ."""
    kind = bounds[0].kind
    for b in bounds[1:]:
        if b.kind != kind:
            raise CutError(
                f"segments change container between {bounds[0].first.path!r} ({kind}) and "
                f"{b.first.path!r} ({b.kind}); cut the ranges separately"
            )
    return kind


# -- fast cut --------------------------------------------------------------------------


def _ticks(seconds: Fraction) -> int:
    return round(seconds * edges.TS_CLOCK)


def _audio_tb(probe: Probe) -> Fraction:
    assert probe.audio is not None  # asked only where audio packets were found
    return probe.audio.time_base


@dataclasses.dataclass(frozen=True)
class Join:
    """Where the output stands after a body: its video end and audio end (seconds)."""

    video_end: Fraction
    audio_end: Fraction | None  # None: the body has no audio

    @classmethod
    def after(cls, b: Bounds, shift: Fraction, audio_cut: int | None) -> "Join":
        probe = b.last_probe
        video_end = seconds_of(b.hi, probe.video.time_base) + shift
        if audio_cut is None:
            return cls(video_end, None)
        return cls(video_end, seconds_of(audio_cut, _audio_tb(probe)) + shift)


@dataclasses.dataclass(frozen=True)
class Placed:
    """Where a body goes on the output: ``shift`` (seconds) moves it after the one
    before; ``audio_lo`` is the audio packet it starts at (None: with its video)."""

    shift: Fraction
    audio_lo: int | None = None


def _tail_audio(b: Bounds, edge: Edge | None) -> int | None:
    """Where a body's audio ends, so it runs on past its last frame (by up to half a
    packet). A segment's own audio ends a little before its last frame does: for a
    body that ends with a whole segment, the audio comes from the next one, which
    is fed along with it and its video dropped."""
    probe = b.last_probe
    if probe.audio is None or not probe.audio_packets:
        return None
    threshold = audio_threshold(probe, b.hi)
    if threshold is not None or edge is None or edge.lo is not None or edge.hi is not None:
        return edges.audio_cut(probe, b.hi)
    if b.after is None:
        return edges.audio_cut(probe, b.hi)
    after_data = source.read(b.after)
    init = b""
    if b.kind == "fmp4":  # one init section, then both segments' fragments
        init, fragments = fmp4.split(after_data)
        if init != fmp4.split(b.last_data)[0]:
            return edges.audio_cut(probe, b.hi)
        after_data = fragments
    after_probe = source.probe(init + after_data, b.after.path)
    if after_probe.audio is None or after_probe.audio.time_base != probe.audio.time_base:
        return edges.audio_cut(probe, b.hi)
    threshold = audio_threshold(after_probe, b.hi)
    if threshold is None:
        return edges.audio_cut(probe, b.hi)
    edge.data = edge.data + after_data
    edge.hi = b.hi
    edge.copy_video = True
    return threshold


def _first_audio(b: Bounds, lag: Fraction) -> int | None:
    """The packet start to begin a body's audio at: the last one that starts no
    later after the body's first frame than ``lag`` (how far the audio before ends
    past its last frame). The video join then moves later by less than a packet,
    never earlier: one frame shows a little longer, and no two frames collide."""
    probe = b.first_probe
    if probe.audio is None or not probe.audio_packets:
        return None
    lo = seconds_of(b.lo, probe.video.time_base)
    tb = probe.audio.time_base
    starts = sorted(p.pts for p in probe.audio_packets)
    fits = [pts for pts in starts if seconds_of(pts, tb) - lo <= lag]
    return fits[-1] if fits else starts[0]


def _plan_within(
    segments: Sequence[SegmentInfo | None], start: dt.datetime, end: dt.datetime, allow_holes: bool
) -> Bounds:
    """Bounds of a transition's few seconds, from only the segments they overlap
    (not the whole range's, which would each be checked and probed again)."""
    near = [
        s for s in segments
        if s is None or (source.end_of(s) > start and source.start_of(s) < end)
    ]  # fmt: skip
    while near and near[0] is None:
        near.pop(0)
    while near and near[-1] is None:
        near.pop()
    return plan(near, start, end, allow_holes)


def _hard_cut(before: Join, b: Bounds) -> Placed:
    """A body right after the one before: its audio goes on exactly, and its video
    join moves to match (later by less than an audio packet)."""
    first_s = seconds_of(b.lo, b.first_probe.video.time_base)
    if before.audio_end is None:
        return Placed(before.video_end - first_s)
    audio_lo = _first_audio(b, before.audio_end - before.video_end)
    if audio_lo is None:  # no audio after audio: the video joins as it is
        return Placed(before.video_end - first_s)
    return Placed(before.audio_end - seconds_of(audio_lo, _audio_tb(b.first_probe)), audio_lo)


def _transition(
    t: Transition, a: Part, b_part: Part, before: Join, b: Bounds, around: list[SegmentInfo],
    params: Probe, allow_holes: bool,
) -> tuple[TransitionPiece, Placed]:  # fmt: skip
    """A body after a transition from the one before: the transition's seconds of
    both ranges re-encoded, then the body; the audio fills whole AAC packets so
    that the body's own audio follows on exactly."""
    segments_a, _, end_a = a
    segments_b, start_b, _ = b_part
    tb_a = _plan_within(segments_a, end_a - t.delta, end_a, allow_holes)
    tb_b = _plan_within(segments_b, start_b, start_b + t.delta, allow_holes)
    piece = TransitionPiece(t.kind, tb_a, tb_b, before.video_end, around)
    shift = before.video_end + piece.seconds - seconds_of(b.lo, b.first_probe.video.time_base)
    audio_lo = _first_audio(b, Fraction(0)) if before.audio_end is not None else None
    if before.audio_end is None or audio_lo is None:
        return piece, Placed(shift)
    assert params.audio is not None
    assert params.audio.sample_rate
    atb = _audio_tb(b.first_probe)
    packet = Fraction(edges.AAC_PRIMING, params.audio.sample_rate)
    slot = seconds_of(audio_lo, atb) + shift - before.audio_end
    packets = max(1, math.ceil(slot / packet))
    delta = packets * packet - slot  # moves the next body to fill whole packets
    a_first = seconds_of(tb_a.lo, tb_a.first_probe.video.time_base)
    source_from = before.audio_end - (before.video_end - a_first)
    source_to = seconds_of(audio_lo, atb) + delta
    piece.audio = FadeAudio(before.audio_end, source_from, source_to, packets)
    return piece, Placed(shift + delta, audio_lo)


def _body_pieces(
    b: Bounds, placed: Placed, first_print: bytes, start: dt.datetime, first: bool, last: bool
) -> tuple[list[Piece], Join]:
    """One body's pieces, its audio trimmed where it joins another range, and where
    the output stands after it."""
    body = fast.plan_pieces(
        b, first_print, start, shift=_ticks(placed.shift), force_head=not first,
        force_tail=not last,
    )  # fmt: skip
    head, tail = body[0].work, body[-1].work
    if not first and placed.audio_lo is not None and isinstance(head, Edge):
        head.audio_lo = placed.audio_lo
    audio_cut = None
    if not last:
        audio_cut = _tail_audio(b, tail if isinstance(tail, Edge) else None)
        if isinstance(tail, Edge) and audio_cut is not None:
            tail.audio_hi = audio_cut
    return body, Join.after(b, placed.shift, audio_cut)


def fast_cut_ranges(
    parts: Sequence[Part],
    transitions: Sequence[Transition | None] | None = None,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """MPEG-TS bytes of several ranges joined in order; ``parts`` are (segments of
    the range, start, end). Checked and planned before this returns, like fast_cut."""
    joins = check_ranges([(s, e) for _, s, e in parts], transitions)
    if len(parts) == 1:
        segments, start, end = parts[0]
        return fast.fast_cut(segments, start, end, allow_holes=allow_holes)
    body_times = _bodies(parts, joins)
    bodies = [
        plan(segments, start, end, allow_holes)
        for (segments, _, _), (start, end) in zip(parts, body_times, strict=True)
    ]
    params = bodies[0].first_probe
    fast.check_encodable(params)
    kind = _same_container(bodies)
    pids = mpegts.program_pids(bodies[0].first_data) if kind == "ts" else None
    first_print = params_.fingerprint(bodies[0].first_data[: params_.HEAD_BYTES], kind)

    pieces: list[Piece] = []
    placed = Placed(Fraction(0))
    before: Join | None = None
    for i, b in enumerate(bodies):
        if before is not None:
            t = joins[i - 1]
            if t is None:
                placed = _hard_cut(before, b)
            else:
                around = [bodies[i - 1].last, b.first]
                piece, placed = _transition(
                    t, parts[i - 1], parts[i], before, b, around, params, allow_holes
                )
                pieces.append(Piece(False, piece))
        body, before = _body_pieces(
            b, placed, first_print, body_times[i][0], i == 0, i == len(bodies) - 1
        )
        pieces += body
    logger.info(
        "fast cut of %d ranges: %d pieces, %d re-encoded",
        len(parts), len(pieces), sum(1 for p in pieces if fast.encoded(p.work)),
    )  # fmt: skip
    return fast.produce(pieces, kind, params, pids)


# -- full cut --------------------------------------------------------------------------


def full_cut_ranges(
    parts: Sequence[Part],
    transitions: Sequence[Transition | None] | None,
    encoding: Encoding,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """Several ranges re-encoded as one clip with ``encoding``, transitions included
    (one range is a plain full cut). Checked and planned before this returns, like full_cut."""
    joins = check_ranges([(s, e) for _, s, e in parts], transitions)
    encoding = require_encoding(encoding)
    if len(parts) == 1:
        segments, start, end = parts[0]
        return full.full_cut(segments, start, end, encoding, allow_holes=allow_holes)
    bounds = [plan(segments, start, end, allow_holes) for segments, start, end in parts]
    kind = _same_container(bounds)
    probe = bounds[0].first_probe
    tb = probe.video.time_base
    has_audio = probe.audio is not None
    n = len(bounds)
    graph = [f"[0:v:0]split={n}" + "".join(f"[vs{i}]" for i in range(n))]
    if has_audio:
        graph.append(f"[0:a:0]asplit={n}" + "".join(f"[as{i}]" for i in range(n)))
    for i, b in enumerate(bounds):
        # one time base for all, as concat and xfade need their inputs alike
        graph.append(
            f"[vs{i}]trim=start_pts={b.lo}:end_pts={b.hi},setpts=PTS-STARTPTS,settb=AVTB[v{i}]"
        )
        if has_audio:
            graph.append(
                f"[as{i}]atrim=start={float(b.lo * tb):.6f}:end={float(b.hi * tb):.6f},"
                f"asetpts=PTS-STARTPTS,aresample=async=1[a{i}]"
            )
    video, audio = "v0", "a0"
    length = (bounds[0].hi - bounds[0].lo) * tb
    for i, t in enumerate(joins, start=1):
        out_v, out_a = f"vj{i}", f"aj{i}"
        if t is None:
            graph.append(f"[{video}][v{i}]concat=n=2:v=1:a=0[{out_v}]")
            if has_audio:
                graph.append(f"[{audio}][a{i}]concat=n=2:v=0:a=1[{out_a}]")
            length += (bounds[i].hi - bounds[i].lo) * tb
        else:
            offset = float(length) - t.seconds
            graph.append(
                f"[{video}][v{i}]xfade=transition={XFADE[t.kind]}:duration={t.seconds:.6f}:"
                f"offset={offset:.6f}[{out_v}]"
            )
            if has_audio:
                graph.append(f"[{audio}][a{i}]acrossfade=d={t.seconds:.6f}:c1=tri:c2=tri[{out_a}]")
            length += (bounds[i].hi - bounds[i].lo) * tb - Fraction(t.seconds)
        video, audio = out_v, out_a
    vf = f"[{video}]" + (
        f"scale={encoding.width or -2}:{encoding.height or -2}"
        if encoding.width or encoding.height
        else "null"
    )
    graph.append(f"{vf}[v]")
    maps = ["-map", "[v]"]
    if has_audio:
        graph.append(f"[{audio}]anull[a]")
        maps += ["-map", "[a]"]
    args = ["-copyts", "-f", "mpegts" if kind == "ts" else "mp4", "-i", "pipe:0"]
    args += ["-filter_complex", ";".join(graph), *maps]
    args += full.codec_args(encoding, has_audio)
    runs = full.union_runs(bounds)
    return full.produce(args, runs, kind, encoding)

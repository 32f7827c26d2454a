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

import datetime as dt
import logging
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

from fastseg import SegmentInfo
from services.cutting import edges, fast, fmp4, full, mpegts, source
from services.cutting import params as params_
from services.cutting.bounds import Bounds, plan
from services.cutting.encoding import Encoding
from services.cutting.errors import CutError
from services.cutting.ffmpeg import FFmpeg, ffmpeg
from services.cutting.source import audio_threshold
from services.ranges import XFADE, Transition, check_ranges

logger = logging.getLogger(__name__)

Part = tuple[Sequence[SegmentInfo | None], dt.datetime, dt.datetime]


def _bodies(parts: Sequence[Part], transitions) -> list[tuple[dt.datetime, dt.datetime]]:
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


# -- fast cut --------------------------------------------------------------------------


def _seconds(pts: int, tb: Fraction) -> Fraction:
    return pts * tb


def _ticks(seconds: Fraction) -> int:
    return round(seconds * edges.TS_CLOCK)


class _Join:
    """Where the output stands after a body: its video end and audio end (seconds)."""

    def __init__(self, b: Bounds, shift: Fraction, audio_cut: int | None) -> None:
        probe = b.last_probe
        self.video_end = _seconds(b.hi, probe.video.time_base) + shift
        self.audio_cut = audio_cut
        self.audio_end = None
        if audio_cut is not None:
            self.audio_end = _seconds(audio_cut, probe.audio.time_base) + shift


def _tail_audio(b: Bounds, edge) -> int | None:
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
    if b.kind == "fmp4":  # one init section, then both segments' fragments
        init, fragments = fmp4.split(after_data)
        if init != fmp4.split(b.last_data)[0]:
            return edges.audio_cut(probe, b.hi)
        after_data = fragments
    after_probe = source.probe(init + after_data if b.kind == "fmp4" else after_data, b.after.path)
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
    lo = _seconds(b.lo, probe.video.time_base)
    tb = probe.audio.time_base
    starts = sorted(p.pts for p in probe.audio_packets)
    fits = [pts for pts in starts if _seconds(pts, tb) - lo <= lag]
    return fits[-1] if fits else starts[0]


def _plan_within(segments, start: dt.datetime, end: dt.datetime, allow_holes: bool) -> Bounds:
    """Bounds of a transition's few seconds, from only the segments they overlap
    (not the whole range's, which would each be checked and probed again)."""
    near = [s for s in segments if s is None or (s.end > start and s.start < end)]
    while near and near[0] is None:
        near.pop(0)
    while near and near[-1] is None:
        near.pop()
    return plan(near, start, end, allow_holes)


class TransitionPiece:
    """The seconds of a transition, re-encoded from both ranges' frames by one ffmpeg."""

    def __init__(self, kind, a: Bounds, b: Bounds, out_start, audio_start, audio_from, audio_to):
        self.kind, self.a, self.b = kind, a, b
        self.out_start = out_start  # output seconds of the first frame
        self.audio_start = audio_start  # output seconds of the first audio sample
        self.audio_from = audio_from  # source seconds, range a: audio starts here
        self.audio_to = audio_to  # source seconds, range b: audio ends here
        self.packets = None  # how many audio packets to write (set by the planner)
        self.around: list[SegmentInfo] = []

    @property
    def seconds(self) -> Fraction:
        """Its length: the frames of the second range it takes."""
        return _seconds(self.b.hi - self.b.lo, self.b.first_probe.video.time_base)

    def segments(self) -> list[SegmentInfo]:
        """What ffmpeg reads, in order: both sides' frames, and the segments around
        them whose audio the fade starts from or runs to."""
        found = {}
        for bounds in (self.a, self.b):
            for run in bounds.runs:
                for seg in run.segments:
                    found[seg.path] = seg
        for seg in self.around:
            found[seg.path] = seg
        return sorted(found.values(), key=lambda seg: seg.start)

    def start(self, params, pids) -> FFmpeg:
        kind = self.a.kind
        video = params.video
        tb = self.a.first_probe.video.time_base
        length = float(self.seconds)
        a_end = self.a.lo + round(self.seconds / tb)
        graph = (
            "[0:v:0]split[va][vb];"
            f"[va]trim=start_pts={self.a.lo}:end_pts={a_end},setpts=PTS-STARTPTS[v1];"
            f"[vb]trim=start_pts={self.b.lo}:end_pts={self.b.hi},setpts=PTS-STARTPTS[v2];"
            f"[v1][v2]xfade=transition={XFADE[self.kind]}:duration={length:.6f}:offset=0,"
            f"setpts=PTS+{float(self.out_start):.9f}/TB[v]"
        )
        maps = ["-map", "[v]"]
        audio = params.audio
        if self.packets:
            rate = audio.sample_rate
            priming = Fraction(edges.AAC_PRIMING, rate)
            # Both sides at least as long as the fade (the audio before may run a few
            # ms past the video's cut); -frames:a keeps exactly the packets the slot holds.
            a_end = max(self.audio_from, _seconds(self.a.lo, tb)) + self.seconds
            b_start = _seconds(self.b.lo, tb)
            fade = min(self.seconds, self.audio_to - b_start)
            graph += (
                ";[0:a:0]asplit[aa][ab];"
                f"[aa]atrim=start={float(self.audio_from):.9f}:end={float(a_end):.9f},"
                "asetpts=PTS-STARTPTS[a1];"
                f"[ab]atrim=start={float(b_start):.9f}:"
                f"end={float(self.audio_to):.9f},asetpts=PTS-STARTPTS[a2];"
                # the encoder puts its priming in front: skip as much, as edges do
                f"[a1][a2]acrossfade=d={float(fade):.6f}:c1=tri:c2=tri,"
                f"atrim=start={float(priming):.9f},asetpts=PTS-STARTPTS+"
                f"{float(self.audio_start + priming):.9f}/TB,aresample={rate}[a]"
            )
            maps += ["-map", "[a]"]
        args = edges.input_args(kind) + ["-filter_complex", graph, *maps]
        args += [
            "-fps_mode", "passthrough", "-enc_time_base:v", f"1/{edges.TS_CLOCK}",
            "-c:v", edges.ENCODERS[video.codec], "-preset", edges.EDGE_PRESET,
            "-crf", edges.EDGE_CRF, "-bf", "0",
        ]  # fmt: skip
        if video.pix_fmt:
            args += ["-pix_fmt", video.pix_fmt]
        if video.codec == "h264" and video.profile in edges.PROFILES:
            args += ["-profile:v", edges.PROFILES[video.profile]]
        if params.dts_delay:
            delay = round(params.dts_delay * video.time_base * edges.TS_CLOCK)
            args += ["-bsf:v", f"setts=dts=PTS-{delay}"]
        if self.packets:
            args += ["-c:a", "aac", "-b:a", "128k", "-ac", str(audio.channels or 2)]
            args += ["-frames:a", str(self.packets)]
        args += edges.ts_output(pids)
        what = f"{self.kind} between {self.a.last.path!r} and {self.b.first.path!r}"
        return ffmpeg(args, edges.segments_feed(self.segments(), kind), what=what)


def fast_cut_ranges(
    parts: Sequence[Part],
    transitions: Sequence[Transition | None] | None = None,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """MPEG-TS bytes of several ranges joined in order; ``parts`` are (segments of
    the range, start, end). Checked and planned before this returns, like fast_cut."""
    transitions = check_ranges([(s, e) for _, s, e in parts], transitions)
    if len(parts) == 1:
        segments, start, end = parts[0]
        return fast.fast_cut(segments, start, end, allow_holes=allow_holes)
    bodies = [
        plan(segments, start, end, allow_holes)
        for (segments, _, _), (start, end) in zip(parts, _bodies(parts, transitions), strict=True)
    ]
    params = bodies[0].first_probe
    fast.check_encodable(params)
    kind = bodies[0].kind
    for b in bodies[1:]:
        if b.kind != kind:
            raise CutError(
                f"segments change container between {bodies[0].first.path!r} ({kind}) and "
                f"{b.first.path!r} ({b.kind}); cut the ranges separately"
            )
    pids = mpegts.program_pids(bodies[0].first_data) if kind == "ts" else None
    first_print = params_.fingerprint(bodies[0].first_data[: params_.HEAD_BYTES], kind)
    body_times = _bodies(parts, transitions)

    pieces: list[tuple[bool, object]] = []
    shift = Fraction(0)
    before: _Join | None = None
    for i, b in enumerate(bodies):
        audio_lo = None
        if before is not None:
            t = transitions[i - 1]
            first_s = _seconds(b.lo, b.first_probe.video.time_base)
            if t is None:
                # hard cut: the audio goes on exactly; the video join moves to match
                if before.audio_end is None:
                    shift = before.video_end - first_s
                else:
                    lag = before.audio_end - before.video_end
                    audio_lo = _first_audio(b, lag)
                    shift = before.audio_end - _seconds(audio_lo, b.first_probe.audio.time_base)
            else:
                segments_a, _, end_a = parts[i - 1]
                segments_b, start_b, _ = parts[i]
                tb_a = _plan_within(segments_a, end_a - t.delta, end_a, allow_holes)
                tb_b = _plan_within(segments_b, start_b, start_b + t.delta, allow_holes)
                piece = TransitionPiece(t.kind, tb_a, tb_b, before.video_end, before.audio_end,
                                        None, None)  # fmt: skip
                shift = before.video_end + piece.seconds - first_s
                if before.audio_end is not None:
                    atb = b.first_probe.audio.time_base
                    audio_lo = _first_audio(b, Fraction(0))
                    rate = params.audio.sample_rate
                    packet = Fraction(edges.AAC_PRIMING, rate)
                    slot = _seconds(audio_lo, atb) + shift - before.audio_end
                    packets = max(1, math.ceil(slot / packet))
                    delta = packets * packet - slot  # moves the next body to fill whole packets
                    shift += delta
                    piece.audio_from = before.audio_end - (before.video_end - _seconds(
                        tb_a.lo, tb_a.first_probe.video.time_base))  # fmt: skip
                    piece.audio_to = _seconds(audio_lo, atb) + delta
                    piece.packets = packets
                piece.around = [bodies[i - 1].last, b.first]
                pieces.append((False, piece))
        body = fast.plan_pieces(
            b, first_print, body_times[i][0], shift=_ticks(shift),
            force_head=i > 0, force_tail=i < len(bodies) - 1,
        )  # fmt: skip
        if i > 0 and audio_lo is not None and isinstance(body[0][1], fast.Edge):
            body[0][1].audio_lo = audio_lo
        last = body[-1][1] if isinstance(body[-1][1], fast.Edge) else None
        audio_cut = None
        if i < len(bodies) - 1:
            audio_cut = _tail_audio(b, last)
            if last is not None and audio_cut is not None:
                last.audio_hi = audio_cut
        before = _Join(b, shift, audio_cut)
        pieces += body
    logger.info(
        "fast cut of %d ranges: %d pieces, %d re-encoded",
        len(parts), len(pieces), sum(1 for _, p in pieces if fast._encoded(p)),
    )  # fmt: skip
    return fast._produce(pieces, kind, params, pids)


# -- full cut --------------------------------------------------------------------------


def full_cut_ranges(
    parts: Sequence[Part],
    transitions: Sequence[Transition | None] | None,
    encoding: Encoding,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """Several ranges re-encoded as one clip with ``encoding``, transitions included."""
    transitions = check_ranges([(s, e) for _, s, e in parts], transitions)
    if not isinstance(encoding, Encoding):
        raise TypeError(f"encoding must be an Encoding, got {encoding!r}")
    bounds = [plan(segments, start, end, allow_holes) for segments, start, end in parts]
    kind = bounds[0].kind
    for b in bounds[1:]:
        if b.kind != kind:
            raise CutError(
                f"segments change container between {bounds[0].first.path!r} ({kind}) and "
                f"{b.first.path!r} ({b.kind}); cut the ranges separately"
            )
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
    for i, t in enumerate(transitions, start=1):
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
    return full._produce(args, runs, kind, encoding)


# -- listing ---------------------------------------------------------------------------


def parts_for(hours: str, ranges, allow_holes: bool) -> list[Part]:
    """Each range with its segments, plus the segment right after it when the range
    ends on a segment boundary (a fast cut takes the audio that runs past its end)."""
    import fastseg  # noqa: PLC0415 - the cutting engine itself takes segment lists

    parts = []
    for start, end in ranges:
        segments = list(fastseg.get_best_segments(hours, start, end, allow_holes))
        last = next((s for s in reversed(segments) if s is not None), None)
        if last is not None and last.end is not None and last.end <= end:
            following = fastseg.get_best_segments(hours, last.end, last.end, True)
            nxt = next((s for s in following if s is not None), None)
            if nxt is not None and nxt.path != last.path and abs(nxt.start - last.end) < _JOINS:
                try:
                    source.check(nxt)
                    segments.append(nxt)
                except CutError:
                    pass  # damaged: the range's audio ends with its own segment
        parts.append((segments, start, end))
    return parts


_JOINS = dt.timedelta(milliseconds=10)  # segments this close join without a hole

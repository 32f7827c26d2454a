"""Fast cut: re-encode only from each cut to the keyframe next to it; copy the rest.

The output is MPEG-TS whatever the segments are (fMP4 middles are remuxed, not
re-encoded). Joins are clean because every piece keeps the source's timestamps
(see edges.py) and :class:`mpegts.Joiner` renumbers continuity counters across
them. A segment that the range covers whole is copied even at an edge.
"""

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from fractions import Fraction
from typing import NamedTuple

import gevent

from fastseg import SegmentInfo
from services.cutting import edges, mpegts, source
from services.cutting import params as params_
from services.cutting.bounds import Bounds, plan
from services.cutting.errors import CutError
from services.cutting.ffmpeg import FFmpeg
from services.cutting.transition import TransitionPiece
from services.ranges import check_range

logger = logging.getLogger(__name__)


def check_encodable(params: source.Probe) -> None:
    if params.video.codec not in edges.ENCODERS:
        raise CutError(
            f"a fast cut cannot re-encode {params.video.codec!r} video (only "
            f"{', '.join(edges.ENCODERS)}); use a full cut"
        )


@dataclasses.dataclass
class Edge:
    """A segment whose video is re-encoded between ``lo`` and ``hi`` (PTS, None: open),
    or, with ``copy_video``, copied between them (audio trimmed to match)."""

    seg: SegmentInfo
    data: bytes
    probe: source.Probe
    lo: int | None
    hi: int | None
    shift: int = 0  # 90 kHz ticks added to its timestamps
    # audio PTS of the packet starts to keep from / drop from (None: follow lo/hi)
    audio_lo: int | None = None
    audio_hi: int | None = None
    copy_video: bool = False  # only the audio is trimmed

    @property
    def reencodes(self) -> bool:
        return not self.copy_video and (self.lo is not None or self.hi is not None)


def edge_pieces(
    seg: SegmentInfo,
    data: bytes,
    probe: source.Probe,
    lo: int | None,
    hi: int | None,
    shift: int = 0,
) -> list[Edge]:
    """An edge segment as Edges: re-encoded only between the cut and the keyframe
    next to it, copied between its keyframes.

    A segment with several GOPs (a keyframe inside it that splits it cleanly)
    keeps every frame from the first such keyframe after ``lo`` to the last one
    before ``hi`` as it is; a segment that is one GOP (HLS's usual) is one Edge.
    """
    keys = source.clean_keyframes(probe)
    after = next((k for k in keys if k > lo), None) if lo is not None else None
    before = next((k for k in reversed(keys) if k < hi), None) if hi is not None else None
    if (lo is not None and after is None) or (hi is not None and before is None):
        return [Edge(seg, data, probe, lo, hi, shift)]  # no keyframe between cut and end
    if after is not None and before is not None and before < after:
        return [Edge(seg, data, probe, lo, hi, shift)]  # no keyframe between the cuts
    pieces = []
    copy_from, copy_to = lo, hi
    if after is not None:
        pieces.append(Edge(seg, data, probe, lo, after, shift))
        copy_from = after
    if before is not None:
        copy_to = before
    if copy_from != copy_to:
        copied = Edge(seg, data, probe, copy_from, copy_to, shift)
        copied.copy_video = True
        pieces.append(copied)
    if before is not None:
        pieces.append(Edge(seg, data, probe, before, hi, shift))
    return pieces


@dataclasses.dataclass
class Copy:
    """Segments copied untouched, or only remuxed if ``shift`` (90 kHz) moves their clock."""

    segments: list[SegmentInfo]
    shift: int = 0


def _clock_shift(b: Bounds, seg: SegmentInfo) -> int:
    """90 kHz ticks to add to a run that follows a hole, if its clock restarted.

    A hole may be a stream restart, whose clock starts again from anything: the
    run's first frame belongs where its name time puts it, relative to the
    cut's first frame. Within half a frame, the clock ran on and stays as it is.
    """
    probe = b.last_probe if seg is b.last else source.probe(source.read(seg), seg.path)
    head_first = min(p.pts for p in b.first_probe.video_packets) * b.first_probe.video.time_base
    own_first = min(p.pts for p in probe.video_packets) * probe.video.time_base
    since = Fraction(
        (source.start_of(seg) - source.start_of(b.first)) // dt.timedelta(microseconds=1), 1_000_000
    )
    shift = head_first + since - own_first
    frame = Fraction(1, 30)  # at most half a frame at 60 fps is jitter, not a restart
    if abs(shift) < frame / 2:
        return 0
    logger.warning("clock restarts after the hole before %r: moving it by %.3f s", seg.path, shift)
    return round(shift * edges.TS_CLOCK)


@dataclasses.dataclass
class Stretch:
    """Segments to the end of a run whose codec parameters differ from the cut's."""

    segments: list[SegmentInfo]
    probe: source.Probe
    hi: int | None  # PTS just past its last frame, if the cut ends inside it
    offset: Fraction  # seconds that move its clock onto the cut's
    audio_from: Fraction  # source seconds its audio starts at


#: What one piece of a fast cut is: each runs its own ffmpeg, or none (a TS copy).
Work = Edge | Copy | Stretch | TransitionPiece


class Piece(NamedTuple):
    """A piece of the output, in order; ``after_hole``: a hole comes before it."""

    after_hole: bool
    work: Work


def _stretch(b: Bounds, segments: list[SegmentInfo], start: dt.datetime) -> Stretch:
    """Plan the fallback for a change of codec parameters at ``segments[0]``.

    The stretch's clock may have restarted, so it is moved onto the cut's: its
    first frame goes where its name time says, relative to the cut's first segment.
    """
    seg = segments[0]
    probe = b.last_probe if seg is b.last else source.probe(source.read(seg), seg.path)
    logger.warning(
        "codec parameters change at %r (%s %sx%s, was %s %sx%s): re-encoding %d segments",
        seg.path, probe.video.codec, probe.video.width, probe.video.height,
        b.first_probe.video.codec, b.first_probe.video.width, b.first_probe.video.height,
        len(segments),
    )  # fmt: skip
    head_first = min(p.pts for p in b.first_probe.video_packets) * b.first_probe.video.time_base
    own_first = min(p.pts for p in probe.video_packets) * probe.video.time_base
    since = Fraction(
        (source.start_of(seg) - source.start_of(b.first)) // dt.timedelta(microseconds=1), 1_000_000
    )
    hi = b.hi if b.last in segments and b.cut_tail else None
    offset = head_first + since - own_first
    # Audio starts with the stretch's first frame, or where the audio before it
    # ends if that is later, so the two never overlap.
    audio_from = own_first
    before = _segment_before(b, seg)
    if before is not None and probe.audio is not None:
        prev = source.probe(source.read(before), before.path)
        if prev.audio is not None and prev.audio_packets:
            last = max(prev.audio_packets, key=lambda p: p.pts)
            audio_from = max(audio_from, (last.pts + last.duration) * prev.audio.time_base - offset)
    return Stretch(segments, probe, hi, offset, audio_from)


def _segment_before(b: Bounds, seg: SegmentInfo) -> SegmentInfo | None:
    """The segment just before ``seg`` in its run (None if ``seg`` starts a run)."""
    for run in b.runs:
        for i, other in enumerate(run.segments):
            if other is seg:
                return run.segments[i - 1] if i else None
    return None


def fast_cut(
    segments: Sequence[SegmentInfo | None],
    start: dt.datetime,
    end: dt.datetime,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """MPEG-TS bytes of exactly the frames from the first at/after ``start`` to the
    last before ``end``, as they are produced.

    The input is checked and planned (two probes) before this returns, so bad
    input fails here, before any byte is sent: ValueError for a bad range,
    fastseg.ContainsHoles for holes (unless ``allow_holes``: then each becomes a
    discontinuity), CutError for unreadable segments or no frame in range. While
    iterating, CutError if ffmpeg fails. No process runs until iteration starts.
    """
    check_range(start, end)
    b = plan(segments, start, end, allow_holes)
    params = b.first_probe
    check_encodable(params)
    pids = mpegts.program_pids(b.first_data) if b.kind == "ts" else None

    first_print = params_.fingerprint(b.first_data[: params_.HEAD_BYTES], b.kind)
    pieces = plan_pieces(b, first_print, start)
    return produce(pieces, b.kind, params, pids)


def plan_pieces(
    b: Bounds,
    first_print: bytes,
    start: dt.datetime,
    *,
    shift: int = 0,
    force_head: bool = False,
    force_tail: bool = False,
) -> list[Piece]:
    """The pieces of one range in output order (Edge, Stretch or Copy).

    ``shift`` (90 kHz) moves the whole range (a later range of a multi-range cut);
    ``force_head``/``force_tail`` make the edge segments Edges even when they are
    kept whole (their video copied), so their audio can be trimmed where the range
    joins another.
    """
    pieces: list[Piece] = []
    for run in b.runs:
        copy: list[SegmentInfo] = []
        after_hole = run.after_hole
        run_shift = shift + (_clock_shift(b, run.segments[0]) if after_hole else 0)
        for i, seg in enumerate(run.segments):
            if seg is not b.first and source.fingerprint(seg, b.kind) != first_print:
                if copy:
                    pieces.append(Piece(after_hole, Copy(copy, run_shift)))
                    copy, after_hole = [], False
                stretch = _stretch(b, run.segments[i:], start)
                stretch.offset += Fraction(shift, edges.TS_CLOCK)
                pieces.append(Piece(after_hole, stretch))
                break
            lo = b.lo if seg is b.first and b.cut_head else None
            hi = b.hi if seg is b.last and b.cut_tail else None
            forced = (seg is b.first and force_head) or (seg is b.last and force_tail)
            if lo is None and hi is None and not forced:
                copy.append(seg)
                continue
            if copy:
                pieces.append(Piece(after_hole, Copy(copy, run_shift)))
                copy, after_hole = [], False
            data, probe = (
                (b.first_data, b.first_probe) if seg is b.first else (b.last_data, b.last_probe)
            )
            if forced and lo is None and hi is None:
                edge_list = [Edge(seg, data, probe, lo, hi, run_shift)]
            else:
                edge_list = edge_pieces(seg, data, probe, lo, hi, run_shift)
            for edge in edge_list:
                pieces.append(Piece(after_hole, edge))
                after_hole = False
        if copy:
            pieces.append(Piece(after_hole, Copy(copy, run_shift)))
    return pieces


def produce(
    pieces: Sequence[Piece], kind: str, params: source.Probe, pids: dict[str, int] | None
) -> Iterator[bytes]:
    """Run the pieces' ffmpegs and join their output.

    The next piece that is encoded (an edge or a transition: a few seconds) runs
    alongside the one being sent, so two cores work on a cut with several edges.
    """
    processes: list[FFmpeg] = []
    ahead: dict[int, tuple[gevent.Greenlet[[], CutError | None], list[bytes]]] = {}

    def start(work: Work) -> FFmpeg:
        proc = _start(work, kind, params, pids)
        processes.append(proc)
        return proc

    def start_ahead(j: int) -> None:
        proc = start(pieces[j].work)
        chunks: list[bytes] = []

        def run() -> CutError | None:
            # returned, not raised: a greenlet dying of it would print a traceback,
            # and a killed ffmpeg (its client left) is no error of the server
            try:
                chunks.extend(proc.output())
            except CutError as e:
                return e
            return None

        ahead[j] = (gevent.spawn(run), chunks)

    joiner = mpegts.Joiner()
    try:
        for i, (after_hole, work) in enumerate(pieces):
            following = next(
                (j for j in range(i + 1, len(pieces)) if encoded(pieces[j].work)), None
            )
            if following is not None and following not in ahead:
                start_ahead(following)
            joiner.piece(after_hole=after_hole)
            if i in ahead:
                job, chunks = ahead.pop(i)
                error = job.get()
                if error is not None:
                    raise error
                stream = iter(chunks)
            elif isinstance(work, Copy) and kind == "ts" and not work.shift:
                stream = (c for seg in work.segments for c in source.chunks(seg))
            else:
                stream = start(work).output()
            for chunk in stream:
                out = joiner.feed(chunk)
                if out:
                    yield out
        joiner.finish()
    except ValueError as e:  # lost TS sync: a corrupt segment
        raise CutError(f"cannot join the cut: {e}") from e
    finally:
        for job, _ in ahead.values():
            job.kill()
        for proc in processes:
            proc.close()


def _start(work: Work, kind: str, params: source.Probe, pids: dict[str, int] | None) -> FFmpeg:
    """The ffmpeg that makes one piece (a TS Copy with no shift needs none: see produce)."""
    if isinstance(work, Edge):
        return edges.encode_edge(
            work.data, work.probe, params, lo=work.lo, hi=work.hi, pids=pids,
            what=f"re-encode of {work.seg.path!r}", shift=work.shift,
            audio_lo=work.audio_lo, audio_hi=work.audio_hi, copy_video=work.copy_video,
        )  # fmt: skip
    if isinstance(work, Stretch):
        return edges.reencode_stretch(
            work.segments, work.probe, params, hi=work.hi, offset=work.offset,
            audio_from=work.audio_from,
            pids=pids, what=f"re-encode of {len(work.segments)} changed segments",
        )  # fmt: skip
    if isinstance(work, TransitionPiece):  # between ranges (ranges.py)
        return work.start(params, pids)
    return edges.remux(
        work.segments, kind, params.audio is not None, shift=work.shift,
        pids=pids if kind == "ts" else None,
        what=f"remux of {len(work.segments)} segments from {work.segments[0].path!r}",
    )  # fmt: skip


def encoded(work: Work) -> bool:
    """True for a piece that is a short encode worth running ahead of its turn."""
    return (isinstance(work, Edge) and work.reencodes) or isinstance(work, TransitionPiece)

"""Where a frame-exact cut starts and ends: the edge segments and the PTS to trim at.

Shared by fast and full cuts. The first frame kept is the first shown at or
after ``start``; the last is the last shown before ``end``. An edge segment that
ends up with no frame in range (``start`` inside the last frame of a segment, or
``end`` at or inside the first frame of one) is dropped, so it is never decoded.
"""

import contextvars
import datetime as dt
import logging
from collections.abc import Sequence

import gevent

from fastseg import SegmentInfo
from services.cutting import source
from services.cutting.errors import CutError, Damaged

logger = logging.getLogger(__name__)

#: A segment's bytes and probe, or why it has none.
Probed = tuple[bytes, source.Probe] | CutError


class Bounds:
    """The runs to cut and, in the first and last segment, the PTS range to keep.

    ``lo`` is the PTS of the first frame kept, ``hi`` the PTS just past the last
    one; ``cut_head``/``cut_tail`` say whether the edge segment loses frames (and
    so must be re-encoded by a fast cut).
    """

    first: SegmentInfo
    first_data: bytes
    first_probe: source.Probe
    lo: int
    last: SegmentInfo
    last_data: bytes
    last_probe: source.Probe
    hi: int
    kind: str  # the container: 'ts' or 'fmp4'
    cut_head: bool
    cut_tail: bool

    def __init__(self, runs: list[source.Run], start: dt.datetime, end: dt.datetime) -> None:
        self.runs = [source.Run(list(r.segments), r.after_hole) for r in runs]
        #: the segment just after ``last``, if the caller listed it (it has no frame in range)
        self.after: SegmentInfo | None = None
        self._probes: dict[str, gevent.Greenlet[..., Probed]] = {}
        # both edge segments are probed at once: two ffprobes, one per core
        self._start_probe(self.runs[-1].segments[-1])
        try:
            self._find(start, end)
        finally:  # a probe of a segment found not to be needed may still run
            gevent.killall(list(self._probes.values()))

    def _find(self, start: dt.datetime, end: dt.datetime) -> None:
        nothing = CutError(
            f"no video frame from {start.isoformat()} to {end.isoformat()}: "
            "the range falls between frames, before or after the video"
        )
        while True:
            self.first = self.runs[0].segments[0]
            self.first_data, self.first_probe = self._probe(self.first)
            lo = source.first_frame_at_or_after(self.first_probe, self.first, start)
            if lo is not None:
                self.lo = lo
                break
            logger.debug("no frame at or after start in %r: skipping it", self.first.path)
            self.runs[0].segments.pop(0)
            if not self.runs[0].segments:
                self.runs.pop(0)
                if not self.runs:
                    raise nothing
                self.runs[0].after_hole = False
        while True:
            self.last = self.runs[-1].segments[-1]
            self.last_data, self.last_probe = self._probe(self.last)
            hi = source.first_frame_at_or_after(self.last_probe, self.last, end)
            if hi is None or hi > min(p.pts for p in self.last_probe.video_packets):
                break
            logger.debug("no frame before end in %r: skipping it", self.last.path)
            self.after = self.runs[-1].segments.pop()
            if not self.runs[-1].segments:
                self.after = None
                self.runs.pop()
                if not self.runs:
                    raise nothing
        if self.first is self.last and hi is not None and hi <= self.lo:
            raise nothing
        self.kind = self.first_probe.kind
        if self.last_probe.kind != self.kind:
            raise CutError(
                f"segments change container between {self.first.path!r} ({self.kind}) and "
                f"{self.last.path!r} ({self.last_probe.kind}); cut them separately"
            )
        self.cut_head = self.lo > min(p.pts for p in self.first_probe.video_packets)
        self.cut_tail = hi is not None
        self.hi = hi if hi is not None else source.video_end(self.last_probe)

    def _start_probe(self, seg: SegmentInfo) -> "gevent.Greenlet[..., Probed]":
        if seg.path not in self._probes:
            # in this context: a server's limits on ffmpeg (ffmpeg.limited_by) hold there too
            context = contextvars.copy_context()
            self._probes[seg.path] = gevent.spawn(context.run, _read_and_probe, seg)
        return self._probes[seg.path]

    def _probe(self, seg: SegmentInfo) -> tuple[bytes, source.Probe]:
        result = self._start_probe(seg).get()
        if isinstance(result, Exception):
            raise result
        return result


def _read_and_probe(seg: SegmentInfo) -> Probed:
    """A segment's bytes and probe, or the error (raised only if the probe is used:
    a segment the bounds drop may fail without failing the cut)."""
    try:
        data = source.read(seg)
        return data, source.probe(data, seg.path)
    except CutError as e:
        return e


def plan(
    segments: Sequence[SegmentInfo | None], start: dt.datetime, end: dt.datetime, allow_holes: bool
) -> Bounds:
    """The bounds of a cut, after making each damaged segment a hole.

    A damaged segment is refused (:class:`Damaged`) unless ``allow_holes``; then
    it is left out like a missing one, and the log names it. Edge segments are
    probed with ffprobe too, which finds damage the cheap check cannot.
    """
    segments = source.without_damaged(segments, allow_holes)
    while True:
        runs = source.runs(segments, allow_holes, start, end)
        try:
            return Bounds(runs, start, end)
        except Damaged as e:
            if not allow_holes:
                raise
            logger.warning("cutting around damaged segment %r: it %s", e.path, e.reason)
            segments = [None if s is not None and s.path == e.path else s for s in segments]

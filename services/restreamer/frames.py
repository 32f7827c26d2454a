"""One picture from the archive: the frame on screen at an instant, as PNG.

A segment's name time is the time of its first video frame (as the cutter and
the editor's player take it), so the frame shown at ``when`` is the last one
whose presentation time, counted from the segment's lowest video PTS, is at or
before ``when``: the frame whose presentation interval contains it. ffmpeg
decodes the segment from its start (the keyframe a segment begins with) and
keeps exactly that PTS. A segment's frame times are remembered (its name holds
its hash, so they never change), so asking again skips the probe.
"""

import datetime as dt
import logging
from collections import OrderedDict
from dataclasses import dataclass

from fastseg import SegmentInfo
from services.cutting import FrameTimes, frame_times, read_segment, shown_pts
from services.cutting import frame_png as decode_png

logger = logging.getLogger(__name__)

__all__ = ["Frame", "forget_frame_times", "frame_at", "frame_png"]

ONE_US = dt.timedelta(microseconds=1)
REMEMBERED = 4096  # segments whose frame times are kept (a few hundred bytes each)

_frames: "OrderedDict[str, FrameTimes]" = OrderedDict()


@dataclass(frozen=True)
class Frame:
    """The frame shown at an instant: its segment's container, and its PTS there."""

    kind: str  # 'ts' or 'fmp4'
    pts: int


def forget_frame_times() -> None:
    """Forget every segment's frame times (the next picture of each probes it again)."""
    _frames.clear()


def _frame_times(seg: SegmentInfo, data: bytes | None) -> FrameTimes:
    known = _frames.get(seg.path)
    if known is not None:
        _frames.move_to_end(seg.path)
        return known
    known = frame_times(seg, data)
    _frames[seg.path] = known
    while len(_frames) > REMEMBERED:
        _frames.popitem(last=False)
    return known


def frame_at(seg: SegmentInfo, when: dt.datetime, data: bytes | None = None) -> Frame:
    """The frame on screen at ``when`` (the first frame if ``when`` is before it).

    Raises CutError if the segment cannot be read or has no video.
    """
    times = _frame_times(seg, data)
    return Frame(times.kind, shown_pts(times, seg.start, when))


def frame_png(seg: SegmentInfo, when: dt.datetime, width: int | None = None) -> tuple[bytes, int]:
    """``(png, pts)``: the frame shown at ``when`` in ``seg``, scaled to ``width`` if given.

    Raises CutError if the segment cannot be read or holds no decodable video.
    """
    data = read_segment(seg)
    frame = frame_at(seg, when, data)
    return decode_png(seg, frame.pts, width=width, data=data), frame.pts

"""One picture from the archive: the frame on screen at an instant, as PNG.

A segment's name time is the time of its first video frame (as the cutter and
the editor's player take it), so the frame shown at ``when`` is the last one
whose presentation time, counted from the segment's lowest video PTS, is at or
before ``when``: the frame whose presentation interval contains it. ffmpeg
decodes the segment from its start (the keyframe a segment begins with) and
keeps exactly that PTS.
"""

import datetime as dt
import logging
from fractions import Fraction

from fastseg import SegmentInfo
from services.common.cutting import source
from services.common.cutting.edges import input_args
from services.common.cutting.errors import CutError
from services.common.cutting.ffmpeg import ffmpeg

logger = logging.getLogger(__name__)

__all__ = ["frame_at", "frame_png"]

ONE_US = dt.timedelta(microseconds=1)


def frame_at(probe: source.Probe, seg: SegmentInfo, when: dt.datetime) -> int:
    """PTS of the frame on screen at ``when`` (the first frame if ``when`` is before it)."""
    tb = probe.video.time_base
    pts = sorted(p.pts for p in probe.video_packets)
    offset = Fraction((when - seg.start) // ONE_US, 1_000_000)
    shown = pts[0]
    for p in pts:
        if (p - pts[0]) * tb > offset:
            break
        shown = p
    return shown


def frame_png(seg: SegmentInfo, when: dt.datetime, width: int | None = None) -> tuple[bytes, int]:
    """``(png, pts)``: the frame shown at ``when`` in ``seg``, scaled to ``width`` if given.

    Raises CutError if the segment cannot be read or holds no decodable video.
    """
    data = source.read(seg)
    probe = source.probe(data, seg.path)
    pts = frame_at(probe, seg, when)
    vf = f"trim=start_pts={pts}:end_pts={pts + 1}"
    if width:
        vf += f",scale={width}:-2:flags=area"
    args = input_args(probe.kind) + ["-map", "0:v:0", "-vf", vf, "-frames:v", "1",
                                     "-f", "image2pipe", "-c:v", "png", "pipe:1"]  # fmt: skip
    png = ffmpeg(args, [data], what=f"frame of {seg.name}").read_all()
    if not png:
        raise CutError(f"ffmpeg decoded no frame at PTS {pts} of {seg.path!r}")
    return png, pts

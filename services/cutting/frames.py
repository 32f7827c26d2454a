"""Single frames of a segment: every frame's time, and one frame as a PNG.

For pictures of the archive (the restreamer's frames and thumbnails), so that
they need nothing of how the engine reads, probes and decodes segments.
"""

import dataclasses
import datetime as dt
from fractions import Fraction

from fastseg import SegmentInfo
from services.cutting import edges, source
from services.cutting.errors import CutError
from services.cutting.ffmpeg import ffmpeg


@dataclasses.dataclass(frozen=True)
class FrameTimes:
    """A segment's container, video time base and every video frame's PTS, in order."""

    kind: str  # 'ts' or 'fmp4'
    time_base: Fraction
    pts: tuple[int, ...]


def frame_times(seg: SegmentInfo, data: bytes | None = None) -> FrameTimes:
    """The times of the segment's frames (``data``: its bytes, if already read).

    Raises CutError if the segment cannot be read or has no video.
    """
    if data is None:
        data = source.read(seg)
    probe = source.probe(data, seg.path)
    return FrameTimes(
        probe.kind, probe.video.time_base, tuple(sorted(p.pts for p in probe.video_packets))
    )


ONE_US = dt.timedelta(microseconds=1)


def shown_pts(times: FrameTimes, start: dt.datetime, when: dt.datetime) -> int:
    """The PTS of the frame on screen at ``when`` in a segment whose first frame is at ``start``.

    The last frame whose presentation time, counted from the first, is at or before
    ``when``: the frame whose interval contains it (the first one if ``when`` is before it).
    """
    pts = times.pts
    offset = Fraction((when - start) // ONE_US, 1_000_000)
    shown = pts[0]
    for p in pts:
        if (p - pts[0]) * times.time_base > offset:
            break
        shown = p
    return shown


def frame_png(
    seg: SegmentInfo, pts: int, *, width: int | None = None, data: bytes | None = None
) -> bytes:
    """The frame at ``pts`` (one of :func:`frame_times`) as PNG, ``width`` wide if given.

    Raises CutError if the segment cannot be read or no frame decodes there.
    """
    if data is None:
        data = source.read(seg)
    vf = f"trim=start_pts={pts}:end_pts={pts + 1}"
    if width:
        vf += f",scale={width}:-2:flags=area"
    args = edges.input_args(source.container(data, seg.path))
    args += ["-map", "0:v:0", "-vf", vf, "-frames:v", "1", "-f", "image2pipe", "-c:v", "png",
             "pipe:1"]  # fmt: skip
    png = ffmpeg(args, [data], what=f"frame of {seg.name}").read_all()
    if not png:
        raise CutError(f"ffmpeg decoded no frame at PTS {pts} of {seg.path!r}")
    return png

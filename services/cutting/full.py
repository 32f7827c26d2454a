"""Full cut: decode the range and encode it to the location's settings (docs/DESIGN.md#cut-methods).

All segments reach one ffmpeg through one pipe (TS joined with continuous
counters; fMP4 as one init plus every fragment). The range is trimmed on exact
PTS, found the same way as for a fast cut. Containers that need a seekable
output (mp4 with the index in front) are spooled to a temp file until ffmpeg
exits; the others stream from ffmpeg's stdout.
"""

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence

from fastseg import SegmentInfo
from services.cutting import fmp4, mpegts, source
from services.cutting.bounds import Bounds, plan
from services.cutting.encoding import Encoding, require_encoding
from services.cutting.errors import CutError
from services.cutting.ffmpeg import ffmpeg
from services.ranges import check_range

logger = logging.getLogger(__name__)

SPOOL_PREFIX = "fastseg-cut-"
MUXERS = {
    "mp4": ["-movflags", "+faststart", "-f", "mp4"],
    "fmp4": ["-movflags", "frag_keyframe+empty_moov+default_base_moof", "-f", "mp4"],
    "ts": ["-f", "mpegts"],
    "mkv": ["-f", "matroska"],
}


def _feed(runs: list[source.Run], kind: str) -> Iterator[bytes]:
    """Every segment's bytes as one stream of the source's container."""
    if kind == "ts":
        joiner = mpegts.Joiner()
        for run in runs:
            for i, seg in enumerate(run.segments):
                joiner.piece(after_hole=run.after_hole and i == 0)
                for chunk in source.chunks(seg):
                    yield joiner.feed(chunk)
        return
    first_init = None
    for run in runs:
        for seg in run.segments:
            init, fragments = fmp4.split(source.read(seg))
            if first_init is None:
                first_init = init
                yield init
            elif init and init != first_init:
                raise CutError(
                    f"the codec parameters change at {seg.path!r} (a new init section); "
                    "cut the parts before and after it separately"
                )
            yield fragments


def encode_args(encoding: Encoding, b: Bounds) -> list[str]:
    """Filters and encoder options: trim on exact PTS, start at zero, then encode."""
    video = b.first_probe.video
    tb = video.time_base
    start_s = float(b.lo * tb)
    end_s = float(b.hi * tb)
    vf = [f"trim=start_pts={b.lo}:end_pts={b.hi}", f"setpts=PTS-{b.lo}"]
    if encoding.width or encoding.height:
        # -2 keeps the aspect ratio with an even size for the side not given
        vf.append(f"scale={encoding.width or -2}:{encoding.height or -2}")
    graph = f"[0:v:0]{','.join(vf)}[v]"
    maps = ["-map", "[v]"]
    if b.first_probe.audio is not None:
        # aresample async fills holes with silence so audio stays in sync after them
        graph += (
            f";[0:a:0]atrim=start={start_s:.6f}:end={end_s:.6f},"
            f"asetpts=PTS-{start_s:.6f}/TB,aresample=async=1[a]"
        )
        maps += ["-map", "[a]"]
    return ["-filter_complex", graph, *maps] + codec_args(encoding, b.first_probe.audio is not None)


def codec_args(encoding: Encoding, has_audio: bool) -> list[str]:
    """Encoder options and the muxer, after the filter graph."""
    args = ["-c:v", encoding.video_codec, "-preset", encoding.preset, "-pix_fmt", "yuv420p"]
    if encoding.video_bitrate:
        args += ["-b:v", encoding.video_bitrate]
    else:
        args += ["-crf", str(23 if encoding.crf is None else encoding.crf)]
    if has_audio:
        args += ["-c:a", encoding.audio_codec, "-b:a", encoding.audio_bitrate]
    return args + MUXERS[encoding.container]


def union_runs(bounds: list[Bounds]) -> list[source.Run]:
    """The runs of several ranges' bounds as one input: each segment once, in order;
    a range that does not start where the previous one ended starts after a hole."""
    seen: set[str] = set()
    result: list[source.Run] = []
    last_end = None
    for b in bounds:
        for run in b.runs:
            segments = [s for s in run.segments if s.path not in seen]
            if not segments:
                continue
            seen.update(s.path for s in segments)
            after_hole = bool(result) and (run.after_hole or segments[0].start != last_end)
            result.append(source.Run(segments, after_hole))
            last_end = segments[-1].end
    return result


def full_cut(
    segments: Sequence[SegmentInfo | None],
    start: dt.datetime,
    end: dt.datetime,
    encoding: Encoding,
    *,
    allow_holes: bool = False,
) -> Iterator[bytes]:
    """The range re-encoded with ``encoding``, as bytes of its container.

    Checked and planned before this returns: ValueError for a bad range,
    fastseg.ContainsHoles for holes unless ``allow_holes``, CutError for
    unreadable segments or no frame in range. While iterating, CutError if
    ffmpeg fails. Nothing runs and no temp file exists until iteration starts.
    """
    check_range(start, end)
    encoding = require_encoding(encoding)
    b = plan(segments, start, end, allow_holes)
    runs = b.runs
    args = ["-copyts", "-f", "mpegts" if b.kind == "ts" else "mp4", "-i", "pipe:0"]
    args += encode_args(encoding, b)
    return produce(args, runs, b.kind, encoding)


def produce(
    args: list[str], runs: list[source.Run], kind: str, encoding: Encoding
) -> Iterator[bytes]:
    """Run ffmpeg; stream its output, or spool it first if the container needs seeking."""
    what = f"full cut to {encoding.container}"
    if not encoding.seekable_output:
        yield from ffmpeg(args + ["pipe:1"], _feed(runs, kind), what).output()
        return
    fd, spool = tempfile.mkstemp(prefix=SPOOL_PREFIX, suffix=".mp4")
    os.close(fd)
    try:
        proc = ffmpeg(args + ["-y", spool], _feed(runs, kind), what)
        for _ in proc.output():  # nothing on stdout: wait for the file to be complete
            pass
        logger.debug("spooled %d bytes to %r", os.path.getsize(spool), spool)
        with open(spool, "rb") as f:
            while chunk := f.read(source.CHUNK):
                yield chunk
    finally:
        try:
            os.unlink(spool)
        except FileNotFoundError:
            pass

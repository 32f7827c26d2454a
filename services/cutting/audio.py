"""The archive's audio decoded to plain samples (for the restreamer's waveforms).

So that a picture of the sound needs nothing of how the engine finds runs of
joined segments, tells their container, and feeds them to ffmpeg.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterator, Sequence

from fastseg import SegmentInfo
from services.cutting import edges, source
from services.cutting.errors import CutError
from services.cutting.ffmpeg import ffmpeg

#: Bytes read to tell a segment's container (eight MPEG-TS packets).
_HEAD = 188 * 8


@dataclasses.dataclass(frozen=True)
class AudioRun:
    """A run of joined segments' audio: mono 16-bit little-endian samples from ``start``."""

    start: dt.datetime  # its first segment's start
    samples: Iterator[bytes]  # read as ffmpeg decodes them


def decode_audio(segments: Sequence[SegmentInfo | None], rate: int) -> Iterator[AudioRun]:
    """Each run of ``segments`` (``get_best_segments``' list; holes split runs) decoded
    by one ffmpeg, at ``rate`` samples a second. Runs start their ffmpeg only when reached.

    Raises CutError if there is no segment, one cannot be read, or ffmpeg fails.
    """
    for run in source.runs(segments, allow_holes=True):
        first = run.segments[0]
        try:
            with open(first.path, "rb") as f:
                kind = source.container(f.read(_HEAD), first.path)
        except OSError as exc:
            raise CutError(f"cannot read segment {first.path!r}: {exc}") from exc
        args = edges.input_args(kind) + ["-map", "0:a:0", "-ac", "1", "-ar", str(rate),
                                         "-f", "s16le", "pipe:1"]  # fmt: skip
        proc = ffmpeg(args, edges.segments_feed(run.segments, kind), what="waveform decode")
        yield AudioRun(source.start_of(first), proc.output())

"""The segments a cut reads: holes, container detection, reading, probing.

Everything a cut needs to know about its input is found here once per cut: which
container the segments are (MPEG-TS, or fMP4 with the init section in front of
each file), the codec parameters (probed from the first segment only), and the
exact frame and audio packet times of the two edge segments.
"""

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterator, Sequence
from fractions import Fraction

import gevent

from fastseg import ContainsHoles, SegmentInfo
from services.common.cutting import fmp4, mpegts, params
from services.common.cutting.errors import CutError
from services.common.cutting.ffmpeg import ffprobe

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024


@dataclasses.dataclass
class Run:
    """Segments that join with no hole; ``after_hole`` if a hole comes before them."""

    segments: list[SegmentInfo]
    after_hole: bool


def runs(
    segments: Sequence[SegmentInfo | None],
    allow_holes: bool,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
) -> list[Run]:
    """Split ``get_best_segments``' list at its holes (None).

    Raises ContainsHoles at the first hole unless ``allow_holes``, and CutError
    if there is no segment at all.
    """
    real = [s for s in segments if s is not None]
    if not real:
        span = f" from {start.isoformat()} to {end.isoformat()}" if start and end else ""
        raise CutError(f"no video segments{span}: nothing to cut (check channel, quality, times)")
    if not allow_holes:
        for i, seg in enumerate(segments):
            if seg is None:
                before = segments[i - 1] if i else None
                after = next((s for s in segments[i + 1 :] if s is not None), None)
                hole_start = before.end if before else (start or after.start)
                hole_end = after.start if after else (end or before.end)
                raise ContainsHoles(hole_start, hole_end)
    result: list[Run] = []
    current: list[SegmentInfo] = []
    for seg in segments:
        if seg is None:
            if current:
                result.append(Run(current, bool(result)))
                current = []
        else:
            current.append(seg)
    if current:
        result.append(Run(current, bool(result)))
    return result


def read(seg: SegmentInfo) -> bytes:
    """A segment's bytes (CutError if unreadable); yields to gevent after reading."""
    try:
        with open(seg.path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CutError(f"cannot read segment {seg.path!r}: {e}") from e
    gevent.sleep(0)
    return data


def chunks(seg: SegmentInfo) -> Iterator[bytes]:
    """A segment's bytes in chunks, yielding to gevent between them."""
    try:
        with open(seg.path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
                gevent.sleep(0)
    except OSError as e:
        raise CutError(f"cannot read segment {seg.path!r}: {e}") from e


def fingerprint(seg: SegmentInfo, kind: str) -> bytes:
    """The codec-parameter fingerprint of a segment (params.py), from its first bytes."""
    try:
        with open(seg.path, "rb") as f:
            data = f.read(params.HEAD_BYTES)
    except OSError as e:
        raise CutError(f"cannot read segment {seg.path!r}: {e}") from e
    return params.fingerprint(data, kind)


def container(data: bytes, path: str) -> str:
    """``'ts'`` or ``'fmp4'``; CutError for anything else."""
    if mpegts.is_mpegts(data):
        return "ts"
    if fmp4.looks_like_fmp4(data):
        return "fmp4"
    raise CutError(
        f"segment {path!r} is neither MPEG-TS nor fragmented MP4 "
        f"(starts with {data[:8]!r}); is it a whole segment?"
    )


@dataclasses.dataclass(frozen=True)
class Stream:
    """One stream's codec parameters, as ffprobe reports them."""

    index: int
    kind: str  # 'video' or 'audio'
    codec: str
    time_base: Fraction
    profile: str | None = None
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None

    def params(self) -> tuple:
        """What must not change for stream-copied pieces to join."""
        return (self.codec, self.profile, self.pix_fmt, self.width, self.height,
                self.sample_rate, self.channels)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Packet:
    pts: int
    dts: int
    duration: int


@dataclasses.dataclass
class Probe:
    """A segment's streams and its packets (in file order) per stream."""

    kind: str  # container: 'ts' or 'fmp4'
    video: Stream | None
    audio: Stream | None
    video_packets: list[Packet]
    audio_packets: list[Packet]

    @property
    def dts_delay(self) -> int:
        """How far DTS runs behind PTS at the first frame (B-frame reordering delay)."""
        if not self.video_packets:
            return 0
        first = self.video_packets[0]
        return max(0, first.pts - first.dts)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def probe(data: bytes, path: str) -> Probe:
    """Probe one segment's bytes (through a pipe) for its streams and packets."""
    kind = container(data, path)
    out = ffprobe(
        [
            "-f",
            "mpegts" if kind == "ts" else "mp4",
            "-show_entries",
            "stream=index,codec_type,codec_name,profile,pix_fmt,width,height,"
            "sample_rate,channels,time_base:packet=stream_index,pts,dts,duration",
            "-of",
            "json",
            "pipe:0",
        ],  # fmt: skip
        feed=[data],
        what=f"ffprobe of {path!r}",
    )
    info = json.loads(out or b"{}")
    video = audio = None
    for s in info.get("streams", []):
        kind_ = s.get("codec_type")
        if kind_ not in ("video", "audio") or (video if kind_ == "video" else audio):
            continue
        num, _, den = s.get("time_base", "1/90000").partition("/")
        stream = Stream(
            index=s["index"], kind=kind_, codec=s.get("codec_name", "unknown"),
            time_base=Fraction(int(num), int(den)), profile=s.get("profile"),
            pix_fmt=s.get("pix_fmt"), width=_int(s.get("width")), height=_int(s.get("height")),
            sample_rate=_int(s.get("sample_rate")), channels=_int(s.get("channels")),
        )  # fmt: skip
        if kind_ == "video":
            video = stream
        else:
            audio = stream
    vpk: list[Packet] = []
    apk: list[Packet] = []
    for p in info.get("packets", []):
        pts, dts = _int(p.get("pts")), _int(p.get("dts"))
        if pts is None:
            continue
        dts = pts if dts is None else dts
        packet = Packet(pts, dts, _int(p.get("duration")) or 0)
        if video and p["stream_index"] == video.index:
            vpk.append(packet)
        elif audio and p["stream_index"] == audio.index:
            apk.append(packet)
    if video is None or not vpk:
        raise CutError(f"segment {path!r} has no video frames; ffprobe found none")
    return Probe(kind, video, audio, vpk, apk)


def first_frame_at_or_after(probe_: Probe, seg: SegmentInfo, when: dt.datetime) -> int | None:
    """PTS of the first frame shown at or after ``when``; None if none in this segment.

    A segment's name time is the time of its first video frame (the keyframe an
    HLS segment starts with), not of its first packet, which is audio ~50 ms
    earlier: so times map to PTS from the lowest video PTS. Compared exactly:
    (pts - first) * time_base >= when - seg.start, in rationals.
    """
    tb = probe_.video.time_base
    first = min(p.pts for p in probe_.video_packets)
    offset = Fraction((when - seg.start) // dt.timedelta(microseconds=1), 1_000_000)
    candidates = [p.pts for p in probe_.video_packets if (p.pts - first) * tb >= offset]
    return min(candidates) if candidates else None


def video_end(probe_: Probe) -> int:
    """PTS just after the segment's last frame."""
    last = max(probe_.video_packets, key=lambda p: p.pts)
    return last.pts + (last.duration or _frame_duration(probe_))


def _frame_duration(probe_: Probe) -> int:
    pts = sorted(p.pts for p in probe_.video_packets)
    return (pts[-1] - pts[0]) // (len(pts) - 1) if len(pts) > 1 else 1


def audio_threshold(probe_: Probe, video_pts: int) -> int | None:
    """PTS of the first audio packet whose middle is at or after ``video_pts``.

    Audio is cut at whole packets (stream-copied, so no priming or padding is
    added); each packet goes to the side of the cut where most of it plays.
    None if every packet's middle is before it.
    """
    if probe_.audio is None:
        return None
    at = video_pts * probe_.video.time_base
    tb = probe_.audio.time_base
    kept = [p.pts for p in probe_.audio_packets if (p.pts + Fraction(p.duration, 2)) * tb >= at]
    return min(kept) if kept else None

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
from services.cutting import fmp4, mpegts, params
from services.cutting.errors import CutError, Damaged
from services.cutting.ffmpeg import ffprobe

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024


def start_of(seg: SegmentInfo) -> dt.datetime:
    """When a segment starts; CutError for one whose name holds no time."""
    if seg.start is None:
        raise CutError(f"segment {seg.path!r} has no time in its name: list segments to cut "
                       "with fastseg.get_best_segments")  # fmt: skip
    return seg.start


def end_of(seg: SegmentInfo) -> dt.datetime:
    """When a segment ends; CutError for one whose name holds no time."""
    return start_of(seg) + seg.duration


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
                raise ContainsHoles(*_hole(before, after, start, end))
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


def _hole(
    before: SegmentInfo | None,
    after: SegmentInfo | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> tuple[dt.datetime, dt.datetime]:
    """Where a hole between two segments (None: the range's edge) starts and ends."""
    hole_start = end_of(before) if before else start
    hole_end = start_of(after) if after else end
    if hole_start is None:  # a hole first, and no range given: it ends where video starts
        hole_start = hole_end
    if hole_end is None:
        hole_end = hole_start
    assert hole_start is not None  # a segment is on one side of it
    assert hole_end is not None
    return hole_start, hole_end


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
    if not data:
        raise Damaged(path, "is empty")
    raise Damaged(path, f"is neither MPEG-TS nor fragmented MP4 (starts with {data[:8]!r})")


def check(seg: SegmentInfo) -> None:
    """Raise :class:`Damaged` unless the segment is whole packets of one container.

    Catches what ffmpeg cannot read before a cut is planned: an empty file, one
    cut short (a partial TS packet or MP4 box), or bytes that are not video.
    """
    try:
        with open(seg.path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CutError(f"cannot read segment {seg.path!r}: {e}") from e
    if container(data, seg.path) == "ts":
        if len(data) % mpegts.PACKET:
            whole = f"not whole {mpegts.PACKET}-byte packets"
            raise Damaged(seg.path, f"is truncated ({len(data)} bytes, {whole})")
        sync = mpegts.packets(data)[:, 0] == mpegts.SYNC
        if not sync.all():
            raise Damaged(seg.path, f"has lost MPEG-TS sync at packet {int(sync.argmin())}")
    else:
        try:
            kinds = {kind for kind, _, _ in fmp4.boxes(data)}
        except ValueError as e:
            raise Damaged(seg.path, f"is truncated or corrupt ({e})") from None
        if not {b"moov", b"moof", b"mdat"} <= kinds:
            raise Damaged(seg.path, "lacks an init section or a fragment (moov, moof, mdat)")
    gevent.sleep(0)


def without_damaged(
    segments: Sequence[SegmentInfo | None], allow_holes: bool
) -> list[SegmentInfo | None]:
    """The segments with each damaged one made a hole (None), or Damaged if not allowed."""
    result: list[SegmentInfo | None] = []
    for seg in segments:
        if seg is not None:
            try:
                check(seg)
            except Damaged as e:
                if not allow_holes:
                    raise
                logger.warning("cutting around damaged segment %r: it %s", seg.path, e.reason)
                seg = None
        result.append(seg)
    return result


@dataclasses.dataclass(frozen=True)
class Stream:
    """One stream's codec parameters, as ffprobe reports them."""

    index: int
    kind: str  # 'video' or 'audio'
    codec: str
    time_base: Fraction
    profile: str | None = None
    level: int | None = None  # ffprobe's level (H.264 level_idc: 40 is level 4.0)
    pix_fmt: str | None = None
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None

    def params(self) -> tuple[object, ...]:
        """What must not change for stream-copied pieces to join."""
        return (self.codec, self.profile, self.pix_fmt, self.width, self.height,
                self.sample_rate, self.channels)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Packet:
    pts: int
    dts: int
    duration: int
    key: bool = False  # a keyframe (ffprobe's K flag): a copy may start here


@dataclasses.dataclass
class Probe:
    """A segment's streams and its packets (in file order) per stream."""

    kind: str  # container: 'ts' or 'fmp4'
    video: Stream  # a segment without video is Damaged
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


def _int(value: object) -> int | None:
    """ffprobe's JSON number (or numeric string) as an int; None for anything else."""
    if not isinstance(value, str | int | float):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ffprobe_packets(data: bytes, kind: str, path: str) -> bytes:
    entries = (
        "stream=index,codec_type,codec_name,profile,level,pix_fmt,width,height,"
        "sample_rate,channels,time_base:packet=stream_index,pts,dts,duration,flags"
    )
    # the packets come from the demuxer; decoding only keyframes while ffprobe looks
    # for the codec parameters finds the same ones for less CPU
    args = ["-skip_frame", "nokey", "-f", "mpegts" if kind == "ts" else "mp4"]
    args += ["-show_entries", entries]
    return ffprobe([*args, "-of", "json", "pipe:0"], feed=[data], what=f"ffprobe of {path!r}")


def probe(data: bytes, path: str) -> Probe:
    """Probe one segment's bytes (through a pipe) for its streams and packets."""
    kind = container(data, path)
    try:
        out = _ffprobe_packets(data, kind, path)
    except CutError as e:
        first = e.stderr.strip().splitlines()[0] if e.stderr.strip() else e.message
        raise Damaged(path, f"cannot be read by ffprobe ({first})", e.stderr) from e
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
            level=_int(s.get("level")), pix_fmt=s.get("pix_fmt"),
            width=_int(s.get("width")), height=_int(s.get("height")),
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
        key = p.get("flags", "").startswith("K")
        packet = Packet(pts, dts, _int(p.get("duration")) or 0, key)
        if video and p["stream_index"] == video.index:
            vpk.append(packet)
        elif audio and p["stream_index"] == audio.index:
            apk.append(packet)
    if video is None or not vpk:
        raise Damaged(path, "has no video frames that ffprobe can find")
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
    offset = Fraction((when - start_of(seg)) // dt.timedelta(microseconds=1), 1_000_000)
    candidates = [p.pts for p in probe_.video_packets if (p.pts - first) * tb >= offset]
    return min(candidates) if candidates else None


def clean_keyframes(probe_: Probe) -> list[int]:
    """PTS of the keyframes inside a segment where its video splits cleanly, ascending.

    At such a keyframe every packet before it (file order, which is decode order)
    is shown before it and every packet from it on is shown from it on, so the
    packets on either side play alone: a closed GOP starts there. The segment's
    first frame is left out (it is where the segment already starts).
    """
    packets = probe_.video_packets
    later_min = [0] * len(packets)
    lowest = None
    for i in range(len(packets) - 1, -1, -1):
        pts = packets[i].pts
        lowest = pts if lowest is None else min(lowest, pts)
        later_min[i] = lowest
    found = []
    earlier_max = None
    for i, packet in enumerate(packets):
        if packet.key and earlier_max is not None and earlier_max < packet.pts == later_min[i]:
            found.append(packet.pts)
        earlier_max = packet.pts if earlier_max is None else max(earlier_max, packet.pts)
    return found


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


def video_of(seg: SegmentInfo) -> Stream:
    """The codec parameters of a segment's video (codec, size, pixel format, ...).

    Raises CutError if the segment cannot be read or has no video.
    """
    return probe(read(seg), seg.path).video

"""The ffmpeg commands for the pieces of a fast cut: re-encoded edges and remuxed fMP4.

Every piece keeps the source's own timestamps (``-copyts``, ``-mpegts_copyts 1``,
encoder time base = stream time base), so pieces join on one timeline and the
audio-video offset stays exactly the source's. Edges re-encode only video, with
no B-frames; their audio is stream-copied whole packets, so no AAC priming or
padding appears at a join.
"""

import logging
import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

from fastseg import SegmentInfo
from services.cutting import fmp4, source
from services.cutting.ffmpeg import FFmpeg, ffmpeg
from services.cutting.source import Probe, Stream, audio_threshold

logger = logging.getLogger(__name__)

#: Encoders for the codecs a fast cut can re-encode edges of.
ENCODERS = {"h264": "libx264", "hevc": "libx265"}
#: ffprobe profile names -> encoder ``-profile:v`` values.
PROFILES = {
    "Constrained Baseline": "baseline", "Baseline": "baseline", "Main": "main",
    "High": "high", "High 10": "high10", "High 4:2:2": "high422",
    "High 4:4:4 Predictive": "high444",
}  # fmt: skip
#: Edges are a few seconds at most, so encode them well: CRF 16 stays above
#: the source's quality at typical live bitrates, so no dip shows at a join.
EDGE_CRF = "16"
#: Edges are short, so spend bits rather than CPU: x264's ultrafast at CRF 16
#: takes about two thirds of veryfast's CPU at 1080p (decoding included) and scores a
#: higher SSIM, at about twice the bytes (about 20 Mb/s at 1080p30, for a second or two).
EDGE_PRESET = "ultrafast"
#: A re-encoded stretch (changed codec parameters) may be long: bytes matter more there.
STRETCH_PRESET = "veryfast"
#: How long past its last frame or audio packet an edge's ffmpeg reads before it stops.
STOP_MARGIN = Fraction(1, 10)
AAC_PRIMING = 1024  # samples ffmpeg's AAC encoder adds in front (initial_padding)
TS_CLOCK = 90_000  # MPEG-TS timestamps count a 90 kHz clock (ISO 13818-1 §2.4.3.7)


def ts_output(pids: dict[str, int] | None) -> list[str]:
    """MPEG-TS output options that keep source timestamps and, if known, its PIDs."""
    args = ["-f", "mpegts", "-mpegts_copyts", "1"]
    if pids:
        # ffmpeg accepts PIDs 0x10-0x1ffe for streams and 0x10-0x1f00 for the PMT
        if 0x10 <= pids.get("pmt", 0) <= 0x1F00:
            args += ["-mpegts_pmt_start_pid", str(pids["pmt"])]
        if "tsid" in pids:
            args += ["-mpegts_transport_stream_id", str(pids["tsid"])]
        if "service" in pids:
            args += ["-mpegts_service_id", str(pids["service"])]
        for index, key in enumerate(("video", "audio")):
            if 0x10 <= pids.get(key, 0) < 0x1FFF:
                args += ["-streamid", f"{index}:{pids[key]}"]
    return args + ["pipe:1"]


def input_args(kind: str) -> list[str]:
    return ["-copyts", "-f", "mpegts" if kind == "ts" else "mp4", "-i", "pipe:0"]


def video_encoder_args(video: Stream, enc_time_base: str, preset: str = EDGE_PRESET) -> list[str]:
    """Encode video like the source (codec, pixel format, H.264 profile and level), well,
    without B-frames.

    ``enc_time_base`` is ffmpeg's ``-enc_time_base:v`` (``-1``: the stream's own).
    """
    args = [
        "-fps_mode", "passthrough", "-enc_time_base:v", enc_time_base,
        "-c:v", ENCODERS[video.codec], "-preset", preset, "-crf", EDGE_CRF, "-bf", "0",
    ]  # fmt: skip
    if video.pix_fmt:
        args += ["-pix_fmt", video.pix_fmt]
    if video.codec == "h264" and video.profile in PROFILES:
        args += ["-profile:v", PROFILES[video.profile]]
    level = getattr(video, "level", None)
    if video.codec == "h264" and level and 10 <= level <= 62:
        args += ["-level:v", f"{level // 10}.{level % 10}"]  # ffprobe's level_idc: 40 is 4.0
    return args


def encode_edge(
    data: bytes,
    probe: Probe,
    params: Probe,
    *,
    lo: int | None,
    hi: int | None,
    pids: dict[str, int] | None,
    what: str,
    shift: int = 0,
    audio_lo: int | None = None,
    audio_hi: int | None = None,
    copy_video: bool = False,
) -> FFmpeg:
    """Re-encode video frames with PTS in ``[lo, hi)`` of one segment (None: no bound;
    with neither, the video is copied and only the audio trimmed).

    ``probe`` is this segment's probe; ``params`` the cut's (codec parameters).
    The encoder has no B-frames, so its DTS would equal PTS and end later than
    the source's next DTS (which runs ``dts_delay`` behind PTS): setts shifts DTS
    back by the same delay, making DTS continuous across both joins. ``shift``
    (90 kHz) moves every timestamp, for a segment whose clock restarted or a
    later range of a multi-range cut. ``copy_video`` copies the video from ``lo``
    to ``hi`` instead (each must be the data's first or last frame, or a keyframe
    where the video splits cleanly: :func:`source.clean_keyframes`).
    ``audio_lo``/``audio_hi`` (audio PTS of a packet start) choose where audio
    starts and stops instead of ``lo``/``hi``.
    """
    video = params.video
    trim = []
    if lo is not None:
        trim.append(f"start_pts={lo}")
    if hi is not None:
        trim.append(f"end_pts={hi}")
    args = input_args(probe.kind) + ["-map", "0:v:0"]
    if probe.audio is not None:
        args += ["-map", "0:a:0"]
    if not trim or copy_video:
        # only the audio is trimmed (a range joining another on a segment boundary);
        # ``hi`` drops a following segment's video, fed only for its audio
        args += ["-c:v", "copy"]
        chain, drop = [], []
        if lo is not None:  # a keyframe that starts a closed GOP
            drop.append(f"lt(pts\\,{round(lo * probe.video.time_base * TS_CLOCK)})")
        if hi is not None:
            drop.append(f"gte(pts\\,{round(hi * probe.video.time_base * TS_CLOCK)})")
        if drop:
            chain.append("noise=drop=" + "+".join(drop))
        if shift:
            chain.append(f"setts=pts=PTS{shift:+d}:dts=DTS{shift:+d}")
        if chain:
            args += ["-bsf:v", ",".join(chain)]
    else:
        args += ["-vf", "trim=" + ":".join(trim)]
        args += video_encoder_args(video, "-1")
        if probe.dts_delay or shift:
            # bitstream filters run in the output stream's time base: MPEG-TS is 90 kHz
            delay = round(probe.dts_delay * video.time_base * TS_CLOCK)
            args += ["-bsf:v", f"setts=pts=PTS{shift:+d}:dts=PTS{shift - delay:+d}"]
    if probe.audio is not None:
        args += ["-c:a", "copy"]
        drop = []
        if audio_lo is None:
            a_lo = None if lo is None else _audio_from(probe, lo)
        else:
            a_lo = _audio_ts(probe, audio_lo)
        if audio_hi is None:
            a_hi = None if hi is None else _audio_from(probe, hi)
        else:
            a_hi = _audio_ts(probe, audio_hi)
        if a_lo is not None:
            drop.append(f"lt(pts\\,{a_lo})")
        if a_hi is not None:
            drop.append(f"gte(pts\\,{a_hi})")
        chain = ["noise=drop=" + "+".join(drop)] if drop else []
        if shift:
            chain.append(f"setts=pts=PTS{shift:+d}:dts=DTS{shift:+d}")
        if chain:
            args += ["-bsf:a", ",".join(chain)]
    args += _stop_after(probe, hi, a_hi if probe.audio is not None else None)
    args += ts_output(pids)
    return ffmpeg(args, [data], what=what)


def _stop_after(probe: Probe, video_hi: int | None, audio_hi: int | None) -> list[str]:
    """``-to`` just past the last video frame and audio packet an edge keeps.

    Without it ffmpeg decodes a tail edge's video to the end of the segment: the
    stream-copied audio keeps it reading after the trim has ended the video.
    ``-to`` stops each stream-copied stream at that input time (with ``-copyts``,
    the source's own clock); the trim and the drop filters still say what is kept.
    """
    if video_hi is None or (probe.audio is not None and audio_hi is None):
        return []
    stop = video_hi * probe.video.time_base
    if audio_hi is not None:  # 90 kHz, what the audio drop filter compares against
        stop = max(stop, Fraction(audio_hi, TS_CLOCK))
    return ["-to", f"{float(stop + STOP_MARGIN):.6f}"]


def _audio_from(probe: Probe, video_pts: int) -> int:
    """The 90 kHz PTS from which audio packets belong after ``video_pts``.

    The noise filter sees output (90 kHz) timestamps, so the threshold is put
    half a packet before the first such packet: rounding while rescaling from
    the source's time base cannot move a packet across it.
    """
    return _audio_ts(probe, audio_cut(probe, video_pts))


def audio_cut(probe: Probe, video_pts: int) -> int:
    """Audio PTS of the packet start where a cut at ``video_pts`` splits the audio."""
    threshold = audio_threshold(probe, video_pts)
    if threshold is None:  # every packet plays before the cut: drop from past the last
        last = max(probe.audio_packets, key=lambda p: p.pts)
        threshold = last.pts + (last.duration or 1)
    return threshold


def _audio_ts(probe: Probe, threshold: int) -> int:
    """An audio PTS threshold as the 90 kHz value the noise filter compares against."""
    assert probe.audio is not None  # a threshold comes from audio packets
    tb = probe.audio.time_base
    half = Fraction(probe.audio_packets[0].duration or 1, 2)
    return math.floor((threshold - half) * tb * TS_CLOCK)


def remux(
    segments: Sequence[SegmentInfo],
    kind: str,
    has_audio: bool,
    *,
    shift: int,
    pids: dict[str, int] | None,
    what: str,
) -> FFmpeg:
    """Stream-copy segments into MPEG-TS, moving every timestamp by ``shift`` (90 kHz).

    Used for fMP4 segments (one init, then every fragment), and for TS segments
    whose clock restarted after a hole (``shift`` puts them back on the cut's).
    """
    args = input_args(kind) + ["-map", "0:v:0"]
    if has_audio:
        args += ["-map", "0:a:0"]
    args += ["-c", "copy"]
    if shift:
        args += ["-bsf", f"setts=pts=PTS{shift:+d}:dts=DTS{shift:+d}"]
    args += ts_output(pids)
    return ffmpeg(args, segments_feed(segments, kind), what=what)


def segments_feed(segments: Sequence[SegmentInfo], kind: str) -> Iterator[bytes]:
    """Several segments as one input stream: TS bytes as they are; fMP4 with one init."""
    first = True
    for seg in segments:
        if kind == "ts":
            yield from source.chunks(seg)
            continue
        init, fragments = fmp4.split(source.read(seg))
        if first:
            yield init
        yield fragments
        first = False


def reencode_stretch(
    segments: Sequence[SegmentInfo],
    probe: Probe,
    params: Probe,
    *,
    hi: int | None,
    offset: Fraction,
    audio_from: Fraction,
    pids: dict[str, int] | None,
    what: str,
) -> FFmpeg:
    """Re-encode segments whose codec parameters differ from the cut's, to the cut's.

    ``probe`` is the stretch's first segment; ``params`` the cut's first. Video is
    scaled to the cut's size and format, audio resampled to its rate and channels,
    and every timestamp moved by ``offset`` seconds so the stretch continues the
    cut's timeline (a restarted stream starts its clock again). ``hi`` trims the
    end (PTS in the stretch's time base) when the cut ends inside the stretch;
    audio starts at ``audio_from`` (seconds, the stretch's own clock).
    """
    video, audio = params.video, params.audio
    vf = [] if hi is None else [f"trim=end_pts={hi}"]
    vf += [f"setpts=PTS+{float(offset):.9f}/TB", f"scale={video.width}:{video.height}"]
    graph = f"[0:v:0]{','.join(vf)}[v]"
    maps = ["-map", "[v]"]
    if audio is not None and audio.sample_rate and probe.audio is not None:
        # ffmpeg's AAC encoder puts 1024 samples of priming before the first input
        # sample (its initial padding), and MPEG-TS keeps no edit list to hide them:
        # skip that much input so the first packet starts at audio_from, in sync.
        trim = [f"start={float(audio_from) + AAC_PRIMING / audio.sample_rate:.9f}"]
        if hi is not None:
            trim.append(f"end={float(hi * probe.video.time_base):.9f}")
        af = ["atrim=" + ":".join(trim)]
        af += [f"asetpts=PTS+{float(offset):.9f}/TB", f"aresample={audio.sample_rate}"]
        graph += f";[0:a:0]{','.join(af)}[a]"
        maps += ["-map", "[a]"]
    args = input_args(probe.kind) + ["-filter_complex", graph, *maps]
    args += video_encoder_args(video, f"1/{TS_CLOCK}", STRETCH_PRESET)
    if params.dts_delay:
        delay = round(params.dts_delay * video.time_base * TS_CLOCK)
        args += ["-bsf:v", f"setts=dts=PTS-{delay}"]
    if audio is not None and "[a]" in maps:
        args += ["-c:a", "aac", "-b:a", "128k", "-ac", str(audio.channels or 2)]
    args += ts_output(pids)
    return ffmpeg(args, segments_feed(segments, probe.kind), what=what)

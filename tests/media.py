"""Real test video made with ffmpeg, and segment trees stored from it.

The stream follows ../shared/TESTING.md: x264 with B-frames, a keyframe every
segment, AAC audio, a burned-in frame counter and a beep every second. Making
video is slow on two cores, so conftest.py caches each stream once per session
(``stream_factory``); use small frames where the picture does not matter.
"""

import datetime as dt
import hashlib
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fastseg import content_id, hour_name, segment_name

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


@dataclass
class Stream:
    """An HLS stream on disk: segment files in order, each playable alone."""

    dir: Path
    segments: list[Path]
    durations: list[float]  # EXTINF of each segment, seconds
    size: str
    rate: int
    fmp4: bool
    init: bytes | None = None  # the fMP4 init section (already in front of each segment file)
    params: dict = field(default_factory=dict)

    def segment_bytes(self, i: int) -> bytes:
        return self.segments[i].read_bytes()


def make_stream(
    out_dir: Path,
    *,
    seconds: float = 20,
    size: str = "320x180",
    rate: int = 30,
    segment_seconds: float = 2,
    fmp4: bool = False,
    bframes: bool = True,
    audio: bool = True,
    keyframe_seconds: float | None = None,
) -> Stream:
    """Encode a test stream into ``out_dir`` as HLS segments (MPEG-TS or fMP4).

    Each segment starts with a keyframe; ``keyframe_seconds`` (dividing
    ``segment_seconds``) puts more keyframes inside each segment.
    """
    keyframe_seconds = keyframe_seconds or segment_seconds
    out_dir = Path(out_dir).absolute()
    out_dir.mkdir(parents=True, exist_ok=True)
    fontsize = max(12, int(size.split("x")[1]) // 10)
    video = (
        f"[0:v]drawtext=fontfile={FONT}:text='frame %{{frame_num}}':x=8:y=8:"
        f"fontsize={fontsize}:fontcolor=white:box=1:boxcolor=black@0.7[v]"
    )
    cmd = [
        "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
    ]  # fmt: skip
    maps = ["-map", "[v]"]
    graph = video
    if audio:
        cmd += [
            "-f", "lavfi",
            "-i", f"sine=frequency=1000:beep_factor=4:sample_rate=48000:duration={seconds}",
        ]  # fmt: skip
        graph += ";[1:a]aformat=channel_layouts=stereo[a]"
        maps += ["-map", "[a]"]
    gop = int(round(rate * keyframe_seconds))
    cmd += ["-filter_complex", graph, *maps]
    cmd += [
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-force_key_frames", f"expr:gte(t,n_forced*{keyframe_seconds})",
        "-bf", "3" if bframes else "0",
    ]  # fmt: skip
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "2"]
    cmd += ["-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", "0"]
    if fmp4:
        cmd += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
        pattern = "seg_%05d.m4s"
    else:
        cmd += ["-hls_segment_type", "mpegts"]
        pattern = "seg_%05d.ts"
    cmd += ["-hls_segment_filename", str(out_dir / pattern), str(out_dir / "live.m3u8")]
    subprocess.run(cmd, check=True, capture_output=True)

    segments, durations = [], []
    for line in (out_dir / "live.m3u8").read_text().splitlines():
        if line.startswith("#EXTINF:"):
            durations.append(float(line[8:].split(",")[0]))
        elif line and not line.startswith("#"):
            segments.append(out_dir / line)
    init = None
    if fmp4:
        # Store fMP4 as docs/DESIGN.md#cut-methods says: the init section in front of every segment.
        init = (out_dir / "init.mp4").read_bytes()
        joined = []
        for seg in segments:
            target = seg.with_suffix(".ts")
            target.write_bytes(init + seg.read_bytes())
            joined.append(target)
        segments = joined
    params = dict(seconds=seconds, size=size, rate=rate, segment_seconds=segment_seconds,
                  fmp4=fmp4, bframes=bframes, audio=audio,
                  keyframe_seconds=keyframe_seconds)  # fmt: skip
    return Stream(out_dir, segments, durations, size, rate, fmp4, init, params)


def store_segment(
    base: Path,
    channel: str,
    quality: str,
    start: dt.datetime,
    duration: float | dt.timedelta,
    data: bytes,
    type: str = "full",
) -> Path:
    """Write one segment into ``BASE/CH/Q/HOUR/NAME`` under its proper name."""
    if not isinstance(duration, dt.timedelta):
        duration = dt.timedelta(seconds=duration)
    hour_dir = Path(base) / channel / quality / hour_name(start)
    hour_dir.mkdir(parents=True, exist_ok=True)
    path = hour_dir / segment_name(start, duration, type, content_id(hashlib.sha256(data)))
    path.write_bytes(data)
    return path


def store_stream(
    stream: Stream,
    base: Path,
    channel: str,
    quality: str,
    start: dt.datetime,
    *,
    skip: set[int] = frozenset(),
) -> list[Path]:
    """Store every segment of ``stream`` back to back from ``start``; ``skip`` makes holes.

    Returns the stored paths, in order, without the skipped ones.
    """
    paths = []
    t = start
    for i, (seg, duration) in enumerate(zip(stream.segments, stream.durations, strict=True)):
        length = dt.timedelta(seconds=duration)
        if i not in skip:
            paths.append(store_segment(base, channel, quality, t, length, seg.read_bytes()))
        t += length
    return paths


def ffprobe_json(path: os.PathLike | str, *args: str) -> dict:
    """Run ffprobe on a file and return its JSON output."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout)

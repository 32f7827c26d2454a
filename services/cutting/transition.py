"""The seconds of a transition between two ranges of a fast cut, re-encoded by one ffmpeg.

The last seconds of one range and the first of the next go through ``xfade`` (and
``acrossfade`` for their audio); the bodies around it are cut as usual
(services/cutting/ranges.py plans where it falls on the output's timeline).
"""

import dataclasses
from fractions import Fraction

from fastseg import SegmentInfo
from services.cutting import edges, source
from services.cutting.bounds import Bounds
from services.cutting.ffmpeg import FFmpeg, ffmpeg
from services.cutting.source import Probe
from services.ranges import XFADE


def seconds_of(pts: int, time_base: Fraction) -> Fraction:
    return pts * time_base


@dataclasses.dataclass(frozen=True)
class FadeAudio:
    """Where a transition's audio comes from and goes, all in seconds."""

    start: Fraction  # output: its first sample
    source_from: Fraction  # range a (source time): the fade's audio starts here
    source_to: Fraction  # range b (source time): and ends here
    packets: int  # AAC packets it fills exactly, so the next range's audio follows on


@dataclasses.dataclass
class TransitionPiece:
    """The seconds of a transition, re-encoded from both ranges' frames by one ffmpeg."""

    kind: str  # a key of services.ranges.XFADE
    a: Bounds  # the frames of the range before it
    b: Bounds  # the frames of the range after it
    out_start: Fraction  # output seconds of its first frame
    around: list[SegmentInfo]  # the segments whose audio the fade starts from or runs to
    audio: FadeAudio | None = None  # None: no audio to fade

    @property
    def seconds(self) -> Fraction:
        """Its length: the frames of the second range it takes."""
        return seconds_of(self.b.hi - self.b.lo, self.b.first_probe.video.time_base)

    def segments(self) -> list[SegmentInfo]:
        """What ffmpeg reads, in order: both sides' frames, and the segments around
        them whose audio the fade starts from or runs to."""
        found = {}
        for bounds in (self.a, self.b):
            for run in bounds.runs:
                for seg in run.segments:
                    found[seg.path] = seg
        for seg in self.around:
            found[seg.path] = seg
        return sorted(found.values(), key=source.start_of)

    def start(self, params: Probe, pids: dict[str, int] | None) -> FFmpeg:
        """Its ffmpeg, writing MPEG-TS like the cut's other pieces (``params``, ``pids``)."""
        video = params.video
        graph, maps = self._video_graph()
        if self.audio is not None:
            audio_graph, audio_maps = self._audio_graph(self.audio, params)
            graph += audio_graph
            maps += audio_maps
        args = edges.input_args(self.a.kind) + ["-filter_complex", graph, *maps]
        args += [
            "-fps_mode", "passthrough", "-enc_time_base:v", f"1/{edges.TS_CLOCK}",
            "-c:v", edges.ENCODERS[video.codec], "-preset", edges.EDGE_PRESET,
            "-crf", edges.EDGE_CRF, "-bf", "0",
        ]  # fmt: skip
        if video.pix_fmt:
            args += ["-pix_fmt", video.pix_fmt]
        if video.codec == "h264" and video.profile in edges.PROFILES:
            args += ["-profile:v", edges.PROFILES[video.profile]]
        if params.dts_delay:
            delay = round(params.dts_delay * video.time_base * edges.TS_CLOCK)
            args += ["-bsf:v", f"setts=dts=PTS-{delay}"]
        if self.audio is not None:
            channels = params.audio.channels if params.audio is not None else None
            args += ["-c:a", "aac", "-b:a", "128k", "-ac", str(channels or 2)]
            args += ["-frames:a", str(self.audio.packets)]
        args += edges.ts_output(pids)
        what = f"{self.kind} between {self.a.last.path!r} and {self.b.first.path!r}"
        return ffmpeg(args, edges.segments_feed(self.segments(), self.a.kind), what=what)

    def _video_graph(self) -> tuple[str, list[str]]:
        video = self.a.first_probe.video
        length = float(self.seconds)
        a_end = self.a.lo + round(self.seconds / video.time_base)
        graph = (
            "[0:v:0]split[va][vb];"
            f"[va]trim=start_pts={self.a.lo}:end_pts={a_end},setpts=PTS-STARTPTS[v1];"
            f"[vb]trim=start_pts={self.b.lo}:end_pts={self.b.hi},setpts=PTS-STARTPTS[v2];"
            f"[v1][v2]xfade=transition={XFADE[self.kind]}:duration={length:.6f}:offset=0,"
            f"setpts=PTS+{float(self.out_start):.9f}/TB[v]"
        )
        return graph, ["-map", "[v]"]

    def _audio_graph(self, audio: FadeAudio, params: Probe) -> tuple[str, list[str]]:
        assert params.audio is not None
        assert params.audio.sample_rate  # the fade has audio
        video = self.a.first_probe.video
        rate = params.audio.sample_rate
        priming = Fraction(edges.AAC_PRIMING, rate)
        # Both sides at least as long as the fade (the audio before may run a few
        # ms past the video's cut); -frames:a keeps exactly the packets the slot holds.
        a_end = max(audio.source_from, seconds_of(self.a.lo, video.time_base)) + self.seconds
        b_start = seconds_of(self.b.lo, video.time_base)
        fade = min(self.seconds, audio.source_to - b_start)
        graph = (
            ";[0:a:0]asplit[aa][ab];"
            f"[aa]atrim=start={float(audio.source_from):.9f}:end={float(a_end):.9f},"
            "asetpts=PTS-STARTPTS[a1];"
            f"[ab]atrim=start={float(b_start):.9f}:"
            f"end={float(audio.source_to):.9f},asetpts=PTS-STARTPTS[a2];"
            # the encoder puts its priming in front: skip as much, as edges do
            f"[a1][a2]acrossfade=d={float(fade):.6f}:c1=tri:c2=tri,"
            f"atrim=start={float(priming):.9f},asetpts=PTS-STARTPTS+"
            f"{float(audio.start + priming):.9f}/TB,aresample={rate}[a]"
        )
        return graph, ["-map", "[a]"]

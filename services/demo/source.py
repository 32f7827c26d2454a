"""A local live HLS source made by ffmpeg, for ``make run`` and end-to-end tests.

A test pattern with the UTC clock burned in and a beep every second, in two
qualities (``source`` 640x360 and ``180p``), 2-second segments on a sliding
live playlist with program-date-time, served over HTTP on 127.0.0.1 by Python's
``http.server`` from the directory ffmpeg writes. Both run as child processes,
stopped (and their files removed, if the directory was ours) by :meth:`stop`.
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from services.runtime.children import on_parent_death

logger = logging.getLogger(__name__)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"
QUALITIES = {"source": "640x360", "180p": "320x180"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ffmpeg_command(out_dir: str, segment_seconds: int = 2, rate: int = 30) -> list[str]:
    """ffmpeg encoding the live test pattern into ``out_dir/QUALITY/live.m3u8`` + a master."""
    gop = segment_seconds * rate
    style = f"drawtext=fontfile={FONT}:fontsize=26:fontcolor=white:box=1:boxcolor=black@0.6:x=20"
    clock = (
        f"{style}:y=40:text='%{{gmtime\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}} UTC',"
        f"{style}:y=76:text='frame %{{frame_num}}'"
    )
    names = list(QUALITIES)
    graph = (
        f"[0:v]{clock},split=2[v0][v1x];[v1x]scale={QUALITIES[names[1]].replace('x', ':')}[v1];"
        "[1:a]aformat=channel_layouts=stereo,asplit=2[a0][a1]"
    )
    width, height = QUALITIES[names[0]].split("x")
    return [
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={rate}",
        "-f", "lavfi", "-i", "sine=frequency=1000:beep_factor=4:sample_rate=48000",
        "-filter_complex", graph,
        "-map", "[v0]", "-map", "[a0]", "-map", "[v1]", "-map", "[a1]",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-b:v:0", "800k", "-b:v:1", "250k", "-c:a", "aac", "-b:a", "96k", "-ar", "48000",
        "-f", "hls", "-hls_time", str(segment_seconds), "-hls_list_size", "15",
        "-hls_flags", "delete_segments+program_date_time+independent_segments",
        "-master_pl_name", "master.m3u8",
        "-var_stream_map", " ".join(f"v:{i},a:{i},name:{n}" for i, n in enumerate(names)),
        "-hls_segment_filename", os.path.join(out_dir, "%v", "seg_%05d.ts"),
        os.path.join(out_dir, "%v", "live.m3u8"),
    ]  # fmt: skip


class LiveSource:
    """ffmpeg writing a live stream plus an HTTP server publishing it."""

    def __init__(self, out_dir: str | None = None, port: int = 0):
        self._own_dir = out_dir is None
        self.dir = out_dir  # a temporary directory is made by start(), removed by stop()
        self.port = port or _free_port()
        self.ffmpeg: subprocess.Popen | None = None
        self.http: subprocess.Popen | None = None

    @property
    def master_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/master.m3u8"

    def start(self, timeout: float = 30) -> "LiveSource":
        """Start both processes and wait until every quality has a playable playlist.

        Anything that stops it half-way (an error, a timeout, Ctrl-C) stops what it started.
        """
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise
        logger.info("live source: %s", self.master_url)
        return self

    def _start(self, timeout: float) -> None:
        if self.dir is None:
            self.dir = tempfile.mkdtemp(prefix="fastseg-source-")
        for quality in QUALITIES:
            os.makedirs(os.path.join(self.dir, quality), exist_ok=True)
        # Own sessions: a terminal's Ctrl-C reaches our owner, who calls stop().
        # A demo killed outright cannot stop them: the kernel tells them instead.
        self.ffmpeg = subprocess.Popen(
            ffmpeg_command(self.dir), stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=on_parent_death(signal.SIGTERM),
        )  # fmt: skip
        self.http = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(self.port),
             "--directory", self.dir],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=on_parent_death(signal.SIGTERM),
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.ffmpeg.poll() is not None:
                raise RuntimeError(f"ffmpeg exited with {self.ffmpeg.returncode}: is it installed?")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the live source in {self.dir!r} did not start in {timeout} s")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.master_url, timeout=1) as r:
                r.read()
            for quality in QUALITIES:
                url = f"http://127.0.0.1:{self.port}/{quality}/live.m3u8"
                with urllib.request.urlopen(url, timeout=1) as r:
                    if b"#EXTINF" not in r.read():
                        return False
            return True
        except OSError:
            return False

    def stop(self) -> None:
        for proc in (self.ffmpeg, self.http):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if self._own_dir and self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def __enter__(self) -> "LiveSource":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

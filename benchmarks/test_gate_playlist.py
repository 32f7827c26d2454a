"""The CI speed gate for playlists: a cold 24-hour media playlist against the selection alone.

Both sides start cold (fastseg's cache empty; the files' directory entries are in
the kernel's cache for both) and are timed in CPU time, interleaved round by
round, each keeping its best round (see ``test_gate.py`` for why). The playlist
is measured twice: rendered in this process right after the selection, and
asked of a fresh restreamer over HTTP (after one small warm-up request), whose
CPU (all its threads, from ``/proc``) covers the request, the selection, the
rendering and the sending.
"""

import datetime as dt
import os
import time
from pathlib import Path

import pytest

import fastseg
from benchmarks import measure
from benchmarks.gate import Claim, compiled_loaded  # noqa: F401 (an autouse fixture)
from benchmarks.test_restreamer_bench import DAY, DAY_START, fetch
from services.restreamer.hls import MediaCache, media_playlist_chunks
from tests.servers import ServerProcess

pytestmark = pytest.mark.gate

END = DAY_START + DAY

# The README's playlist row, as the ratios this gate checks (keep the two in step).
CLAIMS = {
    "render": Claim("cold 24 h: selection and playlist / selection alone", 1.3, 0.2, False),
    # The fresh server's CPU for the request is steady (105-120 ms), this process's
    # selection is not (50-86 ms): 1.15-2.14 at load 1-11, also after a warm-up
    # request. The code before measured 6.4.
    "http": Claim("cold 24 h: playlist over HTTP (server CPU) / selection", 2.0, 0.3, False),
    "stall": Claim("loop stall rendering a cold 24 h playlist, CPU ms", 2.5, 0, higher=False),
}


def select(tree: Path) -> list:
    return fastseg.get_best_segments(str(tree), DAY_START, END)


def cold_cpu(work) -> tuple[float, object]:
    """This thread's CPU seconds for ``work()`` on an empty fastseg cache, and its result."""
    fastseg.clear_cache()
    started = time.thread_time()
    result = work()
    return time.thread_time() - started, result


def process_cpu(pid: int) -> float:
    """CPU seconds all threads of a process have run, to the nanosecond (schedstat)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


# A minute outside the measured day: asked first, so that what a server does once
# for its first request (lazy imports, first-call set-up) is not counted as the
# playlist's; the day's hours stay cold.
WARM_UP = DAY_START + DAY + dt.timedelta(hours=8)
WARM_UP_PATH = (
    f"/playlist/bench/source.m3u8?start={WARM_UP.isoformat()}"
    f"&end={(WARM_UP + dt.timedelta(minutes=1)).isoformat()}"
)


def http_cold(base: Path, path: str) -> tuple[float, int]:
    """A fresh restreamer's CPU seconds for ``path``, cold, after one small warm-up request."""
    server = ServerProcess(base)
    try:
        assert fetch(server.port, WARM_UP_PATH) > 0
        idle = process_cpu(server.proc.pid)
        time.sleep(0.2)
        while (now := process_cpu(server.proc.pid)) - idle > 0.001:  # still starting up
            idle = now
            time.sleep(0.2)
        size = fetch(server.port, path)
        return process_cpu(server.proc.pid) - now, size
    finally:
        server.stop()


def ratio_text(name: str, slow: float, fast: float) -> str:
    return f": {name} {slow * 1e3:.1f} ms, selection {fast * 1e3:.1f} ms"


def test_cold_playlist_rendered_vs_selection(tree48):
    def render():
        segments = select(tree48)
        return media_playlist_chunks(segments, "bench", "source", True, MediaCache())

    selections, playlists = [], []
    for _ in range(7):
        seconds, segments = cold_cpu(lambda: select(tree48))
        selections.append(seconds)
        seconds, chunks = cold_cpu(render)
        playlists.append(seconds)
    assert sum(s is not None for s in segments) > 40_000
    assert sum(map(len, chunks)) > 7_000_000
    best, alone = min(playlists), min(selections)
    CLAIMS["render"].check(best / alone, ratio_text("with the playlist", best, alone))


def test_cold_playlist_over_http_vs_selection(tree48):
    base = tree48.parent.parent
    path = f"/playlist/bench/source.m3u8?start={DAY_START.isoformat()}&end={END.isoformat()}"
    selections, served = [], []
    for _ in range(4):  # a fresh server each: seconds to start on a loaded machine
        seconds, segments = cold_cpu(lambda: select(tree48))
        selections.append(seconds)
        seconds, size = http_cold(base, path)
        served.append(seconds)
        assert size > 7_000_000
    best, alone = min(served), min(selections)
    CLAIMS["http"].check(best / alone, ratio_text("server CPU for the playlist", best, alone))


def test_rendering_a_cold_day_keeps_the_loop_responsive(tree48):
    """The longest stretch of CPU the rendering runs without yielding to gevent, best of 7.

    The selection is made first (its own stalls are test_gate.py's); the playlist
    is then rendered with no hour of it cached.
    """
    walls, cpus = [], []
    for _ in range(7):
        fastseg.clear_cache()
        segments = select(tree48)
        wall, cpu, chunks = measure.longest_stall(
            lambda run=segments: media_playlist_chunks(run, "bench", "source", True, MediaCache())
        )
        walls.append(wall)
        cpus.append(cpu)
    assert sum(map(len, chunks)) > 7_000_000
    CLAIMS["stall"].check(
        min(cpus) * 1e3,
        f"; CPU ms per run {', '.join(f'{c * 1e3:.1f}' for c in cpus)}; "
        f"wall ms {', '.join(f'{w * 1e3:.1f}' for w in walls)}",
    )

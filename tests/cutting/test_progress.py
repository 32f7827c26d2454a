"""Progress of a cut: ffmpeg's ``-progress`` reports, and ``fastseg cut``'s bar on a terminal."""

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from services.cutting import Encoding, full_cut
from services.cutting.ffmpeg import progress_to

ROOT = Path(__file__).parents[2]


def test_full_cut_reports_seconds_written(ts_archive):
    start, end = ts_archive.at(1), ts_archive.at(7)
    reports: list[float] = []
    segments = ts_archive.segments(start, end)
    with progress_to(reports.append):
        data = b"".join(full_cut(segments, start, end, Encoding.parse("container=ts,crf=35")))
    assert data
    assert reports, "ffmpeg sent no -progress report"
    assert reports == sorted(reports)
    assert 0 < reports[-1] <= 6.5, reports  # seconds of output, at most the clip


def test_without_progress_ffmpeg_stderr_stays_clean(ts_archive):
    """Outside progress_to, nothing is asked of ffmpeg, so no key=value noise reaches stderr."""
    start, end = ts_archive.at(1), ts_archive.at(2)
    segments = ts_archive.segments(start, end)
    data = b"".join(full_cut(segments, start, end, Encoding.parse("container=ts,crf=35")))
    assert data


def on_a_terminal(cmd: list[str]) -> tuple[int, str]:
    """Run ``cmd`` with stdout and stderr on a pseudo-terminal; its exit status and output."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=ROOT
    )
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        code = proc.wait(120)
    return code, b"".join(chunks).decode(errors="replace")


@pytest.mark.slow
def test_fastseg_cut_draws_a_progress_bar_on_a_terminal(ts_archive, tmp_path):
    out = tmp_path / "clip.mp4"
    cmd = [sys.executable, "-m", "services.cut", "--base-dir", str(ts_archive.base),
           "--channel", "ch", "--quality", "src", "--start", ts_archive.at(1).isoformat(),
           "--end", ts_archive.at(7).isoformat(), "--type", "full", "--encoding",
           "crf=35,height=90", "-o", str(out)]  # fmt: skip
    code, output = on_a_terminal(cmd)
    assert code == 0, output
    assert out.exists()
    assert "\rcutting [" in output
    assert f"[{'#' * 30}] 6.0 s of 6.0 s 100%" in output
    # Piped, as in a log file, there is no bar.
    piped = subprocess.run(cmd[:-1] + [str(tmp_path / "again.mp4")], capture_output=True,
                           text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert "cutting [" not in piped.stderr

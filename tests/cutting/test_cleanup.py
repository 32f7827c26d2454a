"""Stopping a cut early (closing the generator, killing its greenlet) leaves nothing behind."""

import glob
import os
import tempfile

import gevent
import gevent.event
import gevent.subprocess
import pytest

from services.cutting import CutError, Encoding, fast_cut, full_cut
from services.cutting.full import SPOOL_PREFIX
from tests.waiting import wait_until


def children() -> set[int]:
    """Live ffmpeg processes whose parent is this test process."""
    found = set()
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)
        except OSError:
            continue
        name = fields[0].split("(", 1)[1]
        state, ppid = fields[1].split()[:2]
        if int(ppid) == os.getpid() and name.startswith("ff") and state != "Z":
            found.add(int(stat.split("/")[2]))
    return found


def spools(directory) -> list[str]:
    return glob.glob(os.path.join(directory, f"{SPOOL_PREFIX}*"))


def open_fds() -> set[tuple[str, str]]:
    """Open fds and what they point at, once gevent's hub and child watcher exist.

    Compared as sets (after <= before): an fd that an earlier test left to the
    garbage collector may close meanwhile; a cut must only never add one. Event-poll
    fds are left out: a thread of gevent's pool that an earlier test in this worker
    used makes and drops its own loop's on its own schedule (a cut opens none).
    """
    gevent.subprocess.run(["true"], check=True)
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:
            continue  # the fd listdir itself used
        if target != "anon_inode:[eventpoll]":
            fds.add((fd, target))
    return fds


@pytest.mark.slow
def test_closing_a_fast_cut_kills_ffmpeg_and_closes_fds(archive):
    start, end = archive.at(2.5), archive.at(9.5)  # re-encoded head and tail
    segments = archive.segments(start, end)
    fds = open_fds()
    cut = fast_cut(segments, start, end)
    next(cut)
    running = children()
    assert running, "the head and tail encoders run while the cut streams"
    quiet = []
    for pid in running:  # quiet, as docs/DESIGN.md#cut-methods asks
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue  # it finished meanwhile
        if len(argv) > 1:  # (an exiting process shows an empty command line)
            quiet.append(argv[1:5] == [b"-hide_banner", b"-nostdin", b"-loglevel", b"error"])
    assert quiet
    assert all(quiet)
    cut.close()
    assert children() == set()
    assert open_fds() <= fds


@pytest.mark.slow
def test_killing_a_spooling_full_cut_removes_the_spool(ts_archive, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    start, end = ts_archive.at(0.5), ts_archive.at(11.5)
    segments = ts_archive.segments(start, end)
    fds = open_fds()
    started = gevent.event.Event()

    def consume():
        cut = full_cut(segments, start, end, Encoding(preset="veryslow"))
        started.set()
        for _ in cut:
            pass

    job = gevent.spawn(consume)

    def spooling():
        assert not job.dead, job.exception
        return children() and any(os.path.getsize(p) for p in spools(tmp_path))

    # wait (cooperatively) until ffmpeg runs and has written into its spool file
    wait_until(spooling, "ffmpeg to write into its spool file", interval=0.01, sleep=gevent.sleep)
    assert started.is_set()
    job.kill()
    assert children() == set()
    assert spools(tmp_path) == []
    assert open_fds() <= fds


def test_a_failed_cut_leaves_no_process(ts_archive):
    start, end = ts_archive.at(2.5), ts_archive.at(3.5)
    fds = open_fds()
    with pytest.raises(CutError):
        list(full_cut(ts_archive.segments(start, end), start, end, Encoding(video_codec="nope")))
    assert children() == set()
    assert open_fds() <= fds

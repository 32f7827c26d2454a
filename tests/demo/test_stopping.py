"""``make run``'s demo stops everything it started, on SIGTERM and on an early Ctrl-C.

The demo runs as ``make run`` runs it (``python -m services.demo``) in its own
session; a watcher records every process below it and the embedded PostgreSQL
(daemonised, so found through its ``postmaster.pid``). After the signal the demo
must exit without a traceback, and none of those processes, nobody in their
sessions or process groups, and no ``fastseg-source-*`` directory may be left.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.processes import TreeWatcher
from tests.waiting import wait_until

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workdir():
    """A directory the postgres user can reach (as root, PostgreSQL runs as postgres)."""
    path = Path(tempfile.mkdtemp(prefix="fastseg-demotest-", dir="/var/tmp"))
    path.chmod(0o755)
    (path / "tmp").mkdir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


def postmaster(base: Path) -> list[int]:
    try:
        return [int((base / ".fastseg" / "pg" / "postmaster.pid").read_text().split()[0])]
    except (OSError, ValueError, IndexError):
        return []


def start_demo(workdir: Path):
    base = workdir / "archive"
    log = open(workdir / "demo.log", "w")  # noqa: SIM115 - closed by the caller
    env = {**os.environ, "TMPDIR": str(workdir / "tmp"), "PYTHONUNBUFFERED": "1"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "services.demo", "--base-dir", str(base),
         "--port", str(free_port()), "--clip-after", "600"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    return demo, base, log


def stop_and_check(demo, base, workdir, watcher, sig):
    os.killpg(demo.pid, sig)  # as a terminal's Ctrl-C, or systemd's stop, would
    try:
        code = demo.wait(150)
    finally:
        watcher.__exit__()
        watcher.look()
    output = (workdir / "demo.log").read_text()
    assert code == 0, output
    assert "Traceback" not in output, output
    survivors = watcher.survivors()
    assert not survivors, f"left running: {survivors}\n{output}"
    assert list((workdir / "tmp").iterdir()) == [], output
    return output


def test_sigterm_after_start_stops_the_node_source_and_database(workdir):
    demo, base, log = start_demo(workdir)
    watcher = TreeWatcher(demo.pid, extra=lambda: postmaster(base)).__enter__()
    try:
        wait_until(
            lambda: "recording" in (workdir / "demo.log").read_text() or demo.poll() is not None,
            "the demo to record", timeout=150, interval=0.5,
        )  # fmt: skip
        assert demo.poll() is None, (workdir / "demo.log").read_text()
        assert postmaster(base), "the node should run the embedded database"
        output = stop_and_check(demo, base, workdir, watcher, signal.SIGTERM)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()
    names = " ".join(watcher.names())
    for started in ("services.node", "ffmpeg", "http.server"):
        assert started in names, f"the watcher never saw {started}: {names}"
    assert "stopping" in output


def test_a_demo_killed_outright_leaves_nothing_running(workdir):
    """SIGKILL gives the demo no chance to stop its children: the kernel tells them instead."""
    demo, base, log = start_demo(workdir)
    watcher = TreeWatcher(demo.pid, extra=lambda: postmaster(base)).__enter__()
    try:
        wait_until(
            lambda: "recording" in (workdir / "demo.log").read_text() or demo.poll() is not None,
            "the demo to record", timeout=150, interval=0.5,
        )  # fmt: skip
        assert postmaster(base), (workdir / "demo.log").read_text()
        os.kill(demo.pid, signal.SIGKILL)  # the demo alone, not its children's sessions
        demo.wait(10)
        wait_until(lambda: not watcher.survivors(), "its children to stop", timeout=60)
    finally:
        watcher.__exit__()
        for proc in watcher.survivors():  # never leave them behind, even when failing
            os.kill(proc.pid, signal.SIGKILL)
        log.close()
    names = " ".join(watcher.names())
    for started in ("services.node", "ffmpeg", "http.server"):
        assert started in names, f"the watcher never saw {started}: {names}"


@pytest.mark.parametrize("moment", ["source", "node"])
def test_early_ctrl_c_stops_what_was_started_so_far(workdir, moment):
    """Ctrl-C while the live source starts, or while the node is starting up."""
    demo, base, log = start_demo(workdir)
    watcher = TreeWatcher(demo.pid, extra=lambda: postmaster(base)).__enter__()
    needle = "http.server" if moment == "source" else "services.node"
    try:
        wait_until(
            lambda: any(needle in p.cmdline for p in watcher.seen.values()) or demo.poll(),
            f"the demo to start {needle}", timeout=120, interval=0.02,
        )  # fmt: skip
        stop_and_check(demo, base, workdir, watcher, signal.SIGINT)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
        log.close()


def test_a_url_it_cannot_reach_is_probably_wrong(workdir):
    port = free_port()  # nothing listens there
    out = subprocess.run(
        [sys.executable, "-m", "services.demo", "--base-dir", str(workdir / "archive"),
         "--url", f"http://127.0.0.1:{port}/master.m3u8"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"fastseg demo: cannot reach --url 'http://127.0.0.1:{port}/master.m3u8' "
        "([Errno 111] Connection refused): the URL is probably wrong; give an HLS master "
        "playlist, or no --url for a test stream"
    )
    assert not (workdir / "archive").exists(), "nothing is started for a URL that fails"

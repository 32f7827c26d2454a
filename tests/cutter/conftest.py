"""Fixtures for cutter tests: the database, an archive of real segments, cutter processes."""

import datetime as dt
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401
from tests.media import store_stream
from tests.waiting import wait_until  # noqa: F401 - the tests import it from here

from .fake_youtube import FakeYouTube

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)  # the archive straddles an hour boundary
CHANNEL, QUALITY = "ch", "source"


@pytest.fixture
def archive(tmp_path, stream_factory):
    """BASE with 20 s of real 320x180 video from T0 (10 segments of 2 s), and the stream."""
    stream = stream_factory(seconds=20)
    base = tmp_path / "base"
    store_stream(stream, base, CHANNEL, QUALITY, T0)
    return base


@pytest.fixture
def holey_archive(tmp_path, stream_factory):
    """Like ``archive`` but segment 5 (T0+10s to T0+12s) is missing."""
    stream = stream_factory(seconds=20)
    base = tmp_path / "holey"
    store_stream(stream, base, CHANNEL, QUALITY, T0, skip={5})
    return base


@pytest.fixture
def youtube():
    server = FakeYouTube()
    yield server
    for gate in (server.put_gate, server.final_gate):
        if gate is not None:
            gate.set()
    server.close()


class CutterProcess:
    """``python -m services.cutter`` in a subprocess, its output in a log file."""

    def __init__(self, tmp_path, dsn, base, name, locations, *extra):
        self.name = name
        self.log_path = tmp_path / f"cutter-{name}-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        args = [sys.executable, "-m", "services.cutter", "--name", name, "--base-dir", str(base)]
        args += ["--db", dsn, "--poll-interval", "0.2", "--transcode-interval", "0.2"]
        args += [f"--location={loc}" for loc in locations]
        args += ["--log-level", "DEBUG", *extra]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text, timeout=120):
        return wait_until(lambda: text in self.output(), f"{text!r} in {self.name}'s log", timeout)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def stop(self, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(
                    f"cutter {self.name} ignored SIGTERM:\n{self.output()}"
                ) from None
        self.log.close()
        return self.proc.returncode

    def metrics(self, port) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            return resp.read().decode()


@pytest.fixture
def cutters(tmp_path):
    """``cutters.start(dsn, base, name, locations, *extra_args)``; all stopped afterwards."""
    started = []

    class Starter:
        def start(self, *args):
            proc = CutterProcess(tmp_path, *args)
            started.append(proc)
            return proc

    yield Starter()
    for proc in started:
        if proc.proc.poll() is None:
            proc.stop()
        elif not proc.log.closed:
            proc.log.close()


def free_port():
    import socket  # noqa: PLC0415 - only this helper needs it

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

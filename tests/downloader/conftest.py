"""Downloader test fixtures: test streams, a live origin, the downloader as a subprocess."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.downloader.origin import Origin
from tests.servers import ROOT
from tests.waiting import wait_until


@pytest.fixture(scope="session")
def ts_stream(stream_factory):
    return stream_factory(seconds=12, segment_seconds=1)


@pytest.fixture(scope="session")
def fmp4_stream(stream_factory):
    return stream_factory(seconds=12, segment_seconds=1, fmp4=True)


@pytest.fixture
def make_origin():
    """``make_origin(variants, **kwargs)``: a started Origin, stopped after the test."""
    started = []

    def make(variants, cls=Origin, **kwargs):
        origin = cls(variants, **kwargs).start()
        started.append(origin)
        return origin

    yield make
    for origin in started:
        origin.stop()


class Downloader:
    """``python -m services.downloader`` running in the background, its stderr collected."""

    def __init__(self, args: list[str], base: Path):
        self.base = base
        self.args = args
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.downloader", "--base-dir", str(base), *args],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.append(line)

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self.reader.join(5)
        return code

    def metrics_port(self, timeout: float = 20) -> int:
        line = wait_until(
            lambda: next((x for x in self.lines if "metrics on http://" in x), None),
            "the metrics server to start",
            timeout,
        )
        return int(line.rsplit(":", 1)[1].split("/")[0])


@pytest.fixture
def run_downloader(tmp_path):
    """``run_downloader(*args)``: the downloader on ``tmp_path/base``, killed after the test."""
    running: list[Downloader] = []
    base = tmp_path / "base"

    def run(*args: str) -> Downloader:
        d = Downloader(list(args), base)
        running.append(d)
        return d

    yield run
    for d in running:
        if d.proc.poll() is None:
            d.stop(signal.SIGKILL)
        if d.proc.stderr is not None:
            d.proc.stderr.close()

"""Fixtures for the restreamer: a Flask test client, and the real server in a subprocess.

The server runs as ``python -m services.restreamer`` so that gevent patches that
process, never pytest's. Its port is read from its log line.
"""

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import prometheus_client
import pytest
from prometheus_client.parser import text_string_to_metric_families

import fastseg
from services.restreamer.app import create_app
from tests.media import store_stream

ROOT = Path(__file__).resolve().parents[2]
REAL_START = dt.datetime(2026, 11, 27, 16, 59, 52)  # straddles an hour boundary


class ServerProcess:
    """A running restreamer subprocess; ``url`` is its root, ``lines`` its log so far.

    Started with ``--no-db`` unless given ``--db`` or ``embedded=True``.
    """

    def __init__(self, base: Path, *args: str, embedded: bool = False) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        if not embedded and "--db" not in args and "--no-db" not in args:
            # Without --db the restreamer runs the archive's own database: only when asked.
            args = (*args, "--no-db")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.restreamer", "--base-dir", str(base),
             "--port", "0", *args],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        try:
            line = self.wait_for_log(r"serving .* on http://127\.0\.0\.1:(\d+)/")
        except BaseException:
            self.proc.kill()  # never leave a server behind
            self.stop()
            raise
        self.port = int(re.search(r":(\d+)/", line).group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self.lines.append("")  # EOF marker: the process has closed stderr
            self._changed.notify_all()

    def wait_for_log(self, pattern: str, timeout: float = 30) -> str:
        """The first log line matching ``pattern``, waiting for it if need be."""
        regex = re.compile(pattern)
        with self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if regex.search(line):
                        return line
                seen = len(self.lines)
                if self.lines and self.lines[-1] == "":
                    raise AssertionError(f"server exited without logging {pattern!r}:\n"
                                         + "".join(self.lines))  # fmt: skip
                if not self._changed.wait(timeout):
                    raise AssertionError(f"no log line {pattern!r} in {timeout}s:\n"
                                         + "".join(self.lines))  # fmt: skip

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            self._reader.join(5)
            self.proc.stderr.close()

    def log(self) -> str:
        return "".join(self.lines)


@pytest.fixture
def make_server():
    """``make_server(base, *args)`` starts a restreamer; every one started is stopped after."""
    started = []

    def make(base, *args):
        server = ServerProcess(base, *args)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def real_stream(stream_factory):
    """A 20-second test stream in 2-second segments, 320x180."""
    return stream_factory(seconds=20, size="320x180")


@pytest.fixture(scope="session")
def real_base(real_stream, tmp_path_factory):
    """An archive of real ffmpeg-made segments.

    ``test/source`` has the whole stream from REAL_START (across an hour boundary);
    ``test/low`` has it with segments 3 and 4 missing (one 4-second hole).
    """
    base = tmp_path_factory.mktemp("real_base")
    store_stream(real_stream, base, "test", "source", REAL_START)
    store_stream(real_stream, base, "test", "low", REAL_START, skip={3, 4})
    return base


@pytest.fixture(scope="module")
def real_server(real_base):
    server = ServerProcess(real_base)
    yield server
    server.stop()


@pytest.fixture
def registry():
    return prometheus_client.CollectorRegistry()


@pytest.fixture
def make_client(registry):
    """``make_client(base, **config)``: a Flask test client over ``base`` (no gevent server)."""

    def make(base, **config):
        fastseg.clear_cache()
        app = create_app({"BASE_DIR": str(base), "METRICS_REGISTRY": registry, **config})
        return app.test_client()

    return make


def metric(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus text, 0 if absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0

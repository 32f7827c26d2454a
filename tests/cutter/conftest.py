"""Fixtures for cutter tests: the database, an archive of real segments, cutter processes."""

import datetime as dt

import pytest

from tests.cutter.processes import CutterProcess
from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401
from tests.media import store_stream

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

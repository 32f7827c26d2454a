"""Backfiller fixtures: real segment trees, restreamers and fake peers, the backfiller itself.

The backfiller and the restreamers run as subprocesses (gevent patches them, never
pytest); fake peers run in threads here. Trees are stored from real ffmpeg-made
segments, 2 s each, starting before an hour boundary so that every tree has two
hours per quality.
"""

import pytest

from tests.backfiller.peer import FakePeer
from tests.backfiller.trees import CHANNEL
from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401
from tests.servers import ServerProcess, ServiceProcess


@pytest.fixture(scope="session")
def stream(stream_factory):
    """A 20-second test stream in 2-second segments, 320x180 (the restreamer tests' too)."""
    return stream_factory(seconds=20, size="320x180")


@pytest.fixture
def make_restreamer():
    """``make_restreamer(base)``: a real restreamer subprocess on 127.0.0.1, stopped after."""
    started = []

    def make(base):
        server = ServerProcess(base)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def make_peer():
    """``make_peer(base, **faults)``: a FakePeer, stopped after the test."""
    started = []

    def make(base, **faults):
        peer = FakePeer(base, **faults)
        started.append(peer)
        return peer

    yield make
    for peer in started:
        peer.stop()


@pytest.fixture
def backfiller():
    """``backfiller(base, *args)``: ``python -m services.backfiller`` started in the background.

    Recent-cutoff and channel defaults suit the trees here; every process still
    running after the test is stopped.
    """
    started = []

    def start(base, *args):
        proc = ServiceProcess(
            "services.backfiller", "--base-dir", str(base), "--channels", CHANNEL,
            "--localhost", "this-node", *args,
        )  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()

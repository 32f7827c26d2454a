"""Fixtures for the restreamer: a Flask test client, and the real server in a subprocess.

The server (:class:`tests.servers.ServerProcess`) runs as ``python -m
services.restreamer`` so that gevent patches that process, never pytest's.
"""

import datetime as dt

import prometheus_client
import pytest

import fastseg
from services.restreamer.app import create_app
from tests.media import store_stream
from tests.servers import ServerProcess

REAL_START = dt.datetime(2026, 11, 27, 16, 59, 52)  # straddles an hour boundary
EDITOR_TOKEN = "restreamer-tests-editor-token"
#: The headers of an editor: a full cut of one's own encoding needs them.
EDITOR = {"Authorization": f"Bearer {EDITOR_TOKEN}"}


@pytest.fixture(scope="session")
def editor_token_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "editors.txt"
    path.write_text(f"{EDITOR_TOKEN} editor@example.org\n")
    return path


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
def real_server(real_base, editor_token_file):
    server = ServerProcess(real_base, "--editor-token-file", str(editor_token_file))
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

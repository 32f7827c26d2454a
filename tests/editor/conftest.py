"""Fixtures for the editor: a real restreamer with the events API, on real PostgreSQL.

The restreamer runs as a subprocess (tests/restreamer's ServerProcess); each
test gets its own schema (tests/db's ``pg_dsn``/``db``) and its own token file.
"""

import datetime as dt
import logging
import uuid

import psycopg
import pytest
import requests

from services.db import Database, apply_schema, locations
from tests.cutting.checks import gray_frames
from tests.db.fixtures import db, pg_dsn, pg_server, schema_dsn  # noqa: F401
from tests.media import store_stream
from tests.servers import ServerProcess
from tests.waiting import wait_until  # noqa: F401 - the tests import it from here

from .browser import Page, missing_browser, start_chromium

T0 = dt.datetime(2026, 11, 27, 16, 59, 52)  # the archive straddles an hour boundary
CHANNEL, QUALITY = "test", "source"
ALICE = "alice-token-0123456789abcdef"
BOB = "bob-token-0123456789abcdef01"

logger = logging.getLogger(__name__)


TOKENS = f"# editors\n{ALICE} alice@example.com\n\n{BOB}   bob@example.com\n"


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "editors.txt"
    path.write_text(TOKENS)
    return path


@pytest.fixture(scope="session")
def stream(stream_factory):
    """20 s of real 320x180 test video at 30 fps, in 2-second segments."""
    return stream_factory(seconds=20, size="320x180")


@pytest.fixture(scope="session")
def archive_base(stream, tmp_path_factory):
    """The stream from T0 in test/source, and with segment 5 missing in test/holey."""
    base = tmp_path_factory.mktemp("editor_base")
    store_stream(stream, base, CHANNEL, QUALITY, T0)
    store_stream(stream, base, CHANNEL, "holey", T0, skip={5})
    return base


@pytest.fixture(scope="module")
def module_dsn(pg_server):  # noqa: F811 - the fixture imported above
    """A schema with the fastseg tables shared by a module's tests (each uses its own events)."""
    schema = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    dsn = schema_dsn(pg_server, schema)
    database = Database(dsn, application_name="fastseg-tests")
    apply_schema(database)
    database.close()
    yield dsn
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute("SET lock_timeout = '20s'")
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def serve_clips(database):
    """Record upload location 'clips' as served now by a cutter 'node1', as a running one would."""
    locations.record(database, "node1", [("clips", "local", "https://c.example/")])


@pytest.fixture
def module_db(module_dsn):
    database = Database(module_dsn, application_name="fastseg-tests")
    serve_clips(database)  # fresh for each test: the module may run longer than a heartbeat
    yield database
    database.close()


@pytest.fixture(scope="module")
def module_api(module_dsn, archive_base, tmp_path_factory):
    """One writable restreamer for a module's tests, on ``module_dsn``."""
    token_path = tmp_path_factory.mktemp("tokens") / "editors.txt"
    token_path.write_text(TOKENS)
    server = ServerProcess(archive_base, "--db", module_dsn, "--editor-token-file", str(token_path))
    yield Client(server)
    server.stop()


@pytest.fixture
def servers():
    """``servers.start(base, *args)`` runs a restreamer; every one is stopped after the test."""
    started = []

    class Starter:
        def start(self, base, *args):
            server = ServerProcess(base, *args)
            started.append(server)
            return server

    yield Starter()
    for server in started:
        server.stop()


@pytest.fixture
def api(servers, archive_base, db, pg_dsn, token_file):  # noqa: F811 - fixtures
    """A restreamer of its own with a writable events API on a fresh schema."""
    serve_clips(db)
    server = servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(token_file))
    return Client(server)


class Client:
    """requests against one server, with a token unless told otherwise."""

    def __init__(self, server, token=ALICE):
        self.server = server
        self.url = server.url
        self.token = token

    def get(self, path, **kwargs):
        return requests.get(self.url + path, timeout=30, **kwargs)

    def post(self, path, body=None, *, token="default", data=None, headers=None):
        token = self.token if token == "default" else token
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if data is None and body is not None:
            return requests.post(self.url + path, json=body, headers=headers, timeout=30)
        return requests.post(self.url + path, data=data, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """A headless Chromium for one test module's pages."""
    why = missing_browser()
    if why:
        pytest.fail(why)
    work = tmp_path_factory.mktemp("chromium")
    driver = start_chromium(work / "profile", work / "chromedriver.log")
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def source_frames(stream):
    """Every frame of the test stream, grey 320x180, in order: frame N is at T0 + N/30 s."""
    return gray_frames(stream.dir / "live.m3u8")


@pytest.fixture
def page(chromium, api, tmp_path):
    """The editor page at 1280x720, as a new editor sees it; screenshots go to ``shots/``."""
    shots = tmp_path / "shots"
    shots.mkdir()
    chromium.set_window_size(1280, 720)
    page = Page(chromium, api.url, shots)
    page.open()
    chromium.execute_script("localStorage.clear()")  # a new editor: no token, no places
    chromium.get_log("browser")  # forget what earlier tests' pages logged
    yield page
    logger.info("screenshots in %s", shots)

"""The editor page over HTTPS, in headless Chromium: a restreamer with ``--tls-cert``.

The certificate is self-signed (openssl, in the test), so Chromium is started
with ``--ignore-certificate-errors``. The page loads over https, lists the
events, plays the archive (hls.js fetching playlists and segments over TLS: the
frame on screen is the source's), and submits an edit with a token.
"""

import datetime as dt

import pytest

from services.db import states
from tests.certificates import self_signed

from .browser import FLAGS, Page, missing_browser, start_chromium
from .conftest import ALICE, T0, serve_clips
from .test_browser import check_frame, shown_time, step

pytestmark = pytest.mark.slow


@pytest.fixture
def https_api(servers, archive_base, db, pg_dsn, token_file, tmp_path):  # noqa: F811 - fixtures
    serve_clips(db)
    cert, key = self_signed(tmp_path)
    server = servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(token_file),
                           "--tls-cert", str(cert), "--tls-key", str(key))  # fmt: skip
    assert server.url.startswith("https://")
    return server


@pytest.fixture
def https_chromium(tmp_path):
    why = missing_browser()
    if why:
        pytest.fail(why)
    flags = [*FLAGS, "--ignore-certificate-errors"]  # the test's self-signed certificate
    driver = start_chromium(tmp_path / "profile", tmp_path / "chromedriver.log", flags)
    yield driver
    driver.quit()


def test_the_editor_page_works_over_https(https_chromium, https_api, db, source_frames,
                                          tmp_path):  # fmt: skip
    event = str(states.add_event(db, "Over TLS", event_start=T0 + dt.timedelta(seconds=3),
                                 event_end=T0 + dt.timedelta(seconds=9)))  # fmt: skip
    shots = tmp_path / "shots"
    shots.mkdir()
    page = Page(https_chromium, https_api.url, shots)
    page.open()
    assert https_chromium.current_url.startswith("https://127.0.0.1:")
    item = page.wait(lambda: page.driver.find_elements("css selector", f"li[data-id='{event}']"),
                     "the event in the list")[0]  # fmt: skip
    item.click()
    page.wait(lambda: page.text("ev-name") == "Over TLS", "the event to open")
    page.el("play").click()
    page.wait(lambda: shown_time(page) >= T0 + dt.timedelta(seconds=2.5), "playback to pass 2.5 s")
    page.el("play").click()
    page.wait(lambda: page.js("return document.getElementById('video').paused"), "the pause")
    check_frame(page, source_frames)  # the segments came over TLS whole
    page.key("[")
    in_text = page.text("now-utc").removesuffix(" UTC")
    page.wait(lambda: page.el("in").get_attribute("value") == in_text, "in to be set")
    step(page, "l")  # 10 s on
    page.el("set-out").click()
    page.fill("token", ALICE)
    page.fill("ev-title", "Cut over TLS")
    page.fill("ev-location", "clips")
    page.el("ev-submit").click()
    page.wait(lambda: page.text("ev-state") == "EDITED", "the event to be EDITED")
    row = states.get_event(db, event)
    assert (row.state, row.editor, row.video_title) == ("EDITED", "alice@example.com",
                                                        "Cut over TLS")  # fmt: skip
    assert not page.console_errors()

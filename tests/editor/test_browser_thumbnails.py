"""Thumbnails in headless Chromium: an artist uploads a template on /editor/templates
(dragging its placement box, previewing), an editor picks it for an edit, previews the
thumbnail at the frame on screen and submits, and a cutter makes the clip DONE with it.
The placed region of the thumbnail the cutter wrote is matched against every source frame.
"""

import datetime as dt
import json

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.select import Select

from services.db import states
from services.db.thumbnails import get_template
from services.restreamer.png import encode_png
from tests.cutter.processes import CutterProcess
from tests.restreamer.images import nearest_frame, placed_frame

from .browser import Page
from .conftest import ALICE, T0, serve_clips
from .test_browser import frame_index, shown_time, step

pytestmark = pytest.mark.slow

ARTIST = "artist-token-0123456789abcde"
FPS = 30


def artwork(path) -> None:
    """A 1280x720 magenta frame of art with a transparent middle."""
    pixels = np.zeros((720, 1280, 4), dtype=np.uint8)
    pixels[:, :] = (255, 0, 255, 255)
    pixels[120:600, 160:1120] = 0
    path.write_bytes(encode_png(pixels))


@pytest.fixture
def art_server(servers, archive_base, db, pg_dsn, tmp_path):
    serve_clips(db)
    tokens = tmp_path / "editors.txt"
    tokens.write_text(f"{ALICE} alice@example.com\n{ARTIST} art@example.com artist\n")
    return servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(tokens))


def loaded(page: Page, element_id: str) -> int:
    return page.js(f"return document.getElementById('{element_id}').naturalWidth")


def test_artist_makes_a_template_and_an_editor_uses_it(
    chromium, art_server, db, pg_dsn, archive_base, source_frames, tmp_path
):
    shots = tmp_path / "shots"
    shots.mkdir()
    chromium.set_window_size(1280, 1000)
    page = Page(chromium, art_server.url, shots)

    # -- the artist ------------------------------------------------------------------------
    chromium.get(f"{art_server.url}/editor/templates")
    chromium.execute_script("localStorage.clear()")
    chromium.get(f"{art_server.url}/editor/templates")
    page.fill("token", ARTIST)
    page.fill("tpl-name", "marathon")
    page.fill("tpl-attribution", "Ann Artist")
    art = tmp_path / "art.png"
    artwork(art)
    page.el("tpl-image").send_keys(str(art))
    page.wait(lambda: loaded(page, "tpl-art") == 1280, "the artwork to show")
    page.fill("tpl-channel", "test")
    page.fill("tpl-time", (T0 + dt.timedelta(seconds=5)).isoformat())
    page.click("tpl-load-frame")
    page.wait(lambda: loaded(page, "tpl-frame") == 320, "the sample frame")
    page.wait(lambda: page.el("tpl-crop").get_attribute("value") == "0,0,320,180", "crop")
    # the default placement is the middle half; drag it 40 screen pixels right (the
    # artwork is shown at a quarter of its size: 160 of its pixels)
    assert page.el("tpl-location").get_attribute("value") == "320,180,960,540"
    box = page.el("tpl-location-box")
    ActionChains(chromium).move_to_element(box).click_and_hold().move_by_offset(40, 0).release(
    ).perform()  # fmt: skip
    page.wait(lambda: page.el("tpl-location").get_attribute("value") == "480,180,1120,540",
              "the dragged placement")  # fmt: skip
    page.click("tpl-preview-button")
    page.wait(lambda: loaded(page, "tpl-preview") == 1280, "the preview")
    page.shot("artist-preview")
    page.click("tpl-save")
    page.wait(lambda: "saved" in page.message()[0], "the template to be saved")
    template = get_template(db, "marathon")
    assert (template.attribution, template.crop, template.location) == (
        "Ann Artist", [0, 0, 320, 180], [480, 180, 1120, 540],
    )  # fmt: skip
    assert bytes(template.image) == art.read_bytes()
    assert page.console_errors() == []

    # -- the editor ------------------------------------------------------------------------
    event = str(states.add_event(db, "Art", event_start=T0 + dt.timedelta(seconds=3),
                                 event_end=T0 + dt.timedelta(seconds=9)))  # fmt: skip
    page.open()
    chromium.execute_script("localStorage.clear()")
    page.open()
    item = page.wait(lambda: chromium.find_elements("css selector", f"li[data-id='{event}']"),
                     "the event in the list")[0]  # fmt: skip
    item.click()
    page.wait(lambda: page.text("ev-name") == "Art", "the event to open")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    page.fill("token", ALICE)
    page.key("[")
    step(page, "l")
    step(page, ".")
    page.key("]")
    thumb_at = shown_time(page)
    Select(page.el("th-mode")).select_by_value("TEMPLATE")
    page.click("th-now")
    page.wait(lambda: page.el("th-time").get_attribute("value"), "the frame's time")
    page.wait(lambda: len(Select(page.el("th-template")).options) > 1, "the templates")
    Select(page.el("th-template")).select_by_value("marathon")
    page.wait(lambda: page.el("th-location").get_attribute("value") == "480,180,1120,540",
              "the template's placement")  # fmt: skip
    page.wait(lambda: loaded(page, "th-preview") == 1280, "the thumbnail preview")
    preview = page.el("th-preview").get_attribute("data-url")
    assert "template=marathon" in preview
    page.shot("editor-preview")
    page.fill("ev-title", "With art")
    page.fill("ev-location", "clips")
    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "the event to be EDITED")
    row = states.get_event(db, event)
    assert (row.thumbnail_mode, row.thumbnail_template) == ("TEMPLATE", "marathon")
    # the middle of the frame on screen, not its start rounded down (the frame before)
    assert thumb_at < row.thumbnail_time < thumb_at + dt.timedelta(seconds=1 / FPS)
    assert row.thumbnail_location == [480, 180, 1120, 540]

    out = tmp_path / "clips"
    cutter = CutterProcess(tmp_path, pg_dsn, archive_base, "node1", [f"clips=local:{out};sidecar"])
    try:
        page.wait(lambda: page.text("ev-state") == "DONE", "DONE", timeout=120)
        page.wait(lambda: states.get_event(db, event).thumbnail_last_written, "the thumbnail")
    finally:
        assert cutter.stop() == 0, cutter.output()
    row = states.get_event(db, event)
    stem = f"With art-{row.video_id}"
    jpeg = (out / f"{stem}.jpg").read_bytes()
    assert json.loads((out / f"{stem}.json").read_text())["thumbnail"] == f"{stem}.jpg"
    shown = frame_index(thumb_at)
    assert nearest_frame(placed_frame(jpeg, (480, 180, 1120, 540)), source_frames) == shown
    assert page.console_errors() == []

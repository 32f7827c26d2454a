"""The editor page's publishing inputs: an editor adds tags and chapters on two ranges
joined by a crossfade, sees what YouTube's limits leave with the team's additions,
submits unlisted, and finds the chapters again when the event is reopened."""

import datetime as dt
import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from services.db import states
from services.db.publishing import Conventions, compose
from tests.media import store_stream

from .browser import Page
from .conftest import ALICE, CHANNEL, QUALITY, T0, serve_clips
from .test_browser_ranges import add_range, utc

pytestmark = pytest.mark.slow

TEAM = Conventions(
    "DB2026 - ", "Support the charity: https://example.org", ("marathon", "Desert Bus")
)


@pytest.fixture
def page(chromium, servers, db, pg_dsn, token_file, stream_factory, tmp_path):
    """The page on a restreamer of 40 s of video from T0, with the team's conventions."""
    base = tmp_path / "long"
    store_stream(stream_factory(seconds=40, size="320x180"), base, CHANNEL, QUALITY, T0)
    conventions = tmp_path / "publishing.json"
    conventions.write_text(json.dumps({
        "title_prefix": TEAM.title_prefix,
        "description_footer": TEAM.description_footer,
        "tags": list(TEAM.tags),
    }))  # fmt: skip
    serve_clips(db)
    server = servers.start(
        base, "--db", pg_dsn, "--editor-token-file", str(token_file),
        "--publishing", str(conventions),
    )  # fmt: skip
    shots = tmp_path / "shots"
    shots.mkdir()
    chromium.set_window_size(1280, 900)
    page = Page(chromium, server.url, shots)
    page.open()
    chromium.execute_script("localStorage.clear()")
    chromium.get_log("browser")
    return page


def open_event(page, event, name):
    page.open()
    page.wait(
        lambda: page.driver.find_elements("css selector", f"li[data-id='{event}']"), "the event"
    )[0].click()
    page.wait(lambda: page.text("ev-name") == name, "the event to open")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")


def seek(page, seconds):
    """Show the frame at T0 + ``seconds``."""
    us = round((T0 + dt.timedelta(seconds=seconds)).replace(tzinfo=dt.UTC).timestamp() * 1e6)
    page.js("window.fastsegEditor.player.seekStream(arguments[0])", us)
    page.wait(lambda: page.text("now-utc").startswith(utc(seconds)[:19]), f"the frame at {seconds}")
    page.wait(lambda: not page.js("return document.getElementById('video').seeking"), "the seek")


def chapters(page):
    return [
        li.text.removesuffix(" ✕")
        for li in page.el("chapter-list").find_elements(By.TAG_NAME, "li")
    ]


def test_tags_chapters_and_counts_then_submit(page, db):
    event = str(states.add_event(db, "Long run", event_start=T0, event_end=T0))
    open_event(page, event, "Long run")
    # 16 s and 16 s joined by a 1 s crossfade: 31 s of clip.
    page.fill("in", utc(2))
    page.fill("out", utc(18))
    add_range(page)
    page.fill("in", utc(22))
    page.fill("out", utc(38))
    Select(
        page.driver.find_element(By.CSS_SELECTOR, "#clip-ranges li.join select")
    ).select_by_value("crossfade")
    page.wait(
        lambda: page.driver.find_element(By.CSS_SELECTOR, ".ranges-total").text == "clip 0:31.000",
        "32 s of ranges less the crossfade",
    )

    page.fill("ev-title", "The big moment")
    page.fill("ev-description", "What happened.")
    page.fill("ev-tags", "speedrun, Big one")
    Select(page.el("ev-public")).select_by_value("false")
    # The second range starts 15 s into the clip: 27.2 s of the stream is 20.2 s of the clip.
    for seconds, title in [(27.2, "Finish"), (2, "Intro"), (12.5, "The run")]:
        seek(page, seconds)
        page.fill("chapter-title", title)
        page.click("chapter-add")
        page.wait(lambda t=title: any(t in c for c in chapters(page)), f"chapter {title!r}")
    assert chapters(page) == ["0:00 - Intro", "0:10 - The run", "0:20 - Finish"]

    stored = "What happened.\n==========\n0:00 - Intro\n0:10 - The run\n0:20 - Finish"
    published = compose(TEAM, "The big moment", stored, ["speedrun", "Big one"])
    assert page.text("ev-title-left") == f"{100 - len(published.title)} characters left"  # 77
    assert page.text("ev-description-left") == (
        f"{5000 - len(published.description.encode())} bytes left"
    )
    assert page.text("ev-tags-left") == "460 characters left"  # 8 + 9 + 8 + 12 + 3 commas
    page.fill("ev-title", "t" * 92)
    page.wait(lambda: page.text("ev-title-left") == "1 characters over", "the title over")
    assert "over" in page.el("ev-title-left").get_attribute("class")
    page.fill("ev-title", "The big moment")
    page.shot("publishing")

    page.fill("token", ALICE)
    page.fill("ev-location", "clips")
    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "the event to be EDITED")
    text, error = page.message()
    assert not error, text
    row = states.get_event(db, event)
    assert (row.video_title, row.video_description) == ("The big moment", stored)
    assert (row.video_tags, row.public) == (["speedrun", "Big one"], False)

    # Reopened: the editor's own text, the chapters as markers, nothing added twice.
    open_event(page, event, "Long run")
    page.wait(lambda: len(chapters(page)) == 3, "the chapters read back")
    assert chapters(page) == ["0:00 - Intro", "0:10 - The run", "0:20 - Finish"]
    assert page.el("ev-description").get_attribute("value") == "What happened."
    assert page.el("ev-tags").get_attribute("value") == "speedrun, Big one"
    assert page.el("ev-public").get_attribute("value") == "false"
    assert page.console_errors() == []

"""Edits that are never lost or overwritten silently, in headless Chromium on real nodes.

A draft saved on one node's page is restored by another node's page on the same
database; two browsers editing one event: the second submit gets the 409 dialog
and nothing is overwritten (reload shows the other's edit, overwrite sends ours);
leaving the page with unsaved changes asks first.
"""

import pytest
from selenium.webdriver.common.by import By

from services.db import states
from tests.cutter.processes import CutterProcess

from .browser import Page, start_chromium
from .conftest import ALICE, BOB, T0
from .test_browser_player import at, press, ready

pytestmark = pytest.mark.slow


def open_event(page, event, name):
    page.wait(
        lambda: page.driver.find_elements(By.CSS_SELECTOR, f"li[data-id='{event}']"), "the event"
    )[0].click()
    page.wait(lambda: page.text("ev-name") == name, f"{name!r} to open")
    ready(page)


@pytest.fixture
def second_page(tmp_path, api):
    """A second browser, as another editor at another desk."""
    work = tmp_path / "second"
    work.mkdir()
    driver = start_chromium(work / "profile", work / "chromedriver.log")
    driver.set_window_size(1280, 720)
    yield Page(driver, api.url, work)
    driver.quit()


def test_a_draft_survives_a_reload_on_another_node_and_is_cut(
    page, api, db, servers, archive_base, pg_dsn, token_file, tmp_path
):
    event = str(states.add_event(db, "Draft me", event_start=T0, event_end=T0))
    page.open()
    page.fill("token", ALICE)
    open_event(page, event, "Draft me")
    # Listen at 2x with the keys alone, stop, and mark the moment.
    page.key("+")
    page.key("k")
    page.wait(lambda: at(page) >= 3, "playback at 2x")
    assert page.js("return document.getElementById('video').playbackRate") == 2
    page.key("k")
    page.wait(lambda: page.js("return document.getElementById('video').paused"), "the pause")
    press(page, "J", "J")
    page.key("[")
    press(page, "l", "l")
    page.key("]")
    start, end = page.el("in").get_attribute("value"), page.el("out").get_attribute("value")
    page.fill("ev-title", "Work in progress")
    page.fill("ev-description", "not finished")
    page.click("ev-draft")
    page.wait(lambda: "draft saved" in page.message()[0], "the draft to be saved")
    saved = '"Draft me": draft saved; it stays UNEDITED until you submit it'
    assert page.message() == (saved, False)
    row = states.get_event(db, event)
    assert (row.state, row.video_title) == ("UNEDITED", None)
    assert row.draft["video_title"] == "Work in progress"
    assert page.text("ev-draft-line").startswith("draft saved by alice@example.com at ")

    # Another node's page on the same database, reloaded from the link.
    other = servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(token_file))
    page.driver.get(f"{other.url}/editor?event={event}")
    page.wait(lambda: page.text("ev-name") == "Draft me", "the event from the link")
    page.wait(lambda: page.el("ev-title").get_attribute("value") == "Work in progress", "draft")
    assert page.el("ev-description").get_attribute("value") == "not finished"
    page.wait(lambda: page.el("in").get_attribute("value") == start, "the draft's start")
    assert page.el("out").get_attribute("value") == end
    assert "restored the draft alice@example.com saved at" in page.message()[0]
    page.shot("draft-restored")

    page.fill("token", ALICE)  # this node's page: the token is kept per node
    page.fill("ev-location", "clips")
    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "the submit")
    row = states.get_event(db, event)
    assert (row.state, row.video_title, row.draft) == ("EDITED", "Work in progress", None)
    assert row.last_writer == "alice@example.com"

    cutter = CutterProcess(
        tmp_path,
        pg_dsn,
        archive_base,
        "node1",
        [f"clips=local:{tmp_path / 'clips'};url=https://c.example/"],
    )
    try:
        page.wait(lambda: page.text("ev-state") == "DONE", "the page to show DONE", timeout=120)
    finally:
        assert cutter.stop() == 0, cutter.output()
    assert states.get_event(db, event).last_writer == "fastseg-cutter node1"


def test_two_browsers_the_second_submit_gets_the_conflict_dialog(page, second_page, api, db):
    event = str(states.add_event(db, "Contested", event_start=T0, event_end=T0))
    pages = {"alice": page, "bob": second_page}
    for who, shown in pages.items():
        shown.open()
        shown.fill("token", ALICE if who == "alice" else BOB)
        open_event(shown, event, "Contested")
        shown.key("[")
        press(shown, "l", "l")
        shown.key("]")
        shown.fill("ev-title", f"{who}'s title")
        shown.fill("ev-location", "clips")

    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "alice's submit")
    after_alice = states.get_event(db, event)

    second_page.click("ev-submit")
    dialog = second_page.el("ask")
    second_page.wait(lambda: dialog.get_attribute("open") is not None, "the conflict dialog")
    assert second_page.text("ask-title") == "Someone else changed this event"
    text = second_page.text("ask-text")
    assert text.startswith("alice@example.com changed this event at ")
    assert "video_title" in text
    assert "(version 1, now 2)" in text
    second_page.shot("conflict")
    assert states.get_event(db, event) == after_alice  # nothing overwritten

    second_page.answer("reload")
    second_page.wait(
        lambda: second_page.el("ev-title").get_attribute("value") == "alice's title", "reloaded"
    )
    assert second_page.text("ev-state") == "EDITED"
    assert states.get_event(db, event) == after_alice

    # Someone writes again meanwhile; this time bob overwrites.
    second_page.fill("ev-title", "bob's better title")
    states.save_draft(db, event, {"video_title": "carol's idea"}, "carol@example.com")
    second_page.click("ev-submit")
    second_page.wait(lambda: dialog.get_attribute("open") is not None, "the second conflict")
    assert second_page.text("ask-text").startswith("carol@example.com changed this event")
    second_page.answer("overwrite")
    second_page.wait(
        lambda: "submitted" in second_page.message()[0], "the overwrite to be submitted"
    )
    row = states.get_event(db, event)
    assert (row.video_title, row.editor) == ("bob's better title", "bob@example.com")
    assert [e for e in second_page.console_errors() if "409 (CONFLICT)" not in e] == []


# Headless Chromium answers a beforeunload question itself (chromedriver never sees it
# as an alert), so the page's handler is asked directly: a leave it cancels is one
# the browser asks the editor about.
LEAVE = """
const leave = new Event("beforeunload", { cancelable: true });
window.dispatchEvent(leave);
return leave.defaultPrevented;
"""


def test_leaving_with_unsaved_changes_asks_first(page, db):
    event = str(states.add_event(db, "Unsaved", event_start=T0, event_end=T0))
    page.open()
    page.fill("token", ALICE)
    open_event(page, event, "Unsaved")
    assert page.js(LEAVE) is False  # opened, nothing changed: leave freely
    page.key("]")  # the clip changed
    assert page.js(LEAVE) is True

    page.open()
    open_event(page, event, "Unsaved")
    assert page.js(LEAVE) is False
    page.el("ev-title").send_keys(" (changed)")
    assert page.js(LEAVE) is True
    page.click("ev-draft")
    page.wait(lambda: "draft saved" in page.message()[0], "the draft")
    assert page.js(LEAVE) is False  # saved


def test_manual_link_and_forced_reset_from_the_page(page, db):
    event = str(states.add_event(db, "By hand", event_start=T0, event_end=T0))
    page.open()
    page.fill("token", ALICE)
    open_event(page, event, "By hand")
    page.fill("ev-manual-link", "https://youtu.be/by-hand")
    page.click("ev-manual")
    page.answer("no, keep it")
    assert states.get_event(db, event).state == "UNEDITED"
    page.click("ev-manual")
    page.answer("yes, it is uploaded there")
    page.wait(lambda: page.text("ev-state") == "DONE", "DONE by hand")
    assert states.get_event(db, event).video_link == "https://youtu.be/by-hand"

    # A DONE event: only an admin may reset it (alice is not one).
    assert page.text("ev-reset") == "force reset (admin)"
    page.click("ev-reset")
    page.answer("yes, force the reset")
    page.wait(lambda: "(HTTP 403)" in page.message()[0], "the refusal")
    assert page.message()[0].startswith("this needs the admin role")
    assert states.get_event(db, event).state == "DONE"

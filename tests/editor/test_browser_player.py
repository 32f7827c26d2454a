"""The player in headless Chromium: sound, volume, speed, and every key of the keyboard map.

The archive is tests/editor's 20 s from T0, loaded whole (the page's default span
reaches back past its start), so the loaded range is T0 to T0 + 20 s and a digit
key d seeks to T0 + 2d s. Times are read from the page's clock, which shows the
frame on screen (tests/editor/test_browser.py checks that clock frame by frame).
"""

import datetime as dt

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from .browser import FLAGS, Page, start_chromium
from .conftest import CHANNEL, QUALITY, T0
from .test_browser import FPS, frame_index, shown_time
from .test_browser_ranges import add_range

pytestmark = pytest.mark.slow

SHORTCUT_ROWS = 15  # keys.js SHORTCUTS


def video(page, prop):
    return page.js(f"return document.getElementById('video').{prop}")


def at(page) -> float:
    """Seconds from T0 of the frame on screen."""
    return (shown_time(page) - T0) / dt.timedelta(seconds=1)


def press(page, keys, what, *, changes=True):
    """Press ``keys`` on the page; wait for the frame shown to change (unless not ``changes``)."""
    before = page.text("now-utc")
    page.key(keys)
    if changes:
        page.wait_text_change("now-utc", before, f"the frame to change after {what}")
        page.wait(lambda: not video(page, "seeking"), f"the seek of {what}")


def near(page, seconds, what, within=0.1):
    page.wait(lambda: abs(at(page) - seconds) <= within, f"{what}: {seconds} s (at {at(page)} s)")


def ready(page):
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    page.wait(lambda: video(page, "readyState") >= 2, "video to show")


def test_sound_volume_and_speed_are_on_and_remembered(page):
    ready(page)
    assert video(page, "muted") is False  # sound on by default
    assert video(page, "volume") == 1
    assert page.el("mute").text == "mute"
    slider = page.driver.find_element(By.CSS_SELECTOR, "input[type=range][aria-label=volume]")
    slider.click()  # at its middle: about half
    page.wait(lambda: video(page, "volume") < 0.9, "the slider to change the volume")
    half = video(page, "volume")
    assert half == pytest.approx(float(slider.get_attribute("value")))
    ActionChains(page.driver).send_keys(Keys.ARROW_LEFT).perform()  # the slider's own key
    page.wait(lambda: video(page, "volume") == pytest.approx(half - 0.05), "one step quieter")
    page.click("mute")
    page.wait(lambda: video(page, "muted") is True, "mute")
    assert page.el("mute").text == "unmute"
    Select(page.el("speed")).select_by_visible_text("1.5x")
    assert video(page, "playbackRate") == 1.5
    assert [o.text for o in Select(page.el("speed")).options] == [
        "0.25x", "0.5x", "0.75x", "1x", "1.25x", "1.5x", "1.75x", "2x", "4x", "8x"
    ]  # fmt: skip

    page.open()
    ready(page)
    assert video(page, "volume") == pytest.approx(half - 0.05)
    assert video(page, "muted") is True
    assert video(page, "playbackRate") == 1.5
    assert page.text("rate-shown") == "1.5x"
    page.key("m")
    page.wait(lambda: video(page, "muted") is False, "m to unmute")
    page.shot("sound")


# Chromium as a desktop browser is: no sound before the page has had a click or key.
STRICT_AUTOPLAY = [
    *(f for f in FLAGS if not f.startswith("--autoplay-policy")),
    "--autoplay-policy=document-user-activation-required",
]


def test_where_sound_is_refused_the_first_click_unmutes(api, tmp_path):
    driver = start_chromium(tmp_path / "profile", tmp_path / "chromedriver.log", STRICT_AUTOPLAY)
    try:
        page = Page(driver, api.url, tmp_path)
        page.open()
        ready(page)
        # Played by a script, before any click or key: the browser refuses sound.
        page.js("window.fastsegEditor.player.play()")
        page.wait(lambda: video(page, "paused") is False, "muted playback")
        assert video(page, "muted") is True
        assert page.js("return localStorage.getItem('fastseg-editor-muted')") != "true"
        page.el("now-utc").click()  # any click
        page.wait(lambda: video(page, "muted") is False, "the first click to unmute")
        assert video(page, "paused") is False
    finally:
        driver.quit()


def test_every_shortcut_does_what_the_overlay_says(page):
    ready(page)
    # Digits: tenths of the loaded range, T0 to T0 + 20 s.
    for digit in [5, 0, 9, 3]:
        press(page, str(digit), f"key {digit}", changes=True)
        near(page, 2 * digit, f"key {digit}", within=1 / FPS)

    press(page, "5", "5")
    near(page, 10, "5", within=1 / FPS)
    for keys, delta, what in [
        ("j", -10, "j"),
        ("l", 10, "l"),
        ("J", -1, "J"),
        ("L", 1, "L"),
        (Keys.ARROW_LEFT, -5, "ArrowLeft"),
        (Keys.ARROW_RIGHT, 5, "ArrowRight"),
    ]:
        before = at(page)
        press(page, keys, what)
        near(page, before + delta, what)
    ActionChains(page.driver).key_down(Keys.SHIFT).send_keys(Keys.ARROW_LEFT).key_up(
        Keys.SHIFT
    ).perform()
    near(page, 0, "Shift+ArrowLeft (60 s back, stopped at the start)")
    ActionChains(page.driver).key_down(Keys.SHIFT).send_keys(Keys.ARROW_RIGHT).key_up(
        Keys.SHIFT
    ).perform()
    page.wait(lambda: at(page) > 19, "Shift+ArrowRight (60 s on, stopped at the end)")

    # Frames, each way, with both keys of each.
    press(page, "5", "5")
    start = frame_index(shown_time(page))
    for keys, step in [(".", 1), (">", 1), (",", -1), ("<", -1), (",", -1)]:
        before = frame_index(shown_time(page))
        press(page, keys, keys)
        assert frame_index(shown_time(page)) == before + step, keys
    assert frame_index(shown_time(page)) == start - 1

    # Play and pause: k, K and space.
    for key, paused in [("k", False), ("K", True), (" ", False), ("k", True)]:
        page.key(key)
        page.wait(lambda p=paused: video(page, "paused") is p, f"{key!r}: paused={paused}")

    # Speed.
    for key, rate in [
        ("=", 1.25),
        ("=", 1.5),
        ("-", 1.25),
        ("+", 2),
        ("+", 8),
        ("-", 4),
        ("=", 8),
        ("=", 8),
        ("_", 0.25),
        ("-", 0.25),
        (Keys.BACKSPACE, 1),
    ]:
        page.key(key)
        page.wait(lambda r=rate: video(page, "playbackRate") == r, f"{key!r} to give {rate}x")
        assert page.el("speed").get_attribute("value") == str(rate).removesuffix(".0")
    assert page.driver.current_url.endswith(f"/editor?{page.driver.current_url.split('?')[1]}")

    # Mute.
    page.key("m")
    page.wait(lambda: video(page, "muted") is True, "m to mute")
    page.key("m")
    page.wait(lambda: video(page, "muted") is False, "m to unmute")

    # [ and ] set the selected range's ends; o and p choose the range.
    press(page, "2", "2")
    page.key("[")
    page.wait(lambda: page.el("in").get_attribute("value") == utc_shown(page), "[ sets the start")
    press(page, "4", "4")
    page.key("]")
    page.wait(lambda: page.el("out").get_attribute("value") == utc_shown(page), "] sets the end")
    assert "0:04." in page.el("duration").text  # 8 s less a frame's rounding, give or take
    add_range(page)
    assert current_range(page) == 1
    page.key("o")
    page.wait(lambda: current_range(page) == 0, "o: the previous range")
    page.key("o")
    assert current_range(page) == 0  # the first stays
    page.key("p")
    page.wait(lambda: current_range(page) == 1, "p: the next range")
    press(page, "7", "7")
    page.key("[")
    press(page, "8", "8")
    page.key("]")
    page.wait(lambda: " to " in range_label(page, 1), "range 2 set")
    page.key("o")
    page.wait(lambda: current_range(page) == 0, "back to range 1")
    assert page.el("in").get_attribute("value").startswith("2026-11-27T16:59:56")

    # Keys typed in a field are text, not commands.
    field = page.el("range-start")
    field.click()
    paused = video(page, "paused")
    ActionChains(page.driver).send_keys("k5").perform()
    assert "k5" in field.get_attribute("value")
    assert video(page, "paused") is paused

    # ? shows every shortcut; Escape closes it.
    page.key("?")
    dialog = page.el("shortcuts")
    page.wait(lambda: dialog.get_attribute("open") is not None, "the overlay")
    assert page.text("shortcuts-title") == "Keyboard shortcuts"
    rows = dialog.find_elements(By.CSS_SELECTOR, "tr")
    assert len(rows) == SHORTCUT_ROWS
    assert "2x (the top rate if already 2x or more)" in dialog.text
    page.shot("shortcuts")
    ActionChains(page.driver).send_keys(Keys.ESCAPE).perform()
    page.wait(lambda: dialog.get_attribute("open") is None, "the overlay to close")
    assert page.console_errors() == []


def utc_shown(page):
    return page.text("now-utc").removesuffix(" UTC")


def range_label(page, i):
    items = page.driver.find_elements(By.CSS_SELECTOR, "#clip-ranges li.range")
    return items[i].find_element(By.CSS_SELECTOR, "button").text


def current_range(page):
    items = page.driver.find_elements(By.CSS_SELECTOR, "#clip-ranges li.range")
    return [i for i, li in enumerate(items) if "current" in li.get_attribute("class")][0]


def test_time_modes_copy_link_and_downloads(page, api):
    ready(page)
    Select(page.el("timebase")).select_by_value("ago")
    page.wait(lambda: page.el("range-start").get_attribute("value").endswith(" ago"), "ago")
    assert page.text("now-stream").endswith(" ago")
    press(page, "2", "2")
    page.key("[")
    press(page, "3", "3")
    page.key("]")
    assert page.el("in").get_attribute("value").endswith(" ago")

    page.click("copy-link")
    page.wait(lambda: "link" in page.message()[0], "the link")
    link = page.message()[0].split(": ", 1)[1]
    assert link.startswith(f"{api.url}/editor?channel={CHANNEL}&quality={QUALITY}&start=")
    assert "&range=2026-11-27T16%3A59%3A56." in link
    in_before = page.el("in").get_attribute("value")

    page.click("dl-rough")
    page.wait(lambda: page.message()[0].startswith("downloaded a rough cut"), "the rough cut")
    page.click("dl-fast")
    page.wait(lambda: page.message()[0].startswith("downloaded a fast cut"), "the fast cut")
    page.click("dl-frame")
    page.wait(lambda: page.message()[0].startswith("downloaded the frame at"), "the frame")
    assert not page.message()[1]

    page.driver.get(link)
    ready(page)
    assert page.el("timebase").get_attribute("value") == "ago"  # remembered
    Select(page.el("timebase")).select_by_value("utc")
    page.wait(lambda: not page.el("in").get_attribute("value").endswith("ago"), "UTC again")
    assert page.el("in").get_attribute("value").startswith("2026-11-27T16:59:56")
    assert page.el("out").get_attribute("value").startswith("2026-11-27T16:59:58")
    assert in_before.endswith(" ago")
    page.shot("from-link")

"""Previewing a clip of several ranges on the editor page, in headless Chromium.

The page plays each range from its start and jumps at its end to the next one's
start, pausing at the last end. Every frame the browser presents is recorded (its
stream time, by requestVideoFrameCallback) and checked against the ranges.
"""

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from .conftest import T0
from .test_browser_ranges import add_range, utc

pytestmark = pytest.mark.slow

FRAME = 1 / 30  # s: the test stream's frame
T0_US = round(T0.replace(tzinfo=dt.UTC).timestamp() * 1_000_000)

# Every frame presented from now on: its stream time (µs) and the preview's status line.
RECORD_FRAMES = """
const player = window.fastsegEditor.player;
const status = document.getElementById("clip-preview-status");
window.presented = [];
const onFrame = (_now, meta) => {
  const line = status.hidden ? "" : status.textContent;
  window.presented.push([player.mediaToStream(meta.mediaTime), line]);
  player.video.requestVideoFrameCallback(onFrame);
};
player.video.requestVideoFrameCallback(onFrame);
"""


def build_clip(page, spans) -> None:
    """Ranges of seconds past T0, made with the player's in and out."""
    page.open()
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    for i, (a, b) in enumerate(spans):
        if i:
            add_range(page)
        page.fill("in", utc(a))
        page.fill("out", utc(b))
    items = page.driver.find_elements("css selector", "#clip-ranges li.range")
    assert [li.text.split(" (")[0] for li in items] == [f"{utc(a)} to {utc(b)}" for a, b in spans]


def preview_button(page):
    return page.driver.find_element(By.XPATH, "//div[@id='clip-ranges']/button[.='preview clip']")


def is_paused(page) -> bool:
    return page.js("return document.getElementById('video').paused")


def status(page) -> str:
    """The preview's status line, or '' when it is hidden."""
    return page.js(
        "const s = document.getElementById('clip-preview-status');"
        "return s.hidden ? '' : s.textContent"
    )


def runs(times: list[float]) -> list[list[float]]:
    """Stretches of playback: a step back or of over a second starts one.

    (A loaded machine drops frames, so steps of several frames happen within one; the
    ranges the tests play are seconds apart.)
    """
    out = [[times[0]]]
    for before, t in zip(times, times[1:], strict=False):
        if t < before or t - before > 1:
            out.append([])
        out[-1].append(t)
    return out


def test_clip_preview_jumps_from_each_end_to_the_next_start(page, api):
    # Out of stream order, the last after a crossfade: played as three plain jumps.
    spans = [(2, 4), (12, 14), (6, 8)]
    build_clip(page, spans)
    joins = page.driver.find_elements("css selector", "#clip-ranges li.join select")
    Select(joins[1]).select_by_value("crossfade")
    page.wait(
        lambda: page.driver.find_element("css selector", ".ranges-total").text == "clip 0:05.000",
        "6 s of ranges less the 1 s crossfade",
    )
    button = preview_button(page)
    assert "only in the cut" in button.get_attribute("title")
    assert status(page) == ""
    page.wait(lambda: not page.js("return document.getElementById('video').seeking"), "the seek")

    page.js(RECORD_FRAMES)
    button.click()
    page.wait(lambda: status(page).startswith("range 1 of 3"), "the preview to start")
    page.wait(lambda: is_paused(page) and status(page) == "", "the preview's end", timeout=60)
    page.shot("previewed")
    text, error = page.message()
    assert not error, text

    presented = page.js("return window.presented")
    times = [(us - T0_US) / 1e6 for us, _ in presented]
    shown = runs(times)
    assert len(shown) == len(spans), shown
    first_of_run = []
    for (start, end), run in zip(spans, shown, strict=True):
        assert start <= run[0] < start + FRAME, (start, run)  # the range's first frame
        assert run[-1] >= end - FRAME, (end, run)  # played to its end
        # ... and jumped right there: on the first frame at or past the end (one more may
        # have been on its way to the screen)
        assert len([t for t in run if t >= end]) <= 2, (end, run)
        assert all(start <= t for t in run), (start, run)
        first_of_run.append(times.index(run[0]))
    assert [presented[i][1] for i in first_of_run] == [
        "range 1 of 3 · 0:00.000 of 0:05.000",
        "range 2 of 3 · 0:02.000 of 0:05.000",
        "range 3 of 3 · 0:03.000 of 0:05.000",
    ]
    # Paused on the first frame at or after the last end, as the one-range preview.
    last = page.js("return window.fastsegEditor.player.streamTime()")
    assert 8 <= (last - T0_US) / 1e6 < 8 + 2 * FRAME
    assert page.console_errors() == []


def test_seek_pause_or_stop_ends_clip_preview(page, api):
    build_clip(page, [(2, 6), (10, 14)])
    stop = page.driver.find_element(By.XPATH, "//div[@id='clip-ranges']/button[.='stop']")
    assert not stop.is_displayed()

    def start():
        preview_button(page).click()
        page.wait(lambda: status(page).startswith("range 1 of 2") and not is_paused(page), "play")

    start()
    page.key("l")  # on 10 s: a seek of the editor's own
    page.wait(lambda: status(page) == "", "the seek to end the preview")
    assert not is_paused(page)  # the seek is obeyed: playing on from where it went

    start()
    stop.click()
    page.wait(lambda: is_paused(page) and status(page) == "", "stop to end the preview")
    assert not stop.is_displayed()

    start()
    page.key(" ")
    page.wait(lambda: is_paused(page) and status(page) == "", "pause to end the preview")
    text, error = page.message()
    assert not error, text

    # A range without its out: a one-line error, and nothing plays.
    add_range(page)
    page.fill("in", utc(16))
    preview_button(page).click()
    page.wait(lambda: page.message()[1], "the error")
    assert (
        page.message()[0]
        == "range 3 has no start and end ([ and ]), or its end is not after its start"
    )
    assert status(page) == ""
    assert is_paused(page)

    # A range the loaded video does not cover: a one-line error that says what to load.
    page.fill("out", utc(18))
    page.fill("range-start", utc(8))
    page.fill("range-end", utc(20))
    page.el("load").click()
    first = "return window.fastsegEditor.player.segments[0].start"
    page.wait(lambda: page.js(first) >= T0_US + 6_000_000, "the video from 8 s to 20 s")
    preview_button(page).click()
    page.wait(lambda: page.message()[0].startswith("range 1 "), "the error")
    assert page.message() == (
        f"range 1 ({utc(2)} to {utc(6)}) is outside the loaded video: "
        "load a span that covers the whole clip, then preview again",
        True,
    )
    assert status(page) == ""
    assert page.console_errors() == []

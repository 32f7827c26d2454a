"""The editor page in headless Chromium over a real archive, restreamer, database and cutter.

An editor opens an event, plays, steps frames, sets in and out, previews and
submits; the page follows the event to EDITED and, once a cutter runs, to DONE.
Every frame the page names is checked against the frame it shows (matched to
ffmpeg's decode of the source), and the cut against both. Screenshots of each
step go to the test's tmp directory (``shots/``).
"""

import datetime as dt
import logging

import numpy as np
import pytest
from selenium.webdriver.support.select import Select

from services.db import states
from tests.cutter.processes import CutterProcess
from tests.cutting.checks import gray_frames

from .browser import Page
from .conftest import ALICE, CHANNEL, QUALITY, T0

logger = logging.getLogger(__name__)

pytestmark = pytest.mark.slow

FPS = 30


def shown_time(page: Page) -> dt.datetime:
    """The UTC time the page says the frame on screen has."""
    text = page.text("now-utc")
    assert text.endswith(" UTC"), text
    return dt.datetime.fromisoformat(text.removesuffix(" UTC"))


def frame_index(when: dt.datetime) -> int:
    """The stream frame at ``when``, as the page shows it (whole milliseconds, rounded down)."""
    ms = (when - T0) / dt.timedelta(milliseconds=1)
    n = round(ms * FPS / 1000)
    assert int(n * 1000 / FPS) == ms, f"{when} is not a frame's time rounded down to the ms"
    return n


def nearest(frame: np.ndarray, frames: np.ndarray) -> int:
    errors = ((frames.astype(np.int32) - frame.astype(np.int32)) ** 2).mean(axis=1)
    return int(np.argmin(errors))


def check_frame(page: Page, frames: np.ndarray) -> int:
    """The frame on screen is the one whose time the page shows; returns its index."""
    expected = frame_index(shown_time(page))
    assert nearest(page.frame(), frames) == expected, f"page shows {page.text('now-utc')}"
    return expected


def step(page: Page, keys: str) -> None:
    before = page.text("now-utc")
    page.key(keys)
    page.wait_text_change("now-utc", before, f"the frame to change after {keys!r}")


def test_edit_a_clip_frame_exactly_and_see_it_done(
    page, api, db, pg_dsn, archive_base, source_frames, tmp_path
):
    event = str(states.add_event(
        db, "Big jump", event_start=T0 + dt.timedelta(seconds=3),
        event_end=T0 + dt.timedelta(seconds=9), category="speedrun", notes="watch the left",
    ))  # fmt: skip
    page.open()
    item = page.wait(lambda: page.driver.find_elements("css selector", f"li[data-id='{event}']"),
                     "the event in the list")[0]  # fmt: skip
    assert "UNEDITED" in item.text
    item.click()
    page.wait(lambda: page.text("ev-name") == "Big jump", "the event to open")
    assert "watch the left" in page.text("ev-sheet")
    # The sheet's 3 s to 9 s, with 30 s either side: the archive's 20 s and holes around.
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    assert page.el("range-start").get_attribute("value") == "2026-11-27T16:59:25.000"
    assert len(page.driver.find_elements("css selector", ".bar-hole")) == 2  # before and after
    page.shot("opened")

    page.el("play").click()
    page.wait(lambda: shown_time(page) >= T0 + dt.timedelta(seconds=2.5), "playback to pass 2.5 s")
    page.key(" ", blur=False)  # right after clicking play: the button must not take the space
    page.wait(lambda: page.js("return document.getElementById('video').paused"), "the pause")
    page.shot("played")
    first = check_frame(page, source_frames)

    for _ in range(3):
        step(page, ".")
    assert check_frame(page, source_frames) == first + 3
    step(page, ",")
    n_in = check_frame(page, source_frames)
    assert n_in == first + 2
    page.key("[")
    in_text = page.text("now-utc").removesuffix(" UTC")
    page.wait(lambda: page.el("in").get_attribute("value") == in_text, "in to be set")
    page.shot("in-set")

    step(page, "l")  # on 10 s
    step(page, ".")
    n_out = check_frame(page, source_frames)
    assert n_out - n_in > 10 * FPS - 10  # ten seconds on, give or take a keyframe's worth
    page.el("set-out").click()
    out_text = page.text("now-utc").removesuffix(" UTC")
    page.wait(lambda: page.el("out").get_attribute("value") == out_text, "out to be set")
    length = dt.datetime.fromisoformat(out_text) - dt.datetime.fromisoformat(in_text)
    ms = length // dt.timedelta(milliseconds=1)
    assert page.el("duration").text == f"0:{ms // 1000:02d}.{ms % 1000:03d}"
    page.shot("out-set")

    # Preview plays the clip once and stops on the first frame after it.
    page.el("preview").click()
    page.wait(lambda: not page.js("return document.getElementById('video').paused"), "preview")
    page.wait(lambda: page.js("return document.getElementById('video').paused"), "preview's end",
              timeout=30)  # fmt: skip
    assert abs(frame_index(shown_time(page)) - n_out) <= 1
    page.shot("previewed")

    page.fill("token", ALICE)
    page.fill("ev-title", "The big jump")
    page.fill("ev-description", "Frame-exact, from the editor page")
    page.fill("ev-location", "clips")
    page.el("ev-submit").click()
    page.wait(lambda: page.text("ev-state") == "EDITED", "the event to be EDITED")
    text, error = page.message()
    assert not error, text
    assert "submitted" in text
    row = states.get_event(db, event)
    assert row.state == "EDITED"
    assert row.editor == "alice@example.com"
    assert row.video_start == dt.datetime.fromisoformat(in_text)
    assert row.video_end == dt.datetime.fromisoformat(out_text)
    assert (row.video_channel, row.video_quality, row.upload_location) == (
        CHANNEL,
        QUALITY,
        "clips",
    )
    page.shot("edited")

    out = tmp_path / "clips"
    cutter = CutterProcess(
        tmp_path, pg_dsn, archive_base, "node1", [f"clips=local:{out};url=https://c.example/"]
    )
    try:
        page.wait(lambda: page.text("ev-state") == "DONE", "the page to show DONE", timeout=120)
        text, error = page.message()
        assert not error, text
        assert "is done" in text
        page.shot("done")
        row = states.get_event(db, event)
        assert row.state == "DONE"
        assert text.endswith(row.video_link)
    finally:
        assert cutter.stop() == 0, cutter.output()

    clip = out / f"The big jump-{row.video_id}.ts"
    cut = gray_frames(clip)
    # The clip is the frames from in up to (not including) out, as the page showed them.
    assert len(cut) == n_out - n_in
    assert nearest(cut[0], source_frames) == n_in
    assert nearest(cut[-1], source_frames) == n_out - 1
    assert page.console_errors() == []


def test_holes_stream_time_and_errors_are_shown(page, api, db, source_frames):
    event = str(states.add_event(db, "Mistakes"))
    end = T0 + dt.timedelta(seconds=20)
    page.open(f"?channel={CHANNEL}&quality=holey&start={T0.isoformat()}&end={end.isoformat()}")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    (hole,) = page.driver.find_elements("css selector", ".bar-hole")
    # Segment 5 (10 s to 12 s) is missing: half way along a 20 s bar, a tenth of it wide.
    assert hole.get_attribute("style") == "left: 50%; width: 10%;"
    assert "no video from 2026-11-27T17:00:02.000 to 2026-11-27T17:00:04.000" in hole.get_attribute(
        "title"
    )
    page.shot("hole")

    # Stream time: counted from the first segment of the quality (T0 here).
    Select(page.el("timebase")).select_by_value("stream")
    page.wait(
        lambda: page.el("range-start").get_attribute("value") == "0:00:00.000", "stream times"
    )
    assert page.el("range-end").get_attribute("value") == "0:00:20.000"
    assert page.text("now-stream") == "stream 0:00:00.000"
    page.fill("range-start", "0:00:04")
    page.fill("range-end", "0:00:08")
    page.el("load").click()
    page.wait(lambda: page.text("now-utc") == "2026-11-27T16:59:56.000 UTC", "the range from 4 s")
    # Frame steps before anything has played (the frame rate not yet measured).
    assert check_frame(page, source_frames) == 4 * FPS
    step(page, ".")
    step(page, ".")
    assert check_frame(page, source_frames) == 4 * FPS + 2
    assert page.text("now-stream") == "stream 0:00:04.066"
    step(page, ",")
    assert check_frame(page, source_frames) == 4 * FPS + 1
    page.shot("stream-time")

    page.fill("range-start", "soon")
    page.el("load").click()
    page.wait(lambda: page.message()[1], "an error")
    assert page.message()[0] == 'From: "soon" is not a stream time like 26:03:04.5 (H:MM:SS)'

    page.fill("in", "0:00:07")
    page.fill("out", "0:00:05")
    assert page.el("duration").text == "out is not after in"
    page.driver.find_element("css selector", f"li[data-id='{event}']").click()
    page.wait(lambda: page.text("ev-name") == "Mistakes", "the event to open")
    page.fill("ev-location", "clips")
    page.el("ev-submit").click()
    page.wait(lambda: "the end is not after the start" in page.message()[0], "the backwards clip")

    page.fill("out", "0:00:07.5")
    page.el("ev-submit").click()
    page.wait(lambda: "enter your editor token" in page.message()[0], "the missing token")
    page.fill("token", "not-a-token-of-anyone-here")
    page.el("ev-submit").click()
    page.wait(lambda: "(HTTP 401)" in page.message()[0], "the wrong token refused")
    assert page.message() == (
        "that token is not an editor's: check it, or ask for a new one (HTTP 401)",
        True,
    )
    page.fill("token", ALICE)
    page.fill("ev-location", " ")
    page.el("ev-submit").click()
    page.wait(lambda: "(HTTP 400)" in page.message()[0], "the empty location refused")
    assert page.message()[0] == "upload_location is empty: it is needed (HTTP 400)"
    page.shot("api-error")
    assert states.get_event(db, event).state == "UNEDITED"  # nothing written

    # The list by state, with a cutter's error on it.
    states.edit(db, event, video_start=T0, video_end=end, video_title="t", video_channel=CHANNEL,
                upload_location="clips", editor="e@x")  # fmt: skip
    row = states.claim(db, states.get_event(db, event), "node1")
    states.unclaim_failed(db, row.id, "node1", "ffmpeg: no video in range")
    Select(page.el("state-filter")).select_by_visible_text("UNEDITED")
    page.wait(lambda: "ffmpeg: no video in range" in page.text("event-list"), "the error listed")
    Select(page.el("state-filter")).select_by_visible_text("DONE")
    page.wait(lambda: page.text("event-list") == "no events in this state", "an empty state")

    # A narrow window: one column, nothing wider than the window.
    page.driver.set_window_size(480, 900)
    page.wait(lambda: page.js("return innerWidth") <= 480, "the narrow window")
    assert page.js("return document.documentElement.scrollWidth <= innerWidth")
    page.shot("narrow")


# Cases for the page's own time and playlist code, run in the browser on the shipped
# modules: (function, arguments, expected result or "throws: message").
MODULE_CASES = [
    ("parseUtc", ["2026-11-27T17:05:12.5"], 1795799112500000),
    ("parseUtc", ["2026-11-27 17:05:12.123456Z"], 1795799112123456),
    ("parseUtc", ["2026-11-27T17:05"], 'throws: "2026-11-27T17:05" is not a time: give UTC'),
    ("parseUtc", ["2026-02-29T00:00:00"], 'throws: "2026-02-29T00:00:00" is not a time (no such'),
    ("parseUtc", ["2026-11-27T24:00:00"], "throws: is not a time (no such date or hour)"),
    ("formatUtc", [1795799112123456, 6], "2026-11-27T17:05:12.123456"),
    ("formatUtc", [1795799112123456, 0], "2026-11-27T17:05:12"),
    ("apiTime", [1795799112000001], "2026-11-27T17:05:12.000001Z"),
    ("parseElapsed", ["26:03:04.5"], ((26 * 60 + 3) * 60 + 4.5) * 1e6),
    ("parseElapsed", ["3:04"], 184e6),
    ("parseElapsed", ["-0:01"], -1e6),
    ("parseElapsed", ["4:60"], "throws: seconds 60 are over 59"),
    ("parseElapsed", ["1:60:00"], "throws: minutes 60 are over 59"),
    ("parseElapsed", ["an hour"], 'throws: "an hour" is not a stream time'),
    ("formatElapsed", [(26 * 3600 + 4.5) * 1e6], "26:00:04.500"),
    ("formatDuration", [65_432_000], "1:05.432"),
    ("formatDuration", [3_723_000_000], "1:02:03.000"),
]

RUN_MODULE_CASES = """
const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
Promise.all([import("/static/editor/times.js"), import("/static/editor/playlist.js")])
  .then(([times, playlist]) => {
    const fns = { ...times, ...playlist };
    done(cases.map(([name, args]) => {
      try { return fns[name](...args); } catch (e) { return "throws: " + e.message; }
    }));
  })
  .catch((e) => done("import failed: " + e.message));
"""

PLAYLIST = """#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:00:00.123456Z
#EXTINF:2.002,
/segments/a.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:00:04.000000Z
#EXTINF:2,
/segments/b.ts
#EXT-X-ENDLIST
"""


def test_time_and_playlist_modules(chromium, api):
    chromium.get(f"{api.url}/editor")
    got = chromium.execute_async_script(RUN_MODULE_CASES, [[f, a] for f, a, _ in MODULE_CASES])
    for (name, args, want), result in zip(MODULE_CASES, got, strict=True):
        if isinstance(want, str) and want.startswith("throws: "):
            assert isinstance(result, str), (name, args, result)
            assert result.startswith("throws: ")
            assert want.removeprefix("throws: ") in result, (name, args, result)
        else:
            assert result == want, (name, args)

    parsed, holes = chromium.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        import("/static/editor/playlist.js").then(({ parseMediaPlaylist, findHoles }) => {
          const p = parseMediaPlaylist(arguments[0]);
          const start = Date.UTC(2026, 10, 27, 17) * 1000;
          done([p, findHoles(p.segments, start, start + 8e6)]);
        });
        """,
        PLAYLIST,
    )
    start = 1795798800000000  # 2026-11-27T17:00:00 in µs
    assert parsed == {
        "ended": True,
        "segments": [
            {"start": start + 123456, "duration": 2002000, "url": "/segments/a.ts"},
            {"start": start + 4000000, "duration": 2000000, "url": "/segments/b.ts"},
        ],
    }
    # Not covered: before the first segment, between the two, and after the last.
    assert holes == [
        {"start": start, "end": start + 123456},
        {"start": start + 2125456, "end": start + 4000000},
        {"start": start + 6000000, "end": start + 8000000},
    ]


def test_new_event_cancel_and_reset_from_the_page(page, api, db):
    page.open()
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    page.fill("token", ALICE)
    page.el("new-event").click()
    page.fill("new-name", "Spotted live")
    page.fill("new-category", "moment")
    page.el("new-form").find_element("css selector", "button[type=submit]").click()
    page.wait(lambda: page.text("ev-name") == "Spotted live", "the new event to open")
    (row,) = states.list_events(db)
    assert (row.sheet_name, row.category, row.state) == ("Spotted live", "moment", "UNEDITED")

    page.key("[")
    step(page, "l")
    page.key("]")
    page.fill("ev-location", "clips")
    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "EDITED")
    page.click("ev-cancel")
    page.answer("yes, cancel it")
    page.wait(lambda: page.text("ev-state") == "UNEDITED", "the cancel")
    assert page.message() == ('"Spotted live": edit cancelled', False)
    assert states.get_event(db, row.id).state == "UNEDITED"

    # A cutter gave up on it: the error shows on the page, and reset clears it.
    page.click("ev-submit")
    page.wait(lambda: page.text("ev-state") == "EDITED", "EDITED again")
    claimed = states.claim(db, states.get_event(db, row.id), "node1")
    states.unclaim_failed(db, claimed.id, "node1", "upload location 'clips' is full")
    page.wait(lambda: page.text("ev-error") == "Error: upload location 'clips' is full",
              "the error from polling")  # fmt: skip
    assert page.message() == ("\"Spotted live\": upload location 'clips' is full", True)
    page.shot("cutter-error")
    page.click("ev-reset")
    page.answer("yes, reset it")
    page.wait(lambda: page.message()[0] == '"Spotted live": reset: edit it afresh', "the reset")
    assert not page.el("ev-error").is_displayed()
    after = states.get_event(db, row.id)
    assert (after.state, after.error) == ("UNEDITED", None)
    assert page.console_errors() == []

"""The editor's pictures in headless Chromium: the coverage map as navigator, the
thumbnail strip, the waveform, the bar's marks and legend, events' thumbnails, and
``/frame`` against the frame the page's player shows.

Screenshots at 1280x720 and at a narrow width go to the test's ``shots/``.
"""

import datetime as dt
import random

import pytest

from services.db import states
from tests.restreamer.images import png_pixels

from .browser import Page
from .conftest import CHANNEL, T0

pytestmark = pytest.mark.slow

FPS = 30
US = dt.timedelta(microseconds=1)


def nearest(frame, frames) -> int:
    errors = ((frames.astype(int) - frame.reshape(1, -1).astype(int)) ** 2).mean(axis=1)
    return int(errors.argmin())


def utc_us(when: dt.datetime) -> int:
    return (when - dt.datetime(1970, 1, 1)) // US


def pictures_loaded(page: Page) -> bool:
    return page.js("""
        const imgs = [...document.querySelectorAll('.strip img, .wave img')];
        return imgs.length > 1 && imgs.every((i) => i.complete && i.naturalWidth > 0)
          && document.querySelectorAll('#coverage-nav g.cell').length > 0;
    """)


def test_map_strip_waveform_and_marks(page, api, db, tmp_path):
    event = str(states.add_event(db, "Jump", event_start=T0 + dt.timedelta(seconds=3)))
    start, end = T0 - dt.timedelta(seconds=5), T0 + dt.timedelta(seconds=25)
    page.open(f"?channel={CHANNEL}&quality=holey&start={start.isoformat()}&end={end.isoformat()}")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    page.wait(lambda: pictures_loaded(page), "the map, thumbnails and waveform")
    cells = page.js("""return [...document.querySelectorAll('#coverage-nav g.cell')]
        .map((c) => [c.dataset.quality, c.dataset.hour, c.classList.contains('loaded')])""")
    assert cells == [
        ["holey", "2026-11-27T16", True], ["holey", "2026-11-27T17", True],
        ["source", "2026-11-27T16", False], ["source", "2026-11-27T17", False],
    ]  # fmt: skip
    # thumbnails only where there is video: the range's first 5 s and last 5 s are holes
    thumbs = page.js("""return [...document.querySelectorAll('.strip .thumb')]
        .map((t) => t.querySelector('img') ? t.querySelector('img').title : null)""")
    assert thumbs[0] is None
    assert thumbs[-1] is None
    assert sum(t is not None for t in thumbs) >= 3
    marks = page.js(
        "return [...document.querySelectorAll('.bar-marks .mark')].map((m) => m.textContent)"
    )
    assert marks[:2] == ["16:59:50", "16:59:55"]  # 5 s apart, seconds shown
    legend = page.js("return document.querySelector('.bar-legend').textContent")
    assert legend == "videomissingclip (in to out)"
    page.fill("in", "2026-11-27T16:59:55")
    page.fill("out", "2026-11-27T17:00:05")
    clip = page.js("return document.querySelector('.tl-clip').style.cssText")
    assert clip == "left: 26.6667%; width: 33.3333%;"  # 8 s into 30, 10 s long
    selector = f"li[data-id='{event}'] img.ev-thumb"
    found = page.wait(lambda: page.driver.find_elements("css selector", selector), "the thumbnail")
    loaded = "return arguments[0].complete && arguments[0].naturalWidth > 0"
    page.wait(lambda: page.js(loaded, found[0]), "the event's thumbnail to load")
    page.js("window.scrollTo(0, 0)")
    page.shot("pictures-1280x720")

    # a cell of the map loads its hour, in its quality
    page.driver.find_element(
        "css selector", "#coverage-nav g.cell[data-quality='source'][data-hour='2026-11-27T17']"
    ).click()
    page.wait(lambda: page.el("range-start").get_attribute("value") == "2026-11-27T17:00:00.000",
              "the hour to load")  # fmt: skip
    assert page.el("range-end").get_attribute("value") == "2026-11-27T18:00:00.000"
    assert page.el("quality").get_attribute("value") == "source"
    page.wait(
        lambda: page.text("now-utc") == "2026-11-27T17:00:00.000 UTC", "the hour's first frame"
    )
    marks = page.js(
        "return [...document.querySelectorAll('.bar-marks .mark')].map((m) => m.textContent)"
    )
    assert marks == [f"17:{m}0" for m in range(6)]  # an hour: ten-minute marks, no seconds
    assert "waveform" not in page.js("return document.querySelector('.tl-note').textContent || ''")

    page.open(f"?channel={CHANNEL}&quality=holey&start={start.isoformat()}&end={end.isoformat()}")
    page.driver.set_window_size(600, 900)
    page.wait(lambda: page.js("return innerWidth") <= 600, "the narrow window")
    page.wait(lambda: pictures_loaded(page), "the strip drawn again")
    assert page.js("return document.documentElement.scrollWidth <= innerWidth")
    page.shot("pictures-narrow")
    page.js("document.getElementById('coverage-nav').scrollIntoView()")
    page.shot("pictures-narrow-map")
    assert page.console_errors() == []


def test_frame_route_matches_the_player_at_20_random_times(page, api, source_frames):
    end = T0 + dt.timedelta(seconds=20)
    page.open(f"?channel={CHANNEL}&quality=source&start={T0.isoformat()}&end={end.isoformat()}")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    rng = random.Random(20)
    for _ in range(20):
        n = rng.randrange(len(source_frames))
        # a few ms into frame n: the player's seek lands 2 ms past the time it is given
        when = T0 + dt.timedelta(microseconds=-(-n * 1_000_000 // FPS) + rng.randrange(3000, 30000))
        before = page.text("now-utc")
        page.js("window.fastsegEditor.player.seekStream(arguments[0])", utc_us(when))
        page.wait(lambda b=before: page.text("now-utc") != b and page.js(
            "return !document.getElementById('video').seeking"), f"the seek to {when}")  # fmt: skip
        shown = nearest(page.frame(), source_frames)
        stamp = when.isoformat(timespec="microseconds") + "Z"
        response = api.get(f"/frame/{CHANNEL}/source.png?timestamp={stamp}")
        assert response.status_code == 200, response.text
        served = nearest(png_pixels(response.content), source_frames)
        assert (shown, served) == (n, n), f"at {stamp}: player {shown}, /frame {served}"

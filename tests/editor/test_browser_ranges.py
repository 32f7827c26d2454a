"""The editor page builds a clip of three ranges with a crossfade; a real cutter cuts it."""

import datetime as dt

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from services.db import states
from tests.cutter.processes import CutterProcess
from tests.cutting.checks import gray_frames

from .conftest import ALICE, T0
from .test_browser import nearest

pytestmark = pytest.mark.slow


def utc(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def add_range(shown) -> None:
    before = len(shown.driver.find_elements("css selector", "#clip-ranges li.range"))
    shown.driver.find_element(By.XPATH, "//div[@id='clip-ranges']/button[.='add range']").click()
    shown.wait(
        lambda: len(shown.driver.find_elements("css selector", "#clip-ranges li.range")) > before,
        "a new range",
    )


def test_three_ranges_with_a_crossfade_to_done(
    page,
    api,
    db,
    pg_dsn,
    archive_base,
    source_frames,
    tmp_path,
):
    event = str(states.add_event(db, "Three bits", event_start=T0, event_end=T0))
    page.open()
    page.wait(
        lambda: page.driver.find_elements("css selector", f"li[data-id='{event}']"), "the event"
    )[0].click()
    page.wait(lambda: page.text("ev-name") == "Three bits", "the event to open")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")

    spans = [(1, 4), (6, 9), (12, 15)]
    for i, (a, b) in enumerate(spans):
        if i:
            add_range(page)
        page.fill("in", utc(a))
        page.fill("out", utc(b))
    joins = page.driver.find_elements("css selector", "#clip-ranges li.join select")
    assert len(joins) == 2, (
        page.console_errors(),
        page.el("clip-ranges").get_attribute("innerHTML"),
    )
    Select(joins[1]).select_by_value("crossfade")
    page.wait(
        lambda: page.driver.find_element("css selector", ".ranges-total").text == "clip 0:08.000",
        "9 s of ranges less the 1 s crossfade",
    )
    items = page.driver.find_elements("css selector", "#clip-ranges li.range")
    assert [li.text.split(" (")[0] for li in items] == [f"{utc(a)} to {utc(b)}" for a, b in spans]
    page.shot("three-ranges")

    page.fill("token", ALICE)
    page.fill("ev-title", "Three bits")
    page.fill("ev-location", "clips")
    page.el("ev-submit").click()
    page.wait(lambda: page.text("ev-state") == "EDITED", "the event to be EDITED")
    text, error = page.message()
    assert not error, text
    assert "(0:08.000)" in text
    row = states.get_event(db, event)
    assert row.video_ranges == [
        [T0 + dt.timedelta(seconds=a), T0 + dt.timedelta(seconds=b)] for a, b in spans
    ]
    assert row.video_transitions == [None, {"type": "crossfade", "seconds": 1}]

    out = tmp_path / "clips"
    cutter = CutterProcess(tmp_path, pg_dsn, archive_base, "node1", [f"clips=local:{out}"])
    try:
        page.wait(lambda: page.text("ev-state") == "DONE", "the page to show DONE", timeout=180)
    finally:
        assert cutter.stop() == 0, cutter.output()
    row = states.get_event(db, event)
    cut = gray_frames(out / f"Three bits-{row.video_id}.ts")
    assert len(cut) == 8 * 30
    assert nearest(cut[0], source_frames) == 30
    assert nearest(cut[-1], source_frames) == 15 * 30 - 1
    assert page.console_errors() == []

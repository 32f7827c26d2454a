"""The chat beside the player in headless Chromium: the line shown last is the last
message at or before the frame on screen, through seeks and playback at 2x; deletions
are struck through; the rate strip marks the burst, and its moment seeks there.

The archive is tests/editor's 20 s from T0 with a chat of one line a second (at
T0 + i + 0.5 s, from five minutes before T0), a burst of 20 lines at T0 + 12 s
and a CLEARMSG of line 3 at T0 + 6 s.
"""

import datetime as dt
import shutil

import pytest
from selenium.webdriver.common.by import By

from services.archive import chat, times

from .browser import Page
from .conftest import T0
from .test_browser import shown_time

pytestmark = pytest.mark.slow


def line(at: dt.datetime, text: str, msg_id: str) -> dict:
    t = times.to_timestamp(at)
    return {"command": "PRIVMSG", "params": ["#test", text], "sender": "viewer",
            "user": "viewer", "host": None, "time": t, "time_range": 0,
            "tags": {"id": msg_id, "display-name": "Viewer"}, "receivers": {"a": t}}  # fmt: skip


def chat_lines() -> list[dict]:
    """Five minutes of one line a second before the video too, so the burst stands out."""
    messages = [line(T0 + dt.timedelta(seconds=i + 0.5), f"line {i}", f"m{i}")
                for i in range(-300, 20)]  # fmt: skip
    at = T0 + dt.timedelta(seconds=12)
    messages += [line(at + dt.timedelta(milliseconds=10 * i), f"burst {i}", f"b{i}")
                 for i in range(20)]  # fmt: skip
    cleared = times.to_timestamp(T0 + dt.timedelta(seconds=6))
    messages.append({"command": "CLEARMSG", "params": ["#test", "line 3"], "sender": None,
                     "user": None, "host": None, "time": cleared, "time_range": 0,
                     "tags": {"target-msg-id": "m3"}, "receivers": {"a": cleared}})  # fmt: skip
    return messages


@pytest.fixture
def chat_page(chromium, servers, archive_base, db, pg_dsn, token_file, tmp_path):  # noqa: F811
    base = tmp_path / "base"
    shutil.copytree(archive_base, base)
    chat_dir = base / "test" / "chat"
    for minute, group in chat.split_minutes(chat_lines()).items():
        chat.write_batch(str(chat_dir), minute, group)
    server = servers.start(base, "--db", pg_dsn, "--editor-token-file", str(token_file))
    shots = tmp_path / "shots"
    shots.mkdir()
    chromium.set_window_size(1280, 900)
    page = Page(chromium, server.url, shots)
    page.open()
    chromium.execute_script("localStorage.clear()")
    page.wait(lambda: page.text("now-utc").endswith(" UTC"), "the first frame")
    return page


def last_line(page) -> str:
    items = page.driver.find_elements(By.CSS_SELECTOR, "#chat-lines li .said")
    return items[-1].text if items else ""


def expected(page) -> str:
    """The text of the last message at or before the frame on screen."""
    seconds = (shown_time(page) - T0).total_seconds()
    best = None
    for m in chat_lines():
        if m["command"] == "PRIVMSG" and m["time"] <= times.to_timestamp(T0) + seconds:
            if best is None or m["time"] >= best["time"]:
                best = m
    return best["params"][1] if best else ""


def seek(page, seconds: float) -> None:
    us = int(times.to_timestamp(T0 + dt.timedelta(seconds=seconds)) * 1_000_000)
    page.js("window.fastsegEditor.player.seekStream(arguments[0])", us)
    page.wait(lambda: abs((shown_time(page) - T0).total_seconds() - seconds) < 0.1,
              f"the frame at T0 + {seconds} s")  # fmt: skip


def in_step(page) -> None:
    page.wait(lambda: last_line(page) == expected(page),
              f"the chat to show {expected(page)!r} (shows {last_line(page)!r})")  # fmt: skip


def test_the_chat_follows_the_frame_on_screen(chat_page):
    page = chat_page
    for seconds in (3.0, 0.2, 7.6, 12.3, 4.0, 18.9):
        seek(page, seconds)
        in_step(page)
    seek(page, 7.0)  # line 3 was deleted at T0 + 6 s: struck through from then on
    deleted = page.driver.find_elements(By.CSS_SELECTOR, "#chat-lines li.deleted .said")
    assert [d.text for d in deleted] == ["line 3"]
    seek(page, 5.0)
    assert page.driver.find_elements(By.CSS_SELECTOR, "#chat-lines li.deleted") == []

    page.js("document.getElementById('video').playbackRate = 2")
    seek(page, 1.0)
    page.js("document.getElementById('video').play()")
    page.wait(lambda: (shown_time(page) - T0).total_seconds() > 9, "playback at 2x past 9 s")
    page.js("document.getElementById('video').pause()")
    in_step(page)
    assert page.console_errors() == []


def test_the_burst_is_a_moment_that_seeks(chat_page):
    page = chat_page
    page.wait(lambda: page.driver.find_elements(By.CSS_SELECTOR, "#chat-moments li"),
              "the moments of the loaded range")  # fmt: skip
    bars = page.driver.find_elements(By.CSS_SELECTOR, "#chat-rate .rate-bar")
    assert len(bars) >= 2
    moments = page.driver.find_elements(By.CSS_SELECTOR, "#chat-moments li")
    assert len(moments) == 1
    assert "burst" in moments[0].text
    seek(page, 1.0)
    button = moments[0].find_element(By.TAG_NAME, "button")
    page.js("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    # the moment's 10-second bin (UTC multiples of 10 s) holds T0 + 12 s: it starts at T0 + 8 s
    page.wait(lambda: abs((shown_time(page) - T0).total_seconds() - 8) < 0.2,
              f"the moment (the frame is at {shown_time(page)})")  # fmt: skip
    in_step(page)

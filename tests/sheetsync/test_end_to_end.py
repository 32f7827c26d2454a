"""A row typed into the sheet becomes a clip whose link the sheet then shows (real cutter)."""

import datetime as dt

import pytest

from services.db import states
from tests.cutter.conftest import CHANNEL, QUALITY, T0, archive, cutters  # noqa: F401
from tests.servers import ServiceProcess
from tests.waiting import wait_until

from .conftest import write_config


@pytest.mark.slow
def test_a_sheet_row_becomes_a_clip_whose_link_reaches_the_sheet(
    tmp_path,
    sheets,
    db,
    pg_dsn,
    archive,  # noqa: F811 - the fixture imported above
    cutters,  # noqa: F811
):
    start = T0 + dt.timedelta(seconds=3)
    sheets.set_row("Day 1", 2, [start.isoformat() + "Z", "", "speedrun", "a fine moment"])
    sync = ServiceProcess(
        "services.sheetsync", str(write_config(tmp_path, sheets)), "--db", pg_dsn,
        "--base-dir", str(tmp_path), "--metrics-port", "0",
    )  # fmt: skip
    cutter = None
    try:
        event_id = wait_until(lambda: sheets.cell("Day 1", "F2"), "the row's id", timeout=60)
        wait_until(lambda: states.list_events(db), "the event", timeout=60)
        event = states.get_event(db, event_id)
        assert (event.event_start, event.description) == (start, "a fine moment")
        # An editor picks it up...
        states.edit(
            db, event_id, video_start=start, video_end=start + dt.timedelta(seconds=4),
            video_title="A fine moment", video_channel=CHANNEL, video_quality=QUALITY,
            upload_location="clips", editor="ed@example.com",
        )  # fmt: skip
        wait_until(lambda: sheets.cell("Day 1", "G2") == "EDITED", "EDITED in the sheet")
        # ...and a cutter cuts and uploads it.
        out = tmp_path / "clips"
        cutter = cutters.start(
            pg_dsn, archive, "node1", [f"clips=local:{out};url=https://clips.example/"]
        )
        done = wait_until(
            lambda: (e := states.get_event(db, event_id)).state == "DONE" and e, "DONE"
        )
        assert done.video_link.startswith("https://clips.example/A%20fine%20moment-")
        wait_until(
            lambda: sheets.row("Day 1", 2)[6:] == ["DONE", "", done.video_link],
            "DONE and the link in the sheet",
            timeout=60,
        )
        # Counted once the write is answered: a moment after the sheet shows it.
        wait_until(lambda: sync.metric("fastseg_sheetsync_writebacks_total") >= 3,
                   "three write-backs counted (id, EDITED, DONE)", timeout=30)  # fmt: skip
        assert sync.metric("fastseg_sheetsync_events_added_total") == 1
    finally:
        assert sync.stop() == 0
        if cutter is not None:
            assert cutter.stop() == 0


@pytest.mark.slow
def test_a_change_in_the_database_reaches_the_sheet_before_the_next_poll(
    tmp_path, sheets, db, pg_dsn
):
    sheets.set_row("Day 1", 2, ["2026-11-27T17:00:00Z", "", "speedrun", "a moment"])
    sync = ServiceProcess(
        "services.sheetsync", str(write_config(tmp_path, sheets)), "--db", pg_dsn,
        "--base-dir", str(tmp_path), "--poll-interval", "600", "--log-level", "DEBUG",
    )  # fmt: skip
    try:
        event_id = wait_until(lambda: sheets.cell("Day 1", "F2"), "the row's id", timeout=60)
        sync.wait_for_log("listening for event changes", timeout=60)
        wait_until(lambda: states.list_events(db), "the event", timeout=60)
        wait_until(lambda: sheets.cell("Day 1", "G2") == "UNEDITED", "UNEDITED in the sheet")
        # Only the notification wakes it: the next poll is ten minutes away.
        states.manual_upload(db, event_id, "https://v.example/1")
        wait_until(lambda: sheets.cell("Day 1", "G2") == "DONE", "DONE in the sheet", timeout=60)
    finally:
        assert sync.stop() == 0

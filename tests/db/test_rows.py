"""Typed event rows: the class names every column of the table, and rows come back as it."""

import datetime as dt

from services.db import states
from services.db.rows import Event


def test_event_names_every_column_of_the_table(db):
    columns = [
        r.column_name
        for r in db.query(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'events'"
            " ORDER BY ordinal_position"
        )
    ]
    assert set(Event.columns()) == set(columns), (
        "services/db/rows.py Event and the events table differ: add a field per new column"
    )


def test_operator_and_cutter_changes_return_typed_rows(db):
    event_id = states.add_event(db, "Sheet", category="Highlights")
    row = states.get_event(db, event_id)
    assert isinstance(row, Event)
    assert (row.id, row.sheet_name, row.category, row.state) == (
        event_id,
        "Sheet",
        "Highlights",
        "UNEDITED",
    )
    start = dt.datetime(2026, 1, 1, 12)
    edited = states.edit(
        db,
        event_id,
        video_ranges=[[start, start + dt.timedelta(seconds=5)]],
        video_title="t",
        video_channel="ch",
        upload_location="here",
        editor="e@example.org",
    )
    assert isinstance(edited, Event)
    # one range is stored as video_start/video_end alone
    assert (edited.state, edited.video_ranges, edited.video_end) == (
        "EDITED",
        None,
        start + dt.timedelta(seconds=5),
    )
    claimed = states.claim(db, edited, "node-a")
    assert isinstance(claimed, Event)
    assert claimed.as_dict()["uploader"] == "node-a"
    assert states.claim(db, edited, "node-b") is None  # already taken
    assert [r.id for r in states.list_events(db, "CLAIMED")] == [event_id]

"""Adding events and changing their sheet inputs inside a caller's transaction."""

import datetime as dt
import uuid

import pytest

from services.db import states

T0 = dt.datetime(2026, 11, 27, 17, 5)


def test_insert_with_a_chosen_id_and_update_only_sheet_inputs(db):
    chosen = uuid.uuid4()
    made = db.transact(lambda cur: states.insert_event(cur, "Day 1", event_id=chosen, notes="n"))
    assert made == chosen
    start = T0
    states.edit(
        db, chosen, video_start=start, video_end=start + dt.timedelta(seconds=5),
        video_title="T", video_channel="ch", upload_location="clips", editor="ed",
    )  # fmt: skip

    def update(**inputs):
        return db.transact(lambda cur: states.update_sheet_inputs(cur, chosen, **inputs))

    assert update(notes="n") is False
    assert update(notes="new", image_links=["a", "b"]) is True
    assert update() is False
    row = states.get_event(db, chosen)
    assert (row.notes, row.image_links, row.state, row.video_title) == (
        "new", ["a", "b"], "EDITED", "T",
    )  # fmt: skip
    missing = uuid.uuid4()
    assert db.transact(lambda cur: states.update_sheet_inputs(cur, missing, notes="x")) is None


def test_update_refuses_what_is_not_a_sheet_input(db):
    event = states.add_event(db, "Day 1")
    with pytest.raises(TypeError, match="not sheet inputs: \\['state'\\]"):
        db.transact(lambda cur: states.update_sheet_inputs(cur, event, state="DONE"))
    with pytest.raises(states.BadEventId):
        db.transact(lambda cur: states.update_sheet_inputs(cur, "nope", notes="x"))

"""Versions, writers and drafts (docs/DESIGN.md#versions): every write by any client is seen.

The trigger, not the callers, bumps the version, so a cutter's, the sheet sync's
and a raw SQL write count as much as an editor's; a change sent with
``if_version`` against a newer version is refused, naming the last write.
"""

import datetime as dt

import pytest

from services.db import Database, states

T0 = dt.datetime(2026, 11, 27, 17, 0, 0)
EDIT = {
    "video_start": T0,
    "video_end": T0 + dt.timedelta(seconds=10),
    "video_title": "A clip",
    "video_channel": "ch",
    "upload_location": "clips",
}


def test_every_write_by_any_client_is_a_new_version_with_its_writer(db, pg_dsn):
    event = states.add_event(db, "Day 1")
    row = states.get_event(db, event)
    assert (row.version, row.last_changes, row.write_as) == (1, ["created"], None)
    assert row.last_writer == "fastseg-tests"

    row = states.edit(db, event, editor="alice@example.com", **EDIT)
    assert row.version == 2
    assert row.last_writer == "alice@example.com"
    assert row.write_as is None  # moved into last_writer, never kept
    assert "video_title" in row.last_changes
    assert "state" in row.last_changes

    cutter = Database(pg_dsn, application_name="fastseg-cutter node1")
    try:
        claimed = states.claim(cutter, row, "node1")
    finally:
        cutter.close()
    assert (claimed.version, claimed.last_writer) == (3, "fastseg-cutter node1")
    assert claimed.last_changes == ["state", "uploader"]

    db.query("UPDATE events SET notes = 'by hand' WHERE id = %s", (event,))
    row = states.get_event(db, event)
    assert (row.version, row.last_changes, row.last_writer) == (4, ["notes"], "fastseg-tests")

    # A write that changes nothing is no new version (nor a new writer).
    db.query("UPDATE events SET notes = 'by hand', write_as = 'someone' WHERE id = %s", (event,))
    assert states.get_event(db, event).version == 4
    assert states.get_event(db, event).last_writer == "fastseg-tests"
    db.query("UPDATE events SET version = 1 WHERE id = %s", (event,))
    assert states.get_event(db, event).version == 4  # nobody sets it but the trigger


def test_a_change_based_on_an_older_version_is_refused_naming_the_last_write(db):
    event = states.add_event(db, "Day 1")
    states.edit(db, event, editor="alice@example.com", if_version=1, **EDIT)
    before = states.get_event(db, event)
    with pytest.raises(states.VersionConflict) as info:
        states.edit(db, event, editor="bob@example.com", if_version=1, **EDIT)
    message = str(info.value)
    assert f"event '{event}' changed since version 1: it is version 2" in message
    assert "last written by alice@example.com at" in message
    assert "video_title" in message
    assert info.value.current.version == 2
    assert states.get_event(db, event) == before  # nothing written

    for change in (
        lambda v: states.cancel(db, event, if_version=v),
        lambda v: states.reset(db, event, if_version=v),
        lambda v: states.save_draft(db, event, {"video_title": "x"}, "b@x.org", if_version=v),
        lambda v: states.manual_upload(db, event, "https://x.org/v", if_version=v),
        lambda v: states.check_editable(db, event, v),
    ):
        with pytest.raises(states.VersionConflict):
            change(1)
    assert states.get_event(db, event) == before
    assert states.cancel(db, event, if_version=2).version == 3
    # Stale and in the wrong state: the staleness is what is said (the caller looks again).
    with pytest.raises(states.VersionConflict):
        states.cancel(db, event, if_version=2)
    with pytest.raises(states.IllegalTransition, match="it is UNEDITED"):
        states.cancel(db, event, if_version=3)


def test_a_draft_is_kept_without_submitting_and_cleared_by_the_edit(db):
    event = states.add_event(db, "Day 1")
    draft = {"video_title": "Work in progress", "video_start": "2026-11-27T17:00:01Z"}
    row = states.save_draft(db, event, draft, "alice@example.com")
    assert (row.state, row.draft, row.draft_editor) == ("UNEDITED", draft, "alice@example.com")
    assert row.video_title is None  # the edit inputs are untouched
    assert row.draft_time is not None
    assert (row.version, row.last_writer) == (2, "alice@example.com")

    edited = states.edit(db, event, editor="bob@example.com", **EDIT)
    assert (edited.draft, edited.draft_editor, edited.draft_time) == (None, None, None)

    # A draft of an EDITED event leaves the submitted edit alone; an empty one clears it.
    row = states.save_draft(db, event, {"video_title": "better"}, "bob@example.com")
    assert (row.state, row.video_title, row.draft) == (
        "EDITED",
        "A clip",
        {"video_title": "better"},
    )
    assert states.save_draft(db, event, {}, "bob@example.com").draft is None


def test_a_forced_reset_takes_a_done_event_back(db):
    event = states.add_event(db, "Day 1")
    states.manual_upload(db, event, "https://example.com/v")
    with pytest.raises(states.IllegalTransition, match="cannot reset .* it is DONE"):
        states.reset(db, event)
    row = states.reset(db, event, force=True, writer="admin@example.com")
    assert (row.state, row.video_link, row.upload_time) == ("UNEDITED", None, None)
    assert row.last_writer == "admin@example.com"

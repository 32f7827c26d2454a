"""The sheet sync against a fake Google Sheets and a real database."""

import datetime as dt
import uuid

import pytest

from services.db import states
from services.sheetsync.sheets import SheetsError

from .conftest import COLUMNS, metric

DAY1 = "Day 1"


def row(start="", end="", category="", description="", notes="", event_id=""):
    return [start, end, category, description, notes, event_id]


def events_by_id(db):
    return {str(e.id): e for e in states.list_events(db)}


def id_of(sheets, number, sheet=DAY1):
    return sheets.cell(sheet, f"F{number}")


def test_rows_in_ids_out(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", "09:31:15", "speedrun", "a clean run", "n"))
    sheets.set_row(DAY1, 4, row("2026-11-27T18:00:00Z", category="fail"))  # row 3 left empty
    sheets.set_row("Day 2", 2, row(description="no times yet"))
    sheets.set_row("Don't sync", 2, row(description="not ours"))
    sync = make_sync()

    result = sync.sync_once()
    assert (result.rows, result.added, result.written) == (3, 3, 3)
    found = events_by_id(db)
    first = found[id_of(sheets, 2)]
    assert first.sheet_name == DAY1
    assert first.event_start == dt.datetime(2026, 11, 27, 17, 30)  # 09:30 in Vancouver
    assert first.event_end == dt.datetime(2026, 11, 27, 17, 31, 15)
    assert (first.category, first.description, first.notes) == ("speedrun", "a clean run", "n")
    assert found[id_of(sheets, 4)].category == "fail"
    assert found[id_of(sheets, 2, "Day 2")].sheet_name == "Day 2"
    assert id_of(sheets, 3) == ""
    assert sheets.row(DAY1, 2)[6] == "UNEDITED"
    assert not any(sheets.row("Don't sync", 2)[5:])
    # Only the sync's own cells were written, one by one.
    assert all(w.split("!")[1][0] in "FGH" for w in sheets.written)

    writes = len(sheets.written)
    again = sync.sync_once()
    assert (again.added, again.updated, again.written) == (0, 0, 0)
    assert len(sheets.written) == writes
    assert len(events_by_id(db)) == 3
    assert metric(sync, "fastseg_sheetsync_rows_read_total") == 6
    assert metric(sync, "fastseg_sheetsync_events_added_total") == 3
    assert metric(sync, "fastseg_sheetsync_writebacks_total") == 3


def edit(db, event_id):
    start = dt.datetime(2026, 11, 27, 17, 30)
    states.edit(
        db, event_id, video_start=start, video_end=start + dt.timedelta(seconds=20),
        video_title="A title", video_channel="ch", upload_location="clips", editor="ed@x",
    )  # fmt: skip


def test_sheet_edits_change_only_sheet_inputs(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", category="speedrun", description="first words"))
    sync = make_sync()
    sync.sync_once()
    event_id = id_of(sheets, 2)
    edit(db, event_id)

    sheets.set_cell(DAY1, "D2", "better words")
    sheets.set_cell(DAY1, "A2", "09:29")
    result = sync.sync_once()
    assert result.updated == 1
    event = states.get_event(db, event_id)
    assert event.description == "better words"
    assert event.event_start == dt.datetime(2026, 11, 27, 17, 29)
    assert (event.state, event.video_title) == ("EDITED", "A title")
    assert sheets.cell(DAY1, "G2") == "EDITED"
    assert metric(sync, "fastseg_sheetsync_events_updated_total") == 1


def test_state_error_and_link_follow_the_event(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="goes well"))
    sheets.set_row(DAY1, 3, row("09:40", description="goes wrong"))
    sync = make_sync()
    sync.sync_once()
    good, bad = id_of(sheets, 2), id_of(sheets, 3)
    for event_id in (good, bad):
        edit(db, event_id)
        assert states.claim(db, states.get_event(db, event_id), "node1") is not None
    states.unclaim_failed(db, bad, "node1", "ffmpeg: no video in range")
    sync.sync_once()
    assert sheets.row(DAY1, 2)[6:] == ["CLAIMED"]
    assert sheets.row(DAY1, 3)[6:] == ["UNEDITED", "ffmpeg: no video in range"]

    assert states.finalizing(db, good, "node1") is not None
    link = "https://clips.example/goes-well.ts"
    assert states.finished(db, good, "node1", "v1", link, transcoding=False) is not None
    states.reset(db, bad)
    sync.sync_once()
    assert sheets.row(DAY1, 2)[6:] == ["DONE", "", link]
    assert sheets.row(DAY1, 3)[6:] == ["UNEDITED"]  # the error cleared, trailing cells empty


def test_bad_rows_say_why_and_are_taken_once_fixed(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("half past nine", description="typo"))
    sheets.set_row("Day 2", 2, row("09:30"))  # Day 2 has no day for a time of day
    sync = make_sync()
    result = sync.sync_once()
    assert (result.bad, result.added) == (2, 0)
    assert states.list_events(db) == []
    assert sheets.cell(DAY1, "H2") == (
        "bad row: event_start: 'half past nine' is not a time: give ISO 8601 such as "
        "2026-11-27T17:05:12.5Z (a zone is converted to UTC; none means UTC)"
    )
    assert sheets.cell("Day 2", "H2") == (
        "bad row: event_start: '09:30' is a time of day: give \"day\" in the sync settings "
        "to say which day it is on"
    )
    assert metric(sync, "fastseg_sheetsync_bad_rows") == 2

    sheets.set_cell(DAY1, "A2", "9:30")
    result = sync.sync_once()
    assert (result.bad, result.added) == (1, 1)
    assert sheets.row(DAY1, 2)[5:] == [str(states.list_events(db)[0].id), "UNEDITED"]


def test_a_copied_row_is_not_a_second_event(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="original"))
    sync = make_sync()
    sync.sync_once()
    original = sheets.row(DAY1, 2)
    sheets.set_row(DAY1, 3, original[:6])  # copied with its id
    result = sync.sync_once()
    assert result.bad == 1
    assert sheets.cell(DAY1, "H3").startswith("bad row: its id is also on row 2 of 'Day 1'")
    assert len(states.list_events(db)) == 1

    sheets.set_cell(DAY1, "F3", "")  # as the error says
    sync.sync_once()
    assert len(states.list_events(db)) == 2
    assert sheets.cell(DAY1, "H3") == ""


def test_a_removed_row_is_reported_not_deleted(sheets, make_sync, db, caplog):
    sheets.set_row(DAY1, 2, row("09:30", description="keep me"))
    sheets.set_row(DAY1, 3, row("09:40", description="delete me"))
    sync = make_sync()
    sync.sync_once()
    gone = id_of(sheets, 3)
    sheets.delete_row(DAY1, 3)
    states.add_event(db, "Elsewhere")  # not a synced worksheet's: not reported
    with caplog.at_level("WARNING"):
        result = sync.sync_once()
        sync.sync_once()
    assert result.without_row == 1
    assert states.get_event(db, gone).description == "delete me"
    assert len(states.list_events(db)) == 3
    assert metric(sync, "fastseg_sheetsync_events_without_row") == 1
    reports = [r for r in caplog.records if gone in r.getMessage()]
    assert len(reports) == 1  # once, not every pass
    assert "no row in the sheet any more: kept, not deleted" in reports[0].getMessage()


def test_the_sheet_is_the_last_writer_of_inputs_the_database_of_outputs(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="as typed"))
    sync = make_sync()
    sync.sync_once()
    event_id = id_of(sheets, 2)
    # Someone changes the event elsewhere (a CSV import does this), and someone
    # types into the state cell.
    db.transact(lambda cur: states.update_sheet_inputs(cur, event_id, description="elsewhere"))
    sheets.set_cell(DAY1, "G2", "DONE!!")
    sync.sync_once()
    assert states.get_event(db, event_id).description == "as typed"
    assert sheets.cell(DAY1, "G2") == "UNEDITED"


def test_a_row_inserted_above_during_a_pass_gets_no_wrong_id(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="typed first"))
    sync = make_sync()
    # Between the sync's read and its write, someone inserts a row above.
    sheets.on_get.append(lambda: sheets.insert_row(DAY1, 2, row("09:00", description="inserted")))
    result = sync.sync_once()
    assert (result.added, result.deferred) == (0, 1)
    assert id_of(sheets, 2) == id_of(sheets, 3) == ""

    sync.sync_once()
    found = events_by_id(db)
    assert found[id_of(sheets, 2)].description == "inserted"
    assert found[id_of(sheets, 3)].description == "typed first"
    assert len(found) == 2


def test_a_new_row_edited_during_a_pass_is_added_as_edited(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="draft"))
    sync = make_sync()
    sheets.on_get.append(lambda: sheets.set_cell(DAY1, "D2", "final words"))
    assert sync.sync_once().added == 0
    assert sync.sync_once().added == 1
    assert states.list_events(db)[0].description == "final words"


def test_an_input_typed_while_the_sync_writes_is_kept(sheets, make_sync, db):
    sheets.set_row(DAY1, 2, row("09:30", description="before"))
    sync = make_sync()
    sync.sync_once()
    event_id = id_of(sheets, 2)
    edit(db, event_id)  # so the next pass writes the state cell of row 2
    sheets.before_update.append(lambda: sheets.set_cell(DAY1, "D2", "typed during the write"))
    sync.sync_once()
    assert sheets.row(DAY1, 2)[3] == "typed during the write"
    assert sheets.cell(DAY1, "G2") == "EDITED"
    sync.sync_once()
    assert states.get_event(db, event_id).description == "typed during the write"


@pytest.mark.parametrize(
    ("failures", "kind"),
    [
        pytest.param([(429, 7)], "429", id="rate limited on read"),
        pytest.param([(503, None)], "503", id="unavailable on read"),
        pytest.param([(None, None), (None, None), (429, None)], "429", id="rate limited on write"),
        pytest.param([(None, None), (None, None), (500, None)], "500", id="server error on write"),
    ],
)
def test_api_faults_lose_nothing_and_add_nothing_twice(sheets, make_sync, db, failures, kind):
    sheets.set_row(DAY1, 2, row("09:30", description="once"))
    sync = make_sync()
    sheets.fail_next = list(failures)
    with pytest.raises(SheetsError) as info:
        sync.sync_once()
    assert info.value.retryable
    assert info.value.kind == kind
    assert info.value.retry_after == (failures[-1][1])
    assert states.list_events(db) == []  # no id in the sheet: no event yet
    assert sync.sync_once().added == 1
    assert sync.sync_once().added == 0
    assert len(states.list_events(db)) == 1


def test_an_id_in_the_sheet_without_its_event_adds_it(sheets, make_sync, db):
    # The id was written but the process died before adding the event.
    event_id = str(uuid.uuid4())
    sheets.set_row(DAY1, 2, row("09:30", description="half done", event_id=event_id))
    result = make_sync().sync_once()
    assert result.added == 1
    assert states.get_event(db, event_id).description == "half done"


def test_expired_tokens_are_refreshed_and_bad_credentials_are_not_retried(sheets, make_sync):
    sync = make_sync()
    sync.sync_once()
    sheets.expire_tokens()
    sync.sync_once()
    assert sheets.token_grants == 2
    sheets.credentials = ("cid", "secret", "revoked")
    sheets.expire_tokens()
    with pytest.raises(SheetsError, match="invalid_grant") as info:
        sync.sync_once()
    assert (info.value.kind, info.value.retryable) == ("token", False)


def test_a_wrong_spreadsheet_is_not_retryable_and_says_what_to_check(sheets, make_sync):
    sync = make_sync(spreadsheet_id="no-such-sheet")
    with pytest.raises(SheetsError, match="HTTP 404.*check spreadsheet_id") as info:
        sync.sync_once()
    assert info.value.retryable is False


def test_a_tags_column_becomes_the_event_s_tags(sheets, make_sync, db):
    """wubloader's sheet column: tags separated by commas, each of which may hold spaces."""
    sheets.set_row(DAY1, 2, [*row("09:30"), "", "", "", "Desert Bus, speedrun"])
    sync = make_sync(columns={**COLUMNS, "tags": "J"})
    sync.sync_once()
    event_id = id_of(sheets, 2)
    assert states.get_event(db, event_id).tags == ["Desert Bus", "speedrun"]
    sheets.set_cell(DAY1, "J2", "speedrun")
    assert sync.sync_once().updated == 1
    assert states.get_event(db, event_id).tags == ["speedrun"]

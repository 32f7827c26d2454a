"""Every transition of docs/DESIGN.md#state-machine, its refusals, and the claim's input check."""

import datetime as dt
import uuid

import pytest

from services.db import states

T0 = dt.datetime(2026, 11, 27, 17, 0, 0)
EDIT = dict(
    video_start=T0,
    video_end=T0 + dt.timedelta(seconds=30),
    video_title="A title",
    video_channel="ch",
    upload_location="clips",
    editor="ed@example.com",
)


def new(db):
    return states.add_event(db, "sheet", event_start=T0, category="cat")


def edited(db, **overrides):
    event = new(db)
    states.edit(db, event, **{**EDIT, **overrides})
    return event


def claimed(db, node="n1"):
    event = edited(db)
    assert states.claim(db, states.get_event(db, event), node) is not None
    return event


def finalizing(db, node="n1"):
    event = claimed(db, node)
    assert states.finalizing(db, event, node) is not None
    return event


def state(db, event):
    return states.get_event(db, event).state


def test_add_makes_unedited(db):
    row = states.get_event(db, new(db))
    assert (row.state, row.sheet_name, row.category, row.event_start) == (
        "UNEDITED",
        "sheet",
        "cat",
        T0,
    )


def test_add_rejects_unknown_inputs(db):
    with pytest.raises(TypeError, match="not sheet inputs"):
        states.add_event(db, "s", video_title="x")


def test_edit_sets_every_input(db):
    row = states.get_event(db, edited(db, allow_holes=True, uploader_whitelist=["n1"]))
    assert row.state == "EDITED"
    assert (row.video_title, row.video_quality, row.video_description) == ("A title", "source", "")
    assert (row.allow_holes, row.uploader_whitelist, row.editor) == (True, ["n1"], "ed@example.com")
    assert row.edit_time is not None


def test_edit_again_while_edited(db):
    event = edited(db)
    states.edit(db, event, **{**EDIT, "video_title": "B"})
    assert states.get_event(db, event).video_title == "B"


def test_edit_backwards_range_refused_and_row_kept(db):
    event = new(db)
    with pytest.raises(ValueError, match="not after its start"):
        states.edit(db, event, **{**EDIT, "video_end": T0 - dt.timedelta(seconds=1)})
    assert state(db, event) == "UNEDITED"


@pytest.mark.parametrize("make", [claimed, finalizing], ids=["claimed", "finalizing"])
def test_edit_refused_while_held(db, make):
    event = make(db)
    with pytest.raises(states.IllegalTransition, match="cannot edit .* it is (CLAIMED|FINALIZING)"):
        states.edit(db, event, **EDIT)


@pytest.mark.parametrize("make", [edited, claimed], ids=["edited", "claimed"])
def test_cancel(db, make):
    event = make(db)
    row = states.cancel(db, event)
    assert (row.state, row.uploader) == ("UNEDITED", None)


@pytest.mark.parametrize("make", [new, finalizing], ids=["unedited", "finalizing"])
def test_cancel_refused(db, make):
    with pytest.raises(states.IllegalTransition, match="cannot cancel"):
        states.cancel(db, make(db))


def test_bad_and_unknown_ids(db):
    with pytest.raises(states.BadEventId, match="'nope' is not a UUID"):
        states.cancel(db, "nope")
    missing = uuid.uuid4()
    with pytest.raises(states.EventNotFound, match=str(missing)):
        states.cancel(db, missing)
    with pytest.raises(states.EventNotFound):
        states.get_event(db, str(missing))


def test_claim_checks_every_edit_input(db):
    event = edited(db)
    seen = states.get_event(db, event)
    states.edit(db, event, **{**EDIT, "video_title": "changed"})
    assert states.claim(db, seen, "n1") is None  # edited since we looked: not taken
    assert state(db, event) == "EDITED"
    row = states.claim(db, states.get_event(db, event), "n1")
    assert (row.state, row.uploader) == ("CLAIMED", "n1")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("uploader_whitelist", ["n2"]),
        ("allow_holes", True),
        ("video_end", T0 + dt.timedelta(seconds=31)),
        ("video_description", "new words"),
    ],
)
def test_claim_refused_after_any_input_changes(db, column, value):
    event = edited(db)
    seen = states.get_event(db, event)
    db.query(f"UPDATE events SET {column} = %s WHERE id = %s", (value, event))
    assert states.claim(db, seen, "n1") is None
    assert states.claim(db, states.get_event(db, event), "n1") is not None


def test_only_one_claim_wins(db):
    event = edited(db)
    seen = states.get_event(db, event)
    assert states.claim(db, seen, "n1") is not None
    assert states.claim(db, seen, "n2") is None
    assert states.get_event(db, event).uploader == "n1"


def test_claim_clears_an_old_error(db):
    event = edited(db)
    assert states.set_error(db, event, "holes")
    assert states.claim(db, states.get_event(db, event), "n1").error is None


def test_set_error_only_once_and_only_on_edited(db):
    event = edited(db)
    assert states.set_error(db, event, "holes") is True
    assert states.set_error(db, event, "holes") is False
    assert states.set_error(db, new(db), "holes") is False


def test_retry_later(db):
    event = claimed(db)
    assert states.retry_later(db, event, "other", "x") is None  # not theirs
    row = states.retry_later(db, event, "n1", "timed out")
    assert (row.state, row.uploader, row.error) == ("EDITED", None, "timed out")


def test_unclaim_failed_keeps_uploader(db):
    event = claimed(db)
    row = states.unclaim_failed(db, event, "n1", "ffmpeg said no")
    assert (row.state, row.uploader, row.error) == ("UNEDITED", "n1", "ffmpeg said no")


def test_finalizing_only_from_our_claim(db):
    event = claimed(db)
    assert states.finalizing(db, event, "n2") is None
    assert states.still_ours(db, event, "n1")
    states.cancel(db, event)
    assert not states.still_ours(db, event, "n1")
    assert states.finalizing(db, event, "n1") is None  # stolen: the cutter must abort


@pytest.mark.parametrize("transcoding", [False, True])
def test_finished(db, transcoding):
    event = finalizing(db)
    row = states.finished(db, event, "n1", "vid", "http://v/vid", transcoding)
    assert row.state == ("TRANSCODING" if transcoding else "DONE")
    assert (row.video_id, row.video_link, row.uploader) == ("vid", "http://v/vid", "n1")
    assert row.upload_time is not None
    if transcoding:
        assert states.transcoded(db, event).state == "DONE"
        assert states.transcoded(db, event) is None  # already done


def test_finished_refused_unless_finalizing(db):
    assert states.finished(db, claimed(db), "n1", "v", "l", False) is None


@pytest.mark.parametrize(("retryable", "expected"), [(True, "EDITED"), (False, "UNEDITED")])
def test_finalize_failed(db, retryable, expected):
    event = finalizing(db)
    row = states.finalize_failed(db, event, "n1", "rejected", retryable)
    assert (row.state, row.error) == (expected, "rejected")


def test_finalize_unknown_stays(db):
    event = finalizing(db)
    row = states.finalize_unknown(db, event, "n1", "connection dropped")
    assert (row.state, row.error) == ("FINALIZING", "connection dropped")


def test_recover(db):
    mine_claimed, mine_final = claimed(db, "n1"), finalizing(db, "n1")
    theirs = claimed(db, "n2")
    assert states.recover(db, "n1", "check it") == (1, 1)
    assert state(db, mine_claimed) == "EDITED"
    assert states.get_event(db, mine_final).error == "check it"
    assert state(db, mine_final) == "FINALIZING"
    assert state(db, theirs) == "CLAIMED"
    assert states.recover(db, "n1", "again") == (0, 0)  # flagged once
    assert states.get_event(db, mine_final).error == "check it"


def test_reset_clears(db):
    event = finalizing(db)
    states.finalize_unknown(db, event, "n1", "unknown")
    row = states.reset(db, event)
    assert (row.state, row.error, row.uploader, row.video_link) == ("UNEDITED", None, None, None)


def test_refusal_is_one_line_even_with_a_long_error(db):
    event = claimed(db)
    states.unclaim_failed(db, event, "n1", "ffmpeg failed\nffmpeg said:\nline 2")
    with pytest.raises(states.IllegalTransition) as info:
        states.cancel(db, event)
    assert str(info.value).endswith("it is UNEDITED (error: ffmpeg failed)")


def test_reset_refused_when_done(db):
    event = new(db)
    states.manual_upload(db, event, "http://x")
    with pytest.raises(states.IllegalTransition, match="cannot reset .* it is DONE"):
        states.reset(db, event)


@pytest.mark.parametrize("make", [new, edited], ids=["unedited", "edited"])
def test_manual_upload(db, make):
    row = states.manual_upload(db, make(db), "http://x/1")
    assert (row.state, row.video_link) == ("DONE", "http://x/1")
    assert row.upload_time is not None


def test_manual_upload_of_a_flagged_finalizing_row(db):
    event = finalizing(db)
    with pytest.raises(states.IllegalTransition, match="FINALIZING"):
        states.manual_upload(db, event, "http://x")  # a cutter is still finalizing it
    states.finalize_unknown(db, event, "n1", "unknown")
    assert states.manual_upload(db, event, "http://x").state == "DONE"


def test_manual_upload_refused_while_claimed_and_needs_a_link(db):
    event = claimed(db)
    with pytest.raises(states.IllegalTransition, match="it is CLAIMED"):
        states.manual_upload(db, event, "http://x")
    with pytest.raises(ValueError, match="link .* is empty"):
        states.manual_upload(db, event, "")


def test_list_filters_by_state(db):
    a, b = new(db), edited(db)
    assert {r.id for r in states.list_events(db)} == {a, b}
    assert [r.id for r in states.list_events(db, "EDITED")] == [b]

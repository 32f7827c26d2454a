"""Clips of several ranges in the events table: what the schema and states.edit enforce."""

import datetime as dt

import pytest
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb

from services.db import states
from tests.db.test_schema import EDIT_VALUES, T0, insert


def t(seconds):
    return T0 + dt.timedelta(seconds=seconds)


def edit(db, **changes):
    event = states.add_event(db, "sheet")
    values = dict(
        video_title="t", video_channel="ch", upload_location="clips", editor="e@example.com"
    )
    return states.edit(db, event, **{**values, **changes})


RANGES = [(t(0), t(10)), (t(20), t(30)), (t(40), t(45))]
JOINS = [None, {"type": "crossfade", "seconds": 1.5}]


def test_edit_with_ranges_and_transitions(db):
    row = edit(db, video_ranges=RANGES, video_transitions=JOINS)
    assert row.video_ranges == [list(r) for r in RANGES]
    assert row.video_transitions == JOINS
    # old clients and listings see the whole span
    assert (row.video_start, row.video_end) == (t(0), t(45))
    # a cutter's claim compares the ranges and transitions too
    assert states.claim(db, row, "node1").state == "CLAIMED"


def test_claim_refuses_changed_ranges(db):
    row = edit(db, video_ranges=RANGES, video_transitions=JOINS)
    states.edit(
        db, row.id, video_title="t", video_channel="ch", upload_location="clips",
        editor="e@example.com", video_ranges=RANGES, video_transitions=[None, None],
    )  # fmt: skip
    assert states.claim(db, row, "node1") is None
    assert states.claim(db, states.get_event(db, row.id), "node1").state == "CLAIMED"


def test_one_range_is_start_and_end(db):
    row = edit(db, video_ranges=RANGES[:1])
    assert (row.video_ranges, row.video_transitions) == (None, None)
    assert (row.video_start, row.video_end) == RANGES[0]


@pytest.mark.parametrize(
    ("ranges", "joins", "message"),
    [
        ([(t(0), t(10)), (t(5), t(20))], None, "begins before the previous one ends"),
        ([(t(0), t(10)), (t(10), t(10))], None, "is not after start"),
        (RANGES, [None], "1 transitions for 3 ranges"),
        (RANGES, [None, {"type": "wipe", "seconds": 1}], "transition type 'wipe'"),
        (RANGES, [None, {"type": "fade", "seconds": 6}], "longer than the shorter"),
        (RANGES, [None, {"type": "fade"}], "is not null or"),
        (None, [None], "video_transitions without video_ranges"),
    ],
)
def test_bad_ranges_refused(db, ranges, joins, message):
    with pytest.raises(ValueError, match=message):
        edit(db, video_ranges=ranges, video_transitions=joins, video_start=t(0), video_end=t(9))


def edited(**changes):
    return {**EDIT_VALUES, "state": "EDITED", **changes}


@pytest.mark.parametrize(
    "ranges",
    [
        [[t(0), t(10)], [t(5), t(20)]],  # overlapping
        [[t(0), t(10)], [t(20), t(20)]],  # empty
        [[t(10), t(0)]],  # backwards
        [[t(0), t(5), t(10)]],  # not pairs
        [],  # none
    ],
)
def test_schema_refuses_bad_ranges(db, ranges):
    with pytest.raises(pg_errors.CheckViolation, match="video_ranges_ordered"):
        insert(db, **edited(video_start=t(0), video_end=t(20), video_ranges=ranges))


def test_schema_keeps_start_and_end_the_outer_bounds(db):
    with pytest.raises(pg_errors.CheckViolation, match="video_ranges_ordered"):
        insert(db, **edited(video_start=t(1), video_end=t(10), video_ranges=[[t(0), t(10)]]))


@pytest.mark.parametrize("joins", [[], [None, None], {"type": "fade"}])
def test_schema_wants_one_transition_per_join(db, joins):
    ranges = [[t(0), t(10)], [t(20), t(30)]]
    with pytest.raises(pg_errors.CheckViolation, match="video_transitions_per_join"):
        insert(
            db,
            **edited(
                video_start=t(0), video_end=t(30), video_ranges=ranges,
                video_transitions=Jsonb(joins),
            ),
        )  # fmt: skip

"""Rows typed into a spreadsheet as sheet inputs: times, time zones, daylight saving."""

import datetime as dt

import pytest

from services.db.schema import SHEET_INPUTS
from services.db.sheetrows import (
    BadRow,
    format_inputs,
    parse_event_id,
    parse_inputs,
    parse_zone,
)

VANCOUVER = parse_zone("America/Vancouver")
LONDON = parse_zone("Europe/London")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2026-11-27T17:05:12.5", dt.datetime(2026, 11, 27, 17, 5, 12, 500000),
                     id="naive is UTC"),
        pytest.param("2026-11-27T17:05:12Z", dt.datetime(2026, 11, 27, 17, 5, 12), id="Z"),
        pytest.param("2026-11-27T09:05-08:00", dt.datetime(2026, 11, 27, 17, 5), id="offset"),
        pytest.param("2026-11-27 17:05", dt.datetime(2026, 11, 27, 17, 5), id="space"),
    ],
)  # fmt: skip
def test_iso_times_ignore_day_and_zone(text, expected):
    inputs = parse_inputs({"event_start": text}, day=dt.date(2020, 1, 1), zone=VANCOUVER)
    assert inputs == {"event_start": expected}


def test_time_of_day_in_winter_and_summer():
    winter = parse_inputs({"event_start": "09:30"}, day=dt.date(2026, 11, 27), zone=VANCOUVER)
    summer = parse_inputs({"event_start": "09:30"}, day=dt.date(2026, 7, 1), zone=VANCOUVER)
    assert winter["event_start"] == dt.datetime(2026, 11, 27, 17, 30)  # PST, UTC-8
    assert summer["event_start"] == dt.datetime(2026, 7, 1, 16, 30)  # PDT, UTC-7


def test_time_of_day_without_zone_is_utc_and_takes_seconds():
    inputs = parse_inputs({"event_start": "7:05:09.25"}, day=dt.date(2026, 11, 27))
    assert inputs["event_start"] == dt.datetime(2026, 11, 27, 7, 5, 9, 250000)


@pytest.mark.parametrize(
    ("text", "hour", "minute"),
    [("9:30:00 AM", 9, 30), ("12:05 am", 0, 5), ("12:05 PM", 12, 5), ("9:30 p.m.", 21, 30)],
)
def test_twelve_hour_times_as_google_sheets_shows_them(text, hour, minute):
    inputs = parse_inputs({"event_start": text}, day=dt.date(2026, 11, 27))
    assert inputs["event_start"] == dt.datetime(2026, 11, 27, hour, minute)


def test_event_across_the_spring_gap_is_one_hour_long():
    # London, 2026-03-29: 01:00 GMT jumps to 02:00 BST.
    inputs = parse_inputs(
        {"event_start": "00:30", "event_end": "02:30"}, day=dt.date(2026, 3, 29), zone=LONDON
    )
    assert inputs["event_end"] - inputs["event_start"] == dt.timedelta(hours=1)


def test_a_skipped_time_is_refused():
    with pytest.raises(BadRow, match=r"'01:30' on 2026-03-29 does not exist in Europe/London"):
        parse_inputs({"event_start": "01:30"}, day=dt.date(2026, 3, 29), zone=LONDON)


def test_a_repeated_time_is_refused_but_an_offset_settles_it():
    # London, 2026-10-25: 02:00 BST falls back to 01:00 GMT, so 01:30 happens twice.
    with pytest.raises(BadRow, match="happens twice in Europe/London.*UTC offset"):
        parse_inputs({"event_end": "01:30"}, day=dt.date(2026, 10, 25), zone=LONDON)
    second = parse_inputs({"event_end": "2026-10-25T01:30+00:00"}, zone=LONDON)
    assert second["event_end"] == dt.datetime(2026, 10, 25, 1, 30)


def test_end_past_midnight_is_the_next_day():
    inputs = parse_inputs(
        {"event_start": "23:50", "event_end": "00:10"}, day=dt.date(2026, 11, 27), zone=VANCOUVER
    )
    assert inputs["event_start"] == dt.datetime(2026, 11, 28, 7, 50)
    assert inputs["event_end"] == dt.datetime(2026, 11, 28, 8, 10)


def test_full_end_before_start_is_refused():
    with pytest.raises(BadRow, match="event_end '2026-11-27T10:00' is before event_start"):
        parse_inputs({"event_start": "2026-11-27T11:00", "event_end": "2026-11-27T10:00"})


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        pytest.param({"event_start": "17:05"}, "event_start: '17:05' is a time of day: give --day",
                     id="time of day without a day"),
        pytest.param({"event_end": "soon"}, "event_end: 'soon' is not a time",
                     id="not a time"),
        pytest.param({"event_start": "25:00"}, "'25:00' is not a time of day", id="hour 25"),
        pytest.param({"event_start": "13:00 PM"}, "'13:00 PM' is not a time of day", id="13 PM"),
        pytest.param({"event_start": "5pm"}, "'5pm' has no date: write a full time, or HH:MM",
                     id="no date"),
        pytest.param({"sheet_name": "  "}, "sheet_name is empty", id="blank sheet name"),
        pytest.param({"poster_moment": "maybe"}, "poster_moment 'maybe' is not yes or no",
                     id="poster moment"),
    ],
)  # fmt: skip
def test_bad_cells_say_what_to_do(cells, message):
    day = dt.date(2026, 11, 27) if cells.get("event_start") in ("25:00", "13:00 PM") else None
    with pytest.raises(BadRow, match=message):
        parse_inputs(cells, day=day)


def test_bad_id_and_zone():
    with pytest.raises(BadRow, match="id 'abc' is not an event id"):
        parse_event_id("abc")
    assert parse_event_id(" ") is None
    with pytest.raises(ValueError, match="time zone 'Mars/Olympus' is unknown"):
        parse_zone("Mars/Olympus")


def test_format_then_parse_is_the_same():
    class Row:
        sheet_name, category, description = "Day 1", "speedrun", 'a "quoted", line\nand more'
        submitter_winner, notes = "Alice", ""
        event_start, event_end = dt.datetime(2026, 11, 27, 17, 5, 12, 500000), None
        poster_moment, image_links = True, ["https://a/1.png", "https://a/2.png"]
        tags = ["Dungeon Crawler", "speedrun"]  # a tag may hold spaces; commas separate them

    assert format_inputs(Row)["tags"] == "Dungeon Crawler, speedrun"
    back = parse_inputs(format_inputs(Row))
    assert back == {c: getattr(Row, c) for c in SHEET_INPUTS}


def test_tags_are_separated_by_commas():
    assert parse_inputs({"tags": " a b ,c,, d "}) == {"tags": ["a b", "c", "d"]}
    assert parse_inputs({"tags": ""}) == {"tags": []}

"""A spreadsheet row as an event's sheet inputs, and back.

The CSV import/export of ``fastseg events`` and the Google Sheets sync read the
same rows typed by the same people, so they share these rules:

* times are any ISO 8601 form (a zone is converted; none means UTC), or the
  sheet's own ``HH:MM[:SS]``, a time of day on a given day in a given time zone;
* an ``HH:MM`` end before its ``HH:MM`` start is on the next day (a moment
  that runs past midnight);
* a time of day that the zone's clocks skip or repeat (daylight saving) is
  refused, since no one can tell which instant was meant: write it with its
  UTC offset instead.

Everything else is text, except ``poster_moment`` (yes/no), ``image_links``
(separated by spaces or commas) and ``tags`` (separated by commas, as in
wubloader's sheet: a tag may hold spaces).
"""

import datetime as dt
import re
import uuid
import zoneinfo
from typing import Any

from dateutil import parser as _lenient

from services.archive import times
from services.db.rows import Event
from services.db.schema import SHEET_INPUTS

__all__ = [
    "BadRow",
    "format_inputs",
    "format_time",
    "parse_event_id",
    "parse_inputs",
    "parse_time",
    "parse_zone",
    "split_tags",
]

TEXT_INPUTS = ("sheet_name", "category", "description", "submitter_winner", "notes")
# What a person types, or what Google Sheets shows for a cell it took for a time.
_TIME_OF_DAY = re.compile(
    r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(?:\s*([AaPp])\.?[Mm]\.?)?", re.ASCII
)
_TRUE = ("yes", "y", "true", "1", "x")
_FALSE = ("", "no", "n", "false", "0")


class BadRow(ValueError):
    """A row that cannot become an event's sheet inputs; the message says why."""


def parse_zone(name: str) -> zoneinfo.ZoneInfo:
    """A time zone by IANA name (``Europe/London``); ValueError says what to give."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"time zone {name!r} is unknown: give an IANA name like Europe/London or UTC"
        ) from None


def _local_to_utc(day: dt.date, time: dt.time, zone: zoneinfo.ZoneInfo, text: str) -> dt.datetime:
    naive = dt.datetime.combine(day, time)
    early = naive.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    late = naive.replace(tzinfo=zone, fold=1).astimezone(dt.UTC)
    if early != late:
        if early.astimezone(zone).replace(tzinfo=None) != naive:
            raise BadRow(
                f"{text!r} on {day.isoformat()} does not exist in {zone.key}: the clocks skip "
                "it (daylight saving); write the time with its UTC offset"
            )
        raise BadRow(
            f"{text!r} on {day.isoformat()} happens twice in {zone.key} (the clocks go back): "
            "write the time with its UTC offset"
        )
    return early.replace(tzinfo=None)


def parse_time(
    text: str,
    *,
    day: dt.date | None = None,
    zone: zoneinfo.ZoneInfo | None = None,
    day_hint: str = "--day",
) -> tuple[dt.datetime | None, bool]:
    """``(naive UTC time or None if blank, whether it was a time of day)``.

    Raises BadRow saying what was wrong and how to write it.
    """
    text = text.strip()
    if not text:
        return None, False
    match = _TIME_OF_DAY.fullmatch(text)
    if match is None:
        try:
            value = times.parse(text)
        except times.BadTime as e:
            raise BadRow(str(e)) from None
        if not _has_date(text):
            raise BadRow(f"{text!r} has no date: write a full time, or HH:MM with {day_hint}")
        return value, False
    if day is None:
        raise BadRow(f"{text!r} is a time of day: give {day_hint} to say which day it is on")
    hour, minute, second, fraction, half = match.groups()
    hour = int(hour)
    if half is not None:  # 12 AM is midnight, 12 PM noon
        hour = -1 if not 1 <= hour <= 12 else hour % 12 + (12 if half in "Pp" else 0)
    try:
        time = dt.time(hour, int(minute), int(second or 0), int((fraction or "0").ljust(6, "0")))
    except ValueError:
        raise BadRow(f"{text!r} is not a time of day (HH:MM or HH:MM:SS)") from None
    return _local_to_utc(day, time, zone or zoneinfo.ZoneInfo("UTC"), text), True


def _has_date(text: str) -> bool:
    """False for text the lenient parser reads as a time on whatever day it is today."""
    try:
        return _lenient.parse(text, default=dt.datetime(2001, 2, 3)) == _lenient.parse(
            text, default=dt.datetime(2004, 5, 6)
        )
    except (ValueError, OverflowError):
        return True  # ISO 8601 forms dateutil does not know: they always hold a date


def parse_event_id(text: str) -> uuid.UUID | None:
    """The id in an ``id`` cell (None when blank); BadRow if it is not a UUID."""
    text = text.strip()
    if not text:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadRow(
            f"id {text!r} is not an event id (a UUID): leave it blank for a new event"
        ) from None


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise BadRow(f"poster_moment {text!r} is not yes or no")


def parse_inputs(
    cells: dict[str, str],
    *,
    day: dt.date | None = None,
    zone: zoneinfo.ZoneInfo | None = None,
    day_hint: str = "--day",
) -> dict[str, Any]:
    """The sheet inputs in ``cells`` (column name -> text), only the columns given.

    Raises BadRow naming the first problem.
    """
    inputs: dict[str, Any] = {}
    of_day = {}
    for column in ("event_start", "event_end"):
        if column in cells:
            try:
                inputs[column], of_day[column] = parse_time(
                    cells[column], day=day, zone=zone, day_hint=day_hint
                )
            except BadRow as e:
                raise BadRow(f"{column}: {e}") from None
    start, end = inputs.get("event_start"), inputs.get("event_end")
    if start is not None and end is not None and end < start:
        if of_day["event_end"] and of_day["event_start"] and day is not None:
            # Past midnight: the same time of day, one calendar day later.
            try:
                inputs["event_end"], _ = parse_time(
                    cells["event_end"], day=day + dt.timedelta(days=1), zone=zone
                )
            except BadRow as e:
                raise BadRow(f"event_end (the next day): {e}") from None
        else:
            raise BadRow(
                f"event_end {cells['event_end'].strip()!r} is before "
                f"event_start {cells['event_start'].strip()!r}"
            )
    for column in TEXT_INPUTS:
        if column in cells:
            # Names are matched and grouped by: stray spaces around them are typos.
            # Free text is kept as typed.
            keep = column in ("description", "notes")
            inputs[column] = cells[column] if keep else cells[column].strip()
    if "sheet_name" in inputs and not inputs["sheet_name"]:
        raise BadRow("sheet_name is empty: every event needs one")
    if "poster_moment" in cells:
        inputs["poster_moment"] = _bool(cells["poster_moment"])
    if "tags" in cells:
        inputs["tags"] = split_tags(cells["tags"])
    if "image_links" in cells:
        inputs["image_links"] = [
            link for link in re.split(r"[\s,]+", cells["image_links"].strip()) if link
        ]
    return inputs


def split_tags(text: str) -> list[str]:
    """The tags of a cell: comma-separated, stray spaces around each dropped."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def format_time(value: dt.datetime | None) -> str:
    """A naive UTC time as ISO 8601 with ``Z``; blank for None."""
    return "" if value is None else value.isoformat() + "Z"


def format_inputs(row: Event) -> dict[str, str]:
    """An event's sheet inputs as the text of their cells (what ``parse_inputs`` reads back)."""
    out = {}
    for column in SHEET_INPUTS:
        value = getattr(row, column)
        if column in ("event_start", "event_end"):
            out[column] = format_time(value)
        elif column == "poster_moment":
            out[column] = "yes" if value else "no"
        elif column == "image_links":
            out[column] = " ".join(value or [])
        elif column == "tags":
            out[column] = ", ".join(value or [])
        else:
            out[column] = value or ""
    return out

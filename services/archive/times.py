"""Times in and out of fastseg: everything is a naive datetime in UTC.

Two ways in, one wording for a bad time:

* :func:`parse` is lenient, for what an operator types (command-line options, CSV):
  any ISO 8601 form, with a zone converted to UTC and none meaning UTC.
* :func:`parse_strict` is the HTTP query form, exact and fast:
  ``YYYY-MM-DDTHH:MM:SS[.ffffff][Z]``, UTC only.

Both raise :class:`BadTime` (a ``ValueError``) whose message starts
``'TEXT' is not a time:`` and says what to give instead.
"""

import argparse
import datetime as dt

from fastseg.dateutil import naive_utc, parse_utc_only
from fastseg.dateutil import parse as _parse_lenient

__all__ = [
    "EXAMPLE",
    "HELP",
    "BadTime",
    "argument",
    "naive_utc",
    "from_timestamp",
    "since",
    "since_argument",
    "to_timestamp",
    "parse",
    "parse_strict",
    "utc_now",
]

EXAMPLE = "2026-11-27T17:05:12.5Z"
#: What a lenient time looks like, for ``--help`` texts and error messages.
HELP = (
    f"a time is ISO 8601 such as {EXAMPLE} or 2026-11-27T18:05+01:00; "
    "a zone is converted to UTC, and a time without one is UTC"
)
_LENIENT_FORM = f"ISO 8601 such as {EXAMPLE} (a zone is converted to UTC; none means UTC)"
_STRICT_FORM = f"UTC as YYYY-MM-DDTHH:MM:SS[.ffffff][Z], such as {EXAMPLE}"


class BadTime(ValueError):
    """Text that is not a time; the message shows it and the form to use."""

    def __init__(self, text: str, form: str, why: str | None = None) -> None:
        because = f" ({why})" if why else ""
        super().__init__(f"{text!r} is not a time{because}: give {form}")
        self.text = text


def utc_now() -> dt.datetime:
    """Now, as a naive UTC datetime like every other time in fastseg."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def parse(text: str) -> dt.datetime:
    """An operator's time: any ISO 8601 form, as naive UTC."""
    try:
        return _parse_lenient(text)
    except ValueError:
        raise BadTime(text, _LENIENT_FORM) from None


def parse_strict(text: str) -> dt.datetime:
    """An HTTP query time: exactly ``YYYY-MM-DDTHH:MM:SS[.ffffff][Z]`` in UTC."""
    try:
        return parse_utc_only(text)
    except ValueError as exc:
        # The form was right but the date impossible (30 February): say which part.
        why = str(exc.__context__) if exc.__context__ is not None else None
        raise BadTime(text, _STRICT_FORM, why) from None


def to_timestamp(when: dt.datetime) -> float:
    """A naive UTC time as Unix seconds (chat messages' ``time``)."""
    return when.replace(tzinfo=dt.UTC).timestamp()


def from_timestamp(seconds: float) -> dt.datetime:
    """Unix seconds as a naive UTC time."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)


_AGO_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SINCE_FORM = f"an age such as 90s, 30m, 2h or 7d, or {_LENIENT_FORM}"


def since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``--since``: an age back from ``now`` (``2h``, ``30m``, ``7d``, ``90s``) or a time."""
    number, unit = text.strip()[:-1], text.strip()[-1:].lower()
    if unit in _AGO_UNITS and number.replace(".", "", 1).isdigit():
        seconds = float(number) * _AGO_UNITS[unit]
        if seconds > 366 * 86400:
            raise BadTime(text, _SINCE_FORM, "more than a year back")
        return (now or utc_now()) - dt.timedelta(seconds=seconds)
    if not (text[:4].isdigit() and text[4:5] == "-"):  # "2 hours" is not 02:00 today
        raise BadTime(text, _SINCE_FORM)
    try:
        return _parse_lenient(text)
    except ValueError:
        raise BadTime(text, _SINCE_FORM) from None


def since_argument(text: str) -> dt.datetime:
    """An argparse type for :func:`since`."""
    try:
        return since(text)
    except BadTime as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def argument(text: str) -> dt.datetime:
    """An argparse type for an operator's time (:func:`parse`)."""
    try:
        return parse(text)
    except BadTime as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None

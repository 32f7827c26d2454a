"""Timestamps from users and from the HTTP API, as naive UTC datetimes.

``parse`` is lenient (any ISO 8601 or common timestamp, any zone) for humans
and configuration; ``parse_utc_only`` is strict and fast for the hot HTTP
paths, where every request carries one or two times.
"""

import datetime as _dt
import re

from dateutil import parser as _lenient

__all__ = ["naive_utc", "parse", "parse_utc_only"]

_STRICT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?", re.ASCII)


def naive_utc(value: _dt.datetime) -> _dt.datetime:
    """An aware datetime as naive UTC; a naive one is taken to be UTC already."""
    if value.tzinfo is None:
        return value
    return value.astimezone(_dt.UTC).replace(tzinfo=None)


def parse(text: str) -> _dt.datetime:
    """Any ISO 8601 or common timestamp; with a zone it is converted, without one it is UTC.

    Raises ValueError naming the text when it is not a timestamp.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{text!r} is not a timestamp: give e.g. 2026-11-27T17:05:12.5Z")
    try:
        return naive_utc(_dt.datetime.fromisoformat(text.strip()))
    except ValueError:
        pass
    try:
        return naive_utc(_lenient.parse(text))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a timestamp: give e.g. 2026-11-27T17:05:12.5Z") from exc


def parse_utc_only(text: str) -> _dt.datetime:
    """Exactly ``YYYY-MM-DDTHH:MM:SS[.f]`` (1-6 digits of fraction), optionally ending in Z.

    Raises ValueError naming the text for anything else, including an impossible date.
    """
    if not isinstance(text, str) or _STRICT.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a UTC time of the form YYYY-MM-DDTHH:MM:SS[.ffffff][Z]")
    try:
        return _dt.datetime.fromisoformat(text[:-1] if text[-1] == "Z" else text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real UTC time: {exc}") from None

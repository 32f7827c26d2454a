"""Times, durations and counts as people read them: UTC with ``Z``, "1 h 5 min", "1 hole"."""

import datetime as dt

__all__ = ["count", "duration", "utc"]


def utc(when: dt.datetime) -> str:
    """A naive UTC time as ISO 8601 with ``Z``; milliseconds only when there are some."""
    spec = "milliseconds" if when.microsecond else "seconds"
    return when.isoformat(timespec=spec) + "Z"


def duration(seconds: float) -> str:
    """``0.25 s``, ``12 s``, ``3 min 20 s``, ``2 h 5 min``, ``3 d 4 h``."""
    if seconds < 60:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """``1 hour``, ``2 hours``, ``0 holes``."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"

"""What fastseg is measured against: the obvious ways to do the same work."""

import base64
import datetime as dt
import os

from fastseg import SegmentInfo


def strptime_parse(path: str) -> SegmentInfo:
    """A plain parser of segment paths built on ``datetime.strptime``."""
    parts = path.split("/")
    name, hour, quality, channel = parts[-1], parts[-2], parts[-3], parts[-4]
    time, duration, type_, ident = name[:-3].split("-", 3)
    start = dt.datetime.strptime(f"{hour}:{time}", "%Y-%m-%dT%H:%M:%S.%f")
    if type_ != "temp":
        base64.urlsafe_b64decode(ident + "=")  # what a parser must do to check the hash
    return SegmentInfo(path, channel, quality, start, dt.timedelta(seconds=float(duration)), type_)


def hour_dirs(hours_path, start: dt.datetime, hours: int) -> list[str]:
    """The directories a selection of ``hours`` hours from ``start`` reads (one before too)."""
    first = start.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    return [
        f"{hours_path}/{(first + dt.timedelta(hours=h)).strftime('%Y-%m-%dT%H')}"
        for h in range(hours + 1)
    ]


def list_all(dirs: list[str]) -> int:
    """Merely list the directories, the least any selection must do cold."""
    total = 0
    for d in dirs:
        try:
            total += len(os.listdir(d))
        except FileNotFoundError:
            pass
    return total

"""Generated segment trees for restreamer tests: sparse files with proper names.

Creating a file costs up to a millisecond here, so trees are made with
``os.truncate`` (no bytes written) and kept as small as each test allows.
"""

import datetime as dt
import os
from pathlib import Path

from fastseg import content_id, hour_name, segment_name


def make_tree(
    base: Path,
    channel: str,
    quality: str,
    start: dt.datetime,
    count: int,
    *,
    duration: float = 2.0,
    size: int = 1000,
    holes: frozenset[int] = frozenset(),
    type: str = "full",
) -> list[Path]:
    """``count`` back-to-back segments of ``duration`` s from ``start``; ``holes`` are skipped.

    Each file is ``size`` bytes of zeros (sparse); its name's hash is made from
    its position, so every name is unique and parses.
    """
    paths = []
    length = dt.timedelta(seconds=duration)
    made_dirs = set()
    for i in range(count):
        t = start + i * length
        if i in holes:
            continue
        hour_dir = Path(base) / channel / quality / hour_name(t)
        if hour_dir not in made_dirs:
            hour_dir.mkdir(parents=True, exist_ok=True)
            made_dirs.add(hour_dir)
        ident = content_id(f"{channel}/{quality}/{t.isoformat()}".encode())
        path = hour_dir / segment_name(t, length, type, ident)
        with open(path, "wb") as f:
            os.truncate(f.fileno(), size)
        paths.append(path)
    return paths

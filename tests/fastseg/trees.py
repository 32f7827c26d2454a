"""Segment trees for selection tests: sparse files under real names, made fast."""

import base64
import datetime as dt
import hashlib
import os
from pathlib import Path

from fastseg import content_id, hour_name, segment_name


def fake_id(seed: object) -> str:
    """A valid hash-shaped ID; selection never reads the bytes, so any sha256 will do."""
    return content_id(hashlib.sha256(repr(seed).encode()))


def id_from_bytes(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def put(
    hours: Path,
    start: dt.datetime,
    seconds: float = 2.0,
    type: str = "full",
    size: int = 1000,
    ident: str | None = None,
) -> Path:
    """Create one segment file (sparse, ``size`` bytes) under ``hours`` (= BASE/CH/Q)."""
    duration = dt.timedelta(seconds=seconds)
    if ident is None:
        ident = fake_id((start, seconds, type, size)) if type != "temp" else "tmp-uuid"
    hour_dir = Path(hours) / hour_name(start)
    hour_dir.mkdir(parents=True, exist_ok=True)
    path = hour_dir / segment_name(start, duration, type, ident)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def put_run(hours: Path, start: dt.datetime, count: int, seconds: float = 2.0, **kw) -> list[Path]:
    """``count`` back-to-back segments from ``start``."""
    step = dt.timedelta(seconds=seconds)
    return [put(hours, start + i * step, seconds, **kw) for i in range(count)]


def age(path: Path, seconds: float = 3600) -> None:
    """Make a directory's mtime old, so its cached listing is trusted."""
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds * 1e9)))


def names(segments) -> list[str | None]:
    return [None if s is None else s.name for s in segments]

"""Segment trees for backfiller tests: real segments stored with holes, and what a tree holds."""

import datetime as dt
import os
from pathlib import Path

from tests.media import store_stream

START = dt.datetime(2026, 11, 20, 9, 59, 52)  # 10 segments: 4 in hour 09, 6 in hour 10
CHANNEL = "test"


def tree(stream, base: Path, holes: dict[str, set[int]]) -> Path:
    """Store ``stream`` under ``base`` for each quality in ``holes``, minus those segments."""
    base.mkdir(parents=True, exist_ok=True)
    for quality, skip in holes.items():
        store_stream(stream, base, CHANNEL, quality, START, skip=skip)
    return base


def contents(base: Path) -> dict[str, bytes]:
    """Every file under ``base`` (but .fastseg), by relative path, with its bytes."""
    found = {}
    for root, dirs, files in os.walk(base):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            path = Path(root, name)
            try:
                found[str(path.relative_to(base))] = path.read_bytes()
            except FileNotFoundError:  # a temp file renamed or removed while we walked
                continue
    return found


def temp_files(base: Path) -> list[str]:
    return [p for p in contents(base) if "-temp-" in p]

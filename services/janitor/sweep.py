"""Find orphaned ``temp`` segments and keep what they hold as ``partial`` ones.

A writer that dies mid-segment (a killed downloader or backfiller) leaves its
``temp`` file behind (docs/DESIGN.md#writing-a-segment). Once such a file has not changed for
``min_age`` seconds nobody is writing it any more: it is hashed and linked to its
``partial`` name, then the temp name is removed (:func:`services.archive.writes.link_into_place`,
as every writer does). Linking never replaces a file, so if the same bytes are
already there as a partial the temp simply goes. An empty
temp holds nothing worth keeping and is removed. A temp hidden by a tombstone
stays hidden: its partial gets a tombstone of its own before it appears.
"""

import dataclasses
import hashlib
import logging
import os
import time

import gevent

from fastseg import SegmentPathError, content_id, parse_segment_path, segment_name, tombstone_path
from services.archive import writes

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024


@dataclasses.dataclass
class Counts:
    """What one sweep did."""

    kept: int = 0  # temp files turned into partials
    removed: int = 0  # empty temp files removed
    young: int = 0  # temp files too recent to touch
    vanished: int = 0  # gone (or changed) while we looked


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return sorted(e.path for e in entries if not e.name.startswith(".") and e.is_dir())
    except (FileNotFoundError, NotADirectoryError):
        return []


def hour_dirs(base_dir: str):
    """Every ``BASE/CHANNEL/QUALITY/HOUR`` directory (hidden names skipped, e.g. ``.fastseg``)."""
    for channel in _subdirs(base_dir):
        for quality in _subdirs(channel):
            yield from _subdirs(quality)


def sweep(
    base_dir: str, min_age: float, now: float | None = None, warned: set[str] | None = None
) -> Counts:
    """One pass over the archive. Never raises for a file that vanishes or a name that is odd.

    A name that does not parse is logged once per ``warned`` set (pass the same set to
    every sweep of a periodic run) and skipped.
    """
    counts = Counts()
    warned = set() if warned is None else warned
    now = time.time() if now is None else now
    for hour in hour_dirs(base_dir):
        try:
            names = sorted(n for n in os.listdir(hour) if "-temp-" in n and not n.startswith("."))
        except FileNotFoundError:
            continue
        for name in names:
            path = os.path.join(hour, name)
            try:
                info = parse_segment_path(path)
            except SegmentPathError as e:
                if path not in warned:
                    warned.add(path)
                    logger.warning("skipping %s", e)
                continue
            if info.type == "temp":
                settle(path, info, min_age, now, counts)
        gevent.sleep(0)  # an archive has thousands of hours: let other greenlets run
    return counts


def settle(path: str, info, min_age: float, now: float, counts: Counts) -> None:
    """Turn one temp file into a partial if it is old enough (see the module docstring)."""
    try:
        before = os.stat(path)
        if now - before.st_mtime < min_age:
            counts.young += 1
            return
        hasher = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                hasher.update(chunk)
        after = os.stat(path)
    except FileNotFoundError:
        counts.vanished += 1
        return
    if (after.st_mtime_ns, after.st_size) != (before.st_mtime_ns, before.st_size):
        counts.vanished += 1  # someone is writing it after all: leave it for the next sweep
        logger.warning("temp segment %r changed while being hashed: left alone", path)
        return
    try:
        if after.st_size == 0:
            os.unlink(path)
            counts.removed += 1
            logger.info("removed empty orphaned temp segment %r", path)
            return
        final = os.path.join(
            os.path.dirname(path),
            segment_name(info.start, info.duration, "partial", content_id(hasher)),
        )
        if os.path.exists(tombstone_path(path)):
            with open(tombstone_path(final), "ab"):
                pass  # hide the partial before it exists, as the temp was hidden
        # False when these bytes are already kept under that name; a link that fails
        # otherwise raises and leaves the temp, the only copy, for the next sweep.
        writes.link_into_place(path, final)
    except FileNotFoundError:
        counts.vanished += 1
        return
    counts.kept += 1
    logger.info("orphaned temp segment %r kept as %r", path, os.path.basename(final))

"""What a peer may make this node do: the backfiller's limits, and the free-disk floor.

A peer is another node's restreamer, possibly a hostile or broken one on the open
internet. Whatever it lists or sends is checked against these before any work is
done for it (docs/DESIGN.md#peers); a refusal is logged at WARNING, once per peer
and pass, and counted in ``fastseg_backfiller_refused_total``.
"""

import logging
import os
import time

logger = logging.getLogger(__name__)

__all__ = [
    "FUTURE_HOURS",
    "MAX_HOURS",
    "MAX_LISTING_BYTES",
    "MAX_QUALITIES",
    "MAX_SEGMENT_MB",
    "MIN_FREE_MB",
    "TOMBSTONES_PER_HOUR",
    "TOMBSTONES_PER_PASS",
    "DiskFloor",
    "DiskLow",
]

#: The largest listing body read from a peer. An hour of 1 s segments and as many
#: tombstones lists in under 600 kB, ten years of hours in 1.5 MB; a body declaring
#: more is refused before a byte is read, and a chunked one is cut off here.
MAX_LISTING_BYTES = 4 * 1024 * 1024

#: ``--max-segment-mb``: a segment is a few MB; one declared larger is refused before
#: its body is read, one streamed (chunked) is cut off at this size and its temp removed.
MAX_SEGMENT_MB = 64

#: ``--min-free-mb``: backfilling stops while the archive's disk has less free space
#: than this, which is left to the downloader (live segments are not to be had later).
MIN_FREE_MB = 4096

#: Qualities of a channel the backfiller creates without ``--qualities``: those
#: already on disk, then new ones the peer lists until the channel has this many.
MAX_QUALITIES = 16

#: Hours starting more than this many hours after now are not listed (clocks differ
#: a little; an hour far ahead is a peer's junk, not a recording).
FUTURE_HOURS = 1

#: Hours of a channel listed in one pass, over all its qualities (8 qualities of almost
#: three years; give ``--start`` for more): what a pass holds in memory is bounded.
MAX_HOURS = 200_000

#: Tombstones copied from one trusted peer per hour directory and per pass; the
#: rest wait for the next pass (so a peer gone bad hides an archive slowly, noticed).
TOMBSTONES_PER_HOUR = 300
TOMBSTONES_PER_PASS = 1000

#: How often the free space is read again even if little was written meanwhile
#: (the downloader writes too).
_DISK_REFRESH = 1.0


class DiskLow(Exception):
    """The archive's disk is below the free-space floor: stop backfilling for now."""


class DiskFloor:
    """Free space above ``floor`` bytes on the file system of ``path``, shared by the workers.

    :meth:`take` is called with each body's size before it is written: it reads the
    free space (one ``statvfs``) at most once a second, or sooner when the bytes
    taken since would cross the floor, so a segment costs a comparison.
    """

    def __init__(self, path: str, floor: int, low_total=None) -> None:
        self.path = path
        self.floor = floor
        self.low_total = low_total  # a Counter: times backfilling stopped for the floor
        self._room = 0  # bytes above the floor at the last reading, less those taken since
        self._next = 0.0  # when to read again
        self.low = False

    def _read(self, now: float) -> None:
        st = os.statvfs(self.path)
        self._room = st.f_bavail * st.f_frsize - self.floor
        self._next = now + _DISK_REFRESH

    def take(self, size: int) -> None:
        """Count ``size`` bytes about to be written; DiskLow if they would cross the floor."""
        if size < self._room and not self.low and time.monotonic() < self._next:
            self._room -= size
            return
        self._read(time.monotonic())
        if size >= self._room:
            if not self.low:
                self.low = True
                if self.low_total is not None:
                    self.low_total.inc()
                logger.warning(
                    "free space on %r is below --min-free-mb %d: backfilling stops until "
                    "there is more (the rest is left to the downloader)",
                    self.path, self.floor // (1024 * 1024),
                )  # fmt: skip
            raise DiskLow(f"less than {self.floor // (1024 * 1024)} MB free on {self.path!r}")
        if self.low:
            self.low = False
            logger.info("free space on %r is above the floor again: backfilling", self.path)
        self._room -= size

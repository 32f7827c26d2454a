"""Fetch one segment from a peer into this node's archive, verified by its hash.

The bytes stream into a ``temp`` name in the segment's own hour directory
(docs/DESIGN.md#writing-a-segment), hashed as they arrive. Only if their sha256 is the one in the
segment's name is the file linked to that name: a link is atomic and, unlike a
rename, never replaces a file already there. Whatever happens, the temp name is
gone when :func:`fetch_segment` returns or raises.
"""

import hashlib
import logging
import os
import uuid

import requests
import urllib3.exceptions

from fastseg import SegmentInfo, content_id, segment_name

logger = logging.getLogger(__name__)

__all__ = [
    "BadAnswer",
    "FetchFailed",
    "HashMismatch",
    "PeerBroken",
    "fetch_segment",
    "store_tombstone",
]

#: Bytes per read: large, so that a 1-2 MB segment costs a handful of Python iterations.
CHUNK = 1024 * 1024


class FetchFailed(Exception):
    """One segment could not be fetched from this peer; the others may still be."""


class BadAnswer(FetchFailed):
    """The peer answered something other than the segment's bytes (a 404 or 5xx, a short body)."""


class HashMismatch(FetchFailed):
    """The peer's bytes do not hash to the name's sha256: they were discarded."""


class PeerBroken(Exception):
    """The peer could not be reached, or the connection broke: stop asking it for now."""


def fetch_segment(
    session: requests.Session, url: str, info: SegmentInfo, timeout: float
) -> int | None:
    """Fetch ``url`` into ``info.path``; the number of bytes stored, or None if already there.

    Raises HashMismatch or BadAnswer for this segment alone, PeerBroken when the
    peer is unreachable or the transfer breaks, OSError if the file cannot be
    written. No temp file is left behind in any case.
    """
    temp = os.path.join(
        info.hour_path, segment_name(info.start, info.duration, "temp", uuid.uuid4().hex)
    )
    fd = None
    try:
        try:
            with session.get(url, stream=True, timeout=timeout) as resp:
                if resp.status_code != 200:
                    raise BadAnswer(f"{url!r} answered {resp.status_code}")
                os.makedirs(info.hour_path, exist_ok=True)
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
                hasher = hashlib.sha256()
                size = 0
                read = resp.raw.read
                while chunk := read(CHUNK):
                    hasher.update(chunk)
                    view = memoryview(chunk)
                    while view:  # os.write may write less than asked
                        view = view[os.write(fd, view) :]
                    size += len(chunk)
                expected = resp.headers.get("Content-Length")
        except (requests.RequestException, urllib3.exceptions.HTTPError) as e:
            raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
        if expected is not None and expected.isdigit() and int(expected) != size:
            raise BadAnswer(f"{url!r} sent {size} of its {expected} bytes")
        if hasher.digest() != info.hash:
            raise HashMismatch(
                f"{url!r} sent {size} bytes with sha256 {content_id(hasher)!r}, not the "
                "name's: discarded"
            )
        os.close(fd)
        fd = None
        try:
            os.link(temp, info.path)
        except FileExistsError:
            return None  # another peer's worker, or the downloader, stored it first
        return size
    finally:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


def store_tombstone(hour_dir: str, name: str) -> bool:
    """Create the empty tombstone ``name`` in ``hour_dir``; False if it was there already.

    A peer's tombstone is copied as it is: an empty file, never the segment it
    hides, and never deleting a local copy of that segment (the tombstone alone
    hides it, on this node and on wubloader's).
    """
    os.makedirs(hour_dir, exist_ok=True)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(os.path.join(hour_dir, name), flags, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True

"""What in an archive root counts as recorded video: the one rule for every listing.

Only ``BASE/CHANNEL/QUALITY/HOUR`` directories hold video. A channel is a
directory of BASE holding at least one quality; a quality is a directory of a
channel holding at least one hour directory (``YYYY-MM-DDTHH``). Anything else
under BASE (the embedded database in ``.fastseg``, a folder of clips, a stray
file) is not a channel, so the restreamer's listings, the editor, ``fastseg
coverage`` and the edit checks all ignore it. Names that could not be a path part
(:func:`services.archive.names.is_safe_name`: hidden ones, a leading ``.``,
among them) never count, so every listed name can be asked for.

A directory that is asked for and cannot be read raises ``PermissionError``
rather than listing as empty (the restreamer answers 500 and logs it: the
operator must fix it, and peers must not take it for an empty archive); one that
is only looked into to decide whether it is a channel or quality counts as none.

:func:`join_under_base` is the one way a writer turns names into a path under
BASE: every part passes the safe-name rule and the result, symlinks resolved,
stays inside BASE.
"""

import datetime as dt
import logging
import os
from collections.abc import Callable

import fastseg
from fastseg import hour_start
from services.archive import names

logger = logging.getLogger(__name__)

__all__ = [
    "OutsideBase",
    "channels",
    "hours",
    "is_channel",
    "is_quality",
    "join_under_base",
    "qualities",
    "segment_at",
]


class OutsideBase(names.UnsafeName):
    """Names that are each safe, but whose path resolves (through a symlink) outside BASE."""


def join_under_base(base: str, *parts: str, what: str = "path part") -> str:
    """``BASE/PART/...``, for writing: each part one safe name, the whole inside BASE.

    Every part must pass :func:`services.archive.names.check_name` (so none can
    climb, hide or split), and the joined path, with every symlink that exists
    resolved (``os.path.realpath``), must still be BASE or below it: a directory
    of BASE that is a symlink to elsewhere is refused rather than written through.
    Raises :class:`~services.archive.names.UnsafeName` (a part; the message says
    ``WHAT 'PART' REASON``) or :class:`OutsideBase`.
    """
    for part in parts:
        names.check_name(part, what)
    path = os.path.join(base, *parts)
    root = os.path.realpath(base)
    real = os.path.realpath(path)
    if os.path.commonpath([root, real]) != root:
        raise OutsideBase(
            f"{path!r} resolves to {real!r}, outside the archive {root!r}: "
            "replace the symlink with a directory (or mount the disk at BASE)"
        )
    return path


def _dirs(path: str, keep: Callable[[str], bool] = names.is_safe_name) -> list[str]:
    """The sorted names of the directories in ``path`` that ``keep`` accepts (by default
    the names that could be a path part: visible, printable); none if ``path`` does not
    exist or is not a directory.

    Raises ``PermissionError`` (or another ``OSError``) if ``path`` cannot be read: an
    archive the node cannot read is the operator's to fix, not an empty one.
    """
    try:
        with os.scandir(path) as entries:
            found = [e.name for e in entries if keep(e.name) and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    found.sort()
    return found


def hours(base: str, channel: str, quality: str) -> list[str]:
    """The hour directories of ``BASE/CHANNEL/QUALITY``, sorted (oldest first).

    Raises ``PermissionError`` if that directory cannot be read.
    """
    return _dirs(os.path.join(base, channel, quality), names.is_hour_name)


def is_quality(base: str, channel: str, quality: str) -> bool:
    """Whether ``BASE/CHANNEL/QUALITY`` holds at least one hour directory.

    ``chat`` is never a quality: it holds a channel's chat batches (services.archive.chat).
    A directory that cannot be read holds none that can be served.
    """
    if quality == "chat" or not names.is_safe_name(quality):
        return False
    try:
        with os.scandir(os.path.join(base, channel, quality)) as entries:
            return any(e.is_dir() and hour_start(e.name) is not None for e in entries)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return False


def qualities(base: str, channel: str) -> list[str]:
    """The qualities of a channel that hold hours, sorted.

    Raises ``PermissionError`` if ``BASE/CHANNEL`` cannot be read.
    """
    if not names.is_safe_name(channel):
        return []
    return [q for q in _dirs(os.path.join(base, channel)) if is_quality(base, channel, q)]


def is_channel(base: str, channel: str) -> bool:
    """Whether ``BASE/CHANNEL`` holds at least one quality of hours (one it can read)."""
    if not names.is_safe_name(channel):
        return False
    try:
        found = _dirs(os.path.join(base, channel))
    except PermissionError:
        return False
    return any(is_quality(base, channel, q) for q in found)


def channels(base: str) -> list[str]:
    """The channels of the archive, sorted. Raises ``PermissionError`` if BASE cannot be read."""
    return [c for c in _dirs(base) if is_channel(base, c)]


def segment_at(path: str, when: dt.datetime) -> fastseg.SegmentInfo | None:
    """The segment of ``BASE/CH/Q`` playing at ``when`` (fastseg's choice), or None in a hole."""
    fudge: dt.timedelta = fastseg.FUDGE
    for seg in fastseg.get_best_segments(path, when, when):
        if seg is None:
            continue
        start: dt.datetime | None = seg.start
        end: dt.datetime | None = seg.end
        if start is not None and end is not None and start - fudge <= when < end:
            return seg
    return None

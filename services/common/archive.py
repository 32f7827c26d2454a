"""What in an archive root counts as recorded video: the one rule for every listing.

Only ``BASE/CHANNEL/QUALITY/HOUR`` directories hold video. A channel is a
directory of BASE holding at least one quality; a quality is a directory of a
channel holding at least one hour directory (``YYYY-MM-DDTHH``). Anything else
under BASE (the embedded database in ``.fastseg``, a folder of clips, a stray
file) is not a channel, so the restreamer's listings, the editor, ``fastseg
coverage`` and the edit checks all ignore it. Hidden names (a leading ``.``)
never count.
"""

import logging
import os

from fastseg._common import hour_start

logger = logging.getLogger(__name__)

__all__ = ["channels", "hours", "is_channel", "is_quality", "qualities"]


def _dirs(path: str) -> list[str]:
    """The sorted names of the visible directories in ``path``; none if it is not a directory."""
    try:
        with os.scandir(path) as entries:
            names = [e.name for e in entries if not e.name.startswith(".") and e.is_dir()]
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return []
    names.sort()
    return names


def hours(base: str, channel: str, quality: str) -> list[str]:
    """The hour directories of ``BASE/CHANNEL/QUALITY``, sorted (oldest first)."""
    return [h for h in _dirs(os.path.join(base, channel, quality)) if hour_start(h) is not None]


def is_quality(base: str, channel: str, quality: str) -> bool:
    """Whether ``BASE/CHANNEL/QUALITY`` holds at least one hour directory.

    ``chat`` is never a quality: it holds a channel's chat batches (services.common.chat).
    """
    if quality.startswith(".") or quality == "chat":
        return False
    try:
        with os.scandir(os.path.join(base, channel, quality)) as entries:
            return any(e.is_dir() and hour_start(e.name) is not None for e in entries)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return False


def qualities(base: str, channel: str) -> list[str]:
    """The qualities of a channel that hold hours, sorted."""
    if channel.startswith("."):
        return []
    return [q for q in _dirs(os.path.join(base, channel)) if is_quality(base, channel, q)]


def is_channel(base: str, channel: str) -> bool:
    """Whether ``BASE/CHANNEL`` holds at least one quality of hours."""
    if channel.startswith("."):
        return False
    return any(is_quality(base, channel, q) for q in _dirs(os.path.join(base, channel)))


def channels(base: str) -> list[str]:
    """The channels of the archive, sorted."""
    return [c for c in _dirs(base) if is_channel(base, c)]

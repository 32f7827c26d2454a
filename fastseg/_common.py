"""Types, errors, constants and name builders shared by both twins.

Everything here is pure Python and imported by the pure twin and the compiled
twin alike, so both raise the same classes with the same messages and return
the same result type. Nothing in this module is on a hot path except the
properties of :class:`SegmentInfo`.
"""

import base64
import datetime as _dt
import hashlib
import logging
import os
import re
from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, NamedTuple, Protocol

__all__ = [
    "FUDGE",
    "SEGMENT_TYPES",
    "ContainsHoles",
    "HourCoverage",
    "SegmentInfo",
    "SegmentPathError",
    "content_id",
    "describe_bad_path",
    "hour_name",
    "segment_name",
    "tombstone_path",
    "tombstoned_name",
]

#: Gaps and overlaps up to this long between neighbours are jitter, not holes.
FUDGE = _dt.timedelta(milliseconds=10)

#: Types in order of preference when several segments share a start time.
SEGMENT_TYPES = ("full", "suspect", "partial", "temp")

_ONE_US = _dt.timedelta(microseconds=1)

# A directory's mtime proves its cached listing current only if the mtime is
# older than the moment the listing began by more than the filesystem's
# timestamp granularity (1-2 s on some filesystems, a coarse tick on ext4),
# the way git treats racily clean index entries. Hours still being written are
# younger than this and are simply read again.
RACY_NS = 2_000_000_000

#: Hours whose choice stays cached (least recently used go first): a week of
#: three qualities. The compiled twin keeps an hour of 1,800 segments in about
#: 150 KB (its names), or 520 KB while its segments are kept as objects.
DEFAULT_CACHE_HOURS = 512

#: Segments the compiled twin keeps as ``SegmentInfo`` objects, in the hours a
#: selection used last (about 290 bytes each, 28 MiB in all): a warm selection of
#: up to 55 hours of 2-second segments hands them out without building any.
#: Older cached hours keep only their names and build their objects again when
#: a selection asks (about 0.3 ms an hour), not reading the directory again.
DEFAULT_OBJECT_SEGMENTS = 100_000

_JUNK_LOG_LIMIT = 10_000  # forget what was logged past this, so memory stays bounded
_junk_logged: set[str] = set()
logger = logging.getLogger("fastseg")


class SegmentPathError(ValueError):
    """A path not ending in ``[[[CHANNEL/]QUALITY/]HOUR/]NAME`` (docs/DESIGN.md#segment-names)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"bad segment path {path!r}: {reason}")


class ContainsHoles(Exception):
    """The range asked for is not fully covered by complete segments.

    ``hole_start``/``hole_end`` bound the first hole found (naive UTC datetimes),
    so a caller can tell a user where the video is missing.
    """

    def __init__(self, hole_start: _dt.datetime, hole_end: _dt.datetime) -> None:
        self.hole_start = hole_start
        self.hole_end = hole_end
        super().__init__(
            f"no complete video from {hole_start.isoformat()} to {hole_end.isoformat()}"
        )


class SegmentInfo(tuple[str, str, str | None, str | None, _dt.datetime | None, _dt.timedelta, str]):
    """One segment file, as parsed from its path.

    A tuple subclass, so the compiled twin can build it without calling Python
    code. The path is kept as its directory (shared by every segment of an hour)
    and its name, and the hash is decoded from the name only when asked for:
    both keep a 48-hour selection (86,000 segments) small.
    """

    __slots__ = ()
    _fields = ("hour_path", "name", "channel", "quality", "start", "duration", "type")

    def __new__(
        cls,
        path: str,
        channel: str | None,
        quality: str | None,
        start: _dt.datetime | None,
        duration: _dt.timedelta,
        type: str,
    ) -> "SegmentInfo":
        hour_path, _, name = path.rpartition("/")
        return tuple.__new__(cls, (hour_path, name, channel, quality, start, duration, type))

    if TYPE_CHECKING:  # the types of the fast itemgetter properties below

        @property
        def hour_path(self) -> str: ...
        @property
        def name(self) -> str: ...
        @property
        def channel(self) -> str | None: ...
        @property
        def quality(self) -> str | None: ...
        @property
        def start(self) -> _dt.datetime | None: ...
        @property
        def duration(self) -> _dt.timedelta: ...
        @property
        def type(self) -> str: ...

    else:
        hour_path = property(itemgetter(0), doc="the directory holding the file ('' if none)")
        name = property(itemgetter(1), doc="the file name")
        channel = property(itemgetter(2))
        quality = property(itemgetter(3))
        start = property(itemgetter(4), doc="naive UTC, None without an hour")
        duration = property(itemgetter(5))
        type = property(itemgetter(6), doc="full, suspect, partial or temp")

    @property
    def path(self) -> str:
        return f"{self[0]}/{self[1]}" if self[0] else self[1]

    @property
    def end(self) -> _dt.datetime | None:
        return None if self[4] is None else self[4] + self[5]

    @property
    def is_partial(self) -> bool:
        """True unless the segment is known complete and trusted (``full``)."""
        return self[6] != "full"

    @property
    def hash(self) -> bytes | None:
        """The sha256 of the file's bytes, decoded from the name; None for temp files."""
        if self[6] == "temp":
            return None
        ident = self[1][:-3].split("-", 3)[3]
        return base64.urlsafe_b64decode(ident + "=")

    def __getnewargs__(
        self,
    ) -> tuple[str, str | None, str | None, _dt.datetime | None, _dt.timedelta, str]:
        return (self.path, self[2], self[3], self[4], self[5], self[6])

    def __repr__(self) -> str:
        start = None if self[4] is None else self[4].isoformat()
        return (
            f"SegmentInfo(path={self.path!r}, channel={self[2]!r}, quality={self[3]!r}, "
            f"start={start}, duration={self[5].total_seconds()}, type={self[6]!r})"
        )


Span = tuple[int, int]  # [a, b) in microseconds from an hour's start


class HourCoverage(NamedTuple):
    """What an hour directory's chosen segments cover, from their names alone.

    Spans are microseconds from the hour's start, sorted and merged: neighbours
    within ``FUDGE`` of each other are one span, and the last may run past the
    hour's end. ``partial`` spans (partial or suspect segments) may overlap
    ``full`` ones. See docs/DESIGN.md#pictures-of-the-archive.
    """

    full: tuple[Span, ...]
    partial: tuple[Span, ...]
    segments: int  # the segments chosen (one per start)
    complete: int  # of which full


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, joined spans; neighbours within FUDGE of each other become one."""
    fudge = FUDGE // _ONE_US
    out: list[list[int]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + fudge:
            if b > out[-1][1]:
                out[-1][1] = b
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


# ---------------------------------------------------------------------------
# Argument checks both twins make, so a bad argument fails the same way in each
# (the compiled twin tests the good case in C and calls these only to explain).

# The walk reads the hour before start and the hour of end: keep both representable.
FIRST_HOUR = _dt.datetime(1, 1, 1, 1)
LAST_HOUR = _dt.datetime(9999, 12, 31, 23)


def check_times(start: _dt.datetime, end: _dt.datetime) -> None:
    """ValueError unless ``start <= end`` are naive datetimes the walk can reach."""
    for name, value in (("start", start), ("end", end)):
        if not isinstance(value, _dt.datetime) or value.tzinfo is not None:
            raise ValueError(f"{name} must be a naive UTC datetime, got {value!r}")
        if not FIRST_HOUR <= value < LAST_HOUR:
            raise ValueError(f"{name} {value.isoformat()} is outside the years 1-9999")
    if start > end:
        raise ValueError(f"start {start.isoformat()} is after end {end.isoformat()}")


def str_path(path: str | os.PathLike[str], what: str) -> str:
    """``path`` as a str (an ``os.PathLike`` is accepted); TypeError naming ``what`` if not one."""
    if type(path) is not str:
        try:
            path = os.fspath(path)
        except TypeError:
            pass
        if not isinstance(path, str):
            raise TypeError(f"{what} must be a str path, got {type(path).__name__} {path!r}")
    return path


def check_cache_size(hours: int) -> int:
    """``hours`` if it is a whole number >= 0 (not a bool); ValueError otherwise."""
    if not isinstance(hours, int) or isinstance(hours, bool) or hours < 0:
        raise ValueError(f"cache size must be a whole number of hours >= 0, got {hours!r}")
    return int(hours)


# ---------------------------------------------------------------------------
# Builders: the only writers of names, so parse(build(x)) == x to the microsecond.


def hour_name(dt: _dt.datetime) -> str:
    """The hour directory name for a naive UTC datetime, e.g. ``2026-11-27T17``."""
    return f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}"


def _seconds_text(us: int) -> str:
    seconds, frac = divmod(us, 1_000_000)
    if not frac:
        return str(seconds)
    return f"{seconds}.{frac:06d}".rstrip("0")


def segment_name(start: _dt.datetime, duration: _dt.timedelta, type: str, id: str) -> str:
    """The file name of a segment: ``MM:SS.ffffff-DURATION-TYPE-ID.ts``.

    Raises ValueError for an unknown type, a negative duration or an empty id.
    """
    if type not in SEGMENT_TYPES:
        raise ValueError(f"segment type {type!r} is not one of {', '.join(SEGMENT_TYPES)}")
    us = duration // _ONE_US
    if us < 0:
        raise ValueError(f"segment duration {duration!r} is negative")
    if not id:
        raise ValueError("segment id is empty: give content_id(data), or a uuid for temp")
    return (
        f"{start.minute:02d}:{start.second:02d}.{start.microsecond:06d}"
        f"-{_seconds_text(us)}-{type}-{id}.ts"
    )


class _Digest(Protocol):
    """A finished hash object, such as ``hashlib.sha256()``."""

    def digest(self) -> bytes: ...


def content_id(data: bytes | _Digest) -> str:
    """The ID of a segment's bytes: sha256, url-safe base64 without padding.

    Takes the bytes themselves or a finished hash object (anything with ``digest()``).
    """
    digest = data.digest() if hasattr(data, "digest") else hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# ---------------------------------------------------------------------------
# Tombstones: ``STEM.tombstone`` hides ``STEM.ts`` (the extension replaced, as
# wubloader does it), so ``STEM.ts.tombstone`` hides nothing. Every caller asks
# these two functions, so the rule lives here alone.

TOMBSTONE = ".tombstone"


def tombstone_path(segment_path: str) -> str:
    """The path of the tombstone that hides ``segment_path`` (a ``.ts`` path)."""
    if not isinstance(segment_path, str) or not segment_path.endswith(".ts"):
        raise ValueError(f"{segment_path!r} is not a segment path: it does not end in '.ts'")
    return segment_path[:-3] + TOMBSTONE


def tombstoned_name(name: str) -> str | None:
    """The ``.ts`` name a tombstone name hides, or None if ``name`` is no tombstone."""
    if len(name) > len(TOMBSTONE) and name.endswith(TOMBSTONE):
        return name[: -len(TOMBSTONE)] + ".ts"
    return None


# ---------------------------------------------------------------------------
# Diagnosis of bad paths. The twins only decide accept or reject; on reject they
# ask this function why, so both say the same thing. It is also the grammar's
# readable statement.

_TIME = re.compile(r"[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?")
_DURATION = re.compile(r"[0-9]{1,9}(\.[0-9]+)?")
_HASH = re.compile(r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]")  # 256 bits: last 2 bits zero
_TEMP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_HOUR = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2})")


def hour_start(text: str) -> _dt.datetime | None:
    """The start of an hour directory name, or None if it is not ``YYYY-MM-DDTHH``."""
    m = _HOUR.fullmatch(text)
    if m is None:
        return None
    try:
        year, month, day, hour = map(int, m.groups())
        return _dt.datetime(year, month, day, hour)
    except ValueError:
        return None


def describe_bad_path(path: object) -> str:
    """Why ``path`` is not a segment path: the first thing wrong with it."""
    if not isinstance(path, str):
        return f"expected a str path, got {type(path).__name__}"
    parts = path.split("/")
    name = parts[-1]
    if not name.endswith(".ts"):
        return "name does not end in '.ts'"
    fields = name[:-3].split("-", 3)
    if len(fields) != 4:
        return "name is not MM:SS.ffffff-DURATION-TYPE-ID.ts"
    time, duration, type_, ident = fields
    if not _TIME.fullmatch(time):
        return f"start {time!r} is not MM:SS or MM:SS.f (1-6 digits) within an hour"
    if not _DURATION.fullmatch(duration):
        return f"duration {duration!r} is not a non-negative decimal number of seconds"
    if type_ not in SEGMENT_TYPES:
        return f"type {type_!r} is not one of {', '.join(SEGMENT_TYPES)}"
    if type_ == "temp":
        if not _TEMP_ID.fullmatch(ident):
            return f"temp id {ident!r} is not 1-64 letters, digits, '-' or '_'"
    elif not _HASH.fullmatch(ident):
        return f"hash {ident!r} is not a sha256 in url-safe base64 (43 characters, no padding)"
    if len(parts) >= 2 and hour_start(parts[-2]) is None:
        return f"directory {parts[-2]!r} is not an hour (YYYY-MM-DDTHH)"
    return "malformed segment path"  # only reached if the twins disagree with this grammar


def log_bad_name(path: str) -> None:
    """Log an archive file that is not a segment, once per path (docs/DESIGN.md#segment-names)."""
    if path in _junk_logged:
        return
    if len(_junk_logged) >= _JUNK_LOG_LIMIT:
        _junk_logged.clear()
    _junk_logged.add(path)
    logger.warning("skipping %r: %s", path, describe_bad_path(path))


# ---------------------------------------------------------------------------
# Playlist lines. Both twins render an hour's entries by slicing them out of
# the names (a name ``MM:SS.ffffff-DURATION-...`` after its hour directory's
# name is already the ISO date, and DURATION already a decimal); a name written
# by another tool, with a shorter fraction, is formatted here instead.

PROGRAM_DATE_TIME = "#EXT-X-PROGRAM-DATE-TIME:"


def ascii_url(url: object) -> bytes:
    """``url`` as ASCII bytes; ValueError if it is not a str of ASCII characters."""
    if isinstance(url, str) and url.isascii():
        return url.encode("ascii")
    raise ValueError(f"playlist URL {url!r} is not ASCII text: quote it (urllib.parse.quote)")


def playlist_entry(segment: SegmentInfo, url: str) -> str:
    """One segment's PROGRAM-DATE-TIME, EXTINF and URI lines (``url`` + name), newline-ended.

    RFC 8216 §4.3.2.6 wants ISO 8601 with a time zone; the archive's times are UTC.
    """
    start = segment[4]
    assert start is not None, "a segment without an hour has no date to put in a playlist"
    date = start.isoformat(timespec="microseconds")
    seconds = f"{segment[5].total_seconds():.6f}".rstrip("0").rstrip(".")
    return f"{PROGRAM_DATE_TIME}{date}Z\n#EXTINF:{seconds},\n{url}{segment[1]}\n"

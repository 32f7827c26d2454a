"""HLS playlist text (RFC 8216) from chosen segments: rendering only, no I/O but stat.

Media playlists are the hot path (a 24-hour one has 43,000 segments). Each
segment's lines are sliced out of its name and hour by fastseg's
``playlist_entries`` (in C with the compiled twin: no datetime formatting, no
quoting, since names are URL-safe by their grammar, docs/DESIGN.md#segment-names),
each hour is rendered once and kept while fastseg's cached choice for it is
unchanged, and a playlist is mostly whole hours of text joined together.
"""

import logging
import math
import os
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from operator import itemgetter
from urllib.parse import quote

import gevent

from fastseg import SegmentInfo, best_segments_by_start, playlist_entries

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_CACHE_BYTES",
    "MediaCache",
    "master_playlist",
    "media_playlist",
    "media_playlist_chunks",
    "peak_bandwidth",
]

_START = itemgetter(4)

VERSION = 3  # RFC 8216 §7: decimal EXTINF durations need version 3


class _Hour:
    """One hour's segments rendered once, as ASCII bytes, with where each one's lines start."""

    __slots__ = ("segments", "data", "view", "offsets", "seconds", "longest", "nbytes")

    def __init__(self, segments: list[SegmentInfo], url: str) -> None:
        self.segments = segments
        # Bytes, not text: a playlist is sent as bytes, and slicing them is one
        # copy where joining per-segment strings would be 43,000 small ones.
        # Durations as floats: max() over a slice of them is several times faster
        # than over timedeltas, and a playlist takes one per stretch of an hour.
        self.data, self.offsets, self.seconds = playlist_entries(segments, url)
        self.view = memoryview(self.data)  # slices of it are views, not copies
        self.longest = max(self.seconds, default=0.0)
        self.nbytes = len(self.data) + PER_SEGMENT_BYTES * len(segments)

    def find(self, segment: SegmentInfo) -> int | None:
        """The position of this segment in the hour (fastseg's lists are in start order)."""
        i = bisect_left(self.segments, segment[4], key=_START)
        if i < len(self.segments) and self.segments[i] == segment:  # identity first, as C does
            return i
        return None


#: Bytes an hour keeps per segment besides its text: its offset and duration (16
#: bytes in two arrays) and the segment object itself, which stays alive while the
#: hour is cached even after fastseg's own cache has let it go (~290-325 bytes,
#: measured with tracemalloc), rounded up.
PER_SEGMENT_BYTES = 400

#: The rendered hours a restreamer keeps: about 0.75 MB per hour of 2-second
#: segments, so 32 MiB holds a warm 24-hour playlist of one quality with room to spare.
DEFAULT_CACHE_BYTES = 32 * 1024 * 1024


class MediaCache:
    """Rendered hours, reused while fastseg returns the same (cached) hour lists.

    fastseg caches each hour's chosen segments until the directory changes and
    get_best_segments returns those very objects, so a run of segments equal
    (``==`` on lists compares identities first) to a slice of a cached hour is
    rendered by slicing that hour's bytes: a warm 24-hour playlist costs a few
    copies instead of 43,000 formatted entries. An hour is kept while fastseg's
    choice for it stays equal (a fresh list of the same segments, or the same
    segments read again), and rendered again once it differs.

    The cache holds at most ``max_bytes`` (each hour's text plus
    ``PER_SEGMENT_BYTES`` per segment), least recently used hours going first; an
    hour larger than that on its own is rendered and used, but not kept.
    """

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"playlist cache size {max_bytes!r} is negative: give bytes >= 0")
        self._hours: dict[tuple[str, str], _Hour] = {}
        self.max_bytes = max_bytes
        self.nbytes = 0  # what the hours kept now count for

    def __len__(self) -> int:
        return len(self._hours)

    def cached_hours(self) -> list[str]:
        """The hour directories kept, least recently used first."""
        return [hour_path for hour_path, _url in self._hours]

    def hour(self, hour_path: str, url: str) -> _Hour:
        key = (hour_path, url)
        segments = best_segments_by_start(hour_path)
        entry = self._hours.pop(key, None)
        if entry is not None:
            self.nbytes -= entry.nbytes
        if entry is not None and entry.segments == segments:
            entry.segments = segments  # the current objects: comparisons stay identity checks
        else:
            entry = _Hour(segments, url)
            gevent.idle()  # a day of cold hours must not hold the loop for its whole render
        if entry.nbytes > self.max_bytes:
            return entry  # too big to keep at all
        self._hours[key] = entry  # most recently used last
        self.nbytes += entry.nbytes
        while self.nbytes > self.max_bytes:
            self.nbytes -= self._hours.pop(next(iter(self._hours))).nbytes
        return entry


def _common_run(run: Sequence, p: int, hour: list, i: int, most: int) -> int:
    """How many of ``run[p:]`` are ``hour[i:]``, one for one (at least 1, at most ``most``).

    A hole (None) or a segment dropped for overlapping ends the common stretch.
    Prefix equality is monotonic, so where segments were dropped a binary search
    finds the end with a few C-speed list comparisons, not a Python loop.
    """
    try:  # a hole ends the stretch; finding it is a C-speed scan
        most = run.index(None, p, p + most) - p
    except ValueError:
        pass
    if run[p : p + most] == hour[i : i + most]:
        return most
    good, bad = 1, most  # run[p] is hour[i]; the whole stretch differs somewhere
    while bad - good > 1:
        mid = (good + bad) // 2
        if run[p : p + mid] == hour[i : i + mid]:
            good = mid
        else:
            bad = mid
    return good


def media_playlist(
    segments: Sequence[SegmentInfo | None],
    channel: str,
    quality: str,
    ended: bool,
    cache: MediaCache | None = None,
) -> bytes:
    """A media playlist of ``segments`` (None marks a hole), as get_best_segments returns them.

    Each segment gets its PROGRAM-DATE-TIME and EXTINF; a segment after a hole
    gets EXT-X-DISCONTINUITY (its timestamps do not follow on from the last
    one's); EXT-X-ENDLIST is written only if ``ended`` (the range is complete).
    """
    return b"".join(media_playlist_chunks(segments, channel, quality, ended, cache))


def media_playlist_chunks(
    segments: Sequence[SegmentInfo | None],
    channel: str,
    quality: str,
    ended: bool,
    cache: MediaCache | None = None,
) -> list[bytes | memoryview]:
    """:func:`media_playlist` as the pieces to send one after another, copying nothing.

    Whole hours are the cached hours' bytes and parts of hours are views of
    them, so a 7 MB playlist is sent without being assembled (each copy of it
    costs milliseconds, mostly in page faults on the fresh buffer).
    """
    cache = MediaCache(4 * 1024 * 1024) if cache is None else cache  # a couple of hours
    prefix = f"/segments/{quote(channel, safe='')}/{quote(quality, safe='')}/"
    longest = 0.0
    body: list[bytes | memoryview] = []
    after_hole = False
    hour, hour_of = None, None  # the last stretch's hour: the next is usually in it too
    p, count = 0, len(segments)
    while p < count:
        segment = segments[p]
        if segment is None:
            after_hole = bool(body)  # a hole before the first segment needs no marker
            p += 1
            continue
        if after_hole:
            body.append(b"#EXT-X-DISCONTINUITY\n")
            after_hole = False
        hour_path = segment[0]
        url = f"{prefix}{hour_path[hour_path.rfind('/') + 1 :]}/"
        if hour is None or hour_path != hour_of:
            hour, hour_of = cache.hour(hour_path, url), hour_path  # once per hour a playlist
        i = hour.find(segment)
        if i is None:
            # Not in fastseg's current list for the hour (it changed meanwhile):
            # the rest of this hour's stretch is rendered as given, and not kept.
            q = p + 1
            while q < count and segments[q] is not None and segments[q][0] == hour_path:
                q += 1
            data, _offsets, seconds = playlist_entries(segments[p:q], url)
            body.append(data)
            longest = max(longest, max(seconds))
            p = q
            continue
        n = _common_run(segments, p, hour.segments, i, min(len(hour.segments) - i, count - p))
        if i == 0 and n == len(hour.segments):
            body.append(hour.data)
            longest = max(longest, hour.longest)
        else:
            body.append(hour.view[hour.offsets[i] : hour.offsets[i + n]])
            if hour.longest > longest:  # else no segment of the stretch can be longer
                longest = max(longest, max(hour.seconds[i : i + n]))
        p += n
    # §4.3.3.1: every EXTINF rounded to the nearest integer must be <= TARGETDURATION;
    # the ceiling always satisfies that, and never less than 1.
    head = [
        "#EXTM3U\n",
        f"#EXT-X-VERSION:{VERSION}\n",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(longest))}\n",
        "#EXT-X-MEDIA-SEQUENCE:0\n",
    ]
    if ended:
        head.append("#EXT-X-PLAYLIST-TYPE:VOD\n")
        body.append(b"#EXT-X-ENDLIST\n")
    return ["".join(head).encode("ascii"), *body]


def peak_bandwidth(segments: Iterable[SegmentInfo | None], samples: int = 16) -> int:
    """Bits per second of the densest of up to ``samples`` segments spread over the run."""
    chosen = [s for s in segments if s is not None and s.duration.total_seconds() > 0]
    if not chosen:
        return 1
    step = max(1, len(chosen) // samples)
    peak = 0.0
    for segment in chosen[::step]:
        try:
            size = os.stat(segment.path).st_size
        except OSError:
            continue  # removed since it was chosen
        peak = max(peak, size * 8 / segment.duration.total_seconds())
    return max(1, math.ceil(peak))


def master_playlist(variants: Sequence[tuple[str, int, str]]) -> str:
    """A master playlist of ``(quality, bandwidth, media playlist URL)``, best first.

    Each quality is its own video rendition group, named after the quality, so
    that players show the quality names (as Twitch's playlists do).
    """
    lines = ["#EXTM3U", f"#EXT-X-VERSION:{VERSION}"]
    for i, (quality, bandwidth, url) in enumerate(variants):
        name = quality.replace('"', "'")  # quoted-string attributes cannot hold '"' (§4.2)
        default = "YES" if i == 0 else "NO"
        lines.append(
            f'#EXT-X-MEDIA:TYPE=VIDEO,GROUP-ID="{name}",NAME="{name}",'
            f"AUTOSELECT=YES,DEFAULT={default}"
        )
        lines.append(f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},VIDEO="{name}"')
        lines.append(url)
    return "\n".join(lines) + "\n"

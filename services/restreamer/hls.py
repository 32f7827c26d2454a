"""HLS playlist text (RFC 8216) from chosen segments: rendering only, no I/O but stat.

Media playlists are the hot path (a 24-hour one has 43,000 segments), so each
segment costs a few string operations: the URL prefix is built once per hour
directory and segment names are URL-safe by their grammar (DESIGN.md §2), so
they are not quoted again.
"""

import datetime as dt
import logging
import math
import os
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from fastseg import SegmentInfo

logger = logging.getLogger(__name__)

__all__ = ["master_playlist", "media_playlist", "peak_bandwidth"]

VERSION = 3  # RFC 8216 §7: decimal EXTINF durations need version 3


def _date(when: dt.datetime) -> str:
    # RFC 8216 §4.3.2.6: ISO 8601 with a time zone; the archive's times are UTC.
    return f"{when.isoformat(timespec='microseconds')}Z"


def media_playlist(
    segments: Sequence[SegmentInfo | None], channel: str, quality: str, ended: bool
) -> str:
    """A media playlist of ``segments`` (None marks a hole), as get_best_segments returns them.

    Each segment gets its PROGRAM-DATE-TIME and EXTINF; a segment after a hole
    gets EXT-X-DISCONTINUITY (its timestamps do not follow on from the last
    one's); EXT-X-ENDLIST is written only if ``ended`` (the range is complete).
    """
    prefix = f"/segments/{quote(channel, safe='')}/{quote(quality, safe='')}/"
    longest = 0.0
    body: list[str] = []
    append = body.append
    urls: dict[str, str] = {}  # hour directory -> URL prefix of its segments
    after_hole = False
    for segment in segments:
        if segment is None:
            after_hole = bool(body)  # a hole before the first segment needs no marker
            continue
        hour_path, name, _, _, start, duration, _ = segment
        url = urls.get(hour_path)
        if url is None:
            url = urls[hour_path] = f"{prefix}{hour_path.rpartition('/')[2]}/"
        seconds = duration.total_seconds()
        if seconds > longest:
            longest = seconds
        if after_hole:
            append("#EXT-X-DISCONTINUITY")
            after_hole = False
        append(f"#EXT-X-PROGRAM-DATE-TIME:{_date(start)}\n#EXTINF:{seconds:.3f},\n{url}{name}")
    # §4.3.3.1: every EXTINF rounded to the nearest integer must be <= TARGETDURATION;
    # the ceiling always satisfies that, and never less than 1.
    head = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{VERSION}",
        f"#EXT-X-TARGETDURATION:{max(1, math.ceil(longest))}",
        "#EXT-X-MEDIA-SEQUENCE:0",
    ]
    if ended:
        head.append("#EXT-X-PLAYLIST-TYPE:VOD")
        body.append("#EXT-X-ENDLIST")
    return "\n".join(head + body) + "\n"


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

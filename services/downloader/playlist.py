"""Master and media playlists: fetch them, parse them with ``m3u8``, and refuse bad ones.

A live origin sometimes answers with an empty body, an HTML error page or a playlist
cut off mid-entry. None of that may stop a worker: :class:`PlaylistError` says what
was wrong and the caller logs it and polls again.
"""

import dataclasses
import logging
import math
import re

import gevent
import m3u8
import requests

logger = logging.getLogger(__name__)

#: Seconds to wait for a whole playlist; a slower origin is treated as failing.
PLAYLIST_TIMEOUT = 10.0
#: The largest playlist read, in bytes (decoded): a day of 2-second entries is about
#: 6 MB, so a larger body is no live playlist, and is not held in memory.
MAX_PLAYLIST_BYTES = 16 * 1024 * 1024
#: The longest target duration and entry, in seconds. RFC 8216 §4.3.3.1 has entries
#: within the target; live origins use 2 to 10 s. Polling waits a target duration,
#: so a huge one would freeze the worker, and a non-finite entry cannot be a time.
MAX_SEGMENT_SECONDS = 60


class PlaylistError(ValueError):
    """A playlist that cannot be used: malformed, empty, truncated, or the wrong kind."""


class URLExpired(Exception):
    """The origin answered 403 or 404: this URL will not work again."""


@dataclasses.dataclass(frozen=True)
class Variant:
    """One quality of a master playlist."""

    quality: str
    url: str
    bandwidth: int


def fetch_text(session: requests.Session, url: str, timeout: float = PLAYLIST_TIMEOUT) -> str:
    """GET a playlist's text. Raises URLExpired on 403/404, requests' errors otherwise."""
    # requests' own timeout only bounds each socket wait; this bounds the whole fetch.
    late = requests.Timeout(f"no complete answer from {url!r} in {timeout} s")
    with gevent.Timeout(timeout, late), session.get(url, timeout=timeout, stream=True) as resp:
        if resp.status_code in (403, 404):
            raise URLExpired(f"{url!r} answered {resp.status_code}: the URL expired")
        resp.raise_for_status()
        body = _read_capped(resp, url)
    # RFC 8216 §4.1: playlists are UTF-8 (and guessing the charset is slow).
    return body.decode("utf-8", errors="replace")


def _read_capped(resp: requests.Response, url: str) -> bytes:
    """The body, or PlaylistError as soon as it is over MAX_PLAYLIST_BYTES (never held whole)."""
    too_big = f"playlist from {url!r} is over {MAX_PLAYLIST_BYTES} bytes: no live playlist is"
    length = resp.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_PLAYLIST_BYTES:
        raise PlaylistError(too_big)
    chunks, size = [], 0
    for chunk in resp.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_PLAYLIST_BYTES:
            raise PlaylistError(too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def _loads(text: str, url: str, **kwargs) -> m3u8.M3U8:
    if not text.lstrip().startswith("#EXTM3U"):
        raise PlaylistError(f"playlist from {url!r} does not start with #EXTM3U: {text[:60]!r}")
    try:
        return m3u8.loads(text, uri=url, **kwargs)
    except Exception as e:  # m3u8 raises ValueError, IndexError, AttributeError... on junk
        raise PlaylistError(f"playlist from {url!r} does not parse: {e}") from e


def parse_media(text: str, url: str) -> m3u8.M3U8:
    """A live media playlist, checked to be complete enough to act on.

    Raises PlaylistError if it is not a playlist, is a master playlist, has no target
    duration, lists no segment, or ends in an entry with no URI (a truncated body).
    """
    playlist = _loads(text, url)
    if playlist.is_variant:
        raise PlaylistError(f"{url!r} is a master playlist where a media playlist was expected")
    if not playlist.target_duration:
        raise PlaylistError(f"playlist from {url!r} has no EXT-X-TARGETDURATION")
    if not 0 < playlist.target_duration <= MAX_SEGMENT_SECONDS:
        raise PlaylistError(
            f"playlist from {url!r} has a target duration of {playlist.target_duration} s, "
            f"not 1 to {MAX_SEGMENT_SECONDS}"
        )
    if not playlist.segments:
        raise PlaylistError(f"playlist from {url!r} lists no segments")
    for segment in playlist.segments:
        if not segment.uri:
            raise PlaylistError(f"playlist from {url!r} ends in an entry with no URI: truncated")
        duration = segment.duration
        if duration is None or not math.isfinite(duration) or not 0 <= duration:
            raise PlaylistError(f"segment {segment.uri!r} has a bad duration {duration!r}")
        if duration > MAX_SEGMENT_SECONDS:
            raise PlaylistError(
                f"segment {segment.uri!r} lasts {duration:g} s, over {MAX_SEGMENT_SECONDS}"
            )
    return playlist


_NAME = re.compile(r'NAME="([^"]*)"')


def parse_master(text: str, url: str, quality_of=None) -> list[Variant]:
    """The variants of a master playlist, each named for ``--qualities``.

    The name is the variant's ``NAME`` attribute, else its video rendition's ``NAME``,
    else its height (``720p``); ``quality_of(playlist, name)`` overrides that (Twitch).
    Raises PlaylistError if the text is not a master playlist or names no variant.
    """
    names: list[str | None] = []

    def note_names(line, lineno, data, state):
        # m3u8 keeps only the standard EXT-X-STREAM-INF attributes; NAME is not one.
        if line.startswith("#EXT-X-STREAM-INF:"):
            m = _NAME.search(line)
            names.append(m.group(1) if m else None)
        return False  # let m3u8 parse the line as usual

    master = _loads(text, url, custom_tags_parser=note_names)
    if not master.is_variant or not master.playlists:
        raise PlaylistError(f"{url!r} is not a master playlist (no EXT-X-STREAM-INF)")
    variants: dict[str, Variant] = {}
    nameless = []
    for playlist, name in zip(master.playlists, names, strict=True):
        quality = (quality_of or default_quality)(playlist, name)
        if quality is None:
            nameless.append(playlist.uri)
            continue
        bandwidth = playlist.stream_info.bandwidth or 0
        seen = variants.get(quality)
        if seen is None or bandwidth > seen.bandwidth:  # two with one name: keep the best
            variants[quality] = Variant(quality, playlist.absolute_uri, bandwidth)
    if nameless:  # one line, however many: an origin cannot flood the log
        logger.warning("%d variant(s) of %r have no name or height: skipped (first %r)",
                       len(nameless), url, nameless[0][:200])  # fmt: skip
    if not variants:
        raise PlaylistError(f"master playlist {url!r} has no variant with a usable name")
    return list(variants.values())


def default_quality(playlist: m3u8.Playlist, name: str | None) -> str | None:
    if name:
        return name
    for media in playlist.media:
        if media.type == "VIDEO" and media.name:
            return media.name
    resolution = playlist.stream_info.resolution
    return f"{resolution[1]}p" if resolution else None

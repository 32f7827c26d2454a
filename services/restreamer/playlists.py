"""``/playlist/CH.m3u8`` and ``/playlist/CH/Q.m3u8``: HLS playlists for any time range.

``start`` and ``end`` choose the range. Without them a playlist covers the video
that exists (from the first segment, to the last one's end), as long as that is
at most ``IMPLICIT_RANGE`` (12 hours): a longer archive must be asked for with
both, so that a bare URL never costs a week-long walk. With both, up to
``MAX_RANGE``. Identical requests in flight share one computation.
"""

import datetime as dt
import logging
import os
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound

from fastseg import best_segments_by_start, get_best_segments, hour_start
from services.restreamer import hls
from services.restreamer.state import state
from services.restreamer.validation import (
    BadRequest,
    archive_path,
    check_part,
    check_range,
    parse_time,
)

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("playlists", __name__)

CONTENT_TYPE = "application/vnd.apple.mpegurl"  # RFC 8216 §4


def _times() -> tuple[dt.datetime | None, dt.datetime | None]:
    start = parse_time(request.args.get("start"), "start")
    end = parse_time(request.args.get("end"), "end")
    if start is not None and end is not None:
        check_range(start, end, state().max_range)
    return start, end


def _playlist(kind: str, key: tuple, compute) -> Response:
    metrics = state().metrics
    text, shared = state().flights.run(key, compute)
    (metrics.playlist_shared if shared else metrics.playlist_computations).labels(kind).inc()
    # A playlist grows while its range is still being recorded: never cache it.
    # ``text`` may be a list of byte chunks, sent one after another (with their
    # total as Content-Length) so that a large playlist is never copied whole.
    return Response(text, mimetype=CONTENT_TYPE, headers={"Cache-Control": "no-cache"})


@blueprint.route("/playlist/<channel>/<quality>.m3u8")
def media(channel: str, quality: str) -> Response:
    path = archive_path(state().base_dir, channel, quality)
    start, end = _times()
    return _playlist(
        "media",
        ("media", channel, quality, start, end),
        lambda: _media(path, channel, quality, start, end),
    )


@blueprint.route("/playlist/<channel>.m3u8")
def master(channel: str) -> Response:
    path = archive_path(state().base_dir, channel)
    start, end = _times()
    return _playlist("master", ("master", channel, start, end),
                     lambda: _master(path, channel, start, end))  # fmt: skip


def _media(path: str, channel: str, quality: str, start, end) -> str:
    if not os.path.isdir(path):
        raise NotFound(f"no quality {quality!r} of channel {channel!r}: see /files/{channel}")
    first, last = start, end
    if start is None or end is None:
        first, last = _resolve(start, end, [_extent(path)], f"{channel}/{quality}")
    segments = get_best_segments(path, first, last)
    # Complete means nothing more can arrive for this range: the client gave its
    # end, and the video reaches it (holes inside are final enough: a player
    # told the playlist has ended plays what there is instead of waiting).
    ended = end is not None and segments[-1] is not None
    return hls.media_playlist_chunks(segments, channel, quality, ended, state().rendered)


def _master(path: str, channel: str, start, end) -> str:
    try:
        with os.scandir(path) as entries:
            qualities = sorted(e.name for e in entries if e.is_dir() and _plain(e.name))
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound(f"no channel {channel!r}: see /files") from exc
    first, last = start, end
    if start is None or end is None:
        extents = [_extent(os.path.join(path, q)) for q in qualities]
        first, last = _resolve(start, end, extents, channel)
    query = urlencode(
        [(k, v.isoformat()) for k, v in (("start", start), ("end", end)) if v is not None]
    )
    variants = []
    for quality in qualities:
        segments = get_best_segments(os.path.join(path, quality), first, last)
        if any(s is not None for s in segments):
            url = f"/playlist/{quote(channel, safe='')}/{quote(quality, safe='')}.m3u8"
            variants.append(
                (quality, hls.peak_bandwidth(segments), f"{url}?{query}" if query else url)
            )
    if not variants:
        raise NotFound(
            f"no quality of {channel!r} has video from {first.isoformat()} to {last.isoformat()}"
        )
    variants.sort(key=lambda v: (-v[1], v[0]))
    return hls.master_playlist(variants)


def _plain(name: str) -> bool:
    try:
        check_part(name, "quality")
    except BadRequest:
        return False
    return True


def _extent(quality_path: str) -> tuple[dt.datetime, dt.datetime] | None:
    """The start of the first segment and the end of the last one, or None if none exist."""
    try:
        with os.scandir(quality_path) as entries:
            hours = sorted(e.name for e in entries if hour_start(e.name) is not None)
    except (FileNotFoundError, NotADirectoryError):
        return None
    first = last = None
    for hour in hours:
        segments = best_segments_by_start(os.path.join(quality_path, hour))
        if segments:
            first = segments[0].start
            break
    for hour in reversed(hours):
        segments = best_segments_by_start(os.path.join(quality_path, hour))
        if segments:
            last = max(s.end for s in segments)
            break
    if first is None or last is None:
        return None
    return first, last


def _resolve(start, end, extents, what: str) -> tuple[dt.datetime, dt.datetime]:
    """Fill in a missing start or end from what exists, within the implicit limit."""
    known = [e for e in extents if e is not None]
    if not known:
        raise NotFound(f"no video in {what}: nothing to make a playlist of")
    first = min(e[0] for e in known)
    last = max(e[1] for e in known)
    if start is None:
        start = first if end is None else min(first, end)
    if end is None:
        end = max(last, start)
    limit = state().implicit_range
    if end - start > limit:
        raise BadRequest(
            f"{what} has {end - start} of video from {start.isoformat()} to {end.isoformat()}, "
            f"more than the {limit} a playlist covers without both start and end: give both"
        )
    return start, end

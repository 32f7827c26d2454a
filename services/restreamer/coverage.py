"""``/coverage/CH.svg`` and ``/coverage/CH.json``: which hours of a channel are on disk.

``?start=&end=`` (UTC) choose the hours shown (whole hours, at most the longest
range the restreamer serves); without them the map runs from the first to the
last hour directory, the most recent ones if that is longer. ``?quality=``
shows one quality. Computed from segment names (services.archive.coverage).
"""

import datetime as dt
import json
import logging
import os

from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound

from services.archive import coverage, layout
from services.archive.coverage_svg import render_svg
from services.archive.readable import utc
from services.restreamer.state import state
from services.restreamer.validation import (
    BadRequest,
    archive_path,
    check_part,
    check_range,
    parse_time,
)

logger = logging.getLogger(__name__)

__all__ = ["blueprint", "channel_cells"]

blueprint = Blueprint("coverage", __name__)

HOUR = dt.timedelta(hours=1)


def _qualities(channel: str, wanted: str | None) -> list[str]:
    have = layout.qualities(state().base_dir, channel)
    if not have:
        if not os.path.isdir(archive_path(state().base_dir, channel)):
            raise NotFound(f"no channel {channel!r}: see /files for the channels")
        raise NotFound(f"no hours of video in channel {channel!r}: see /files for the channels")
    if wanted is None:
        return have
    check_part(wanted, "quality")
    if wanted not in have:
        raise NotFound(f"no quality {wanted!r} of channel {channel!r}: see /files/{channel}")
    return [wanted]


def channel_cells(channel: str) -> tuple[list[str], dict[str, list[coverage.Cell]]]:
    """The request's qualities and their cells, after checking every parameter."""
    channel_path = archive_path(state().base_dir, channel)
    qualities = _qualities(channel, request.args.get("quality") or None)
    start = parse_time(request.args.get("start"), "start")
    end = parse_time(request.args.get("end"), "end")
    limit = state().max_range
    if start is not None and end is not None:
        check_range(start, end, limit)
    elif start is not None or end is not None:
        raise BadRequest("give both start and end, or neither for every hour on disk")
    else:
        extent = coverage.channel_extent(channel_path, qualities)
        if extent is None:
            raise NotFound(f"no hours of video in channel {channel!r}: see /files/{channel}")
        start, end = extent[0], extent[1] + HOUR
        start = max(start, end - limit)
    first = start.replace(minute=0, second=0, microsecond=0)
    last = (end - dt.timedelta(microseconds=1)).replace(minute=0, second=0, microsecond=0)
    last = max(first, last)
    cells = {q: coverage.quality_cells(os.path.join(channel_path, q), q, first, last)
             for q in qualities}  # fmt: skip
    return qualities, cells


@blueprint.route("/coverage/<channel>.svg")
def coverage_svg(channel: str) -> Response:
    qualities, cells = channel_cells(channel)
    return Response(render_svg(channel, qualities, cells), mimetype="image/svg+xml")


@blueprint.route("/coverage/<channel>.json")
def coverage_json(channel: str) -> Response:
    qualities, cells = channel_cells(channel)
    hours = [c.hour for c in cells[qualities[0]]] if qualities else []
    body = {
        "channel": channel,
        "start": utc(hours[0]) if hours else None,
        "end": utc(hours[-1] + HOUR) if hours else None,
        "qualities": {
            q: [
                {
                    "hour": utc(c.hour),
                    "segments": c.segments,
                    "complete": c.complete,
                    "full_seconds": round(c.full_seconds, 6),
                    "partial_seconds": round(c.partial_seconds, 6),
                    "hole_seconds": round(c.hole_seconds, 6),
                    "holes": [
                        {"start": utc(c.at(a)), "seconds": (b - a) / 1e6} for a, b in c.holes
                    ],  # fmt: skip
                }
                for c in cells[q]
            ]
            for q in qualities
        },
    }
    return Response(json.dumps(body) + "\n", mimetype="application/json")

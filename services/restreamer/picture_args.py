"""What the picture routes check and look up: the quality's directory, required times,
the segment playing at an instant."""

import datetime as dt
import os

from flask import request
from werkzeug.exceptions import HTTPException, NotFound

import fastseg
from services.archive import layout
from services.archive.readable import utc
from services.restreamer.state import state
from services.restreamer.validation import BadRequest, archive_path, parse_time

__all__ = ["CannotDecode", "NotFound", "hours_path", "required_time", "segment_at"]


class CannotDecode(HTTPException):
    code = 422
    name = "Unprocessable Content"


def hours_path(channel: str, quality: str) -> str:
    """``BASE/CH/Q`` after checking both names; 404 if there is no such quality."""
    path = archive_path(state().base_dir, channel, quality)
    if not os.path.isdir(path):
        raise NotFound(f"no quality {quality!r} of channel {channel!r}: see /files/{channel}")
    return path


def required_time(name: str, example: str = "2026-11-27T17:05:12.5") -> dt.datetime:
    when = parse_time(request.args.get(name), name)
    if when is None:
        raise BadRequest(f"{name} is required, e.g. ?{name}={example}")
    return when


def segment_at(path: str, when: dt.datetime) -> fastseg.SegmentInfo:
    """The segment playing at ``when``; 404 naming the hole (or the end) if none is."""
    seg = layout.segment_at(path, when)
    if seg is not None:
        return seg
    # where the video resumes, if it does within the hour: a hint for the client
    later = fastseg.get_best_segments(path, when, when + dt.timedelta(hours=1))
    after = next((s for s in later if s is not None and s.start > when), None)
    hint = f"; video resumes at {utc(after.start)}" if after else ""
    raise NotFound(f"no video at {utc(when)}: it falls in a hole{hint}")

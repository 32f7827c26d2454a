"""``POST /batch/CH/Q/HOUR``: many segments of one hour in one response, for fastseg backfillers.

A backfiller lacking a few hundred segments of an hour would otherwise make as
many requests, each costing both ends more than its bytes. The request body is
a JSON list of up to ``MAX_NAMES`` segment names; the answer holds, for each name
in order, a line ``NAME SIZE`` followed by exactly SIZE bytes of the segment, or
``NAME -`` when there is no such segment (missing, or hidden by a tombstone).
Its Content-Length is known before the first byte, and every segment goes out
under the hour's serving lock, as single segments do. wubloader has no such
route: a backfiller that gets anything but 200 falls back to one request per
segment.
"""

import logging
import os

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, NotFound

from services.restreamer.files import CHUNK
from services.restreamer.segments import Segment
from services.restreamer.state import state

logger = logging.getLogger(__name__)

__all__ = ["MAX_NAMES", "blueprint"]

blueprint = Blueprint("batch", __name__)

MAX_NAMES = 200


@blueprint.route("/batch/<channel>/<quality>/<hour>", methods=["POST"])
def batch(channel: str, quality: str, hour: str) -> Response:
    names = request.get_json(force=True, silent=True)
    if (
        not isinstance(names, list)
        or not 0 < len(names) <= MAX_NAMES
        or not all(isinstance(n, str) for n in names)
    ):
        raise BadRequest(f"expected a JSON list of 1 to {MAX_NAMES} segment names in the body")
    base_dir = state().base_dir
    opened: list[tuple[bytes, Segment | None]] = []
    try:
        for name in names:
            try:
                segment = Segment(base_dir, channel, quality, hour, name)
            except NotFound:
                opened.append((f"{name} -\n".encode(), None))
                continue
            opened.append((f"{name} {segment.size}\n".encode(), segment))
    except BaseException:
        _close(opened)
        raise
    total = sum(len(head) + (s.size if s else 0) for head, s in opened)
    state().metrics.bytes_sent.inc(total - sum(len(head) for head, _ in opened))
    return Response(
        _stream(opened),
        headers={"Content-Length": str(total), "Cache-Control": "no-store"},
        mimetype="application/octet-stream",
    )


def _stream(opened):
    try:
        for head, segment in opened:
            yield head
            if segment is None:
                continue
            offset, left = 0, segment.size
            while left > 0:
                data = os.pread(segment.fd, min(CHUNK, left), offset)
                if not data:
                    # Shrank since it was opened: pad, so that the framing still holds
                    # (the hash check on the other end throws the segment away).
                    logger.warning("segment fd %d ended %d bytes early", segment.fd, left)
                    data = bytes(left)
                offset += len(data)
                left -= len(data)
                yield data
    finally:
        _close(opened)


def _close(opened) -> None:
    for _head, segment in opened:
        if segment is not None:
            segment.close()

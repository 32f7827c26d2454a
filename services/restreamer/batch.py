"""``POST /batch/CH/Q/HOUR``: many segments of one hour in one response, for fastseg backfillers.

A backfiller lacking a few hundred segments of an hour would otherwise make as
many requests, each costing both ends more than its bytes. The request body is
a JSON list of up to ``MAX_NAMES`` segment names; the answer holds, for each name
in order, a line ``NAME SIZE`` followed by exactly SIZE bytes of the segment, or
``NAME -`` when there is no such segment (missing, or hidden by a tombstone).
Its Content-Length is known before the first byte, every segment goes out
under the hour's serving lock and by sendfile, as single segments do (a file
that shrank since it was opened ends the connection: the client's framing is
lost, and it fetches the rest later). wubloader has no such
route: a backfiller that gets anything but 200 falls back to one request per
segment. A body longer than ``MAX_BODY`` is refused (413) before it is read (the
app's :func:`~services.restreamer.limits.accepts_body`), one of unknown length is
a 411, a name with a space or a line break in it (it would break the framing) a
400, and more than ``MAX_IN_FLIGHT`` answers at once a 429.
"""

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, LengthRequired, NotFound, TooManyRequests

from services.restreamer.editor.roles import writes_nothing
from services.restreamer.files import FileParts
from services.restreamer.limits import accepts_body
from services.restreamer.segments import Segment
from services.restreamer.state import state

__all__ = ["MAX_BODY", "MAX_IN_FLIGHT", "MAX_NAMES", "blueprint"]

blueprint = Blueprint("batch", __name__)

MAX_NAMES = 200
# 200 names of at most 255 characters, quoted and separated, fit in 52 KiB.
MAX_BODY = 64 * 1024
# Answers in flight at once. Each holds up to MAX_NAMES segments open, with their
# hour's lock (two descriptors each), until its client has read it all; clients
# that never read would otherwise take a node's descriptors 400 at a time.
MAX_IN_FLIGHT = 8

_framing = frozenset(" \r\n")  # characters that would break the answer's framing


@blueprint.route("/batch/<channel>/<quality>/<hour>", methods=["POST"])
@writes_nothing("a read of many segments, their names in the body; peers need no token")
@accepts_body(MAX_BODY, f"ask for at most {MAX_NAMES} segment names at a time")
def batch(channel: str, quality: str, hour: str) -> Response:
    # A longer body was refused unread (accepts_body: 413); a chunked one was read
    # up to MAX_BODY, but a batch's length is always known: ask for it.
    if request.content_length is None:
        raise LengthRequired("give the JSON list of segment names with a Content-Length")
    try:
        names = request.get_json(force=True, silent=True)
    except RecursionError:  # nested deeper than the parser goes: no list of names either
        names = None
    if (
        not isinstance(names, list)
        or not 0 < len(names) <= MAX_NAMES
        or not all(isinstance(n, str) and not _framing.intersection(n) for n in names)
    ):
        raise BadRequest(f"expected a JSON list of 1 to {MAX_NAMES} segment names in the body")
    shared = state()
    if shared.batches >= MAX_IN_FLIGHT:
        raise TooManyRequests(
            f"{shared.batches} batch answers are being sent, the most this node sends at once: "
            "fetch the segments one by one (GET /segments/...) or try again shortly",
            retry_after=5,
        )
    base_dir = shared.base_dir
    body = FileParts([])
    sent = 0
    try:
        for name in names:
            try:
                segment = Segment(base_dir, channel, quality, hour, name)
            except NotFound:
                body.parts.append(f"{name} -\n".encode())
                continue
            body.parts.append(f"{name} {segment.size}\n".encode())
            body.parts.append(segment.body(0, segment.size))  # owns the fd and lock now
            sent += segment.size
    except BaseException:
        body.close()
        raise
    shared.batches += 1

    def finished() -> None:
        shared.batches -= 1

    body.add_close_callback(finished)
    shared.metrics.bytes_sent.inc(sent)
    return Response(
        body,
        headers={"Content-Length": str(body.length), "Cache-Control": "no-store"},
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )

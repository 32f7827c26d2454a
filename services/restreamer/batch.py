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
segment. A body longer than ``MAX_BODY`` is refused (413) before it is read, and
so is one of unknown length (411); a name with a space or a line break in it (it
would break the framing) is a 400.
"""

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, LengthRequired, NotFound, RequestEntityTooLarge

from services.restreamer.files import FileParts
from services.restreamer.segments import Segment
from services.restreamer.state import state

__all__ = ["MAX_BODY", "MAX_NAMES", "blueprint"]

blueprint = Blueprint("batch", __name__)

MAX_NAMES = 200
#: The longest request body: MAX_NAMES segment names of about 80 bytes, JSON-quoted.
MAX_BODY = 64 * 1024


_framing = frozenset(" \r\n")  # characters that would break the answer's framing


@blueprint.route("/batch/<channel>/<quality>/<hour>", methods=["POST"])
def batch(channel: str, quality: str, hour: str) -> Response:
    length = request.content_length
    if length is None:
        raise LengthRequired("give the JSON list of segment names with a Content-Length")
    if length > MAX_BODY:
        raise RequestEntityTooLarge(
            f"the body is {length} bytes, more than the {MAX_BODY} a batch may have: "
            f"ask for at most {MAX_NAMES} segment names at a time"
        )
    names = request.get_json(force=True, silent=True)
    if (
        not isinstance(names, list)
        or not 0 < len(names) <= MAX_NAMES
        or not all(isinstance(n, str) and not _framing.intersection(n) for n in names)
    ):
        raise BadRequest(f"expected a JSON list of 1 to {MAX_NAMES} segment names in the body")
    base_dir = state().base_dir
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
    state().metrics.bytes_sent.inc(sent)
    return Response(
        body,
        headers={"Content-Length": str(body.length), "Cache-Control": "no-store"},
        mimetype="application/octet-stream",
        direct_passthrough=True,
    )

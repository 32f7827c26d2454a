"""``/segments/CH/Q/HOUR/NAME``: one segment file's bytes, whole or a byte range.

A segment's name carries the hash of its bytes, so a name always means the same
bytes: answers are cacheable for a year and the hash is the ETag. Temp files
(being written) are the exception and are never cached. The body is a
:class:`~services.restreamer.files.FileRange`, which the server sends with
sendfile (RFC 9110 §14 for ranges: one range is honoured, several are answered
with the whole file, which the RFC allows).
"""

import logging
import os
import stat

from flask import Blueprint, Response, request
from werkzeug.exceptions import NotFound, RequestedRangeNotSatisfiable

from services.restreamer.files import FileRange
from services.restreamer.state import state
from services.restreamer.validation import check_hour, check_part, check_segment_name

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("segments", __name__)

CONTENT_TYPE = "video/MP2T"  # RFC 8216 §3.2 (MPEG-2 TS segments)
IMMUTABLE = "public, max-age=31536000, immutable"  # a year: the name is the content's hash


@blueprint.route("/segments/<channel>/<quality>/<hour>/<name>")
def segment(channel: str, quality: str, hour: str, name: str) -> Response:
    check_part(channel, "channel")
    check_part(quality, "quality")
    check_hour(hour)
    info = check_segment_name(name)
    path = os.path.join(state().base_dir, channel, quality, hour, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotFound(f"no segment {channel}/{quality}/{hour}/{name}") from exc
    try:
        return _answer(fd, info.type, name, path)
    except BaseException:
        os.close(fd)
        raise


def _answer(fd: int, type_: str, name: str, path: str) -> Response:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or os.path.exists(path + ".tombstone"):
        raise NotFound(f"no segment {name!r} here (not a file, or hidden by a tombstone)")
    size = st.st_size
    headers = {"Accept-Ranges": "bytes"}
    etag = None
    if type_ == "temp":
        headers["Cache-Control"] = "no-store"  # still being written: its bytes may change
    else:
        etag = name[:-3].rsplit("-", 1)[1]  # the sha256 of the bytes, from the name
        headers["Cache-Control"] = IMMUTABLE
        headers["ETag"] = f'"{etag}"'
        if etag in request.if_none_match:
            os.close(fd)
            return Response(status=304, headers=headers)

    start, stop, status = 0, size, 200
    wanted = request.range
    # If-Range names the version the client has; another one (or a date, which a
    # name-addressed file has no use for) gets the whole file (RFC 9110 §13.1.5).
    if_range = request.if_range.etag if "If-Range" in request.headers else etag
    if wanted is not None and (etag is None or if_range == etag):
        if wanted.units == "bytes" and len(wanted.ranges) == 1:
            bounds = wanted.range_for_length(size)
            if bounds is None:
                raise RequestedRangeNotSatisfiable(
                    length=size,
                    description=f"range {request.headers.get('Range')!r} is not within the "
                    f"{size} bytes of {name}",
                )
            start, stop = bounds
            status = 206
            headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    state().metrics.bytes_sent.inc(stop - start)
    return Response(
        FileRange(fd, start, stop - start),
        status=status,
        headers=headers,
        content_type=CONTENT_TYPE,
        direct_passthrough=True,
    )

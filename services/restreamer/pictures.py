"""Pictures of the archive: ``/frame`` and ``/thumbnail`` PNGs, and the routes of the map.

* ``GET /frame/CH/Q.png?timestamp=T``: the frame on screen at T, full size.
* ``GET /thumbnail/CH/Q.png?timestamp=T[&width=W]``: the same frame, W pixels wide
  (default 320), cached on disk (``THUMBNAIL_DIR``, default ``BASE/.fastseg/thumbnails``,
  at most ``THUMBNAIL_CACHE_BYTES``, default 256 MiB) under the segment's name
  (which holds its hash), the frame's PTS and the width.
* ``GET /thumbnail/CH/Q.png?timestamp=T&template=NAME[&crop=L,T,R,B&location=L,T,R,B]``:
  the frame at T placed under a template (docs/DESIGN.md#thumbnails); ``POST`` with a
  PNG body (``crop`` and ``location`` then required) uses that image as the template.

Paths and parameters are wubloader's. A time in a hole, or before or after the
recording, is a 404 saying so; a segment ffmpeg cannot decode a 422. Each picture
that starts ffmpeg is a job of the restreamer's pool (:mod:`.jobs`).
"""

import datetime as dt
import hashlib
import logging
import os

from flask import Blueprint, Flask, Response, current_app, request

import fastseg
from services.archive.readable import utc
from services.cutting import MAX_IMAGE_BYTES, BadImage, CutError, check_png, compose
from services.db.thumbnails import parse_box
from services.restreamer import coverage, waveforms
from services.restreamer.diskcache import DiskCache
from services.restreamer.editor.roles import writes_nothing
from services.restreamer.editor.templates import template_row
from services.restreamer.frames import frame_at, frame_png
from services.restreamer.jobs import Job
from services.restreamer.limits import accepts_body
from services.restreamer.picture_args import (
    CannotDecode,
    NotFound,
    hours_path,
    required_time,
    segment_at,
)
from services.restreamer.state import state
from services.restreamer.validation import BadRequest

logger = logging.getLogger(__name__)

__all__ = ["blueprint", "init_app"]

blueprint = Blueprint("pictures", __name__)

THUMBNAIL_WIDTH = 320
MAX_WIDTH = 1920
MIN_WIDTH = 16
CACHE_BYTES = 256 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Register the picture routes and the coverage map on a restreamer app."""
    base = app.extensions["restreamer"].base_dir
    directory = app.config.get("THUMBNAIL_DIR") or os.path.join(base, ".fastseg", "thumbnails")
    limit = app.config.get("THUMBNAIL_CACHE_BYTES", CACHE_BYTES)
    app.extensions["thumbnails"] = DiskCache(directory, limit)
    directory = app.config.get("WAVEFORM_DIR") or os.path.join(base, ".fastseg", "waveforms")
    limit = app.config.get("WAVEFORM_CACHE_BYTES", waveforms.CACHE_BYTES)
    app.extensions["waveforms"] = DiskCache(directory, limit)
    for module in (coverage, waveforms):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(blueprint)


def _width() -> int:
    text = request.args.get("width") or ""
    if not text:
        return THUMBNAIL_WIDTH
    if not text.isdigit() or not MIN_WIDTH <= int(text) <= MAX_WIDTH:
        raise BadRequest(f"width {text[:20]!r} is not a whole number of pixels "
                         f"from {MIN_WIDTH} to {MAX_WIDTH}")  # fmt: skip
    return int(text)


def _png(data: bytes, seg: fastseg.SegmentInfo) -> Response:
    response = Response(data, mimetype="image/png")
    # a segment's name holds its hash: the same name is always the same picture
    response.headers["Cache-Control"] = "public, max-age=86400"
    response.headers["X-Segment"] = seg.name
    return response


def _decode(seg: fastseg.SegmentInfo, when: dt.datetime, width: int | None, job: Job,
            probe_only=False):  # fmt: skip
    """The PNG and PTS of the frame at ``when`` (only its PTS if ``probe_only``); 422 if none."""
    try:
        if probe_only:
            return frame_at(seg, when).pts
        return frame_png(seg, when, width)
    except CutError as exc:
        logger.info("cannot decode a frame of %r: %s", seg.path, exc)
        reason = str(exc).splitlines()[0]
        raise job.failure(exc, "frame") or CannotDecode(
            f"cannot decode the frame at {utc(when)}: {reason}"
        ) from exc


@blueprint.route("/frame/<channel>/<quality>.png")
def frame(channel: str, quality: str) -> Response:
    path = hours_path(channel, quality)
    when = required_time("timestamp")
    seg = segment_at(path, when)
    with state().jobs.job("frame", request.environ) as job:
        png, _ = _decode(seg, when, None, job)
    return _png(png, seg)


def _box(name: str, default=None) -> tuple[int, int, int, int]:
    text = request.args.get(name)
    if not text:
        if default is None:
            raise BadRequest(f"{name} is required with an uploaded template, e.g. ?{name}="
                             "0,0,1280,720 (left,top,right,bottom)")  # fmt: skip
        return tuple(default)
    try:
        return parse_box(text, name)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _template() -> tuple[bytes, tuple, tuple]:
    """(PNG, crop, location): the POSTed image, or the named template with its defaults."""
    if request.method == "POST":
        image = request.get_data()
        try:
            check_png(image, "the template")
        except BadImage as exc:
            raise BadRequest(str(exc)) from None
        return image, _box("crop"), _box("location")
    if "events_api" not in current_app.extensions:
        raise NotFound("this restreamer has no database, so no templates: POST the template PNG")
    row = template_row(request.args["template"])
    return bytes(row.image), _box("crop", row.crop), _box("location", row.location)


def _templated(path: str, when: dt.datetime) -> Response:
    """The frame at ``when`` placed under a template (docs/DESIGN.md#thumbnails)."""
    template, crop, location = _template()
    seg = segment_at(path, when)
    with state().jobs.job("thumbnail", request.environ) as job:
        frame, _ = _decode(seg, when, None, job)
        try:
            png = compose(frame, template, crop, location)
        except BadImage as exc:
            raise BadRequest(str(exc)) from None
        except CutError as exc:
            logger.info("cannot compose a thumbnail: %s", exc)
            raise job.failure(exc, "thumbnail") or CannotDecode(
                f"cannot compose the thumbnail: {str(exc).splitlines()[0]}"
            ) from exc
    response = _png(png, seg)
    response.headers["Cache-Control"] = "no-cache"  # a template may be replaced
    return response


@blueprint.route("/thumbnail/<channel>/<quality>.png", methods=["GET", "POST"])
@writes_nothing("a POST sends a template to preview with, and stores nothing")
@accepts_body(MAX_IMAGE_BYTES, "a template is a PNG of at most 2 MiB")
def thumbnail(channel: str, quality: str) -> Response:
    path = hours_path(channel, quality)
    when = required_time("timestamp")
    if request.method == "POST" or "template" in request.args:
        return _templated(path, when)
    width = _width()
    seg = segment_at(path, when)
    cache: DiskCache = current_app.extensions["thumbnails"]
    # a job takes a place in the pool only if it starts ffmpeg (a segment not yet
    # probed, a thumbnail not yet cached)
    with state().jobs.job("thumbnail", request.environ) as job:
        # one file per frame and width: any time within a frame's interval finds it
        pts = _decode(seg, when, None, job, probe_only=True)
        key = hashlib.sha256(f"{seg.path}\0{pts}\0{width}".encode()).hexdigest()[:40] + ".png"
        png = cache.get(key)
        if png is None:
            png, _ = state().flights.run(
                ("thumbnail", key), lambda: _decode(seg, when, width, job)[0]
            )
            cache.put(key, png)
    return _png(png, seg)

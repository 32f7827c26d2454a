"""``/cut/CH/Q.ts?start=&end=&allow_holes=&type=...``: a clip, streamed as it is cut.

``type`` is ``rough`` (the default: whole segments, their bytes concatenated),
``fast`` (frame-exact, only the edges re-encoded) or ``full`` (re-encoded,
``encoding=`` chooses how); wubloader's names are accepted too: ``smart`` is
our fast cut, and ``mpegts`` a full cut into MPEG-TS.

Several ranges joined in order: repeat ``range=START,END`` instead of start and
end, with one ``transition=TYPE,SECONDS`` per join (empty for a hard cut).

The cutting engine (services.common.cutting) checks and plans a cut before it
returns its generator, so every refusal (holes, no video, unreadable segments)
is known before the status line is sent and becomes a 4xx with the reason.
Once bytes flow, a failure can only end the response early; closing the
response (the client went away, or the server stops) closes the generator,
which kills ffmpeg and removes its temp files.
"""

import logging
import os

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException, NotFound

import fastseg
from services.common.cutting import (
    CutError,
    Encoding,
    Transition,
    fast_cut,
    fast_cut_ranges,
    full_cut,
    full_cut_ranges,
    rough_container,
    rough_cut,
)
from services.common.cutting.ranges import check_ranges, parts_for
from services.restreamer.state import state
from services.restreamer.validation import (
    BadRequest,
    archive_path,
    check_bool,
    check_range,
    parse_time,
)

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("cuts", __name__)

#: Each accepted ``type`` and the cut it makes (wubloader's names included).
TYPES = {"rough": "rough", "fast": "fast", "smart": "fast", "full": "full", "mpegts": "full"}
DEFAULT_TYPE = "rough"


class HolesInRange(HTTPException):
    """406, as wubloader answers: the range has no complete video to cut."""

    code = 406
    name = "Not Acceptable"


class CannotCut(HTTPException):
    """422: the request is well formed but this video cannot be cut that way."""

    code = 422
    name = "Unprocessable Content"


@blueprint.route("/cut/<channel>/<quality>.ts")
def cut(channel: str, quality: str) -> Response:
    path = archive_path(state().base_dir, channel, quality)
    spans, transitions = _ranges()
    if spans:
        start, end = spans[0][0], spans[-1][1]
    else:
        start = parse_time(request.args.get("start"), "start")
        end = parse_time(request.args.get("end"), "end")
    if start is None or end is None:
        raise BadRequest("a cut needs both start and end, e.g. ?start=2026-11-27T17:05:00&end=...")
    check_range(start, end, state().max_range)
    if start == end:
        raise BadRequest(f"start and end are both {start.isoformat()}: a cut needs a range")
    allow_holes = check_bool(request.args.get("allow_holes"), "allow_holes")
    asked = request.args.get("type") or DEFAULT_TYPE
    if asked not in TYPES:
        raise BadRequest(
            f"type {asked[:40]!r} is not one of {', '.join(TYPES)} (default {DEFAULT_TYPE})"
        )
    kind = TYPES[asked]
    encoding = None
    if kind == "full":
        # The .ts route gives MPEG-TS; everything else about the encoding can be chosen.
        try:
            encoding = Encoding.parse(request.args.get("encoding", ""), Encoding(container="ts"))
        except (TypeError, ValueError) as exc:
            raise BadRequest(f"encoding {request.args.get('encoding')!r}: {exc}") from exc
        if encoding.container != "ts":
            raise BadRequest(f"container {encoding.container!r}: the .ts route only gives ts")

    if not os.path.isdir(path):
        raise NotFound(f"no quality {quality!r} of channel {channel!r}: see /files/{channel}")
    segments = fastseg.get_best_segments(path, start, end)
    if all(s is None for s in segments):
        raise NotFound(f"no video in {channel}/{quality} from {start.isoformat()} to "
                       f"{end.isoformat()}")  # fmt: skip
    if len(spans) > 1 and kind == "rough":
        raise BadRequest("a rough cut takes one range: use type=fast or type=full for several")
    mimetype = "video/MP2T"
    try:
        if len(spans) > 1:
            parts = parts_for(path, spans, allow_holes)
            if kind == "fast":
                body = fast_cut_ranges(parts, transitions, allow_holes=allow_holes)
            else:
                body = full_cut_ranges(parts, transitions, encoding, allow_holes=allow_holes)
        elif kind == "rough":
            body = rough_cut(segments, allow_holes=allow_holes)
            if rough_container(segments) == "fmp4":  # the segments' own bytes: fragmented MP4
                mimetype = "video/mp4"
        elif kind == "fast":
            body = fast_cut(segments, start, end, allow_holes=allow_holes)
        else:
            body = full_cut(segments, start, end, encoding, allow_holes=allow_holes)
    except fastseg.ContainsHoles as exc:
        raise HolesInRange(
            f"no complete video from {exc.hole_start.isoformat()} to {exc.hole_end.isoformat()}:"
            " choose another range, or add allow_holes=true to cut around it"
        ) from exc
    except CutError as exc:
        logger.info("refused a %s cut of %s/%s: %s", kind, channel, quality, exc)
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CannotCut(f"cannot make a {kind} cut of this range: {reason}") from exc
    except ValueError as exc:
        raise BadRequest(
            f"cannot cut from {start.isoformat()} to {end.isoformat()}: {exc}"
        ) from exc
    return Response(_logged(body, kind), mimetype=mimetype, direct_passthrough=True)


def _ranges():
    """Repeated ``range=START,END`` and ``transition=TYPE,SECONDS`` (empty: a hard cut),
    as wubloader's cut route takes them; ([], None) when there is no range."""
    texts = request.args.getlist("range")
    transition_texts = request.args.getlist("transition")
    if not texts:
        if transition_texts:
            raise BadRequest("transition joins ranges: give them as range=START,END")
        return [], None
    if request.args.get("start") or request.args.get("end"):
        raise BadRequest("give start and end, or range=START,END for each range, not both")
    spans = []
    for text in texts:
        first, sep, second = text.partition(",")
        if not sep:
            raise BadRequest(f"range {text[:80]!r} is not START,END")
        spans.append((parse_time(first, "range start"), parse_time(second, "range end")))
    try:
        transitions = [Transition.parse(t, sep=",") for t in transition_texts] or None
        transitions = check_ranges(spans, transitions)
    except ValueError as exc:
        raise BadRequest(str(exc)) from exc
    for a, b in spans:
        check_range(a, b, state().max_range)
    return spans, transitions


def _logged(body, kind: str):
    """The engine's bytes; a failure mid-stream is logged, then ends the response early."""
    try:
        yield from body
    except CutError as exc:
        logger.error("%s cut failed after its response began: %s", kind, exc)
        raise
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()  # kills ffmpeg and removes temp files if the response ended early

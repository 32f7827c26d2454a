"""``/cut/CH/Q.ts?start=&end=&allow_holes=&type=...``: a clip, streamed as it is cut.

``type`` is ``rough`` (the default: whole segments, their bytes concatenated),
``fast`` (frame-exact, only the edges re-encoded) or ``full`` (re-encoded,
``encoding=`` chooses how); wubloader's names are accepted too: ``smart`` is
our fast cut, and ``mpegts`` a full cut into MPEG-TS.

Several ranges joined in order: repeat ``range=START,END`` instead of start and
end, with one ``transition=TYPE,SECONDS`` per join (empty for a hard cut).

The cutting engine (services.cutting) checks and plans a cut before it
returns its generator, so every refusal (holes, no video, unreadable segments)
is known before the status line is sent and becomes a 4xx with the reason.
Once bytes flow, a failure can only end the response early; closing the
response (the client went away, or the server stops) closes the generator,
which kills ffmpeg and removes its temp files.

What a cut may cost (docs/DESIGN.md#costly-routes): each kind has a longest
range (:data:`MAX_LENGTH`); fast and full cuts run as a job of the restreamer's
pool (:mod:`.jobs`), whose time limit grows with the range (:data:`COST`); and a
full cut takes a named preset from anyone, its own encoding only from an editor
(:mod:`.cut_encodings`). ffmpeg's first bytes are awaited before the status line.
"""

import datetime as dt
import errno
import itertools
import logging
import os

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException, NotFound, Unauthorized

import fastseg
from services import cutting
from services.cutting import CutError, Encoding, Part, Transition
from services.ranges import check_ranges
from services.restreamer import cut_encodings
from services.restreamer.editor.roles import current_editor
from services.restreamer.jobs import within
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
#: The longest cut of each kind (all ranges together): whole segments are cheap to
#: send, a fast cut re-encodes only its edges, a full cut encodes every frame.
MAX_LENGTH = {"rough": dt.timedelta(hours=24), "fast": dt.timedelta(hours=6),
              "full": dt.timedelta(hours=2)}  # fmt: skip
#: Seconds a job may run per second of video cut, on top of jobs.BASE_SECONDS: a full
#: cut must encode at least a quarter as fast as real time (1080p x264 veryfast does
#: 2 s in 9 s on 2 cores at load 9), a fast cut mostly copies.
COST = {"fast": 1.0, "full": 4.0}


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
    length = sum((b - a for a, b in spans), dt.timedelta()) if spans else end - start
    if length > MAX_LENGTH[kind]:
        state().jobs.refuse("cut", "range")
        raise BadRequest(
            f"a {kind} cut is at most {MAX_LENGTH[kind]} long, and this one is {length}: "
            "cut a shorter range, or several and join them"
        )
    encoding_text = request.args.get("encoding", "").strip()
    if kind == "full" and encoding_text not in cut_encodings.PRESETS:
        _custom_encoding(encoding_text)  # 401 or 400 before anything runs

    if not os.path.isdir(path):
        raise NotFound(f"no quality {quality!r} of channel {channel!r}: see /files/{channel}")
    segments = fastseg.get_best_segments(path, start, end)
    if all(s is None for s in segments):
        raise NotFound(f"no video in {channel}/{quality} from {start.isoformat()} to "
                       f"{end.isoformat()}")  # fmt: skip
    if len(spans) > 1 and kind == "rough":
        raise BadRequest("a rough cut takes one range: use type=fast or type=full for several")

    def parts() -> list[Part]:
        """The ranges with their segments (one range: those listed above)."""
        if len(spans) > 1:
            return cutting.parts_for(path, spans, allow_holes)
        return [(segments, start, end)]

    if kind == "rough":  # whole segments' bytes: no ffmpeg, no job
        body = _planned(
            kind, lambda: cutting.cut(parts(), kind, transitions, allow_holes=allow_holes)
        )
        mimetype = "video/mp4" if cutting.rough_container(segments) == "fmp4" else "video/MP2T"
        return Response(_logged(body, kind), mimetype=mimetype, direct_passthrough=True)

    seconds = length.total_seconds() * COST[kind]
    with state().jobs.job("cut", request.environ, seconds) as job:
        job.admit()  # before the engine probes segments in greenlets of its own
        encoding = _encoding(encoding_text, segments, job) if kind == "full" else None

        def make():
            return cutting.cut(parts(), kind, transitions, encoding, allow_holes=allow_holes)

        body = _planned(kind, make, job)
        body = within(job, body)
        # ffmpeg's first bytes before the status line: a failure to start (an option the
        # encoder refuses, a segment it cannot read) is still a clean 4xx, not a cut-off 200
        try:
            first = next(body, b"")
        except CutError as exc:
            raise job.failure(exc, f"{kind} cut") or _cannot_cut(kind, exc) from exc
    rest = _logged(body, kind, job)
    return Response(itertools.chain([first], rest), mimetype="video/MP2T",
                    direct_passthrough=True)  # fmt: skip


def _custom_encoding(text: str) -> None:
    """A full cut's encoding other than a preset: an editor's, well formed, with real encoders."""
    presets = ", ".join(cut_encodings.PRESETS)
    try:
        current_editor(why="it takes no encoding of an editor")
    except Unauthorized as exc:
        state().jobs.refuse("cut", "token")
        what = f"encoding {text[:80]!r}" if text else "a full cut without a preset"
        exc.description = (f"{what} needs an editor's token: {exc.description}; "
                           f"anyone may give encoding=PRESET, one of {presets}")  # fmt: skip
        raise
    try:
        encoding = Encoding.parse(text, Encoding(container="ts"))
        if encoding.container != "ts":
            raise ValueError(f"container {encoding.container!r}: the .ts route only gives ts")
        cut_encodings.check_encoders(encoding)
    except (TypeError, ValueError) as exc:
        state().jobs.refuse("cut", "encoding")
        raise BadRequest(f"encoding {text[:200]!r}: {exc}") from exc


def _encoding(text: str, segments, job) -> Encoding:
    """The encoding asked for: a preset (no larger than the source) or an editor's own."""
    if text not in cut_encodings.PRESETS:
        return Encoding.parse(text, Encoding(container="ts"))  # checked by _custom_encoding
    first = next(s for s in segments if s is not None)
    try:
        video = cutting.video_of(first)
    except CutError as exc:
        raise job.failure(exc, "full cut") or _cannot_cut("full", exc) from exc
    return cut_encodings.preset(text, video.height)


def _planned(kind: str, make, job=None):
    """The engine's cut generator; its refusals (planned before any byte) as 4xx."""
    try:
        return make()
    except fastseg.ContainsHoles as exc:
        raise HolesInRange(
            f"no complete video from {exc.hole_start.isoformat()} to {exc.hole_end.isoformat()}:"
            " choose another range, or add allow_holes=true to cut around it"
        ) from exc
    except CutError as exc:
        raise (job and job.failure(exc, f"{kind} cut")) or _cannot_cut(kind, exc) from exc
    except ValueError as exc:
        raise BadRequest(f"cannot make this {kind} cut: {exc}") from exc


def _cannot_cut(kind: str, exc: CutError) -> HTTPException:
    logger.info("refused a %s cut of %s: %s", kind, request.path, exc)
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return CannotCut(f"cannot make a {kind} cut of this range: {reason}")


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


def _logged(body, kind: str, job=None):
    """The engine's bytes; a failure mid-stream is logged, then ends the response early.

    A job the restreamer stopped (its client left, its time ran out, the service
    stops) or that ran out of memory is logged by the job, not as an error here.
    """
    try:
        yield from body
    except CutError as exc:
        if job is None or job.failure(exc, f"{kind} cut") is None:
            logger.error("%s cut failed after its response began: %s", kind, exc)
            raise
        # the job's own limit (logged by the job): drop the connection, quietly, as
        # the server does when a client resets it; the client sees a cut-off body
        raise ConnectionResetError(errno.ECONNRESET, f"{kind} cut stopped: {exc}") from exc
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()  # kills ffmpeg and removes temp files if the response ended early

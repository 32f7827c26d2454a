"""``/api/events``: read events, and submit, cancel, reset or add them (docs/DESIGN.md#events-api).

``GET /api/locations`` lists the upload locations live cutters serve: an edit
must name one of them, and is checked against the archive before it is written
(:mod:`services.db.edit_checks`).

Reads are open; writes need ``Authorization: Bearer TOKEN`` with a token from
``--editor-token-file``, and the token's email is recorded as ``editor``. Each
write checks the token's role with :func:`.roles.require_role` (403 naming the
role it lacks): resetting an event whose upload may be under way needs ``admin``. Every
change is one transition of :mod:`services.db.states`, the functions
``fastseg events`` calls, so the rules live in one place. Inputs are checked
whole before the database is touched, so a request refused for any reason
writes nothing.

Answers are JSON: an event is an object of its columns (times as UTC ISO 8601
ending in ``Z``), errors are ``{"error": "one-line reason"}`` with a 4xx status
(409 when the event's state does not allow the change, 503 when the database
cannot be reached).

Every event has a ``version`` (docs/DESIGN.md#versions), also the ``ETag`` of
``GET /api/events/ID``. A change sent with ``If-Match: "VERSION"`` is refused with
409 if the event was written since; the body's ``conflict`` says which columns
the last write changed, who wrote them and when, and ``event`` is the row now.
"""

import base64
import datetime as dt
import json
import logging
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
)

from services.db import STATES, ConnectionLost, DatabaseUnavailable, audit, locations, states
from services.db.edit_checks import EditRefused, check_edit, check_link, write_chapters
from services.db.publishing import MAX_DESCRIPTION_BYTES, MAX_TAGS, MAX_TITLE
from services.db.rows import Event
from services.ranges.chapters import DELIMITER, MIN_CHAPTERS, MIN_SECONDS
from services.restreamer.editor import inputs
from services.restreamer.editor.databases import Databases
from services.restreamer.editor.roles import (
    ADMIN,
    EDITOR,
    checked_editor,
    needs_role,
    request_editor,
    require_role,
)
from services.restreamer.editor.tokens import TokenFile
from services.restreamer.limits import accepts_body
from services.restreamer.state import state

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("events_api", __name__, url_prefix="/api")

ACTIONS = ("edit", "draft", "cancel", "reset", "manual-upload")
MAX_IF_MATCH = 40  # characters of an If-Match header: a version is a number


class Unavailable(HTTPException):
    code = 503
    description = "the database cannot be reached"


class StaleVersion(Conflict):
    """409 for a change based on an older version: the body says what changed, and by whom."""

    def __init__(self, exc: states.VersionConflict) -> None:
        super().__init__(str(exc))
        current = exc.current
        self.extra = {
            "conflict": {
                "your_version": exc.expected,
                "version": current.version,
                "changed": list(current.last_changes or ()),
                "changed_by": current.last_writer,
                "changed_at": _jsonable(current.last_write),
            },
            "event": event_json(current),
        }


def _editor_state() -> tuple[Databases, TokenFile | None]:
    return current_app.extensions["events_api"]


def _json(value: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(value) + "\n", status, headers, mimetype="application/json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Naive UTC in the database; the Z stops a browser reading it as local time.
        return value.isoformat(timespec="microseconds") + "Z"
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):  # video_ranges: [[start, end], ...]
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):  # thumbnail images: base64, as an edit sends them
        return base64.b64encode(value).decode("ascii")
    return value


def event_json(row: Event) -> dict[str, Any]:
    # write_as is the trigger's input, always NULL once written: nothing to show.
    return {name: _jsonable(value) for name, value in row.as_dict().items() if name != "write_as"}


def _event_response(row: Any, status: int = 200, **headers: str) -> Response:
    return _json(event_json(row), status, ETag=f'"{row.version}"', **headers)


def _run(fn, *args, **kwargs) -> Any:
    """Call a states function with a connection, turning its errors into HTTP answers."""
    databases, _ = _editor_state()
    editor = request_editor()
    try:
        with databases.use(editor.email if editor else None, request.remote_addr) as db:
            return fn(db, *args, **kwargs)
    except states.BadEventId as exc:
        raise BadRequest(str(exc)) from exc
    except states.EventNotFound as exc:
        raise NotFound(f"{exc}: see /api/events for the ids") from exc
    except states.VersionConflict as exc:
        _refused("stale_version")
        raise StaleVersion(exc) from exc
    except states.IllegalTransition as exc:
        raise Conflict(str(exc)) from exc
    except ConnectionLost as exc:
        raise Unavailable(f"{exc}: reload the event to see whether it did") from exc
    except DatabaseUnavailable as exc:
        logger.warning("events API: %s", exc)
        raise Unavailable("the events database cannot be reached: try again in a minute") from exc
    except ValueError as exc:  # a rule of the transition, e.g. end not after start
        raise BadRequest(str(exc)) from exc


def _refused(reason: str) -> None:
    state().metrics.editor_refusals.labels(reason).inc()


@blueprint.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="fastseg"'} if exc.code == 401 else {}
    body = {"error": exc.description, "status": exc.code, **getattr(exc, "extra", {})}
    return _json(body, exc.code or 500, **headers)


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    _refused("body_too_large")
    return _error(
        RequestEntityTooLarge(
            f"the body is over {inputs.MAX_BODY} bytes: an event's inputs are far smaller, "
            "so shorten the texts or send fewer ranges"
        )
    )


def _body() -> bytes:
    """The request's body, refused (413) past inputs.MAX_BODY before more is read."""
    request.max_content_length = inputs.MAX_BODY  # a chunked body is read this far, no further
    if request.content_length is not None and request.content_length > inputs.MAX_BODY:
        raise RequestEntityTooLarge()
    data = request.get_data()
    if request.content_length is None and len(data) >= inputs.MAX_BODY:
        raise RequestEntityTooLarge()  # chunked, and cut off at the limit: there was more
    return data


def _if_match() -> int | None:
    """The version ``If-Match`` names (``"3"``, ``3`` or ``W/"3"``); None without one or ``*``."""
    header = request.headers.get("If-Match", "").strip()
    if not header or header == "*":
        return None
    text = header.removeprefix("W/").strip('"')
    if len(header) > MAX_IF_MATCH or not states.is_version(text):
        raise BadRequest(
            f"If-Match {header[:MAX_IF_MATCH]!r} is not an event version: send the ETag of "
            'GET /api/events/ID (like "3"), or no If-Match to overwrite'
        )
    return int(text)


def _require_admin() -> None:
    """The admin role (roles.require_role), counting a refusal as ``not_admin``."""
    try:
        require_role(ADMIN)
    except Forbidden:
        _refused("not_admin")
        raise


@blueprint.get("/events")
def list_events() -> Response:
    unknown = sorted(set(request.args) - {"state"})
    if unknown:
        raise BadRequest(f"unknown query parameters {unknown!r}: only ?state= is understood")
    state = (request.args.get("state") or "").upper() or None  # any case, as the CLI
    if state is not None and state not in STATES:
        raise BadRequest(f"state {state[:40]!r} is not one of {', '.join(STATES)}")
    return _json([event_json(row) for row in _run(states.list_events, state)])


@blueprint.get("/locations")
def list_locations() -> Response:
    """The upload locations some cutter served within the last few heartbeats."""
    rows = _run(locations.live)
    return _json([
        {"name": r.name, "backend": r.backend, "public_url": r.public_url, "nodes": r.nodes}
        for r in rows
    ])  # fmt: skip


@blueprint.get("/publishing")
def publishing() -> Response:
    """The conventions the edit checks add, and YouTube's limits, for the page's counters."""
    conventions = current_app.extensions["publishing"]
    return _json({
        "title_prefix": conventions.title_prefix,
        "description_footer": conventions.description_footer,
        "tags": list(conventions.tags),
        "limits": {
            "title_characters": MAX_TITLE,
            "description_bytes": MAX_DESCRIPTION_BYTES,
            "tags_characters": MAX_TAGS,
        },
        "chapters": {"delimiter": DELIMITER, "min_count": MIN_CHAPTERS, "min_seconds": MIN_SECONDS},
    })  # fmt: skip


@blueprint.get("/events/<event_id>")
def get_event(event_id: str) -> Response:
    return _event_response(_run(states.get_event, event_id))


@blueprint.get("/events/<event_id>/history")
def event_history(event_id: str) -> Response:
    """The event's audit rows (docs/DESIGN.md#audit-trail), oldest first."""
    _check_id(event_id)
    rows = _run(audit.history, "events", str(states.parse_id(event_id)))
    if not rows:  # every event has its INSERT: none means no such event (404 from get_event)
        _run(states.get_event, event_id)
    return _json([audit_json(row) for row in rows])


def audit_json(row: Any) -> dict[str, Any]:
    """An audit row as the API shows it: its columns, times UTC ending in ``Z``."""
    return {name: _jsonable(value) for name, value in row._asdict().items()}


@blueprint.post("/events")
@needs_role(EDITOR)
@accepts_body(inputs.MAX_BODY)
def add_event() -> Response:
    editor = checked_editor().email
    sheet_name, values = inputs.sheet_inputs(inputs.json_object(_body()))
    new_id = _run(states.add_event, sheet_name, **values)
    logger.info("event %s added by %r", new_id, editor)
    row = _run(states.get_event, new_id)
    return _event_response(row, 201, Location=f"/api/events/{new_id}")


@blueprint.post("/events/<event_id>/<action>")
@needs_role(EDITOR)
@accepts_body(inputs.MAX_BODY)
def change(event_id: str, action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"no action {action[:40]!r}: POST to one of {', '.join(ACTIONS)}")
    who = checked_editor()
    editor = who.email
    _check_id(event_id)
    data = _body()
    version = _if_match()
    mine = {"if_version": version, "writer": editor}
    if action == "edit":
        values = inputs.edit_inputs(inputs.json_object(data))
        # 409 before any reason about the inputs
        _run(states.check_editable, event_id, if_version=version)
        try:
            values = write_chapters(values)  # the description as it will be stored
        except EditRefused as exc:
            raise BadRequest(str(exc)) from exc
        conventions = current_app.extensions["publishing"]
        # 400 with the reason
        _run(check_edit, state().base_dir, editor=editor, conventions=conventions, **values)
        row = _run(states.edit, event_id, editor=editor, if_version=version, **values)
    elif action == "draft":
        draft = inputs.draft_inputs(inputs.json_object(data))
        row = _run(states.save_draft, event_id, draft, editor, if_version=version)
    elif action == "reset":
        force = inputs.reset_options(data)
        # A forced reset forgets a published video; an upload under way or finishing
        # could be orphaned or doubled: only an admin may. The UPDATE checks the state again.
        if force or _run(states.get_event, event_id).state in states.IN_FLIGHT:
            _require_admin()
        row = _run(states.reset, event_id, force=force, in_flight=who.has(ADMIN), **mine)
    elif action == "manual-upload":
        link = inputs.manual_link(inputs.json_object(data))
        try:
            check_link(link)
        except ValueError as exc:
            raise BadRequest(str(exc)) from exc
        row = _run(states.manual_upload, event_id, link, **mine)
    else:
        inputs.no_body(data)
        row = _run(states.cancel, event_id, **mine)
    logger.info("event %s: %s by %r", row.id, action, editor)
    return _event_response(row)


def _check_id(event_id: str) -> None:
    """Refuse a bad id before reading the body, so the reason given is the first problem."""
    try:
        states.parse_id(event_id)
    except states.BadEventId as exc:
        raise BadRequest(str(exc)) from exc

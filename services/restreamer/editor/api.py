"""``/api/events``: read events, and submit, cancel, reset or add them (docs/DESIGN.md#events-api).

``GET /api/locations`` lists the upload locations live cutters serve: an edit
must name one of them, and is checked against the archive before it is written
(:mod:`services.common.edit_checks`).

Reads are open; writes need ``Authorization: Bearer TOKEN`` with a token from
``--editor-token-file``, and the token's email is recorded as ``editor``. Every
change is one transition of :mod:`services.common.db.states`, the functions
``fastseg events`` calls, so the rules live in one place. Inputs are checked
whole before the database is touched, so a request refused for any reason
writes nothing.

Answers are JSON: an event is an object of its columns (times as UTC ISO 8601
ending in ``Z``), errors are ``{"error": "one-line reason"}`` with a 4xx status
(409 when the event's state does not allow the change, 503 when the database
cannot be reached).
"""

import datetime as dt
import json
import logging
import uuid
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound

from services.common.db import STATES, ConnectionLost, DatabaseUnavailable, locations, states
from services.common.edit_checks import check_edit
from services.restreamer.editor import inputs
from services.restreamer.editor.bearer import editor_email
from services.restreamer.editor.databases import Databases
from services.restreamer.editor.tokens import TokenFile
from services.restreamer.state import state

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("events_api", __name__, url_prefix="/api")

ACTIONS = ("edit", "cancel", "reset")


class Unavailable(HTTPException):
    code = 503
    description = "the database cannot be reached"


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
    return value


def event_json(row: Any) -> dict[str, Any]:
    return {name: _jsonable(value) for name, value in row._asdict().items()}


def _editor() -> str:
    """The email of the editor whose bearer token came with the request; 401 otherwise."""
    return editor_email()


def _run(fn, *args, **kwargs) -> Any:
    """Call a states function with a connection, turning its errors into HTTP answers."""
    databases, _ = _editor_state()
    try:
        with databases.use() as db:
            return fn(db, *args, **kwargs)
    except states.BadEventId as exc:
        raise BadRequest(str(exc)) from exc
    except states.EventNotFound as exc:
        raise NotFound(f"{exc}: see /api/events for the ids") from exc
    except states.IllegalTransition as exc:
        raise Conflict(str(exc)) from exc
    except ConnectionLost as exc:
        raise Unavailable(f"{exc}: reload the event to see whether it did") from exc
    except DatabaseUnavailable as exc:
        logger.warning("events API: %s", exc)
        raise Unavailable("the events database cannot be reached: try again in a minute") from exc
    except ValueError as exc:  # a rule of the transition, e.g. end not after start
        raise BadRequest(str(exc)) from exc


@blueprint.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="fastseg"'} if exc.code == 401 else {}
    return _json({"error": exc.description, "status": exc.code}, exc.code or 500, **headers)


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


@blueprint.get("/events/<event_id>")
def get_event(event_id: str) -> Response:
    return _json(event_json(_run(states.get_event, event_id)))


@blueprint.post("/events")
def add_event() -> Response:
    editor = _editor()
    sheet_name, values = inputs.sheet_inputs(inputs.json_object(request.get_data()))
    new_id = _run(states.add_event, sheet_name, **values)
    logger.info("event %s added by %r", new_id, editor)
    row = _run(states.get_event, new_id)
    return _json(event_json(row), 201, Location=f"/api/events/{new_id}")


@blueprint.post("/events/<event_id>/<action>")
def change(event_id: str, action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound(f"no action {action[:40]!r}: POST to one of {', '.join(ACTIONS)}")
    editor = _editor()
    _check_id(event_id)
    data = request.get_data()
    if action == "edit":
        values = inputs.edit_inputs(inputs.json_object(data))
        _run(states.check_editable, event_id)  # 409 before any reason about the inputs
        _run(check_edit, state().base_dir, editor=editor, **values)  # 400 with the reason
        row = _run(states.edit, event_id, editor=editor, **values)
    else:
        inputs.no_body(data)
        row = _run(getattr(states, action), event_id)
    logger.info("event %s: %s by %r", row.id, action, editor)
    return _json(event_json(row))


def _check_id(event_id: str) -> None:
    """Refuse a bad id before reading the body, so the reason given is the first problem."""
    try:
        states.parse_id(event_id)
    except states.BadEventId as exc:
        raise BadRequest(str(exc)) from exc

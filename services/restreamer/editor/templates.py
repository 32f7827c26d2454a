"""``/api/templates``: the thumbnail templates artists make and editors pick.

See docs/DESIGN.md#thumbnails.

Reads are open, like the events'. Adding (``POST``, 201) or replacing (``PUT``) a
template needs the ``artist`` role (admins hold it too: :func:`.roles.require_role`).
The body is a JSON object: ``name``, ``image`` (the PNG as base64), ``description``,
``attribution``, ``crop`` and ``location`` (four whole pixels each). Everything is
checked before the database is touched; errors are the events API's JSON.
"""

import logging
from typing import Any

from flask import Blueprint, Response, request
from werkzeug.exceptions import BadRequest, Conflict, HTTPException, NotFound

from services.cutting import BadImage, check_template
from services.db import thumbnails
from services.db.thumbnails import TemplateNotFound, check_template_name, parse_box
from services.restreamer.editor import inputs
from services.restreamer.editor.api import _error, _json, _run
from services.restreamer.editor.roles import ARTIST, checked_editor, needs_role
from services.restreamer.limits import accepts_body

logger = logging.getLogger(__name__)

__all__ = ["blueprint", "template_row"]

blueprint = Blueprint("templates_api", __name__, url_prefix="/api")
blueprint.register_error_handler(HTTPException, _error)

FIELDS = ("name", "image", "description", "attribution", "crop", "location")
MAX_TEXT = 1000  # characters of a description or an attribution


def template_row(name: str) -> Any:
    """The template's row; 404 naming it if there is none (a bad name is a 400)."""
    try:
        check_template_name(name)
        return _run(thumbnails.get_template, name)
    except TemplateNotFound as exc:
        raise NotFound(str(exc)) from None
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def _fields(row: Any) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "attribution": row.attribution,
        "crop": list(row.crop),
        "location": list(row.location),
        "image": f"/api/templates/{row.name}.png",
    }


def _template_body(name: str | None = None) -> dict[str, Any]:
    """The checked body of a POST (``name`` None: from the body) or PUT."""
    body = inputs.json_object(request.get_data())
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise BadRequest(
            f"unknown fields for a template: {', '.join(map(repr, unknown))}; "
            f"expected {', '.join(FIELDS)}"
        )
    if name is not None and body.get("name", name) != name:
        raise BadRequest(
            f"the body names {str(body['name'])[:80]!r} but the URL {name!r}: "
            "a PUT replaces the template its URL names"
        )
    missing = [f for f in ("image", "crop", "location") if body.get(f) is None]
    if name is None and body.get("name") is None:
        missing.insert(0, "name")
    if missing:
        raise BadRequest(f"a template needs {', '.join(missing)}: missing or null")
    try:
        values = {
            "name": check_template_name(body.get("name", name)),
            "crop": parse_box(body["crop"], "crop"),
            "location": parse_box(body["location"], "location"),
        }
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    for field in ("description", "attribution"):
        text = body.get(field) or ""
        if not isinstance(text, str) or len(text) > MAX_TEXT or "\0" in text:
            raise BadRequest(f"{field} {str(text)[:40]!r} is not text of at most {MAX_TEXT}")
        values[field] = text
    image = inputs.png_from_base64(body["image"], "image")
    try:
        check_template(image, values["location"], "image")
    except BadImage as exc:
        raise BadRequest(str(exc)) from None
    values["image"] = image
    return values


# base64 of a 2 MiB image and two short texts
MAX_TEMPLATE_BODY = inputs.MAX_BODY


@blueprint.get("/templates")
def list_templates() -> Response:
    return _json([_fields(row) for row in _run(thumbnails.list_templates)])


@blueprint.get("/templates/<name>.png")
def template_image(name: str) -> Response:
    row = template_row(name)
    response = Response(bytes(row.image), mimetype="image/png")
    response.headers["Cache-Control"] = "no-cache"  # a PUT may replace it
    return response


@blueprint.post("/templates")
@needs_role(ARTIST)
@accepts_body(MAX_TEMPLATE_BODY, "a template's PNG is at most 2 MiB")
def add_template() -> Response:
    artist = checked_editor().email
    values = _template_body()
    name = values.pop("name")
    try:
        _run(thumbnails.put_template, name, values.pop("image"), replace=False, **values)
    except BadRequest as exc:  # the name is taken
        raise Conflict(exc.description) from None
    logger.info("template %r added by %r", name, artist)
    row = template_row(name)
    return _json(_fields(row), 201, Location=f"/api/templates/{name}.png")


@blueprint.put("/templates/<name>")
@needs_role(ARTIST)
@accepts_body(MAX_TEMPLATE_BODY, "a template's PNG is at most 2 MiB")
def replace_template(name: str) -> Response:
    artist = checked_editor().email
    template_row(name)  # 404 before the body's reasons
    values = _template_body(name)
    values.pop("name")
    try:
        _run(thumbnails.put_template, name, values.pop("image"), replace=True, **values)
    except TemplateNotFound as exc:  # removed meanwhile
        raise NotFound(str(exc)) from None
    logger.info("template %r replaced by %r", name, artist)
    return _json(_fields(template_row(name)))

"""Checks on the JSON bodies of the events API, before anything reaches the database.

Every checker returns clean values or raises :class:`BadRequest` (400) with a
one-line reason that names the field and shows the bad value. Field names are
the events table's columns (docs/DESIGN.md#schema); anything else is refused rather than
ignored, so a typo never silently drops an input.
"""

import base64
import binascii
import json
import logging
from typing import Any

from werkzeug.exceptions import BadRequest

from services.cutting import MAX_IMAGE_BYTES, BadImage, check_png
from services.db import EDIT_INPUTS, SHEET_INPUTS, THUMBNAIL_INPUTS
from services.db.thumbnails import parse_box, thumbnail_values
from services.ranges import transitions_from_json
from services.restreamer.validation import check_part, parse_time

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_BODY",
    "draft_inputs",
    "edit_inputs",
    "json_object",
    "manual_link",
    "no_body",
    "reset_options",
    "sheet_inputs",
]

# column -> kind, for every column a client may send.
_KINDS = {
    "sheet_name": "text",
    "event_start": "time",
    "event_end": "time",
    "category": "text",
    "description": "text",
    "submitter_winner": "text",
    "poster_moment": "bool",
    "image_links": "texts",
    "notes": "text",
    "allow_holes": "bool",
    "uploader_whitelist": "texts",
    "upload_location": "text",
    "video_start": "time",
    "video_end": "time",
    "video_title": "text",
    "video_description": "text",
    "video_channel": "text",
    "video_quality": "text",
    "video_ranges": "ranges",
    "video_transitions": "transitions",
    "thumbnail_mode": "text",
    "thumbnail_time": "time",
    "thumbnail_template": "text",
    "thumbnail_image": "png",
    "thumbnail_crop": "box",
    "thumbnail_location": "box",
    # publishing (docs/DESIGN.md#publishing)
    "tags": "tags",
    "video_tags": "tags",
    "public": "bool",
    "video_chapters": "chapters",
}
#: An edit's inputs that are no column: the chapters become lines of the description.
EDIT_FIELDS = (*EDIT_INPUTS, "video_chapters")
MAX_CHAPTERS = 200  # YouTube shows far fewer; a bound on what one body may ask
# What `fastseg events edit` requires too; the rest have its defaults.
EDIT_REQUIRED = ("video_start", "video_end", "video_title", "video_channel", "upload_location")
# video_ranges stands in for these (its first start and last end)
RANGE_BOUNDS = ("video_start", "video_end")
# Text that names something must say something: an empty title or location is a mistake.
NON_EMPTY = {"sheet_name", "video_title", "video_channel", "video_quality", "upload_location"}
MAX_TEXT = 10_000  # characters; YouTube's description limit is 5,000
# A body: four texts of MAX_TEXT characters, each \uXXXX-escaped (6 bytes a character),
# are 240,000 bytes; the times, ranges and links are small beside them. A CUSTOM
# thumbnail adds its PNG as base64 (4 bytes per 3).
MAX_BODY = 256 * 1024 + (MAX_IMAGE_BYTES + 2) // 3 * 4


def json_object(data: bytes) -> dict[str, Any]:
    """The request body as a JSON object."""
    if not data.strip():
        raise BadRequest("the body is empty: send a JSON object of column names to values")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not JSON ({exc}): send a JSON object") from None
    except RecursionError:
        raise BadRequest("the body nests deeper than any event: send a flat JSON object") from None
    if not isinstance(body, dict):
        raise BadRequest(f"the body is a JSON {type(body).__name__}, not an object: send {{...}}")
    return body


def no_body(data: bytes) -> None:
    """cancel and reset take nothing: an empty body or ``{}``."""
    if data.strip() and json_object(data):
        raise BadRequest("this action takes no inputs: send an empty body or {}")


def _check(name: str, value: Any) -> Any:
    kind = _KINDS[name]
    if kind == "time":
        if not isinstance(value, str):
            raise BadRequest(f"{name} {value!r} is not a string: give a UTC time as text")
        return parse_time(value, name) if value else _missing(name)
    if kind == "ranges":
        return _ranges(name, value)
    if kind == "transitions":
        try:
            transitions_from_json(value)
        except ValueError as exc:
            raise BadRequest(f"{name}: {exc}") from None
        return value
    if kind == "box":
        try:
            return list(parse_box(value, name))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
    if kind == "png":
        return png_from_base64(value, name)
    if kind == "tags":
        return _tags(name, value)
    if kind == "chapters":
        return _chapters(name, value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise BadRequest(f"{name} {value!r} is not true or false")
        return value
    if kind == "texts":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadRequest(f"{name} {value!r} is not a list of strings")
        for v in value:
            _text(name, v)
        return value
    if not isinstance(value, str):
        raise BadRequest(f"{name} {value!r} is not a string")
    return _text(name, value)


def png_from_base64(value: Any, name: str) -> bytes:
    """A PNG sent as base64 text, within the image limits; BadRequest saying what is wrong."""
    if not isinstance(value, str):
        raise BadRequest(f"{name} {str(value)[:40]!r} is not a string: send the PNG as base64")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{name} is not base64: send the PNG file base64-encoded") from None
    try:
        check_png(data, name)
    except BadImage as exc:
        raise BadRequest(str(exc)) from None
    return data


def _ranges(name: str, value: Any) -> list[tuple]:
    """``[["START", "END"], ...]`` as pairs of times."""
    if not isinstance(value, list) or not all(
        isinstance(r, list) and len(r) == 2 and all(isinstance(v, str) for v in r) for r in value
    ):
        raise BadRequest(f"{name} {value!r} is not a list of [start, end] pairs of UTC times")
    return [(parse_time(a, name), parse_time(b, name)) for a, b in value]


def _tags(name: str, value: Any) -> list[str]:
    """Tags: strings, none empty and none with a comma (YouTube separates tags by commas)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest(f"{name} {value!r} is not a list of strings")
    for tag in value:
        _text(name, tag)
        if not tag.strip() or "," in tag:
            raise BadRequest(
                f"{name}: tag {tag[:40]!r} is empty or has a comma: give each tag as its own string"
            )
    return [tag.strip() for tag in value]


def _chapters(name: str, value: Any) -> list[tuple]:
    """``[{"time": STREAM_TIME, "title": TEXT}, ...]`` as (time, title) pairs."""
    if not isinstance(value, list) or not all(
        isinstance(c, dict) and set(c) == {"time", "title"} for c in value
    ):
        raise BadRequest(
            f'{name} {str(value)[:80]!r} is not a list of {{"time": T, "title": TEXT}}'
        )
    if len(value) > MAX_CHAPTERS:
        raise BadRequest(f"{name}: {len(value)} chapters, over {MAX_CHAPTERS}: give fewer")
    out = []
    for chapter in value:
        when, title = chapter["time"], chapter["title"]
        if not isinstance(when, str) or not isinstance(title, str):
            raise BadRequest(f"{name}: {chapter!r} needs a UTC time and a title, both strings")
        out.append((parse_time(when, name), _text(name, title)))
    return out


def _text(name: str, value: str) -> str:
    if "\0" in value:
        raise BadRequest(f"{name} {value[:40]!r} contains a NUL character, which text cannot hold")
    if len(value) > MAX_TEXT:
        raise BadRequest(f"{name} is {len(value)} characters, over {MAX_TEXT}: shorten it")
    if name in NON_EMPTY and not value.strip():
        raise BadRequest(f"{name} is empty: it is needed")
    return value


def _missing(name: str):
    raise BadRequest(f"{name} is missing: it is needed")


def _fields(body: dict[str, Any], allowed: tuple[str, ...], what: str) -> dict[str, Any]:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        hint = " (the editor is whoever the token belongs to)" if "editor" in unknown else ""
        raise BadRequest(
            f"unknown fields for {what}: {', '.join(map(repr, unknown))}{hint}; "
            f"expected some of {', '.join(allowed)}"
        )
    return {name: _check(name, value) for name, value in body.items() if value is not None}


def edit_inputs(body: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for ``states.edit`` (without ``editor``) from an edit's body."""
    values = _fields(body, EDIT_FIELDS, "an edit")
    required = EDIT_REQUIRED
    if values.get("video_ranges"):
        required = tuple(n for n in EDIT_REQUIRED if n not in RANGE_BOUNDS)
    missing = [name for name in required if name not in values]
    if missing:
        raise BadRequest(f"an edit needs {', '.join(missing)}: missing or null")
    check_part(values["video_channel"], "video_channel")
    if "video_quality" in values:
        check_part(values["video_quality"], "video_quality")
    try:  # what each thumbnail mode needs (states.edit checks it again)
        thumbnail_values(**{n: values[n] for n in THUMBNAIL_INPUTS if n in values})
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    return values


def draft_inputs(body: dict[str, Any]) -> dict[str, Any]:
    """A draft's body as it will be kept: any of the edit inputs, each checked as an edit's.

    Unlike an edit, nothing is required (a draft is work in progress); ``{}``
    clears the draft. Returned as the JSON it came as, without nulls.
    """
    values = _fields(body, EDIT_FIELDS, "a draft")
    for name in ("video_channel", "video_quality"):
        if name in values:
            check_part(values[name], name)
    return {name: value for name, value in body.items() if value is not None}


def manual_link(body: dict[str, Any]) -> str:
    """The ``video_link`` of a manual upload's body (checked as a URL by the edit checks)."""
    unknown = sorted(set(body) - {"video_link"})
    if unknown:
        raise BadRequest(
            f"unknown fields for a manual upload: {', '.join(map(repr, unknown))}; "
            'send {"video_link": "https://..."}'
        )
    link = body.get("video_link")
    if not isinstance(link, str) or not link.strip():
        raise BadRequest(f"video_link {link!r} is missing or not a string: give the video's URL")
    return _text("video_link", link.strip())


def reset_options(data: bytes) -> bool:
    """Whether a reset's body (empty, ``{}`` or ``{"force": true}``) asks to force it."""
    if not data.strip():
        return False
    body = json_object(data)
    unknown = sorted(set(body) - {"force"})
    if unknown:
        raise BadRequest(
            f"unknown fields for a reset: {', '.join(map(repr, unknown))}; "
            'send nothing, or {"force": true} to reset a DONE event (admins only)'
        )
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadRequest(f"force {force!r} is not true or false")
    return force


def sheet_inputs(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``(sheet_name, other sheet inputs)`` for ``states.add_event`` from a new event's body."""
    values = _fields(body, SHEET_INPUTS, "a new event")
    if "sheet_name" not in values:
        raise BadRequest("a new event needs sheet_name: missing or null")
    start, end = values.get("event_start"), values.get("event_end")
    if start is not None and end is not None and end < start:
        raise BadRequest(
            f"event_end {end.isoformat()} is before event_start {start.isoformat()}: swap them"
        )
    return values.pop("sheet_name"), values

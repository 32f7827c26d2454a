"""An edit's thumbnail inputs, and the ``templates`` table (docs/DESIGN.md#thumbnails).

The rules are wubloader's: a ``TEMPLATE`` thumbnail names a template and a time, a
``BARE`` one a time, a ``CUSTOM`` one an image (which no other mode may carry). A
box (``thumbnail_crop``, ``thumbnail_location``, a template's ``crop`` and
``location``) is four whole pixels: left, top, right, bottom. The database holds
the same rules as constraints (services/db/schema.py); these checks say what is
wrong before anything is written.
"""

import datetime as dt
import logging
import re
from typing import Any

from services.db.connection import Database
from services.db.schema import THUMBNAIL_MODES

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_SIDE",
    "Box",
    "TemplateNotFound",
    "attribution",
    "check_template_name",
    "get_template",
    "list_templates",
    "parse_box",
    "put_template",
    "remove_template",
    "thumbnail_values",
]

Box = tuple[int, int, int, int]
MAX_SIDE = 4096  # pixels: no template, frame or box is larger (YouTube's is 1280x720)


class TemplateNotFound(LookupError):
    """No template has this name."""


# A name goes into URLs (/api/templates/NAME.png) and the editor's menu: plain and short.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")


def check_template_name(name: Any) -> str:
    """The name if it is one a template may have; ValueError saying what is allowed."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name.endswith((".", " ")):
        raise ValueError(
            f"template name {str(name)[:80]!r} is not 1 to 64 letters, digits, spaces, "
            "'_', '-' or '.' starting with a letter or digit"
        )
    return name


def parse_box(value: Any, name: str) -> Box:
    """``[l, t, r, b]`` or ``"l,t,r,b"`` as a box; ValueError naming ``name`` otherwise.

    Right must be past left and bottom below top, all within 0..MAX_SIDE.
    """
    if isinstance(value, str):
        parts: Any = [p.strip() for p in value.split(",")]
        if all(p.isascii() and p.lstrip("-").isdigit() for p in parts):
            parts = [int(p) for p in parts]
    else:
        parts = value
    if (
        not isinstance(parts, list | tuple)
        or len(parts) != 4
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in parts)
    ):
        raise ValueError(
            f"{name} {str(value)[:60]!r} is not four whole pixels left,top,right,bottom "
            "(e.g. 0,0,1280,720)"
        )
    left, top, right, bottom = parts
    if not (0 <= left < right <= MAX_SIDE and 0 <= top < bottom <= MAX_SIDE):
        raise ValueError(
            f"{name} {left},{top},{right},{bottom} is not a box: right must be past left and "
            f"bottom below top, all from 0 to {MAX_SIDE}"
        )
    return left, top, right, bottom


def thumbnail_values(
    *,
    thumbnail_mode: str | None = None,
    thumbnail_time: dt.datetime | None = None,
    thumbnail_template: str | None = None,
    thumbnail_image: bytes | None = None,
    thumbnail_crop: Any = None,
    thumbnail_location: Any = None,
) -> dict[str, Any]:
    """The thumbnail columns of an edit, checked; ValueError says what a mode lacks.

    No mode is ``NONE``, an edit by a client that knows nothing of thumbnails.
    """
    mode = thumbnail_mode or "NONE"
    if mode not in THUMBNAIL_MODES:
        raise ValueError(f"thumbnail_mode {mode!r} is not one of {', '.join(THUMBNAIL_MODES)}")
    if mode in ("BARE", "TEMPLATE") and thumbnail_time is None:
        raise ValueError(f"a {mode} thumbnail needs thumbnail_time: the frame to show")
    if mode == "TEMPLATE" and not thumbnail_template:
        raise ValueError("a TEMPLATE thumbnail needs thumbnail_template: see GET /api/templates")
    if mode == "CUSTOM" and not thumbnail_image:
        raise ValueError("a CUSTOM thumbnail needs thumbnail_image: a PNG")
    if thumbnail_image is not None and mode != "CUSTOM":
        raise ValueError(f"thumbnail_image is only for a CUSTOM thumbnail, not {mode}")
    crop = parse_box(thumbnail_crop, "thumbnail_crop") if thumbnail_crop is not None else None
    place = thumbnail_location
    location = parse_box(place, "thumbnail_location") if place is not None else None
    return {
        "thumbnail_mode": mode,
        "thumbnail_time": thumbnail_time,
        "thumbnail_template": thumbnail_template,
        "thumbnail_image": thumbnail_image,
        "thumbnail_crop": list(crop) if crop else None,
        "thumbnail_location": list(location) if location else None,
    }


def get_template(db: Database, name: str) -> Any:
    """The template's row (every column); TemplateNotFound naming it if there is none."""
    row = db.query_one("SELECT * FROM templates WHERE name = %s", (name,), idempotent=True)
    if row is None:
        raise TemplateNotFound(f"no template {name!r}: see GET /api/templates")
    return row


def attribution(db: Database, mode: str | None, template: str | None) -> str | None:
    """The credit a thumbnail owes: a TEMPLATE's template's attribution (composed as
    "Thumbnail art by ..." below the description, services.db.publishing), else None;
    TemplateNotFound if the template is gone."""
    if mode != "TEMPLATE" or not template:
        return None
    return get_template(db, template).attribution or None


def list_templates(db: Database) -> list[Any]:
    """Every template by name, without its image (``image_bytes`` says how big it is)."""
    return db.query(
        "SELECT name, description, attribution, crop, location,"
        " octet_length(image) AS image_bytes FROM templates ORDER BY name",
        idempotent=True,
    )


def put_template(
    db: Database,
    name: str,
    image: bytes,
    *,
    description: str = "",
    attribution: str = "",
    crop: Box,
    location: Box,
    replace: bool,
) -> bool:
    """Add the template (or, with ``replace``, overwrite one of that name); True if new.

    Without ``replace`` an existing name is a ValueError; with it, a missing one
    is TemplateNotFound (a PUT of a name nobody made is a typo more often than not).
    """
    values = {
        "name": name,
        "image": image,
        "description": description,
        "attribution": attribution,
        "crop": list(crop),
        "location": list(location),
    }
    if replace:
        row = db.query_one(
            "UPDATE templates SET image = %(image)s, description = %(description)s,"
            " attribution = %(attribution)s, crop = %(crop)s, location = %(location)s"
            " WHERE name = %(name)s RETURNING name",
            values,
        )
        if row is None:
            raise TemplateNotFound(f"no template {name!r} to replace: POST it to add it")
        logger.info("template %r replaced", name)
        return False
    row = db.query_one(
        "INSERT INTO templates (name, image, description, attribution, crop, location)"
        " VALUES (%(name)s, %(image)s, %(description)s, %(attribution)s, %(crop)s, %(location)s)"
        " ON CONFLICT (name) DO NOTHING RETURNING name",
        values,
    )
    if row is None:
        raise ValueError(f"template {name!r} exists already: PUT /api/templates/{name} replaces it")
    logger.info("template %r added", name)
    return True


def remove_template(db: Database, name: str) -> None:
    """Delete the template; TemplateNotFound if there is none. Edits naming it keep the name."""
    if not db.query("DELETE FROM templates WHERE name = %s RETURNING name", (name,)):
        raise TemplateNotFound(f"no template {name!r}: see 'fastseg templates list'")
    logger.info("template %r removed", name)

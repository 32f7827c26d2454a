"""``/files`` listings: channels, qualities, hours and segment names, as sorted JSON lists.

Peers replicate by walking these (wubloader's backfiller does the same), so the
routes and the JSON shape stay compatible with wubloader's. Names that could
not be served (hidden ones, hours that do not parse) are left out, so that every
listed name can be fetched, and so is whatever is not a channel of qualities of
hours (:mod:`services.archive.layout` says what counts). A well-formed name that
does not exist lists as ``[]``, as wubloader's does: its backfiller asks every
node for every quality it records, and a 404 there would fail its whole pass.
``?tombstones=true`` adds the tombstones of an hour (never the segments they
hide), so peers copy them.
"""

import json
import logging
import os

from flask import Blueprint, Response, request

from fastseg import hour_start, list_segment_files
from services.archive import layout
from services.restreamer.state import state
from services.restreamer.validation import BadRequest, archive_path, check_bool, check_part

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("listings", __name__)


def _json(names: list[str]) -> Response:
    return Response(json.dumps(names) + "\n", mimetype="application/json")


def _subdirs(path: str, keep) -> list[str]:
    """The sorted names of the directories in ``path`` that ``keep`` accepts; none if missing."""
    try:
        with os.scandir(path) as entries:
            names = [e.name for e in entries if e.is_dir() and keep(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    names.sort()
    return names


def _plain(name: str) -> bool:
    try:
        check_part(name, "name")
    except BadRequest:
        return False
    return True


def _is_hour(name: str) -> bool:
    return hour_start(name) is not None


@blueprint.route("/files")
def channels() -> Response:
    base = state().base_dir
    return _json([c for c in _subdirs(base, _plain) if layout.is_channel(base, c)])


@blueprint.route("/files/<channel>")
def qualities(channel: str) -> Response:
    base = state().base_dir
    names = _subdirs(archive_path(base, channel), _plain)
    return _json([q for q in names if layout.is_quality(base, channel, q)])


@blueprint.route("/files/<channel>/<quality>")
def hours(channel: str, quality: str) -> Response:
    return _json(_subdirs(archive_path(state().base_dir, channel, quality), _is_hour))


@blueprint.route("/files/<channel>/<quality>/<hour>")
def segment_names(channel: str, quality: str, hour: str) -> Response:
    path = archive_path(state().base_dir, channel, quality, hour)
    tombstones = check_bool(request.args.get("tombstones"), "tombstones")
    return _json(list_segment_files(path, include_tombstones=tombstones))

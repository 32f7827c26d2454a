"""``/files`` listings: channels, qualities, hours and segment names, as sorted JSON lists.

Peers replicate by walking these (wubloader's backfiller does the same), so the
routes and the JSON shape stay compatible with wubloader's. Names that could
not be served (hidden ones, hours that do not parse) are left out, so that every
listed name can be fetched, and so is whatever is not a channel of qualities of
hours: :mod:`services.archive.layout` lists them, the one rule for what counts. A
directory of BASE this node cannot read is a 500 (logged), never an empty list
(docs/DESIGN.md#status-codes). A well-formed name that
does not exist lists as ``[]``, as wubloader's does: its backfiller asks every
node for every quality it records, and a 404 there would fail its whole pass.
``?tombstones=true`` adds the tombstones of an hour (never the segments they
hide), so peers copy them.
"""

import json
import logging

from flask import Blueprint, Response, request

from fastseg import list_segment_files
from services.archive import layout
from services.restreamer.state import state
from services.restreamer.validation import archive_path, check_bool

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("listings", __name__)


def _json(names: list[str]) -> Response:
    return Response(json.dumps(names) + "\n", mimetype="application/json")


@blueprint.route("/files")
def channels() -> Response:
    return _json(layout.channels(state().base_dir))


@blueprint.route("/files/<channel>")
def qualities(channel: str) -> Response:
    base = state().base_dir
    archive_path(base, channel)  # a 400 for a malformed name
    return _json(layout.qualities(base, channel))


@blueprint.route("/files/<channel>/<quality>")
def hours(channel: str, quality: str) -> Response:
    base = state().base_dir
    archive_path(base, channel, quality)
    return _json(layout.hours(base, channel, quality))


@blueprint.route("/files/<channel>/<quality>/<hour>")
def segment_names(channel: str, quality: str, hour: str) -> Response:
    path = archive_path(state().base_dir, channel, quality, hour)
    tombstones = check_bool(request.args.get("tombstones"), "tombstones")
    return _json(list_segment_files(path, include_tombstones=tombstones))

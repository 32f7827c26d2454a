"""``/clips/NAME``: the files of ``--clips-dir``, so a local upload location's links open over http.

A cutter's local location writes finished clips into a directory; given
``url=http://THIS-RESTREAMER/clips/`` its links point here, and the editor page
(served over http) can open them, which a ``file://`` link never can. Only
files directly in the directory are served, never hidden ones (the cutter's
half-written ``.NAME.tmp``).
"""

import logging
import os

from flask import Blueprint, Response, current_app, send_from_directory
from werkzeug.exceptions import NotFound

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("clips", __name__)

# mimetypes reads .ts as a Qt translation file; these are the cutter's containers.
TYPES = {".ts": "video/mp2t", ".mp4": "video/mp4", ".mkv": "video/x-matroska"}


@blueprint.get("/clips/<name>")
def clip(name: str) -> Response:
    if name.startswith(".") or "\\" in name or "\0" in name:
        raise NotFound(f"no clip {name[:80]!r}")
    folder = current_app.config["CLIPS_DIR"]
    mimetype = TYPES.get(os.path.splitext(name)[1].lower())
    return send_from_directory(folder, name, mimetype=mimetype, max_age=3600)

"""``GET /editor`` and ``GET /editor/templates`` (the artists' page): plain files from
``services/restreamer/static/editor``.

The page's scripts and styles are served by Flask's own ``/static/`` route (the
app's static folder is ``services/restreamer/static``); this blueprint only
answers the page's address. Nothing is built at run time: the files are ES
modules as shipped, hls.js included (see ``static/editor/vendor/NOTICE``).
"""

import logging
import os

from flask import Blueprint, Response, current_app, send_from_directory

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("editor_page", __name__)


def _page(name: str) -> Response:
    folder = os.path.join(current_app.static_folder, "editor")
    response = send_from_directory(folder, name, max_age=0)
    response.headers["Cache-Control"] = "no-cache"  # a new release shows on the next load
    return response


@blueprint.get("/editor")
def page() -> Response:
    return _page("index.html")


@blueprint.get("/editor/templates")
def templates_page() -> Response:
    """The artists' page: upload, place the frame, preview (docs/DESIGN.md#thumbnails)."""
    return _page("templates.html")

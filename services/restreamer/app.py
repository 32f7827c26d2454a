"""The restreamer's Flask app: ``create_app(config)`` wires the routes, errors, CORS and metrics.

Config keys:

* ``BASE_DIR`` (required): the archive root, ``BASE/CHANNEL/QUALITY/HOUR/NAME``.
* ``METRICS_REGISTRY``: where the metrics go (default: prometheus_client's global one).
* ``MAX_RANGE``: the longest range a playlist or cut may ask for (default 14 days).
* ``IMPLICIT_RANGE``: the longest range a playlist covers without both start and end
  (default 12 hours; beyond it the client must say what it wants).
* ``DATABASE``, ``EDITOR_TOKEN_FILE``: the editor's events API (services.restreamer.editor).
* ``CLIPS_DIR``: a directory served under ``/clips/`` (services.restreamer.clips); unset, none.
* ``THUMBNAIL_DIR``, ``THUMBNAIL_CACHE_BYTES``: the thumbnail cache (services.restreamer.pictures).
* ``WAVEFORM_DIR``, ``WAVEFORM_CACHE_BYTES``: the waveform cache (services.restreamer.waveforms).
* ``JOB_LIMITS``: a :class:`~services.restreamer.jobs.JobLimits`, the pool of ffmpeg jobs
  (default: one process per core, two jobs per client, 4 GiB and two hours each).
"""

import datetime as dt
import io
import logging
import os
import time
from urllib.parse import urlsplit

import prometheus_client
from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from services.restreamer import (
    batch,
    chat,
    clips,
    cuts,
    editor,
    listings,
    pictures,
    playlists,
    segments,
    team,
    validation,
)
from services.restreamer.hls import DEFAULT_CACHE_BYTES, MediaCache
from services.restreamer.jobs import JobLimits, JobPool
from services.restreamer.limits import body_limit
from services.restreamer.metrics import Metrics
from services.restreamer.state import State, state

logger = logging.getLogger(__name__)

__all__ = ["PAGE_HEADERS", "create_app"]

# Sent with every page the restreamer serves (the editor, an SVG opened on its
# own): the editor keeps its token in local storage, so nothing but this origin's
# own files may run in it, and no other site may frame it (clickjacking).
# hls.js plays through MediaSource (blob: media); the page's icon is a data: URL.
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_PAGES = ("text/html", "image/svg+xml")

DEFAULTS = {
    "MAX_RANGE": dt.timedelta(days=14),
    "IMPLICIT_RANGE": dt.timedelta(hours=12),
    "PLAYLIST_CACHE_BYTES": DEFAULT_CACHE_BYTES,
}


def create_app(config: dict) -> Flask:
    """A restreamer app serving the archive at ``config["BASE_DIR"]``.

    Raises ValueError if BASE_DIR is missing or not a directory.
    """
    app = Flask("services.restreamer")
    app.config.update(DEFAULTS)
    app.config.update(config)
    base_dir = app.config.get("BASE_DIR")
    if not base_dir or not os.path.isdir(base_dir):
        raise ValueError(f"BASE_DIR {base_dir!r} is not a directory: give the archive root")
    registry = app.config.get("METRICS_REGISTRY") or prometheus_client.REGISTRY
    metrics = Metrics.of(registry)
    app.extensions["restreamer"] = State(
        base_dir=os.path.realpath(base_dir),
        metrics=metrics,
        max_range=app.config["MAX_RANGE"],
        implicit_range=app.config["IMPLICIT_RANGE"],
        rendered=MediaCache(app.config["PLAYLIST_CACHE_BYTES"]),
        jobs=JobPool(app.config.get("JOB_LIMITS") or JobLimits(), metrics),
    )
    for module in (listings, segments, playlists, cuts, batch, chat, team):
        app.register_blueprint(module.blueprint)
    editor.init_app(app)  # the /editor page; /api/events too if DATABASE is set
    if app.config.get("CLIPS_DIR"):
        app.register_blueprint(clips.blueprint)
    pictures.init_app(app)  # /frame, /thumbnail, /waveform, /coverage
    app.add_url_rule("/metrics", "metrics", _metrics)
    app.before_request(_started)
    app.before_request(_read_body)
    app.after_request(_finished)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(OSError, _os_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.wsgi_app = segments.FastPath(app.wsgi_app, app.extensions["restreamer"])
    return app


def _metrics() -> Response:
    return Response(state().metrics.render(), mimetype=prometheus_client.CONTENT_TYPE_LATEST)


def _started() -> None:
    g.started = time.monotonic()


def _read_body() -> None:
    """Refuse a body larger than the route reads (413, unread), else read it now, whole.

    The cap is the view's (:func:`services.restreamer.limits.accepts_body`; none:
    no body at all). Read here, a body that breaks off or is badly chunked is a
    400 rather than an error inside a view; the view's ``get_data``/``get_json``
    then use the bytes read, and parse them only now that their size is known.
    """
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    cap, advice = body_limit(view)
    length = request.content_length
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not length and not chunked:
        return
    if cap == 0:
        raise RequestEntityTooLarge(f"{request.path[:100]!r} takes no request body: send none")
    if length is not None and length > cap:
        raise RequestEntityTooLarge(
            f"the body is {length} bytes, more than this route's limit of {cap} bytes: {advice}"
        )
    try:
        if length is None:  # chunked: read one byte past the cap to know whether it passes it
            data = request.environ["wsgi.input"].read(cap + 1)
            if len(data) > cap:
                raise RequestEntityTooLarge(
                    f"the chunked body is more than this route's limit of {cap} bytes: {advice}"
                )
            request.environ["wsgi.input"] = io.BytesIO(data)  # where the view reads it
        else:
            request.max_content_length = cap  # werkzeug reads no further, whatever the stream
            request.get_data(cache=True)
    except (OSError, ValueError) as exc:  # a bad chunk, a body cut short or sent too slowly
        raise BadRequest(f"the request body could not be read ({exc}): send it again") from exc


def _finished(response: Response) -> Response:
    # Every response, errors included, may be read by a page on another origin
    # (the editor's player): the archive is public to whoever can reach the node.
    response.headers["Access-Control-Allow-Origin"] = "*"
    if response.mimetype in _PAGES:
        response.headers.update(PAGE_HEADERS)
    location = response.headers.get("Location")
    if location is not None and "//" in location:
        # Werkzeug's redirects (a // in a path) name the Host header's host, which
        # the client chose (Host: evil.example would send it there): the path alone.
        response.headers["Location"] = _relative(location)
    metrics = state().metrics
    started = g.get("started", time.monotonic())
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    method = request.method
    status = str(response.status_code)

    def observe() -> None:
        metrics.latency.labels(endpoint, method).observe(time.monotonic() - started)
        metrics.requests.labels(endpoint, method, status).inc()

    # Streamed bodies finish long after this hook: count them when they are closed.
    body = response.response
    if response.direct_passthrough and hasattr(body, "add_close_callback"):
        body.add_close_callback(observe)
    else:
        response.call_on_close(observe)
    return response


def _http_error(exc: HTTPException) -> Response:
    """4xx (and deliberate 5xx) answers: the status line and a one-line reason, as text."""
    response = exc.get_response()
    response.set_data(f"{exc.code} {exc.name}: {exc.description}\n")
    response.mimetype = "text/plain"
    return response


def _relative(url: str) -> str:
    """``url``'s path and query, never read as another host (``//x`` would be)."""
    parts = urlsplit(url)
    path = "/" + parts.path.lstrip("/")
    return f"{path}?{parts.query}" if parts.query else path


def _os_error(exc: OSError) -> Response:
    """A path of a request's names that the OS could not follow is a 404; anything else, a 500."""
    not_found = validation.not_found_for(exc, state().base_dir)
    if not_found is None:
        return _unexpected_error(exc)
    return _http_error(not_found)


def _unexpected_error(exc: Exception) -> Response:
    logger.error("unexpected error answering %s %r", request.method, request.path, exc_info=exc)
    return Response("500 Internal Server Error: see the restreamer's log\n", 500,
                    mimetype="text/plain")  # fmt: skip

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
import logging
import os
import time

import prometheus_client
from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from services.restreamer import batch, clips, cuts, editor, listings, pictures, playlists, segments
from services.restreamer.hls import DEFAULT_CACHE_BYTES, MediaCache
from services.restreamer.jobs import JobLimits, JobPool
from services.restreamer.metrics import Metrics
from services.restreamer.state import State, state

logger = logging.getLogger(__name__)

__all__ = ["create_app"]

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
    for module in (listings, segments, playlists, cuts, batch):
        app.register_blueprint(module.blueprint)
    editor.init_app(app)  # the /editor page; /api/events too if DATABASE is set
    if app.config.get("CLIPS_DIR"):
        app.register_blueprint(clips.blueprint)
    pictures.init_app(app)  # /frame, /thumbnail, /waveform, /coverage
    app.add_url_rule("/metrics", "metrics", _metrics)
    app.before_request(_started)
    app.after_request(_finished)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)
    app.wsgi_app = segments.FastPath(app.wsgi_app, app.extensions["restreamer"])
    return app


def _metrics() -> Response:
    return Response(state().metrics.render(), mimetype=prometheus_client.CONTENT_TYPE_LATEST)


def _started() -> None:
    g.started = time.monotonic()


def _finished(response: Response) -> Response:
    # Every response, errors included, may be read by a page on another origin
    # (the editor's player): the archive is public to whoever can reach the node.
    response.headers["Access-Control-Allow-Origin"] = "*"
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


def _unexpected_error(exc: Exception) -> Response:
    logger.error("unexpected error answering %s %r", request.method, request.path, exc_info=exc)
    return Response("500 Internal Server Error: see the restreamer's log\n", 500,
                    mimetype="text/plain")  # fmt: skip

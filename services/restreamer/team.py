"""``/team``: every node of the team side by side, read from the nodes themselves.

The nodes are the ``nodes`` table's rows (with ``--db``; a node registers its
``--name`` and ``--advertise`` URL there), or this restreamer alone without a
database. ``GET /api/team`` asks each node, over the routes any restreamer
serves, for each channel this restreamer holds: ``/coverage/CH.json`` of the
last :data:`HOURS` hours (the newest video per quality is where its coverage
ends) and ``/metrics`` (its backfiller's ``fastseg_backfiller_pass_age_seconds``
and ``..._missing_segments`` per peer, when it runs one). The nodes are asked
at once, each within :data:`TIMEOUT` seconds, and the answer is kept
:data:`KEEP` seconds, so any number of open pages cost the nodes one round of
requests every few seconds. ``GET /team/NODE/CH.svg`` is that node's coverage
map of the same hours, fetched for the page: the page loads images from its own
origin only (the Content-Security-Policy). The page (``static/team``) polls the
JSON every 5 s and reloads the maps.
"""

import datetime as dt
import json
import logging
import os
import time
import urllib.parse

import gevent.pool
import requests
from flask import Blueprint, Response, current_app, send_from_directory
from prometheus_client.parser import text_string_to_metric_families
from werkzeug.exceptions import BadGateway, NotFound

from services.archive import layout, times
from services.archive.readable import utc
from services.db import ConnectionLost, DatabaseUnavailable
from services.db.locations import LIVE_FOR
from services.restreamer.editor.api import Unavailable
from services.restreamer.state import state
from services.restreamer.validation import check_part

logger = logging.getLogger(__name__)

__all__ = ["blueprint"]

blueprint = Blueprint("team", __name__)

HOURS = 24  # hours of coverage shown per node
TIMEOUT = 5.0  # seconds a node has to answer
KEEP = 3.0  # seconds an answer of /api/team is reused
HOUR = dt.timedelta(hours=1)
BACKFILL = ("fastseg_backfiller_pass_age_seconds", "fastseg_backfiller_missing_segments")


def _nodes() -> tuple[list[tuple[str, str]], dict[str, list[str]]]:
    """``(name, url)`` of every node (the nodes table, or this restreamer alone), and the
    upload locations each node's cutter serves now (``NAME (BACKEND)``)."""
    api = current_app.extensions.get("events_api")
    if api is not None:
        try:
            with api[0].use() as db:
                rows = db.query("SELECT name, url FROM nodes ORDER BY name", idempotent=True)
                served = db.query(
                    "SELECT node, name, backend FROM locations"
                    " WHERE heartbeat >= (now() AT TIME ZONE 'UTC') - %s ORDER BY node, name",
                    (LIVE_FOR,),
                    idempotent=True,
                )
        except (ConnectionLost, DatabaseUnavailable) as exc:
            logger.warning("team page: %s", exc)
            raise Unavailable("the nodes table cannot be read: try again in a minute") from exc
        cutters: dict[str, list[str]] = {}
        for row in served:
            cutters.setdefault(row.node, []).append(f"{row.name} ({row.backend})")
        if rows:
            return [(row.name, row.url.rstrip("/")) for row in rows], cutters
    return [("this node", "")], {}


def _window(now: dt.datetime) -> dict[str, str]:
    end = now.replace(minute=0, second=0, microsecond=0) + HOUR
    return {"start": utc(end - HOURS * HOUR), "end": utc(end)}


def _newest(cells: list[dict]) -> str | None:
    """Where a quality's video ends: its last hour with video, less a hole to its end."""
    for cell in reversed(cells):
        if cell["full_seconds"] + cell["partial_seconds"] <= 0:
            continue
        hour = times.parse(cell["hour"])
        end = hour + HOUR
        for hole in cell["holes"]:
            start = times.parse(hole["start"])
            if abs((start + dt.timedelta(seconds=hole["seconds"]) - end).total_seconds()) < 1e-3:
                end = start
        return utc(end)
    return None


def _backfill(text: str) -> list[dict]:
    peers: dict[str, dict] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in BACKFILL and "peer" in sample.labels:
                key = "pass_age_seconds" if sample.name == BACKFILL[0] else "missing_segments"
                peers.setdefault(sample.labels["peer"], {})[key] = sample.value
    return [{"peer": peer, **values} for peer, values in sorted(peers.items())]


def _ask(session: requests.Session, base: str, channels: list[str], window) -> dict:
    """One node's channels and backfill status, or the error that kept us from them."""
    node: dict = {"reachable": True, "error": None, "channels": {}, "backfill": []}
    try:
        for channel in channels:
            quoted = urllib.parse.quote(channel, safe="")
            answer = session.get(f"{base}/coverage/{quoted}.json", params=window,
                                 timeout=TIMEOUT)  # fmt: skip
            if answer.status_code == 404:  # that node holds no video of the channel
                node["channels"][channel] = {}
                continue
            answer.raise_for_status()
            qualities = answer.json()["qualities"]
            node["channels"][channel] = {q: {"newest": _newest(cells)}
                                         for q, cells in qualities.items()}  # fmt: skip
        answer = session.get(f"{base}/metrics", timeout=TIMEOUT)
        answer.raise_for_status()
        node["backfill"] = _backfill(answer.text)
    except (requests.RequestException, ValueError, KeyError, TypeError) as e:
        node.update(reachable=False, error=f"{type(e).__name__}: {e}"[:300])
    return node


def _self_url() -> str:
    """This restreamer's own address (a node without a nodes table); never the Host header,
    which the client chose."""
    url = current_app.config.get("SELF_URL")
    if not url:  # an app not started by the command (a test client): nothing to ask
        raise Unavailable("this restreamer does not know its own address")
    return url


def team_status() -> dict:
    """The answer of ``/api/team`` (computed at most every KEEP seconds)."""
    kept = current_app.extensions.get("team_status")
    if kept is not None and time.monotonic() - kept[0] < KEEP:
        return kept[1]
    now = times.utc_now()
    window = _window(now)
    channels = layout.channels(state().base_dir)
    nodes, cutters = _nodes()
    session = requests.Session()
    session.trust_env = False  # the team's nodes are reached directly
    try:
        pool = gevent.pool.Pool(16)
        urls = [url or _self_url() for _, url in nodes]
        answers = pool.map(lambda url: _ask(session, url, channels, window), urls)
    finally:
        session.close()
    body = {
        "time": utc(now),
        "hours": window,
        "channels": channels,
        "nodes": [
            {"name": name, "url": url, "locations": cutters.get(name, []), **answer}
            for (name, _), url, answer in zip(nodes, urls, answers, strict=True)
        ],
    }
    current_app.extensions["team_status"] = (time.monotonic(), body)
    return body


@blueprint.get("/team")
def page() -> Response:
    folder = os.path.join(current_app.static_folder, "team")
    response = send_from_directory(folder, "index.html", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/api/team")
def status() -> Response:
    return Response(json.dumps(team_status()) + "\n", mimetype="application/json",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


@blueprint.get("/team/<node>/<channel>.svg")
def coverage(node: str, channel: str) -> Response:
    check_part(channel, "channel")
    urls = dict(_nodes()[0])
    if node not in urls:
        raise NotFound(f"no node {node!r} in the nodes table: see /api/team for the nodes")
    base = urls[node] or _self_url()
    quoted = urllib.parse.quote(channel, safe="")
    try:
        answer = requests.get(f"{base}/coverage/{quoted}.svg", params=_window(times.utc_now()),
                              timeout=TIMEOUT)  # fmt: skip
    except requests.RequestException as e:
        raise BadGateway(f"node {node!r} at {base} did not answer: {type(e).__name__}") from e
    if answer.status_code == 404:
        raise NotFound(f"node {node!r} holds no video of channel {channel!r}")
    if answer.status_code != 200 or not answer.headers.get("Content-Type", "").startswith(
        "image/svg+xml"
    ):
        raise BadGateway(f"node {node!r} at {base} answered {answer.status_code} for its map")
    return Response(answer.content, mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})  # fmt: skip

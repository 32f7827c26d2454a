"""Chat routes: batch listings and files for backfillers, and ``/CHANNEL/chat.json``.

``/files/CH/chat`` lists hours and ``/files/CH/chat/HOUR`` batch names (only names
that parse, so every listed name can be fetched); a batch's bytes are served at
``/files/CH/chat/HOUR/NAME`` and, as wubloader's backfillers ask for them, at
``/segments/CH/chat/HOUR/NAME``. ``chat.json`` merges the batches of a range of at
most :data:`MAX_CHAT_RANGE` and returns the messages whose range meets it, sorted;
the batches it may read are capped at :data:`MAX_CHAT_BYTES` before any is read,
and at most :data:`MAX_CHAT_JOBS` answers are computed at once (in the hub's
threads, so the loop keeps serving), more being a 429.
"""

import datetime as dt
import json
import os
import threading

import gevent
from flask import Blueprint, Response, request
from werkzeug.exceptions import (
    BadRequest,
    NotFound,
    RequestEntityTooLarge,
    ServiceUnavailable,
    TooManyRequests,
)

from fastseg import hour_start
from services.archive import chat, chat_rate
from services.archive.times import from_timestamp, to_timestamp
from services.restreamer.diskcache import DiskCache
from services.restreamer.state import state
from services.restreamer.validation import check_hour, check_part, check_range, parse_time

__all__ = [
    "MAX_CHAT_BYTES",
    "MAX_CHAT_JOBS",
    "MAX_CHAT_RANGE",
    "MAX_RATE_RANGE",
    "blueprint",
]

blueprint = Blueprint("chat", __name__)

MAX_CHAT_RANGE = dt.timedelta(hours=2)  # as wubloader's route
# Two hours at ten messages/s are about 43 MB of files; parsed, some 300 MB of objects
# per 64 MB. A busier chat is asked for in shorter ranges.
MAX_CHAT_BYTES = 64 * 1024 * 1024
# chat.json answers being computed at once (each in a thread, off the loop); more: 503.
MAX_CHAT_JOBS = 2
_jobs = threading.BoundedSemaphore(MAX_CHAT_JOBS)


def _chat_dir(channel: str) -> str:
    check_part(channel, "channel")
    return os.path.join(state().base_dir, channel, chat.CHAT)


def _json(value) -> Response:
    return Response(json.dumps(value) + "\n", mimetype="application/json")


@blueprint.route("/files/<channel>/chat")
def chat_hours(channel: str) -> Response:
    folder = _chat_dir(channel)
    try:
        names = [e.name for e in os.scandir(folder) if e.is_dir() and hour_start(e.name)]
    except (FileNotFoundError, NotADirectoryError):
        names = []
    return _json(sorted(names))


@blueprint.route("/files/<channel>/chat/<hour>")
def chat_batches(channel: str, hour: str) -> Response:
    check_hour(hour)
    folder = os.path.join(_chat_dir(channel), hour)
    try:
        names = os.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        names = []
    return _json(sorted(n for n in names if chat.parse_batch_name(hour, n) is not None))


@blueprint.route("/files/<channel>/chat/<hour>/<name>")
@blueprint.route("/segments/<channel>/chat/<hour>/<name>")
def chat_batch(channel: str, hour: str, name: str) -> Response:
    check_hour(hour)
    if chat.parse_batch_name(hour, name) is None:
        raise BadRequest(f"{name[:80]!r} is not a chat batch name (MM:00-HASH.json)")
    path = os.path.join(_chat_dir(channel), hour, name)
    try:
        with open(path, "rb") as f:
            data = f.read(chat.MAX_BATCH_BYTES + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"no chat batch {hour}/{name}: merged away? list the hour again") from None
    return Response(data, mimetype="application/json")


def _read_range(chat_dir: str, first: float, last: float) -> list[tuple] | None:
    """The batches that may hold [first, last), as ``(messages, lines)``; None if one
    vanished meanwhile (merged)."""
    paths = chat.files_for_range(chat_dir, first, last)
    total = 0
    try:
        for path in paths:
            total += os.stat(path).st_size
            if total > MAX_CHAT_BYTES:
                raise RequestEntityTooLarge(
                    f"the chat of this range is more than {MAX_CHAT_BYTES} bytes of files: "
                    "ask for a shorter range"
                )
        batches = []
        for path in paths:
            try:
                batches.append(chat.read_lines(path))
            except chat.BadBatch:
                continue  # the archiver hides it on its next merge
    except FileNotFoundError:
        return None
    return batches


def _range(limit: dt.timedelta) -> tuple[dt.datetime, dt.datetime]:
    """The request's ``start`` and ``end``: both given, in order, at most ``limit`` apart."""
    start = parse_time(request.args.get("start"), "start")
    end = parse_time(request.args.get("end"), "end")
    if start is None or end is None:
        raise BadRequest("give both start and end (UTC, e.g. 2026-12-07T23:00:00)")
    if end <= start:
        raise BadRequest(f"end {end.isoformat()} is not after start {start.isoformat()}")
    check_range(start, end, limit)
    return start, end


def _off_the_loop(work, *args):
    """``work(*args)`` in the hub's threads, at most MAX_CHAT_JOBS at once (else 429): reading
    and merging hours of chat takes seconds, and the loop goes on serving meanwhile."""
    if not _jobs.acquire(blocking=False):
        raise TooManyRequests(
            f"{MAX_CHAT_JOBS} chat answers are being computed: ask again in a few seconds",
            retry_after=2,
        )
    try:
        return gevent.get_hub().threadpool.apply(work, args)
    finally:
        _jobs.release()


@blueprint.route("/<channel>/chat.json")
def chat_json(channel: str) -> Response:
    """The merged messages whose range meets [start, end): wubloader's ``chat.json``."""
    start, end = _range(MAX_CHAT_RANGE)
    chat_dir = _chat_dir(channel)
    body = _off_the_loop(_answer, chat_dir, to_timestamp(start), to_timestamp(end))
    return Response(body, mimetype="application/json")


MAX_RATE_RANGE = dt.timedelta(days=8)  # a week's map, with a day to spare
RATE_CACHE_BYTES = 16 * 1024 * 1024  # 2,880 bytes an hour: some 5,800 hours
_rate_caches: dict[str, DiskCache] = {}


def _rate_cache() -> DiskCache:
    base = state().base_dir
    if base not in _rate_caches:
        directory = os.path.join(base, ".fastseg", "chat-rates")
        _rate_caches[base] = DiskCache(directory, RATE_CACHE_BYTES)
    return _rate_caches[base]


@blueprint.route("/<channel>/chat_rate.json")
def chat_rate_json(channel: str) -> Response:
    """Messages and keyword hits per 10 s of [start, end), and the moments among them."""
    start, end = _range(MAX_RATE_RANGE)
    try:
        keywords = chat_rate.check_keywords(request.args.get("keywords", "clip").split(","))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    found, moments = _off_the_loop(
        chat_rate.moments_in,
        _chat_dir(channel), to_timestamp(start), to_timestamp(end), keywords, _rate_cache(),
    )  # fmt: skip
    body = {
        "start": from_timestamp(found.start).isoformat(),
        "bin": chat_rate.BIN,
        "counts": found.counts,
        "hits": found.hits,
        "keywords": list(keywords),
        "moments": [m.as_json() for m in moments],
    }
    return _json(body)


def _answer(chat_dir: str, first: float, last: float) -> bytes:
    """The body of chat.json: the merged messages meeting [first, last), sorted, as JSON."""
    for _ in range(3):  # a batch merged away between listing and reading: list again
        batches = _read_range(chat_dir, first, last)
        if batches is not None:
            break
    else:
        raise ServiceUnavailable("the chat of this range is being merged: ask again")
    # A message the merge left as it was read is answered with its line as read:
    # encoding tens of thousands again would cost as much as reading them.
    texts = {
        id(m): line for messages, lines in batches for m, line in zip(messages, lines, strict=True)
    }
    merged = [
        m
        for m in chat.merge(*(messages for messages, _ in batches))
        if first <= m["time"] + m["time_range"] and m["time"] < last
    ]
    merged.sort(key=lambda m: (m["time"], m["time_range"]))
    body = ",".join(texts.get(id(m)) or chat.encode(m) for m in merged)
    return ("[" + body + "]\n").encode()

"""``GET /api/events/stream``: every change of an event, as server-sent events (text/event-stream).

One :class:`Hub` per app holds one ``LISTEN`` connection
(:mod:`services.db.notify`), started with the first stream, and one
greenlet that reads each changed row once and hands the same bytes to every
open stream: never a database connection per client. A stream is::

    retry: 2000                      (reconnect after 2 s)
    event: change                    (one per new version of an event)
    id: EVENT/VERSION
    data: {"id", "state", "version", "event": {...the row as GET /api/events/ID...}}
    event: resync                    (changes may have been missed: reload the list)
    : heartbeat                      (every 15 s while nothing happens)

A client coming back with ``Last-Event-ID`` gets a ``resync`` first, as the
hub keeps no history. Limits (docs/DESIGN.md#events-api): streams per client
address and in all (429, 503), and changes waiting for one slow client (its
stream is ended; the browser reconnects and resyncs). Streams end at stop.
"""

import collections
import json
import logging

import gevent
import gevent.event
import gevent.queue
from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException, TooManyRequests

from services.db import DatabaseError, states
from services.db.notify import Change, Listener
from services.restreamer.editor.api import event_json
from services.restreamer.editor.databases import Databases
from services.restreamer.metrics import Metrics

logger = logging.getLogger(__name__)

__all__ = ["Hub", "blueprint"]

#: Open streams from one client address: a page opens one; a few tabs fit.
MAX_STREAMS_PER_ADDRESS = 4
#: Open streams in all: each holds a connection (and a greenlet) for as long as it is open.
MAX_STREAMS = 200
#: Seconds between heartbeat comments while nothing changes (proxies drop silent connections).
HEARTBEAT = 15.0
#: Changes waiting for one client to read them; more means it is not reading: its stream ends.
MAX_WAITING = 100
#: The reconnection delay the browser is told (milliseconds).
RETRY_MS = 2000

blueprint = Blueprint("events_stream", __name__, url_prefix="/api")


class StreamsBusy(HTTPException):
    code = 503


class _Stream:
    """One client's queue of encoded messages; ``overflowed`` once it fell too far behind."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.waiting: collections.deque[bytes] = collections.deque()
        self.ready = gevent.event.Event()
        self.overflowed = False

    def put(self, message: bytes) -> None:
        if len(self.waiting) >= MAX_WAITING:
            self.overflowed = True
        else:
            self.waiting.append(message)
        self.ready.set()


def _message(event: str, data: dict, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


RESYNC = _message("resync", {})


class Hub:
    """The app's streams and the one listener they share."""

    def __init__(self, dsn: str, databases: Databases, metrics: Metrics) -> None:
        self.databases = databases
        self.metrics = metrics
        self.stopping = gevent.event.Event()
        self.listener = Listener(dsn, self.stopping, application_name="fastseg-editor listen")
        self.listener.subscribe(self._heard)
        self.streams: set[_Stream] = set()
        self.per_address: collections.Counter[str] = collections.Counter()
        self._changes: gevent.queue.Queue = gevent.queue.Queue(MAX_WAITING)
        self._greenlets: list[gevent.Greenlet] = []
        metrics.event_streams.set_function(lambda: len(self.streams))

    def open(self, address: str) -> _Stream:
        """A new stream for ``address``; raises 429 or 503 past the limits."""
        if self.per_address[address] >= MAX_STREAMS_PER_ADDRESS:
            self.metrics.event_streams_refused.labels("per_address").inc()
            raise TooManyRequests(
                f"{MAX_STREAMS_PER_ADDRESS} event streams from your address are open, the most "
                "this node takes: close another tab of the editor, or poll GET /api/events"
            )
        if len(self.streams) >= MAX_STREAMS or self.stopping.is_set():
            self.metrics.event_streams_refused.labels("total").inc()
            raise StreamsBusy(
                f"{len(self.streams)} event streams are open, the most this node takes: "
                "poll GET /api/events instead, or try again later"
            )
        if not self._greenlets:
            self._greenlets = [gevent.spawn(self.listener.run), gevent.spawn(self._fan_out)]
        stream = _Stream(address)
        self.streams.add(stream)
        self.per_address[address] += 1
        return stream

    def release(self, stream: _Stream) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            self.per_address[stream.address] -= 1
            if self.per_address[stream.address] <= 0:
                del self.per_address[stream.address]

    def _heard(self, change: Change | None) -> None:
        """The listener's subscriber: must not block, so the row is read elsewhere."""
        try:
            self._changes.put_nowait(change)
        except gevent.queue.Full:  # a burst beyond reading: tell everyone to reload instead
            self.metrics.event_streams_refused.labels("burst").inc()
            self._changes = gevent.queue.Queue(MAX_WAITING)
            self._changes.put_nowait(None)

    def _fan_out(self) -> None:
        while not self.stopping.is_set():
            change = self._changes.get()
            if change is None:
                message = RESYNC
            else:
                message = self._encode(change)
            for stream in list(self.streams):
                stream.put(message)

    def _encode(self, change: Change) -> bytes:
        data: dict = {"id": change.id, "state": change.state, "version": change.version}
        try:
            with self.databases.use() as db:
                row = states.get_event(db, change.id)
            if row.version == change.version:  # else a newer change follows with its own row
                data["event"] = event_json(row)
        except (DatabaseError, states.EventNotFound) as exc:
            logger.debug("event %s: sending its change without the row (%s)", change.id, exc)
        return _message("change", data, f"{change.id}/{change.version}")

    def close(self) -> None:
        """End every stream (at stop) and stop listening."""
        self.stopping.set()
        for stream in list(self.streams):
            stream.ready.set()
        gevent.killall(self._greenlets, block=False)

    def body(self, stream: _Stream, resync: bool) -> "_Body":
        """The response body of one stream: messages as they come, heartbeats between."""
        return _Body(self, stream, self._messages(stream, resync))

    def _messages(self, stream: _Stream, resync: bool):
        try:
            yield f"retry: {RETRY_MS}\n\n".encode() + (RESYNC if resync else b"")
            while not self.stopping.is_set():
                if not stream.ready.wait(HEARTBEAT):
                    yield b": heartbeat\n\n"
                    continue
                stream.ready.clear()
                if stream.overflowed:
                    self.metrics.event_streams_refused.labels("slow").inc()
                    logger.debug("ended the event stream of %s: it read too slowly", stream.address)
                    return
                if stream.waiting:
                    chunk = b"".join(stream.waiting)
                    stream.waiting.clear()
                    yield chunk
        finally:
            self.release(stream)


class _Body:
    """A stream's messages whose ``close`` gives its place back even if never iterated.

    (A generator closed before its first ``next`` skips its ``finally``.)
    """

    def __init__(self, hub: Hub, stream: _Stream, messages) -> None:
        self.hub, self.stream, self.messages = hub, stream, messages

    def __iter__(self):
        return self.messages

    def close(self) -> None:
        self.messages.close()
        self.hub.release(self.stream)


@blueprint.get("/events/stream")
def event_stream() -> Response:
    hub: Hub = current_app.extensions["events_stream"]
    stream = hub.open(request.remote_addr or "")
    resync = bool(request.headers.get("Last-Event-ID"))
    return Response(
        hub.body(stream, resync),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@blueprint.errorhandler(HTTPException)
def _error(exc: HTTPException) -> Response:
    headers = {"Retry-After": "30"} if exc.code in (429, 503) else {}
    body = {"error": exc.description, "status": exc.code}
    return Response(json.dumps(body) + "\n", exc.code, headers, mimetype="application/json")

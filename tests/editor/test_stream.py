"""``GET /api/events/stream``: changes arrive as server-sent events, with heartbeats, until stop."""

import json
import time

import pytest
import requests

from services.db import states
from services.restreamer.editor.stream import HEARTBEAT

from .conftest import serve_clips


class Events:
    """The server-sent events of one stream, read as they come."""

    def __init__(self, url, **headers):
        self.response = requests.get(url + "/api/events/stream", stream=True, timeout=60,
                                     headers=headers)  # fmt: skip
        self.lines = self.response.iter_lines(decode_unicode=True)

    def next(self) -> dict:
        """The next message: its fields, ``data`` parsed; comments as ``{"comment": ...}``."""
        message: dict = {}
        for line in self.lines:
            if line == "":
                if message:
                    return message
                continue
            if line.startswith(":"):
                return {"comment": line[1:].strip()}
            name, _, value = line.partition(": ")
            message[name] = json.loads(value) if name == "data" else value
        raise AssertionError("the stream ended")

    def next_event(self, kind: str) -> dict:
        while True:
            message = self.next()
            if message.get("event") == kind:
                return message

    def close(self):
        self.response.close()


def test_every_change_arrives_with_its_row(api, db):
    events = Events(api.url)
    try:
        assert events.response.headers["Content-Type"].startswith("text/event-stream")
        assert events.next() == {"retry": "2000"}
        events.next_event("resync")  # the first stream's listener is listening
        event = states.add_event(db, "Day 1")
        message = events.next_event("change")
        assert message["id"] == f"{event}/1"
        assert message["data"]["state"] == "UNEDITED"
        assert message["data"]["event"]["sheet_name"] == "Day 1"
        row = api.get(f"/api/events/{event}").json()
        assert message["data"]["event"] == row  # as GET /api/events/ID has it
        db.query("UPDATE events SET state = 'DONE', video_link = 'https://v.example/1',"
                 " upload_time = now() WHERE id = %s", (event,))  # fmt: skip
        message = events.next_event("change")
        assert (message["id"], message["data"]["state"]) == (f"{event}/2", "DONE")
    finally:
        events.close()


def test_a_client_coming_back_is_told_to_reload(api):
    events = Events(api.url, **{"Last-Event-ID": "x/3"})
    try:
        assert events.next() == {"retry": "2000"}
        assert events.next() == {"event": "resync", "data": {}}
    finally:
        events.close()


@pytest.mark.slow
def test_a_quiet_stream_gets_heartbeats(api):
    events = Events(api.url)
    try:
        events.next()
        started = time.monotonic()
        while "comment" not in (message := events.next()):
            assert message.get("event") == "resync"  # the listener connecting
        assert message == {"comment": "heartbeat"}
        assert time.monotonic() - started < HEARTBEAT + 5
    finally:
        events.close()


def test_open_streams_end_at_stop(servers, archive_base, db, pg_dsn):
    serve_clips(db)
    server = servers.start(archive_base, "--db", pg_dsn)
    events = Events(server.url)
    events.next()
    started = time.monotonic()
    assert server.stop() == 0  # every response finished: the stream did not hold the drain
    assert time.monotonic() - started < 10
    with pytest.raises((AssertionError, requests.exceptions.ChunkedEncodingError)):
        _read_to_the_end(events)


def _read_to_the_end(events):
    while True:
        events.next()

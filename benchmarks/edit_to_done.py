"""Edit to DONE through a real restreamer and cutter: the wait beyond the cut itself.

A restreamer with the events API and a cutter with a local location (its old
5 s ``--poll-interval``: only the database's NOTIFY makes it faster) run as
subprocesses on one schema. Each edit is POSTed over HTTP; the time from its
200 to the event's DONE is read from the database's own notification (this
process LISTENs too), and the cut's own time from the cutter's
``fastseg_cutter_cut_seconds`` sum, which grows by that one cut. What is left is
the waiting: the cutter noticing the edit, claiming, and recording DONE.
"""

import datetime as dt
import json
import statistics
import time
import uuid

import psycopg
import requests

from services.db import Database, apply_schema, states
from services.db.schema import NOTIFY_CHANNEL
from tests.cutter.processes import CutterProcess, free_port
from tests.media import store_stream
from tests.servers import ServerProcess, metric
from tests.waiting import wait_until

T0 = dt.datetime(2026, 11, 27, 17, 59, 50)
TOKEN = "bench-token-0123456789abcdef"


def measure(dsn: str, tmp_path, stream, edits: int) -> dict:
    """``edits`` edits of 4 s clips, one after another: each one's wait and cut, in seconds."""
    base = tmp_path / "base"
    store_stream(stream, base, "ch", "source", T0)
    tokens = tmp_path / "editors.txt"
    tokens.write_text(f"{TOKEN} bench@example.com\n")
    port = free_port()
    cutter = CutterProcess(
        tmp_path, dsn, base, "bench", [f"clips=local:{tmp_path / 'clips'}"],
        "--poll-interval", "5", "--metrics-port", str(port), "--log-level", "INFO",
    )  # fmt: skip
    server = ServerProcess(base, "--db", dsn, "--editor-token-file", str(tokens))
    db = Database(dsn, application_name="fastseg-bench")
    apply_schema(db)
    waits, cuts = [], []
    try:
        wait_until(lambda: db.query("SELECT 1 FROM locations WHERE name = 'clips'"),
                   "the cutter's location", timeout=60)  # fmt: skip
        schema = db.query_one("SELECT current_schema() AS s").s
        with psycopg.connect(dsn, autocommit=True) as listen:
            listen.execute(f"LISTEN {NOTIFY_CHANNEL}")
            for i in range(edits):
                event = states.add_event(db, f"bench {i}")
                before = _cut_sum(cutter, port)
                start = 1 + (i % 5) * 3
                body = {
                    "video_start": (T0 + dt.timedelta(seconds=start)).isoformat(),
                    "video_end": (T0 + dt.timedelta(seconds=start + 4)).isoformat(),
                    "video_title": f"bench {i} {uuid.uuid4().hex[:6]}",
                    "video_description": "", "video_channel": "ch", "video_quality": "source",
                    "upload_location": "clips",
                }  # fmt: skip
                answer = requests.post(
                    f"{server.url}/api/events/{event}/edit",
                    json=body,
                    headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=30,
                )
                edited = time.monotonic()
                assert answer.status_code == 200, answer.text
                done = _done_at(listen, schema, str(event))
                cut = _cut_sum(cutter, port) - before
                waits.append(done - edited - cut)
                cuts.append(cut)
    finally:
        db.close()
        server.stop()
        cutter.stop()
    return {"waits": waits, "cuts": cuts, "median_wait": statistics.median(waits)}


def _cut_sum(cutter: CutterProcess, port: int) -> float:
    return metric(cutter.metrics(port), "fastseg_cutter_cut_seconds_sum", location="clips")


def _done_at(listen, schema: str, event: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for note in listen.notifies(timeout=1):
            data = json.loads(note.payload)
            if (data["schema"], data["id"], data["state"]) == (schema, event, "DONE"):
                return time.monotonic()
    raise AssertionError(f"event {event} was not DONE within {timeout}s")

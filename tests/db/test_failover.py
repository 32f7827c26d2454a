"""Losing the primary mid-work: the standby is promoted, and nothing acknowledged is lost.

Two real PostgreSQL servers with synchronous streaming replication
(tests/db/replication.py). Cutters claim, finalize and finish events and
editors edit others, every connection through the multi-host DSN of
docs/OPERATING.md, while the primary is stopped as a crash stops it and the
standby promoted. Each worker logs what the database acknowledged; afterwards
every event must be as that log says, and no event uploaded by two cutters.
"""

import datetime as dt
import threading
import time
from collections import defaultdict

import psycopg
import pytest

from services.db import Database, DatabaseError, apply_schema, audit, states
from tests.waiting import wait_until

from .replication import Replicated

CLIPS = 40  # events the cutters take
EDITED = 3  # events the editors keep editing
EDITS = 60  # edits of each, one after another
# Seconds an upload takes, and between an editor's edits: work is under way when the primary
# dies, not all done before the test can kill it.
UPLOAD = 0.02
THINK = 0.005
T0 = dt.datetime(2026, 11, 27, 17)


def edit(db, event, title, location, editor):
    return states.edit(
        db, event, video_start=T0, video_end=T0 + dt.timedelta(seconds=30),
        video_title=title, video_channel="ch", upload_location=location, editor=editor,
    )  # fmt: skip


class Log:
    """What the database acknowledged, and the errors seen on the way (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: list[tuple[float, str, str, object]] = []
        self.errors: list[str] = []

    def ack(self, who: str, what: str, value: object) -> None:
        with self.lock:
            self.entries.append((time.monotonic(), who, what, value))

    def error(self, who: str, exc: Exception) -> None:
        with self.lock:
            self.errors.append(f"{who}: {type(exc).__name__}: {exc}")

    def of(self, what: str) -> list[tuple[float, str, object]]:
        with self.lock:
            return [(t, who, value) for t, who, w, value in self.entries if w == what]


def cutter(dsn: str, name: str, log: Log, stop: threading.Event) -> None:
    """Claim a clip, "upload" it once FINALIZING is acknowledged, then finish it.

    After an error (the connection lost mid-statement, no server to reach) it
    reads the database again and carries on with the rows it holds, as the
    cutter does after a restart: a FINALIZING row of its own was acknowledged
    by the database even if the answer was lost, so its upload may go ahead.
    """
    db = Database(dsn, application_name=f"fastseg-cutter {name}", timeout=2, actor=f"cutter:{name}")
    try:
        while not stop.is_set():
            try:
                for row in db.query(
                    "SELECT * FROM events WHERE uploader = %s"
                    " AND state IN ('CLAIMED', 'FINALIZING') ORDER BY id",
                    (name,),
                ):
                    advance(db, name, row, log)
                todo = db.query(
                    "SELECT * FROM events WHERE state = 'EDITED' AND upload_location = 'clips'"
                    " ORDER BY id"
                )
                if not todo:
                    stop.wait(0.02)
                for row in todo[:1]:
                    claimed = states.claim(db, row, name)
                    if claimed is not None:
                        log.ack(name, "claim", claimed.id)
                        advance(db, name, claimed, log)
            except (DatabaseError, psycopg.Error) as exc:
                log.error(name, exc)
                stop.wait(0.05)
    finally:
        db.close()


def advance(db, name, row, log):
    if row.state == "CLAIMED":
        row = states.finalizing(db, row.id, name)
        if row is None:
            return
    log.ack(name, "upload", row.id)  # the upload happens only after FINALIZING is stored
    time.sleep(UPLOAD)
    done = states.finished(db, row.id, name, f"{name}-{row.id}", f"https://v/{row.id}", False)
    if done is not None:
        log.ack(name, "done", done.id)


def editor(dsn: str, email: str, events: list, log: Log) -> None:
    """Edit each event EDITS times in turn, logging every edit the database acknowledged."""
    db = Database(dsn, application_name="fastseg-editor", timeout=2, actor=email)
    try:
        for n in range(EDITS):
            for event in events:
                while True:
                    try:
                        edit(db, event, f"take {n}", "later", email)
                        log.ack(email, "edit", (event, n))
                        time.sleep(THINK)
                        break
                    except (DatabaseError, psycopg.Error) as exc:  # 503 to a browser: again
                        log.error(email, exc)
                        time.sleep(0.05)
    finally:
        db.close()


@pytest.fixture
def replicated():
    servers = Replicated()
    try:
        yield servers
    finally:
        servers.close()


@pytest.mark.slow
def test_promoting_the_standby_loses_nothing_acknowledged(replicated):
    replicated.start()
    wait_until(replicated.streaming, "the standby to stream", timeout=60)
    replicated.synchronous()
    wait_until(lambda: replicated.streaming() == "sync", "the standby to be synchronous")
    dsn = replicated.dsn()
    setup = Database(dsn, actor="cli:test")
    apply_schema(setup)
    clips = [states.add_event(setup, f"clip {i}") for i in range(CLIPS)]
    edited = [states.add_event(setup, f"edited {i}") for i in range(EDITED)]
    for event in clips:
        edit(setup, event, "a clip", "clips", "setup@example.com")
    setup.close()

    log, stop = Log(), threading.Event()
    workers = [
        threading.Thread(target=cutter, args=(dsn, name, log, stop)) for name in ("n1", "n2")
    ] + [threading.Thread(target=editor, args=(dsn, "ed@example.com", edited, log))]
    for worker in workers:
        worker.start()
    try:
        # Mid-work: some clips done and some edits in, but neither finished.
        wait_until(lambda: len(log.of("done")) >= 4 and len(log.of("edit")) >= 10, "work")
        replicated.primary.crash()
        crashed = time.monotonic()
        errors_before = len(log.errors)
        wait_until(lambda: len(log.errors) > errors_before, "a worker to notice the crash")
        replicated.standby.promote()
        promoted = time.monotonic()
        check = Database(dsn)
        wait_until(
            lambda: all(r.state == "DONE" for r in check.query("SELECT state FROM events"
                        " WHERE upload_location = 'clips'")),
            "every clip DONE after the promotion", timeout=120,
        )  # fmt: skip
        stop.set()
        for worker in workers:
            worker.join(timeout=120)
        assert not any(worker.is_alive() for worker in workers)
    finally:
        stop.set()

    # The work went on after the promotion, through the same DSN.
    assert any(t > promoted for t, _, _ in log.of("done") + log.of("edit"))
    assert any(t < crashed for t, _, _ in log.of("done"))

    # No clip was uploaded twice, and each ended DONE by the cutter that uploaded it.
    uploaders = defaultdict(set)
    for _, who, event in log.of("upload"):
        uploaders[event].add(who)
    rows = {r.id: r for r in check.query("SELECT * FROM events")}
    for event in clips:
        assert len(uploaders[event]) == 1, f"clip {event} uploaded by {uploaders[event]}"
        assert rows[event].uploader in uploaders[event]
        assert rows[event].video_id == f"{rows[event].uploader}-{event}"
    # Every acknowledged claim and finish survived: its row names the cutter that had it.
    for kind in ("claim", "done"):
        for _, who, event in log.of(kind):
            assert rows[event].uploader == who, f"acknowledged {kind} of {event} by {who} lost"

    # Every acknowledged edit survived: each event holds the last one (edits run in order).
    last = {}
    for _, _, (event, n) in log.of("edit"):
        last[event] = n
    for event in edited:
        assert rows[event].video_title == f"take {last[event]}"
        assert last[event] == EDITS - 1

    # The audit trail came through too: each clip finished once, by its cutter.
    for event in clips:
        finishes = [
            r for r in audit.history(check, "events", str(event))
            if (r.new_values or {}).get("state") == "DONE"
        ]  # fmt: skip
        assert [r.actor for r in finishes] == [f"cutter:{rows[event].uploader}"]
    check.close()

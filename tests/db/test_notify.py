"""Every new version of an event is announced, and a listener survives losing its connection.

The trigger's NOTIFY is checked on a plain connection; the :class:`Listener` runs
under gevent in a subprocess (pytest is never patched) and prints what it hears.
"""

import json
import subprocess
import sys
import textwrap

import gevent.event
import psycopg
import pytest

from services.db import notify, states
from services.db.schema import NOTIFY_CHANNEL
from tests.db.test_versions import EDIT
from tests.servers import ROOT
from tests.waiting import wait_until


def _heard(conn) -> list[dict]:
    return [json.loads(n.payload) for n in conn.notifies(timeout=0.5, stop_after=50)]


def test_every_new_version_is_announced_with_its_schema_and_nothing_else(db, pg_dsn):
    schema = db.query_one("SELECT current_schema() AS s").s
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
        event = states.add_event(db, "Day 1")
        row = states.edit(db, event, editor="alice@example.com", **EDIT)
        db.query("UPDATE events SET notes = notes WHERE id = %s", (event,))  # no new version
        heard = []
        wait_until(lambda: heard.extend(_heard(conn)) or len(heard) >= 2, "two notifications")
        heard.extend(_heard(conn))
    assert heard == [
        {"schema": schema, "id": str(event), "state": "UNEDITED", "version": 1,
         "changes": ["created"]},
        {"schema": schema, "id": str(event), "state": "EDITED", "version": row.version,
         "changes": row.last_changes},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "parsed"),
    [
        pytest.param(
            '{"schema": "s", "id": "x", "state": "EDITED", "version": 3}',
            notify.Change("x", "EDITED", 3),
            id="ours",
        ),  # fmt: skip
        pytest.param(
            '{"schema": "t", "id": "x", "state": "EDITED", "version": 3}', None, id="another schema"
        ),  # fmt: skip
        pytest.param('{"schema": "s", "id": "x"}', None, id="incomplete"),
        pytest.param(
            '{"schema": "s", "id": "x", "state": "E", "version": "v"}', None, id="not a version"
        ),  # fmt: skip
        pytest.param("[1]", None, id="not an object"),
        pytest.param("hello", None, id="not JSON"),
    ],
)
def test_a_payload_counts_only_if_it_is_a_change_of_our_schema(payload, parsed):
    assert notify.parse(payload, "s") == parsed


LISTENER = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import sys, gevent, gevent.event
    from services.db import notify
    notify.RECONNECT_BASE = 0.2  # the test need not wait a second
    stopping = gevent.event.Event()
    listener = notify.Listener(sys.argv[1], stopping, application_name="fastseg-test-listen")
    listener.subscribe(lambda change: print(change and change.state or "resync", flush=True))
    def ticker():  # the wait parks only the listener's greenlet
        while not stopping.is_set():
            print("tick", flush=True)
            gevent.sleep(0.5)
    gevent.spawn(ticker)
    stdin = gevent.get_hub().threadpool.apply  # a read of stdin would block the loop
    gevent.spawn(lambda: (stdin(sys.stdin.read), stopping.set()))
    listener.run()
    print("stopped", flush=True)
    """
)


def test_a_listener_hears_changes_and_listens_again_after_losing_its_connection(db, pg_dsn):
    proc = subprocess.Popen(
        [sys.executable, "-c", LISTENER, pg_dsn],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    lines: list[str] = []

    def seen(word: str, count: int = 1) -> bool:
        return lines.count(word) >= count

    def read_until(word: str, count: int = 1) -> None:
        while not seen(word, count):
            line = proc.stdout.readline()
            assert line, f"the listener exited before printing {word!r}: {lines}"
            lines.append(line.strip())

    try:
        read_until("resync")  # connected
        event = states.add_event(db, "Day 1")
        read_until("UNEDITED")
        read_until("tick", 2)
        killed = db.query(
            "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity"
            " WHERE application_name = 'fastseg-test-listen'"
        )
        assert [r.killed for r in killed] == [True]
        read_until("resync", 2)  # listening again, and told to look again
        states.edit(db, event, editor="alice@example.com", **EDIT)
        read_until("EDITED")
        proc.stdin.close()
        read_until("stopped")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert "Traceback" not in "\n".join(lines)


@pytest.mark.parametrize(
    ("change", "wakes"),
    [
        pytest.param(None, True, id="after a reconnection"),
        pytest.param(
            notify.Change("x", "EDITED", 2, ("state", "video_title")), True, id="an edit"
        ),  # fmt: skip
        pytest.param(notify.Change("x", "EDITED", 3, ("error",)), False, id="a note"),
        pytest.param(
            notify.Change("x", "EDITED", 3, ("draft", "draft_time")), False, id="a draft"
        ),  # fmt: skip
        pytest.param(
            notify.Change("x", "CLAIMED", 3, ("state", "uploader")), False, id="another state"
        ),  # fmt: skip
    ],
)
def test_a_cutter_is_woken_only_by_new_work(change, wakes):
    event = gevent.event.Event()
    notify.wake_on(event, ("EDITED",), notify.NOT_WORK)(change)
    assert event.is_set() == wakes

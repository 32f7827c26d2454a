"""Cutters racing, crashing, and losing their database: every job uploaded exactly once."""

import collections
import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import gevent.event
import pytest

from services.cutter.worker import Cutter
from services.db import Database, EmbeddedPostgres, apply_schema, states
from tests.db.fixtures import TEST_SETTINGS
from tests.waiting import wait_until

from .test_cutter import add_job, reaches, state_of

pytestmark = pytest.mark.slow


def titles_in(out: Path) -> collections.Counter:
    """How many videos of each title the local location holds (temp files would show too)."""
    names = os.listdir(out) if out.exists() else []
    return collections.Counter(name.rsplit("-", 1)[0] for name in names)


def all_done(db, events):
    def check():
        rows = [state_of(db, e) for e in events]
        return rows if all(r.state == "DONE" for r in rows) else None

    return check


def jobs(db, n, prefix="job"):
    # Several ranges, so the cuts differ; all inside the archive's 20 s.
    spans = [(1, 5), (3, 9), (6.5, 13.2), (10, 19), (0, 20)]
    return [
        add_job(db, f"{prefix}-{i:02d}", start=spans[i % 5][0], end=spans[i % 5][1])
        for i in range(n)
    ]


def test_three_cutters_thirty_jobs_each_uploaded_once(db, pg_dsn, archive, tmp_path, cutters):
    out = tmp_path / "clips"
    events = jobs(db, 30)
    for name in ("node1", "node2", "node3"):
        cutters.start(pg_dsn, archive, name, [f"clips=local:{out}"])
    rows = wait_until(all_done(db, events), "all 30 jobs to be DONE", timeout=240)
    assert titles_in(out) == {f"job-{i:02d}": 1 for i in range(30)}
    for row in rows:
        assert (out / f"{row.video_title}-{row.video_id}.ts").exists()
        assert row.error is None
    print("jobs per cutter:", collections.Counter(r.uploader for r in rows))


def test_kill_9_mid_cut_then_restart(db, pg_dsn, archive, tmp_path, cutters, youtube):
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.put_gate = threading.Event()
    event = add_job(db, "killed", location="yt")
    first = cutters.start(pg_dsn, archive, "node1", [f"yt=youtube:{config}"])
    wait_until(lambda: youtube.sessions, "the upload to start")
    assert state_of(db, event).state == "CLAIMED"
    first.kill()
    youtube.put_gate.set()
    cutters.start(pg_dsn, archive, "node1", [f"yt=youtube:{config}"])
    row = wait_until(reaches(db, event, "TRANSCODING"), "the job to be cut after the restart")
    assert list(youtube.videos) == [row.video_id]  # the killed upload never completed


def test_crash_in_finalizing_leaves_an_operator_error(
    db, pg_dsn, archive, tmp_path, cutters, youtube
):
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.final_gate = threading.Event()
    event = add_job(db, "crashed", location="yt")
    first = cutters.start(pg_dsn, archive, "node1", [f"yt=youtube:{config}"])
    wait_until(reaches(db, event, "FINALIZING"), "finalizing")
    first.kill()
    cutters.start(pg_dsn, archive, "node1", [f"yt=youtube:{config}"])
    row = wait_until(lambda: state_of(db, event).error and state_of(db, event), "the flag")
    assert row.state == "FINALIZING"
    assert "whether it was uploaded is unknown" in row.error
    # The operator checks, finds it, and records it.
    assert states.manual_upload(db, event, "https://youtu.be/found").state == "DONE"


def test_forced_serialization_conflicts_are_retried(db, pg_dsn, archive, tmp_path, cutters):
    db.query("CREATE SEQUENCE conflicts")
    db.query(
        "CREATE FUNCTION conflict() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF nextval('conflicts') % 2 = 1 THEN"
        "  RAISE EXCEPTION 'forced conflict' USING ERRCODE = '40001'; END IF;"
        " RETURN NEW; END $$"
    )
    db.query(
        "CREATE TRIGGER conflict BEFORE UPDATE ON events FOR EACH ROW EXECUTE FUNCTION conflict()"
    )
    out = tmp_path / "clips"
    events = jobs(db, 4, "conflicted")
    cutter = cutters.start(pg_dsn, archive, "node1", [f"clips=local:{out}"])
    rows = wait_until(all_done(db, events), "every job despite the conflicts")
    assert all(r.error is None for r in rows)
    assert titles_in(out) == {f"conflicted-{i:02d}": 1 for i in range(4)}
    assert "serialization failure" in cutter.output()
    assert db.query_one("SELECT last_value FROM conflicts").last_value >= 4 * 6  # 3 updates a job


@pytest.fixture
def own_cluster():
    """A database server of this test's own, so restarting it disturbs no other test."""
    root = Path(tempfile.mkdtemp(prefix="fastseg-restart-", dir="/var/tmp"))
    root.chmod(0o755)
    cluster = EmbeddedPostgres(root / "base", settings=TEST_SETTINGS)
    cluster.start()
    yield cluster
    cluster.stop()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def own_db(own_cluster):
    db = Database(own_cluster.dsn)
    apply_schema(db)
    yield db
    db.close()


def test_database_restarted_mid_run(own_cluster, own_db, archive, tmp_path, cutters):
    db = own_db
    out = tmp_path / "clips"
    events = jobs(db, 12, "restart")
    started = [
        cutters.start(own_cluster.dsn, archive, name, [f"clips=local:{out}"])
        for name in ("node1", "node2")
    ]
    wait_until(
        lambda: sum(state_of(db, e).state == "DONE" for e in events) >= 3, "a few jobs first"
    )
    own_cluster.pg_ctl("restart", "-m", "fast", "-w", "-s")
    rows = wait_until(lambda: _all_done_reconnecting(db, events), "the rest after the restart")
    assert titles_in(out) == {f"restart-{i:02d}": 1 for i in range(12)}
    assert all(r.error is None for r in rows)
    logs = "".join(c.output() for c in started)
    assert "connection" in logs.lower()  # they noticed, and carried on
    for cutter in started:
        assert cutter.proc.poll() is None


def _all_done_reconnecting(db, events):
    try:
        return all_done(db, events)()
    except Exception:  # our own connection died in the restart too: it reconnects next call
        return None


def test_database_down_when_the_upload_is_ready_to_finalize(
    own_cluster, own_db, archive, tmp_path, cutters, youtube
):
    """The cutter waits for the database before finalizing; the job lands once."""
    config = tmp_path / "yt.json"
    config.write_text(json.dumps(youtube.config()))
    youtube.put_gate = threading.Event()
    event = add_job(own_db, "db away", location="yt")
    cutter = cutters.start(own_cluster.dsn, archive, "node1", [f"yt=youtube:{config}"])
    wait_until(lambda: youtube.sessions, "the upload to start")
    own_cluster.pg_ctl("stop", "-m", "fast", "-w", "-s")
    youtube.put_gate.set()
    cutter.wait_log("waiting for the database")  # finalize() waits, whichever way it failed
    assert youtube.videos == {}  # and nothing became final meanwhile
    own_cluster.pg_ctl("start", "-w", "-s")
    row = wait_until(lambda: _reaches_reconnecting(own_db, event, "TRANSCODING"), "the upload")
    assert list(youtube.videos) == [row.video_id]
    assert cutter.proc.poll() is None


def _reaches_reconnecting(db, event, state):
    try:
        return reaches(db, event, state)()
    except Exception:  # our own connection died with the server: it reconnects next call
        return None


def test_finalizing_waits_for_a_database_that_cannot_be_reached(own_cluster, own_db, caplog):
    """With the server down before the step (connect fails), finalizing waits, then lands."""
    event = add_job(own_db, "unreachable")
    row = states.claim(own_db, states.get_event(own_db, event), "node1")
    assert row is not None
    db = Database(own_cluster.dsn, timeout=1)
    cutter = Cutter("node1", "/nonexistent", db, {}, gevent.event.Event())
    own_db.close()
    own_cluster.pg_ctl("stop", "-m", "fast", "-w", "-s")
    restart = threading.Timer(3, own_cluster.pg_ctl, ("start", "-w", "-s"))
    restart.start()
    try:
        with caplog.at_level("WARNING", logger="services.cutter.worker"):
            finalized = cutter._finalizing(event)
    finally:
        restart.join()
        db.close()
    assert "finalizing failed" in caplog.text
    assert "waiting for the database" in caplog.text
    assert (finalized.state, finalized.uploader) == ("FINALIZING", "node1")
    assert state_of(own_db, event).state == "FINALIZING"

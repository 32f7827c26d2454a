"""Cutters woken by the database: an edit is taken at once, not at the next poll.

Each cutter here polls only every 10 minutes, so a job cut within the test's
wait was found through the notification (docs/DESIGN.md#cutter); polling stays
the fallback when the listening connection is lost.
"""

import threading

import pytest

from services.db import Database
from tests.waiting import wait_until

from .test_cutter import add_job, reaches
from .test_races import all_done, jobs, titles_in

pytestmark = pytest.mark.slow

SLOW_POLL = ("--poll-interval", "600")  # longer than any wait below: only a NOTIFY wakes it


def test_an_edit_wakes_a_cutter_that_would_not_poll_for_minutes(
    db, pg_dsn, archive, tmp_path, cutters
):
    out = tmp_path / "clips"
    cutter = cutters.start(pg_dsn, archive, "node1", [f"clips=local:{out}"], *SLOW_POLL)
    cutter.wait_log("listening for event changes")
    event = add_job(db, "woken")
    row = wait_until(reaches(db, event, "DONE"), "the job to be cut", timeout=120)
    assert titles_in(out) == {"woken": 1}
    assert row.uploader == "node1"


def test_a_cutter_whose_listening_connection_is_killed_listens_again(
    db, pg_dsn, archive, tmp_path, cutters
):
    out = tmp_path / "clips"
    cutter = cutters.start(pg_dsn, archive, "node1", [f"clips=local:{out}"], *SLOW_POLL)
    cutter.wait_log("listening for event changes")
    killed = db.query(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity"
        " WHERE application_name = 'fastseg-cutter node1 listen'"
    )
    assert [r.killed for r in killed] == [True]
    cutter.wait_log("listening for event changes again")
    event = add_job(db, "after")
    wait_until(reaches(db, event, "DONE"), "the job to be cut after reconnecting", timeout=120)
    assert "Traceback" not in cutter.output()


def test_polling_finds_work_while_the_listener_cannot_connect(
    db, pg_dsn, archive, tmp_path, cutters
):
    out = tmp_path / "clips"
    # The listener's connections are cut for as long as the test runs: polling is what is left.
    cutter = cutters.start(pg_dsn, archive, "node1", [f"clips=local:{out}"], "--poll-interval", "1")
    cutter.wait_log("listening for event changes")
    blocker = _block_listening(db)
    try:
        event = add_job(db, "polled")
        wait_until(reaches(db, event, "DONE"), "the job to be found by polling", timeout=120)
    finally:
        blocker.set()
    assert "not listening for event changes" in cutter.output()


def _block_listening(db):
    """Terminate the cutter's listening backend again and again, until the returned event is set."""
    done = threading.Event()
    killer = Database(db.dsn, application_name="fastseg-tests killer")

    def run():
        try:
            while not done.wait(0.02):
                killer.query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE application_name LIKE 'fastseg-cutter % listen'"
                )
        finally:
            killer.close()

    threading.Thread(target=run, daemon=True).start()
    return done


def test_two_cutters_woken_by_the_same_notifications_cut_each_job_once(
    db, pg_dsn, archive, tmp_path, cutters
):
    out = tmp_path / "clips"
    started = [
        cutters.start(pg_dsn, archive, name, [f"clips=local:{out}"], *SLOW_POLL)
        for name in ("node1", "node2")
    ]
    for cutter in started:
        cutter.wait_log("listening for event changes")
    events = jobs(db, 8, "raced")
    rows = wait_until(all_done(db, events), "all 8 jobs to be DONE", timeout=240)
    assert titles_in(out) == {f"raced-{i:02d}": 1 for i in range(8)}
    uploads = sum(c.output().count("uploaded as") for c in started)
    assert uploads == 8
    assert {r.uploader for r in rows} <= {"node1", "node2"}

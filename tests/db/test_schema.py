"""The schema: idempotent, safe to apply concurrently, and every designed constraint enforced."""

import datetime as dt
import threading

import pytest
from psycopg import errors as pg_errors

from services.db import EDIT_INPUTS, OPTIONAL_EDIT_INPUTS, Database, apply_schema
from services.db.schema import PUBLISHING_EDIT_INPUTS, SCHEMA_VERSION

T0 = dt.datetime(2026, 11, 27, 17, 0, 0)

EDIT_VALUES = {
    "allow_holes": False,
    "uploader_whitelist": [],
    "upload_location": "clips",
    "video_start": T0,
    "video_end": T0 + dt.timedelta(seconds=10),
    "video_title": "title",
    "video_description": "",
    "video_channel": "ch",
    "video_quality": "source",
}
DONE_VALUES = {"video_id": "v1", "video_link": "http://x/v1", "upload_time": T0}


def insert(db, **columns):
    columns.setdefault("sheet_name", "sheet")
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    return db.query_one(
        f"INSERT INTO events ({names}) VALUES ({marks}) RETURNING id", list(columns.values())
    ).id


def test_applying_twice_is_harmless(db):
    event = insert(db)
    apply_schema(db)
    assert db.query_one("SELECT count(*) AS n FROM events WHERE id = %s", (event,)).n == 1


def test_applying_from_many_connections_at_once(pg_dsn):
    barrier = threading.Barrier(4)
    errors = []

    def apply():
        mine = Database(pg_dsn)
        try:
            barrier.wait()
            apply_schema(mine)
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            mine.close()

    threads = [threading.Thread(target=apply) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = Database(pg_dsn)
    names = {
        r.tablename
        for r in check.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    }
    check.close()
    assert names == {
        "events",
        "nodes",
        "editors",
        "locations",
        "audit",
        "templates",
        "fastseg_schema",
    }


def test_missing_constraint_is_added_to_an_existing_table(db):
    db.query("ALTER TABLE events DROP CONSTRAINT done_has_link")
    apply_schema(db)
    with pytest.raises(pg_errors.CheckViolation, match="done_has_link"):
        insert(db, state="DONE")


def test_new_event_defaults(db):
    row = db.query_one("SELECT * FROM events WHERE id = %s", (insert(db),))
    assert row.state == "UNEDITED"
    assert (row.category, row.notes, row.image_links, row.poster_moment) == ("", "", [], False)
    assert row.uploader is None
    assert row.error is None


@pytest.mark.parametrize("state", ["EDITED", "CLAIMED", "FINALIZING", "TRANSCODING"])
@pytest.mark.parametrize(
    "missing",
    [c for c in EDIT_INPUTS if c not in OPTIONAL_EDIT_INPUTS + PUBLISHING_EDIT_INPUTS],
)
def test_edit_inputs_required_outside_unedited_and_done(db, state, missing):
    values = {**EDIT_VALUES, **DONE_VALUES, "uploader": "node1", "state": state}
    values[missing] = None
    with pytest.raises(pg_errors.CheckViolation, match="edit_inputs_set"):
        insert(db, **values)


@pytest.mark.parametrize("state", ["EDITED", "CLAIMED", "FINALIZING", "TRANSCODING"])
def test_complete_edit_inputs_accepted(db, state):
    insert(db, **EDIT_VALUES, **DONE_VALUES, uploader="node1", state=state)


def test_done_needs_no_edit_inputs(db):
    """A manual upload goes straight to DONE."""
    insert(db, state="DONE", video_link="http://x", upload_time=T0)


@pytest.mark.parametrize("state", ["CLAIMED", "FINALIZING", "TRANSCODING"])
def test_uploader_required_while_held(db, state):
    with pytest.raises(pg_errors.CheckViolation, match="uploader_set"):
        insert(db, **EDIT_VALUES, **DONE_VALUES, state=state)


@pytest.mark.parametrize("state", ["UNEDITED", "EDITED", "DONE"])
def test_uploader_optional_when_not_held(db, state):
    insert(db, **EDIT_VALUES, **DONE_VALUES, state=state)


@pytest.mark.parametrize("missing", ["video_link", "upload_time"])
def test_done_needs_link_and_upload_time(db, missing):
    values = {**DONE_VALUES, missing: None}
    with pytest.raises(pg_errors.CheckViolation, match="done_has_link"):
        insert(db, state="DONE", **values)


@pytest.mark.parametrize("missing", ["video_id", "video_link", "upload_time"])
def test_transcoding_needs_the_video(db, missing):
    values = {**DONE_VALUES, missing: None}
    with pytest.raises(pg_errors.CheckViolation, match="transcoding_has_video"):
        insert(db, **EDIT_VALUES, uploader="n", state="TRANSCODING", **values)


@pytest.mark.parametrize("delta", [0, -1], ids=["empty", "backwards"])
def test_video_range_must_go_forward(db, delta):
    values = {**EDIT_VALUES, "video_end": T0 + dt.timedelta(seconds=delta)}
    with pytest.raises(pg_errors.CheckViolation, match="video_range_forward"):
        insert(db, state="EDITED", **values)


def test_event_range_must_not_go_backwards(db):
    with pytest.raises(pg_errors.CheckViolation, match="event_range_forward"):
        insert(db, event_start=T0, event_end=T0 - dt.timedelta(seconds=1))


def test_unknown_state_rejected(db):
    with pytest.raises(pg_errors.InvalidTextRepresentation, match="event_state"):
        insert(db, state="LOST")


def test_update_into_bad_state_rejected_and_row_kept(db):
    event = insert(db, **EDIT_VALUES, state="EDITED")
    with pytest.raises(pg_errors.CheckViolation, match="uploader_set"):
        db.query("UPDATE events SET state = 'CLAIMED' WHERE id = %s", (event,))
    assert db.query_one("SELECT state FROM events WHERE id = %s", (event,)).state == "EDITED"


def test_nodes_and_editors(db):
    db.query("INSERT INTO nodes (name, url) VALUES ('a', 'http://a')")
    db.query("INSERT INTO editors (email, name) VALUES ('e@x', 'E')")
    assert db.query_one("SELECT backfill_from FROM nodes").backfill_from is True
    with pytest.raises(pg_errors.UniqueViolation):
        db.query("INSERT INTO nodes (name, url) VALUES ('a', 'http://b')")
    with pytest.raises(pg_errors.NotNullViolation):
        db.query("INSERT INTO editors (email) VALUES ('f@x')")


def test_a_current_schema_runs_no_ddl(db, pg_dsn):
    """A service starting on a current schema takes no table lock: a cutter writing its
    locations (audited) while another starts must not deadlock with its DDL."""
    other = Database(pg_dsn)
    try:
        other.query("BEGIN")
        other.query("LOCK TABLE locations IN ROW EXCLUSIVE MODE")  # a writer mid-transaction
        db.query("SET lock_timeout = '2s'")
        apply_schema(db)  # would wait for the lock (and time out) if it ran DDL
    finally:
        other.query("ROLLBACK")
        other.close()
    version = db.query_one("SELECT version FROM fastseg_schema").version
    assert version == SCHEMA_VERSION

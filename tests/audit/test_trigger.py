"""The audit trigger: each change once, with its writer and values; the table append-only."""

import datetime as dt

import psycopg
import pytest

from services.db import Database, apply_schema, locations, states
from services.db import audit as audit_db

EDIT = {
    "video_start": dt.datetime(2026, 11, 27, 17),
    "video_end": dt.datetime(2026, 11, 27, 17, 0, 30),
    "video_title": "Big moment",
    "video_channel": "ch",
    "upload_location": "clips",
}


def audit_rows(db, table="events"):
    return db.query("SELECT * FROM audit WHERE table_name = %s ORDER BY id", (table,))


def test_an_insert_records_the_row_and_a_change_only_what_changed(db):
    db.act_as("cli:alice")
    event = states.add_event(db, "Day 1", category="speedrun")
    db.act_as("ed@example.com", "192.0.2.7")
    states.edit(db, event, editor="ed@example.com", **EDIT)
    created, edited = audit_rows(db)
    assert (created.operation, created.actor, created.address) == ("INSERT", "cli:alice", None)
    assert created.row_key == str(event)
    assert created.old_values is None
    assert created.new_values["sheet_name"] == "Day 1"
    assert created.new_values["category"] == "speedrun"
    assert "version" not in created.new_values  # bookkeeping is not recorded
    assert (edited.operation, edited.actor, edited.address) == (
        "UPDATE", "ed@example.com", "192.0.2.7",
    )  # fmt: skip
    assert edited.old_values["state"] == "UNEDITED"
    assert edited.new_values["state"] == "EDITED"
    assert edited.new_values["video_title"] == "Big moment"
    assert "sheet_name" not in edited.new_values  # unchanged
    assert set(edited.old_values) == set(edited.new_values)
    assert edited.application == "fastseg-tests"


def test_a_write_that_changes_nothing_records_nothing(db):
    event = states.add_event(db, "Day 1")
    db.query("UPDATE events SET notes = notes WHERE id = %s", (event,))
    assert len(audit_rows(db)) == 1


def test_a_direct_update_without_a_setting_names_the_database_role(db, pg_dsn):
    event = states.add_event(db, "Day 1")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("UPDATE events SET notes = 'by hand' WHERE id = %s", (event,))
        role = conn.execute("SELECT current_user").fetchone()[0]
    row = audit_rows(db)[-1]
    assert (row.actor, row.old_values, row.new_values) == (
        role, {"notes": ""}, {"notes": "by hand"},
    )  # fmt: skip


def test_the_actor_follows_a_reconnection(db):
    db.act_as("sheetsync")
    states.add_event(db, "Day 1")
    db.close()
    states.add_event(db, "Day 2")
    assert [r.actor for r in audit_rows(db)] == ["sheetsync", "sheetsync"]


def test_a_delete_records_the_old_row(db):
    event = states.add_event(db, "Day 1")
    db.query("DELETE FROM events WHERE id = %s", (event,))
    row = audit_rows(db)[-1]
    assert (row.operation, row.new_values) == ("DELETE", None)
    assert row.old_values["sheet_name"] == "Day 1"


def test_a_truncate_is_recorded(db):
    states.add_event(db, "Day 1")
    db.act_as("cli:alice")
    db.query("TRUNCATE events")
    row = audit_rows(db)[-1]
    assert (row.operation, row.actor, row.row_key, row.old_values) == (
        "TRUNCATE", "cli:alice", "", None,
    )  # fmt: skip


def test_locations_are_audited_but_not_their_heartbeat(db):
    db.act_as("cutter:n1")
    locations.record(db, "n1", [("clips", "local", None)])
    locations.heartbeat(db, "n1")
    locations.record(db, "n1", [("clips", "local", None)])  # a restart: the same
    locations.record(db, "n1", [("clips", "youtube", None)])
    inserted, changed = audit_rows(db, "locations")
    assert (inserted.row_key, inserted.actor, inserted.operation) == (
        "n1/clips",
        "cutter:n1",
        "INSERT",
    )
    assert "heartbeat" not in inserted.new_values
    assert (changed.old_values, changed.new_values) == (
        {"backend": "local"},
        {"backend": "youtube"},
    )


def test_nodes_are_audited(db):
    db.act_as("node:n1")
    db.query("INSERT INTO nodes (name, url) VALUES ('n1', 'http://a')")
    db.query("UPDATE nodes SET backfill_from = FALSE WHERE name = 'n1'")
    assert [(r.operation, r.actor, r.new_values) for r in audit_rows(db, "nodes")] == [
        ("INSERT", "node:n1", {"name": "n1", "url": "http://a", "backfill_from": True}),
        ("UPDATE", "node:n1", {"backfill_from": False}),
    ]


def test_templates_are_audited(db):
    from services.db.thumbnails import put_template, remove_template  # noqa: PLC0415

    db.act_as("ann@example.org", "192.0.2.7")
    put_template(db, "frame", b"png", attribution="Ann", crop=(0, 0, 10, 10),
                 location=(0, 0, 20, 20), replace=False)  # fmt: skip
    put_template(db, "frame", b"png2", attribution="Bo", crop=(0, 0, 10, 10),
                 location=(0, 0, 20, 20), replace=True)  # fmt: skip
    remove_template(db, "frame")
    rows = audit_rows(db, "templates")
    assert [(r.operation, r.actor, r.address) for r in rows] == [
        ("INSERT", "ann@example.org", "192.0.2.7"),
        ("UPDATE", "ann@example.org", "192.0.2.7"),
        ("DELETE", "ann@example.org", "192.0.2.7"),
    ]
    assert rows[1].old_values["attribution"] == "Ann"
    assert rows[1].new_values["attribution"] == "Bo"


@pytest.mark.parametrize(
    "sql",
    [
        pytest.param("UPDATE audit SET actor = 'someone else'", id="update"),
        pytest.param("DELETE FROM audit", id="delete"),
        pytest.param("TRUNCATE audit", id="truncate"),
    ],
)
def test_the_audit_table_refuses_change(db, sql):
    states.add_event(db, "Day 1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
        db.query(sql)
    assert len(audit_rows(db)) == 1


def test_applying_the_schema_again_keeps_the_trail(db):
    states.add_event(db, "Day 1")
    apply_schema(db)
    states.add_event(db, "Day 2")
    assert len(audit_rows(db)) == 2  # one trigger, not two


def test_history_and_since(db):
    first = states.add_event(db, "Day 1")
    states.add_event(db, "Day 2")
    states.save_draft(db, first, {"video_title": "x"}, "ed@example.com")
    rows = audit_db.history(db, "events", str(first))
    assert [r.operation for r in rows] == ["INSERT", "UPDATE"]
    assert len(audit_db.since(db, dt.datetime(2000, 1, 1))) == 3
    assert audit_db.since(db, dt.datetime(2999, 1, 1)) == []
    (draft,) = [c for c in audit_db.changes_of(rows[1]) if c[0] == "draft"]
    assert draft == ("draft", None, {"video_title": "x"})


def test_a_database_without_an_actor_is_not_slowed(pg_dsn):
    """No actor: no set_config round trip on connecting (the writer is the role)."""
    database = Database(pg_dsn)
    try:
        apply_schema(database)
        assert database._who_set == database._who == ("", "")
    finally:
        database.close()

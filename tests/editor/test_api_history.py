"""``GET /api/events/ID/history``: the audit trail of an event, and who the API writes as."""

import psycopg

from services.db import audit, states

from .conftest import BOB, CHANNEL, QUALITY

EDIT = {
    "video_start": "2026-11-27T16:59:55",
    "video_end": "2026-11-27T17:00:03Z",
    "video_title": "A clip",
    "video_channel": CHANNEL,
    "video_quality": QUALITY,
    "upload_location": "clips",
    "allow_holes": True,
}


def test_api_writes_are_audited_as_the_editor_from_their_address(module_api, module_db, module_dsn):
    added = module_api.post("/api/events", {"sheet_name": "Day 1", "category": "speedrun"})
    assert added.status_code == 201, added.text
    event = added.json()["id"]
    edited = module_api.post(f"/api/events/{event}/edit", EDIT, token=BOB)
    assert edited.status_code == 200, edited.text
    with psycopg.connect(module_dsn, autocommit=True) as conn:  # an operator's psql
        conn.execute("UPDATE events SET notes = 'checked' WHERE id = %s", (event,))
        role = conn.execute("SELECT current_user").fetchone()[0]

    created, edit, by_hand = audit.history(module_db, "events", event)
    assert (created.actor, created.address) == ("alice@example.com", "127.0.0.1")
    assert created.new_values["category"] == "speedrun"
    assert (edit.actor, edit.address) == ("bob@example.com", "127.0.0.1")
    assert (edit.old_values["state"], edit.new_values["state"]) == ("UNEDITED", "EDITED")
    assert edit.new_values["video_title"] == "A clip"
    assert (by_hand.actor, by_hand.address) == (role, None)
    assert by_hand.new_values == {"notes": "checked"}

    shown = module_api.get(f"/api/events/{event}/history")
    assert shown.status_code == 200
    rows = shown.json()
    assert [(r["actor"], r["operation"]) for r in rows] == [
        ("alice@example.com", "INSERT"), ("bob@example.com", "UPDATE"), (role, "UPDATE"),
    ]  # fmt: skip
    assert rows[1]["new_values"]["video_end"] == "2026-11-27T17:00:03"
    assert rows[1]["time"].endswith("Z")
    assert rows[0]["row_key"] == event


def test_a_refused_write_records_nothing(module_api, module_db):
    event = str(states.add_event(module_db, "Day 2"))
    bad = module_api.post(f"/api/events/{event}/edit", {**EDIT, "video_end": "2026-11-27T16:00"})
    assert bad.status_code == 400
    assert len(module_api.get(f"/api/events/{event}/history").json()) == 1  # the INSERT only


def test_history_of_a_bad_or_unknown_id(module_api):
    bad = module_api.get("/api/events/nope/history")
    assert bad.status_code == 400
    assert "'nope' is not a UUID" in bad.json()["error"]
    missing = module_api.get("/api/events/0b9a0c8e-0000-4000-8000-000000000000/history")
    assert missing.status_code == 404
    assert "see /api/events for the ids" in missing.json()["error"]

"""The events API on a real restreamer subprocess and real PostgreSQL.

Every refused request is checked to have written nothing: the whole events
table is compared before and after.
"""

import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from services.db import states
from tests.servers import ROOT

from .conftest import ALICE, BOB, CHANNEL, QUALITY, T0, Client

EDIT = {
    "video_start": "2026-11-27T16:59:55.033",
    "video_end": "2026-11-27T17:00:03Z",
    "video_title": "A clip",
    "video_description": "what happened",
    "video_channel": CHANNEL,
    "video_quality": QUALITY,
    "upload_location": "clips",
    "allow_holes": True,
}


def table(db):
    """Every row of the events table, to compare before and after a refused request."""
    return [row._asdict() for row in db.query("SELECT * FROM events ORDER BY id")]


def new_event(db, name="Day 1 finish", **sheet):
    return str(states.add_event(db, name, **sheet))


def edited(db, event):
    """Submit an edit directly, as `fastseg events edit` would."""
    states.edit(
        db, event, video_start=T0, video_end=T0.replace(second=58), video_title="t",
        video_channel=CHANNEL, upload_location="clips", editor="ed@example.com",
    )  # fmt: skip


def test_reads_are_open_and_json(api, db):
    assert api.get("/api/events").json() == []
    first = new_event(db, "First", event_start=T0, category="speedrun", notes="watch the left")
    second = new_event(db, "Second")
    states.edit(
        db, second, video_start=T0, video_end=T0.replace(second=58), video_title="t",
        video_channel=CHANNEL, upload_location="clips", editor="ed@example.com",
    )  # fmt: skip

    listed = api.get("/api/events").json()
    assert [e["id"] for e in listed] == [first, second]  # by event_start, unset last
    one = api.get(f"/api/events/{first}")
    assert one.status_code == 200
    assert one.headers["Content-Type"] == "application/json"
    event = one.json()
    assert event["sheet_name"] == "First"
    assert event["event_start"] == "2026-11-27T16:59:52.000000Z"  # UTC, said so
    assert event["notes"] == "watch the left"
    assert event["state"] == "UNEDITED"
    assert event["error"] is None
    assert [e["id"] for e in api.get("/api/events?state=EDITED").json()] == [second]
    assert api.get("/api/events?state=DONE").json() == []
    assert [e["id"] for e in api.get("/api/events?state=edited").json()] == [second]  # any case


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        pytest.param(
            "/api/events?state=finished", 400, "'FINISHED' is not one of UNEDITED", id="bad state"
        ),
        pytest.param("/api/events?sort=id", 400, "unknown query parameters", id="unknown param"),
        pytest.param("/api/events/42", 400, "event id '42' is not a UUID", id="bad id"),
        pytest.param(f"/api/events/{uuid.UUID(int=1)}", 404, "no event with id", id="no event"),
    ],
)
def test_bad_reads(module_api, path, status, reason):
    response = module_api.get(path)
    assert response.status_code == status
    assert reason in response.json()["error"]


def test_edit_records_the_tokens_editor(module_api, module_db):
    event = new_event(module_db)
    response = module_api.post(f"/api/events/{event}/edit", EDIT)
    assert response.status_code == 200, response.text
    row = response.json()
    assert row["state"] == "EDITED"
    assert row["editor"] == "alice@example.com"
    assert row["video_start"] == "2026-11-27T16:59:55.033000Z"
    assert row["video_end"] == "2026-11-27T17:00:03.000000Z"
    assert row["allow_holes"] is True
    assert row["uploader_whitelist"] == []  # the CLI's default
    assert row["edit_time"].endswith("Z")
    stored = states.get_event(module_db, event)
    assert (stored.state, stored.video_title, stored.editor) == (
        "EDITED",
        "A clip",
        "alice@example.com",
    )

    # An EDITED event no cutter holds yet may be edited again, by another editor.
    again = Client(module_api.server, BOB).post(
        f"/api/events/{event}/edit", {**EDIT, "video_title": "B"}
    )
    assert again.status_code == 200, again.text
    assert (again.json()["video_title"], again.json()["editor"]) == ("B", "bob@example.com")


def test_add_cancel_reset(module_api, module_db):
    added = module_api.post(
        "/api/events",
        {"sheet_name": "Found it", "event_start": "2026-11-27T17:00:00", "category": "misc",
         "poster_moment": True, "image_links": ["https://i.example/1.png"]},
    )  # fmt: skip
    assert added.status_code == 201, added.text
    event = added.json()["id"]
    assert added.headers["Location"] == f"/api/events/{event}"
    assert added.json()["state"] == "UNEDITED"
    assert states.get_event(module_db, event).image_links == ["https://i.example/1.png"]

    assert module_api.post(f"/api/events/{event}/edit", EDIT).status_code == 200
    cancelled = module_api.post(f"/api/events/{event}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"] == "UNEDITED"

    # A cutter failed it for good: reset clears the error for a fresh edit.
    assert module_api.post(f"/api/events/{event}/edit", EDIT).status_code == 200
    row = states.claim(module_db, states.get_event(module_db, event), "node1")
    states.unclaim_failed(module_db, row.id, "node1", "ffmpeg said no")
    assert module_api.get(f"/api/events/{event}").json()["error"] == "ffmpeg said no"
    reset = module_api.post(f"/api/events/{event}/reset", data=b"{}")
    assert reset.status_code == 200, reset.text
    assert (reset.json()["state"], reset.json()["error"]) == ("UNEDITED", None)


BAD_EDITS = [
    pytest.param(b"", "the body is empty", id="empty body"),
    pytest.param(b"{not json", "the body is not JSON", id="not JSON"),
    pytest.param(b"[1, 2]", "is a JSON list, not an object", id="a list"),
    pytest.param(
        {**EDIT, "editor": "me"},
        "unknown fields for an edit: 'editor' (the editor is",
        id="editor field",
    ),  # fmt: skip
    pytest.param(
        {**EDIT, "video_titel": "x"}, "unknown fields for an edit: 'video_titel'", id="typo"
    ),  # fmt: skip
    pytest.param(
        {**EDIT, "video_start": "yesterday"},
        "video_start: 'yesterday' is not a time: give UTC",
        id="time does not parse",
    ),  # fmt: skip
    pytest.param(
        {**EDIT, "video_start": "2026-11-27T17:00:00+01:00"}, "is not a time: give UTC", id="offset"
    ),  # fmt: skip
    pytest.param(
        {**EDIT, "video_start": "2026-02-30T17:00:00"}, "is not a time (day is", id="no such day"
    ),  # fmt: skip
    pytest.param(
        {**EDIT, "video_end": "2026-11-27T16:59:00"},
        "video end 2026-11-27T16:59:00 is not after its start",
        id="end before start",
    ),
    pytest.param(
        {**EDIT, "video_end": EDIT["video_start"]}, "is not after its start", id="empty range"
    ),  # fmt: skip
    pytest.param(
        {k: v for k, v in EDIT.items() if k != "video_title"},
        "an edit needs video_title",
        id="title missing",
    ),  # fmt: skip
    pytest.param({**EDIT, "upload_location": "  "}, "upload_location is empty", id="no location"),
    pytest.param(
        {**EDIT, "allow_holes": "yes"}, "allow_holes 'yes' is not true or false", id="bool as text"
    ),  # fmt: skip
    pytest.param({**EDIT, "video_start": 1795798792}, "is not a string", id="time as number"),
    pytest.param(
        {**EDIT, "video_channel": "a/b"},
        "video_channel 'a/b' contains '/'",
        id="channel climbs",
    ),  # fmt: skip
    pytest.param({**EDIT, "video_title": "a\0b"}, "contains a NUL character", id="NUL"),
    pytest.param(
        {**EDIT, "uploader_whitelist": "node1"},
        "is not a list of strings",
        id="whitelist not a list",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("body", "reason"), BAD_EDITS)
def test_bad_edit_is_400_and_writes_nothing(module_api, module_db, body, reason):
    event = new_event(module_db)
    before = table(module_db)
    if isinstance(body, bytes):
        response = module_api.post(f"/api/events/{event}/edit", data=body)
    else:
        response = module_api.post(f"/api/events/{event}/edit", body)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert table(module_db) == before


@pytest.mark.parametrize(
    ("token", "headers", "reason"),
    [
        pytest.param(None, {}, "no Authorization header", id="no header"),
        pytest.param(
            "wrong-token-0123456789abcdef", {}, "that token is not an editor's", id="wrong token"
        ),  # fmt: skip
        pytest.param(
            None, {"Authorization": f"Basic {ALICE}"}, "is not 'Bearer TOKEN'", id="not bearer"
        ),  # fmt: skip
        pytest.param(ALICE[:-1], {}, "that token is not an editor's", id="prefix of a token"),
    ],
)
@pytest.mark.parametrize("action", ["edit", "cancel", "reset", "add"])
def test_writes_need_a_token(module_api, module_db, token, headers, reason, action):
    event = new_event(module_db)
    edited(module_db, event)
    before = table(module_db)
    path = "/api/events" if action == "add" else f"/api/events/{event}/{action}"
    body = {"sheet_name": "x"} if action == "add" else EDIT if action == "edit" else None
    response = module_api.post(path, body, token=token, headers=headers)
    assert response.status_code == 401, response.text
    assert reason in response.json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert table(module_db) == before


@pytest.mark.parametrize(
    ("setup", "action", "status", "reason"),
    [
        pytest.param("UNEDITED", "cancel", 409, "cannot cancel event", id="cancel unedited"),
        pytest.param("CLAIMED", "edit", 409, "cannot edit event", id="edit claimed"),
        pytest.param("DONE", "reset", 409, "it is DONE", id="reset done"),
        # The state is the first reason, not what is wrong with the new edit's range.
        pytest.param("DONE", "edit:holes", 409, "cannot edit event", id="edit done with holes"),
        pytest.param("UNEDITED", "cancel-please", 404, "no action 'cancel-please'", id="no action"),
        pytest.param("UNEDITED", "cancel:body", 400, "takes no inputs", id="cancel with inputs"),
        pytest.param("missing", "edit", 404, "no event with id", id="no such event"),
        pytest.param("bad-id", "edit", 400, "is not a UUID", id="bad id"),
    ],
)
def test_refused_transitions_write_nothing(module_api, module_db, setup, action, status, reason):
    event = new_event(module_db)
    if setup in ("CLAIMED", "DONE"):
        edited(module_db, event)
        states.claim(module_db, states.get_event(module_db, event), "node1")
        if setup == "DONE":
            states.finalizing(module_db, event, "node1")
            states.finished(module_db, event, "node1", "vid", "https://v.example/vid", False)
    target = {"missing": str(uuid.UUID(int=7)), "bad-id": "not-an-id"}.get(setup, event)
    before = table(module_db)
    name, _, extra = action.partition(":")
    if extra == "holes":
        body = {**EDIT, "video_quality": "nosuch", "allow_holes": False}
    else:
        body = {"video_title": "x"} if extra else EDIT if name == "edit" else None
    response = module_api.post(f"/api/events/{target}/{name}", body)
    assert response.status_code == status, response.text
    assert reason in response.json()["error"]
    assert table(module_db) == before


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param({}, "a new event needs sheet_name", id="no name"),
        pytest.param(
            {"sheet_name": "x", "state": "DONE"},
            "unknown fields for a new event: 'state'",
            id="state",
        ),  # fmt: skip
        pytest.param(
            {
                "sheet_name": "x",
                "event_start": "2026-11-27T17:00:00",
                "event_end": "2026-11-27T16:00:00",
            },
            "event_end 2026-11-27T16:00:00 is before",
            id="end before start",
        ),  # fmt: skip
        pytest.param({"sheet_name": "x", "poster_moment": 1}, "is not true or false", id="bool"),
    ],
)
def test_bad_add_is_400_and_writes_nothing(module_api, module_db, body, reason):
    before = table(module_db)
    response = module_api.post("/api/events", body)
    assert response.status_code == 400, response.text
    assert reason in response.json()["error"]
    assert table(module_db) == before


def test_token_file_is_reread_when_it_changes(api, db, token_file):
    event = new_event(db)
    carol = "carol-token-0123456789abcdef"
    refused = Client(api.server, carol).post(f"/api/events/{event}/edit", EDIT)
    assert refused.status_code == 401
    token_file.write_text(token_file.read_text() + f"{carol} carol@example.com\n")
    accepted = Client(api.server, carol).post(f"/api/events/{event}/edit", EDIT)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["editor"] == "carol@example.com"
    # A file broken while being edited keeps the tokens already read.
    token_file.write_text("half a line")
    assert api.post(f"/api/events/{event}/cancel").status_code == 200
    api.server.wait_for_log("editor token file not reloaded")  # stderr is read by a thread


def test_read_only_without_a_token_file(servers, archive_base, db, pg_dsn):
    server = servers.start(archive_base, "--db", pg_dsn)
    event = new_event(db)
    client = Client(server)
    assert client.get(f"/api/events/{event}").json()["state"] == "UNEDITED"
    response = client.post(f"/api/events/{event}/edit", EDIT)
    assert response.status_code == 401
    assert "has no --editor-token-file" in response.json()["error"]
    assert states.get_event(db, event).state == "UNEDITED"


def test_no_database_no_api_but_the_page(servers, archive_base):
    server = servers.start(archive_base)
    assert requests.get(server.url + "/api/events", timeout=30).status_code == 404
    page = requests.get(server.url + "/editor", timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "<title>fastseg editor</title>" in page.text


def test_database_down_is_503_and_video_still_served(servers, archive_base, tmp_path, token_file):
    dsn = f"host={tmp_path} port=1 user=nobody dbname=none connect_timeout=2"
    server = servers.start(archive_base, "--db", dsn, "--editor-token-file", str(token_file))
    response = requests.get(server.url + "/api/events", timeout=30)
    assert response.status_code == 503
    assert "the events database cannot be reached" in response.json()["error"]
    assert requests.get(server.url + "/files", timeout=30).json() == [CHANNEL]


@pytest.mark.parametrize(
    ("args", "content", "reason"),
    [
        pytest.param(
            ["--no-db", "--db", "host=/nowhere"], "", "--no-db and --db contradict", id="both"
        ),
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F"],
            "short a@b",
            "F:1: the token for 'a@b' is 5 characters",
            id="short token",
        ),  # fmt: skip
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F"],
            "x" * 16 + " a@b editor extra",
            "F:1: expected 'TOKEN EMAIL [ROLE,...]', got 4 fields",
            id="four fields",
        ),  # fmt: skip
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F"],
            "x" * 16 + " a@b extra",
            "F:1: role 'extra' is not one of editor, artist, admin",
            id="unknown role",
        ),  # fmt: skip
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F"],
            "a@b " + "x" * 16,
            "F:1: 'a@b' looks like the email and comes first: write 'TOKEN EMAIL'",
            id="swapped fields",
        ),  # fmt: skip
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F"],
            f"{ALICE} a@b\n{ALICE} c@d",
            "F:2: the token for 'c@d' is also 'a@b'",
            id="shared token",
        ),  # fmt: skip
        pytest.param(
            ["--db", "host=/nowhere", "--editor-token-file", "F/missing"],
            "",
            "cannot read editor token file",
            id="missing file",
        ),  # fmt: skip
    ],
)
def test_bad_arguments_exit_2_with_a_reason(archive_base, tmp_path, args, content, reason):
    token_path = tmp_path / "F"
    token_path.write_text(content)
    args = [a.replace("F", str(token_path)) if a.startswith("F") else a for a in args]
    reason = reason.replace("F:", f"{token_path}:")
    proc = subprocess.run(
        [sys.executable, "-m", "services.restreamer", "--base-dir", str(archive_base), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert reason in proc.stderr
    assert ALICE not in proc.stderr  # a token is a secret: never echoed


def test_concurrent_requests_each_get_their_own_connection(module_api, module_db):
    """Requests in flight together (one greenlet each) never share a connection's transaction."""
    ids = [new_event(module_db, f"together {i}") for i in range(12)]

    def edit_and_read(event):
        edited = module_api.post(f"/api/events/{event}/edit", {**EDIT, "video_title": event})
        listed = module_api.get("/api/events?state=EDITED")
        return edited.status_code, edited.json().get("video_title"), listed.status_code

    with ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(edit_and_read, ids))
    assert results == [(200, event, 200) for event in ids]
    for event in ids:
        assert states.get_event(module_db, event).video_title == event

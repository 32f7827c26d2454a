"""Edits checked against the archive and the running cutters, through the API and the CLI.

Each refusal is one line (HTTP 400 / exit 2) and writes nothing: the whole
events table is compared before and after. The archive is tests/editor's:
``test/source`` whole, ``test/holey`` without its 10 s to 12 s segment.
"""

import datetime as dt
import subprocess
import sys

import pytest

from services.db import locations, states
from tests.servers import ROOT

from .conftest import CHANNEL, QUALITY, T0, Client

EDIT = {
    "video_start": "2026-11-27T16:59:55.033",
    "video_end": "2026-11-27T17:00:03",
    "video_title": "A clip",
    "video_channel": CHANNEL,
    "video_quality": QUALITY,
    "upload_location": "clips",
    "allow_holes": False,
}

# (id, changes to EDIT, the reason given)
REFUSALS = [
    (
        "unknown channel",
        {"video_channel": "nochannel"},
        "channel 'nochannel' has no recorded video: the channels are test",
    ),
    (
        "unknown quality",
        {"video_quality": "1080p"},
        "quality '1080p' of channel 'test' has no recorded video: its qualities are holey, source",
    ),
    (
        "in the future",
        {"video_start": "2099-01-01T00:00:00", "video_end": "2099-01-01T00:00:10"},
        "the range 2099-01-01T00:00:00 to 2099-01-01T00:00:10 is entirely in the future",
    ),
    (
        "unknown location",
        {"upload_location": "nowhere"},
        "no running cutter serves upload location 'nowhere': "
        "the upload locations served now are 'clips'",
    ),
    (
        "holes",
        {"video_quality": "holey", "video_end": "2026-11-27T17:00:10"},
        "test/holey has no complete video from 2026-11-27T17:00:02 to 2026-11-27T17:00:04: "
        "change the range, wait for the video, or allow holes",
    ),
]


def table(db):
    return [row._asdict() for row in db.query("SELECT * FROM events ORDER BY id")]


def new_event(db):
    return str(states.add_event(db, "Finish line"))


@pytest.mark.parametrize(("changes", "reason"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])  # fmt: skip
def test_api_refuses_and_writes_nothing(module_api, module_db, changes, reason):
    event = new_event(module_db)
    before = table(module_db)
    response = module_api.post(f"/api/events/{event}/edit", {**EDIT, **changes})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert reason in error
    assert "\n" not in error
    assert table(module_db) == before


def test_api_takes_the_good_edit_and_holes_when_allowed(module_api, module_db):
    event = new_event(module_db)
    assert module_api.post(f"/api/events/{event}/edit", EDIT).status_code == 200
    holey = {**EDIT, "video_quality": "holey", "video_end": "2026-11-27T17:00:10"}
    response = module_api.post(f"/api/events/{event}/edit", {**holey, "allow_holes": True})
    assert response.status_code == 200, response.text
    assert states.get_event(module_db, event).video_quality == "holey"


def test_only_live_cutters_locations_count(module_api, module_db):
    response = module_api.get("/api/locations")
    assert response.status_code == 200
    assert response.json() == [
        {"name": "clips", "backend": "local", "public_url": "https://c.example/",
         "nodes": ["node1"]},
    ]  # fmt: skip
    # A cutter that stopped beating: gone from the list, and its location refused.
    module_db.query("UPDATE locations SET heartbeat = heartbeat - %s", (locations.LIVE_FOR * 2,))
    assert module_api.get("/api/locations").json() == []
    event = new_event(module_db)
    before = table(module_db)
    response = module_api.post(f"/api/events/{event}/edit", EDIT)
    assert response.status_code == 400
    assert response.json()["error"] == (
        "no running cutter serves upload location 'clips': "
        "no cutter is running: start one with --location NAME=BACKEND:OPTIONS"
    )
    assert table(module_db) == before


def test_an_editor_who_is_not_an_email_is_refused(servers, archive_base, db, pg_dsn, tmp_path):
    tokens = tmp_path / "editors.txt"
    tokens.write_text("carol-token-0123456789abcdef carol\n")
    server = servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(tokens))
    locations.record(db, "node1", [("clips", "local", None)])
    event = new_event(db)
    before = table(db)
    response = Client(server, "carol-token-0123456789abcdef").post(
        f"/api/events/{event}/edit", EDIT
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "editor 'carol' is not an email address like name@example.com"
    )
    assert table(db) == before


# -- the CLI ---------------------------------------------------------------------------


def events(*args):
    return subprocess.run([sys.executable, "-m", "services.events", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip


def cli_edit(event, body, editor="ed@example.com"):
    args = [
        "edit", event, "--video-start", body["video_start"], "--video-end", body["video_end"],
        "--title", body["video_title"], "--channel", body["video_channel"],
        "--quality", body["video_quality"], "--location", body["upload_location"],
        "--editor", editor,
    ]  # fmt: skip
    return args + (["--allow-holes"] if body["allow_holes"] else [])


@pytest.mark.parametrize(("changes", "reason"), [r[1:] for r in REFUSALS],
                         ids=[r[0] for r in REFUSALS])  # fmt: skip
def test_cli_refuses_with_exit_2_and_writes_nothing(
    module_db, module_dsn, archive_base, changes, reason
):
    event = new_event(module_db)
    before = table(module_db)
    # --db before the subcommand, --base-dir after it: both places work.
    proc = events("--db", module_dsn, *cli_edit(event, {**EDIT, **changes}),
                  "--base-dir", str(archive_base))  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("fastseg events: refused, nothing written: ")
    assert reason in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert table(module_db) == before


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(
            ["--editor", "nobody"],
            "editor 'nobody' is not an email address like name@example.com",
            id="editor",
        ),
        pytest.param(
            ["--link", "youtube.com/watch?v=x"],
            "link 'youtube.com/watch?v=x' is not an http(s) URL",
            id="link",
        ),
        pytest.param(["--link", "file:///srv/clip.ts"], "is not an http(s) URL", id="file link"),
    ],
)
def test_cli_refuses_editor_and_link(module_db, module_dsn, archive_base, args, reason):
    event = new_event(module_db)
    before = table(module_db)
    if args[0] == "--editor":
        command = cli_edit(event, EDIT, editor=args[1])
    else:
        command = ["manual-upload", event, *args]
    proc = events(*command, "--db", module_dsn, "--base-dir", str(archive_base))
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("fastseg events: refused, nothing written: ")
    assert reason in proc.stderr
    assert table(module_db) == before


def test_cli_takes_a_good_edit_and_lists_locations(module_db, module_dsn, archive_base):
    event = new_event(module_db)
    proc = events(*cli_edit(event, EDIT), "--db", module_dsn, "--base-dir", str(archive_base))
    assert proc.returncode == 0, proc.stderr
    row = states.get_event(module_db, event)
    assert (row.state, row.video_start) == ("EDITED", dt.datetime(2026, 11, 27, 16, 59, 55, 33000))
    assert row.video_start > T0
    listed = events("locations", "--db", module_dsn)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split() == [
        "clips",
        "local",
        "https://c.example/",
        "node1",
    ]

"""Drafts, versions and If-Match, manual links and the admin's forced reset, over real HTTP.

Every refused request is checked to have written nothing (the whole events table
compared before and after), and the 409's body to name what changed and who.
"""

import pytest
import requests

from services.db import states
from services.restreamer.editor import inputs

from .conftest import ALICE, BOB, CHANNEL, QUALITY, TOKENS, Client, serve_clips
from .test_api import EDIT, new_event, table

CAROL = "carol-token-0123456789abcdef"  # an admin


@pytest.fixture
def admin_api(servers, archive_base, db, pg_dsn, tmp_path):
    """A restreamer whose token file marks carol admin (a third column)."""
    serve_clips(db)
    path = tmp_path / "editors.txt"
    path.write_text(f"{TOKENS}{CAROL} carol@example.com admin\n")
    return Client(servers.start(archive_base, "--db", pg_dsn, "--editor-token-file", str(path)))


def metric(api, reason):
    text = api.get("/metrics").text
    line = f'fastseg_restreamer_editor_refusals_total{{reason="{reason}"}}'
    values = [float(x.split()[-1]) for x in text.splitlines() if x.startswith(line)]
    return values[0] if values else 0.0


def test_the_version_is_in_the_json_and_the_etag(api, db):
    event = new_event(db)
    got = api.get(f"/api/events/{event}")
    assert got.headers["ETag"] == '"1"'
    assert got.json()["version"] == 1
    assert "write_as" not in got.json()
    edited = api.post(f"/api/events/{event}/edit", EDIT, headers={"If-Match": '"1"'})
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.headers["ETag"]) == (2, '"2"')
    assert edited.json()["last_writer"] == "alice@example.com"
    assert [e["version"] for e in api.get("/api/events").json()] == [2]


def test_a_stale_write_is_a_409_naming_what_changed_and_who(api, db):
    event = new_event(db)
    bob = Client(api.server, token=BOB)
    assert bob.post(f"/api/events/{event}/edit", EDIT, headers={"If-Match": '"1"'}).ok
    before = table(db)
    refused_before = metric(api, "stale_version")

    late = api.post(
        f"/api/events/{event}/edit", {**EDIT, "video_title": "mine"}, headers={"If-Match": '"1"'}
    )
    assert late.status_code == 409
    body = late.json()
    assert body["conflict"]["your_version"] == 1
    assert body["conflict"]["version"] == 2
    assert body["conflict"]["changed_by"] == "bob@example.com"
    assert "video_title" in body["conflict"]["changed"]
    assert body["conflict"]["changed_at"].endswith("Z")
    assert body["event"]["video_title"] == "A clip"
    assert (
        "changed since version 1: it is version 2, last written by bob@example.com"
        in (body["error"])
    )
    for action, payload in [
        ("draft", {"video_title": "x"}),
        ("cancel", None),
        ("reset", None),
        ("manual-upload", {"video_link": "https://example.com/v"}),
    ]:
        answer = api.post(f"/api/events/{event}/{action}", payload, headers={"If-Match": "1"})
        assert answer.status_code == 409, (action, answer.text)
        assert answer.json()["conflict"]["changed_by"] == "bob@example.com"
    assert table(db) == before  # nothing overwritten
    assert metric(api, "stale_version") == refused_before + 5

    # Overwrite: the same edit without If-Match (or with *), or with the version now.
    assert api.post(f"/api/events/{event}/edit", {**EDIT, "video_title": "mine"}).ok
    assert api.post(f"/api/events/{event}/cancel", headers={"If-Match": "*"}).ok
    assert api.post(f"/api/events/{event}/edit", EDIT, headers={"If-Match": 'W/"4"'}).ok


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("abc", id="not a number"),
        pytest.param('"-1"', id="negative"),
        pytest.param("1" * 41, id="too long"),
        pytest.param('"1", "2"', id="a list"),
        pytest.param('"²"', id="a digit int refuses"),
        pytest.param('"' + "9" * 19 + '"', id="past a bigint"),
    ],
)
def test_a_bad_if_match_is_a_400(api, db, header):
    event = new_event(db)
    before = table(db)
    answer = api.post(f"/api/events/{event}/cancel", headers={"If-Match": header})
    assert answer.status_code == 400
    assert "is not an event version: send the ETag of GET /api/events/ID" in answer.json()["error"]
    assert table(db) == before


def test_a_draft_is_kept_on_any_node_and_cleared_by_the_edit(
    api, servers, archive_base, db, pg_dsn
):
    event = new_event(db)
    draft = {
        "video_title": "half done",
        "video_ranges": [["2026-11-27T16:59:55Z", "2026-11-27T16:59:57Z"]],
        "video_channel": CHANNEL,
        "video_quality": QUALITY,
    }
    saved = api.post(f"/api/events/{event}/draft", draft, headers={"If-Match": '"1"'})
    assert saved.status_code == 200, saved.text
    assert saved.json()["state"] == "UNEDITED"
    assert saved.json()["draft"] == draft
    assert saved.json()["draft_editor"] == "alice@example.com"
    assert saved.json()["video_title"] is None

    # Another node's restreamer on the same database sees it.
    other = servers.start(archive_base, "--db", pg_dsn)
    assert requests.get(f"{other.url}/api/events/{event}", timeout=30).json()["draft"] == draft

    assert api.post(f"/api/events/{event}/edit", EDIT).json()["draft"] is None
    cleared = api.post(f"/api/events/{event}/draft", {"video_title": "again"})
    assert cleared.json()["draft"] == {"video_title": "again"}
    assert api.post(f"/api/events/{event}/draft", {}).json()["draft"] is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param({"video_title": 3}, "video_title 3 is not a string", id="wrong type"),
        pytest.param({"editor": "x@y.z"}, "unknown fields for a draft: 'editor'", id="unknown"),
        pytest.param({"video_start": "soon"}, "video_start", id="bad time"),
        pytest.param({"video_channel": "../etc"}, "video_channel", id="bad channel"),
        pytest.param({"video_title": "x" * 10_001}, "over 10000: shorten it", id="long text"),
        pytest.param([1], "not an object", id="not an object"),
    ],
)
def test_a_bad_draft_is_a_400_and_writes_nothing(api, db, body, reason):
    event = new_event(db)
    before = table(db)
    answer = api.post(f"/api/events/{event}/draft", body)
    assert answer.status_code == 400
    assert reason in answer.json()["error"]
    assert table(db) == before


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api, db):
    event = new_event(db)
    before = table(db)
    refused = metric(api, "body_too_large")
    big = b'{"video_title": "' + b"x" * inputs.MAX_BODY + b'"}'
    for action in ("draft", "edit", "cancel"):
        answer = api.post(
            f"/api/events/{event}/{action}",
            data=big,
            headers={"Content-Type": "application/json"},
        )
        assert answer.status_code == 413
        assert answer.json()["error"].startswith(f"the body is over {inputs.MAX_BODY} bytes")
    # Sent in chunks, without a length: refused as it is read.
    chunked = api.post(
        f"/api/events/{event}/draft",
        data=(big[i : i + 65536] for i in range(0, len(big), 65536)),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413, chunked.text
    assert metric(api, "body_too_large") == refused + 4
    assert table(db) == before


def test_a_manual_link_from_the_page(api, db):
    event = new_event(db)
    before = table(db)
    for body, reason in [
        ({"video_link": "ftp://x"}, "is not an http(s) URL"),
        ({"video_link": ""}, "video_link '' is missing"),
        ({"link": "https://x"}, "unknown fields for a manual upload: 'link'"),
    ]:
        answer = api.post(f"/api/events/{event}/manual-upload", body)
        assert answer.status_code == 400
        assert reason in answer.json()["error"]
    assert table(db) == before
    done = api.post(f"/api/events/{event}/manual-upload", {"video_link": "https://youtu.be/x"})
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["video_link"]) == ("DONE", "https://youtu.be/x")
    assert done.json()["last_writer"] == "alice@example.com"


def test_only_an_admin_may_force_a_reset_of_a_done_event(admin_api, db):
    event = new_event(db)
    states.manual_upload(db, event, "https://youtu.be/x")
    before = table(db)
    plain = admin_api.post(f"/api/events/{event}/reset")
    assert plain.status_code == 409
    assert "it is DONE" in plain.json()["error"]
    refused = metric(admin_api, "not_admin")
    forced = admin_api.post(f"/api/events/{event}/reset", {"force": True})
    assert forced.status_code == 403
    assert forced.json()["error"].startswith("this needs the admin role")
    assert metric(admin_api, "not_admin") == refused + 1
    bad = admin_api.post(f"/api/events/{event}/reset", {"force": "yes"}, token=CAROL)
    assert (bad.status_code, bad.json()["error"]) == (400, "force 'yes' is not true or false")
    other = admin_api.post(f"/api/events/{event}/reset", {"hard": True}, token=CAROL)
    assert other.status_code == 400
    assert "unknown fields for a reset: 'hard'" in other.json()["error"]
    assert table(db) == before

    reset = admin_api.post(f"/api/events/{event}/reset", {"force": True}, token=CAROL)
    assert reset.status_code == 200, reset.text
    row = reset.json()
    assert (row["state"], row["video_link"], row["last_writer"]) == (
        "UNEDITED",
        None,
        "carol@example.com",
    )
    assert ALICE not in admin_api.get("/metrics").text

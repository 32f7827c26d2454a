"""Roles of the token file (``TOKEN EMAIL [ROLE,...]``) and the one check every write makes.

Every write route is tried with an editor's token and an admin's: an editor may
do the everyday changes, and resetting an event whose upload may be under way
(CLAIMED, FINALIZING, TRANSCODING) is a 403 naming the admin role, which
writes nothing; an admin may. The restreamer's log keeps no ERROR record.
"""

import pytest

from services.db import states
from tests.hostile.watch import error_records
from tests.servers import ServerProcess

from .conftest import ALICE, Client
from .test_api import EDIT, edited, new_event, table

ADMIN = "admin-token-0123456789abcdef"
ARTIST = "artist-token-0123456789abcde"
TOKENS = (
    f"{ALICE} alice@example.com\n"
    f"{ADMIN} root@example.com editor,admin\n"
    f"{ARTIST} art@example.com artist\n"
)
NEEDS_ADMIN = "this needs the admin role; ask an admin to add it to your line in the token file"


@pytest.fixture(scope="module")
def roles_api(module_dsn, archive_base, tmp_path_factory):
    token_path = tmp_path_factory.mktemp("roles") / "editors.txt"
    token_path.write_text(TOKENS)
    server = ServerProcess(archive_base, "--db", module_dsn, "--editor-token-file", str(token_path))
    yield Client(server)
    assert not error_records(server.log()), server.log()
    server.stop()


def in_state(db, state: str) -> str:
    """A new event brought to ``state`` the way a cutter would."""
    event = new_event(db)
    if state == "UNEDITED":
        return event
    edited(db, event)
    if state == "EDITED":
        return event
    states.claim(db, states.get_event(db, event), "node1")
    if state == "CLAIMED":
        return event
    states.finalizing(db, event, "node1")
    if state == "FINALIZING":
        return event
    states.finished(db, event, "node1", "vid", "https://v.example/vid", state == "TRANSCODING")
    return event


@pytest.mark.parametrize("token", [ALICE, ADMIN, ARTIST], ids=["editor", "admin", "artist"])
def test_everyday_writes_need_the_editor_role_every_token_has(roles_api, module_db, token):
    added = roles_api.post("/api/events", {"sheet_name": "By role"}, token=token)
    assert added.status_code == 201, added.text
    event = added.json()["id"]
    edit = roles_api.post(f"/api/events/{event}/edit", EDIT, token=token)
    assert edit.status_code == 200, edit.text
    email = {ALICE: "alice@example.com", ADMIN: "root@example.com", ARTIST: "art@example.com"}
    assert edit.json()["editor"] == email[token]
    assert roles_api.post(f"/api/events/{event}/cancel", token=token).status_code == 200
    assert roles_api.post(f"/api/events/{event}/edit", EDIT, token=token).status_code == 200
    reset = roles_api.post(f"/api/events/{event}/reset", token=token)
    assert reset.status_code == 200, reset.text
    assert reset.json()["state"] == "UNEDITED"


@pytest.mark.parametrize("state", ["CLAIMED", "FINALIZING", "TRANSCODING"])
def test_resetting_an_upload_in_flight_needs_an_admin(roles_api, module_db, state):
    event = in_state(module_db, state)
    before = table(module_db)
    for token in (ALICE, ARTIST):
        refused = roles_api.post(f"/api/events/{event}/reset", token=token)
        assert refused.status_code == 403, refused.text
        assert refused.json() == {"error": NEEDS_ADMIN, "status": 403}
        assert table(module_db) == before  # the video id a cutter is finishing is kept
    reset = roles_api.post(f"/api/events/{event}/reset", token=ADMIN)
    assert reset.status_code == 200, reset.text
    assert (reset.json()["state"], reset.json()["video_id"]) == ("UNEDITED", None)


def test_a_plain_reset_of_a_done_event_is_a_409_for_every_role(roles_api, module_db):
    event = in_state(module_db, "DONE")
    for token in (ALICE, ADMIN):
        refused = roles_api.post(f"/api/events/{event}/reset", token=token)
        assert refused.status_code == 409, refused.text
        assert "it is DONE" in refused.json()["error"]


def test_the_cli_resets_an_upload_in_flight_as_before(module_db):
    event = in_state(module_db, "FINALIZING")
    with pytest.raises(states.IllegalTransition, match="cannot reset event .*: it is FINALIZING"):
        states.reset(module_db, event, in_flight=False)
    assert states.reset(module_db, event).state == "UNEDITED"  # what `fastseg events reset` does

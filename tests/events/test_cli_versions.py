"""``fastseg events edit --draft`` and ``--if-version``: drafts and no silent overwrite."""

import json

import pytest

from services.db import states

from .test_cli import EDIT, events

pytestmark = pytest.mark.slow


def show(event, db):
    return json.loads(events("show", event, "--json", db=db).stdout)


def test_a_draft_and_versions_from_the_command_line(db, pg_dsn, base):
    event = str(states.add_event(db, "Day 1"))
    events(
        "edit", event, "--draft", "--title", "Half done", "--range", "2026-11-27T17:00:02",
        "2026-11-27T17:00:04", "--editor", "ed@example.com", "--if-version", "1", db=pg_dsn,
    )  # fmt: skip
    shown = show(event, pg_dsn)
    assert shown["state"] == "UNEDITED"
    assert shown["draft"] == {
        "video_title": "Half done",
        "video_start": "2026-11-27T17:00:02.000000Z",
        "video_end": "2026-11-27T17:00:04.000000Z",
    }
    assert (shown["draft_editor"], shown["version"]) == ("ed@example.com", 2)
    assert (shown["last_writer"], shown["last_changes"]) == (
        "ed@example.com",
        ["draft", "draft_editor", "draft_time"],
    )
    assert '"video_title": "Half done"' in events("show", event, db=pg_dsn).stdout

    # Based on version 1: refused, naming the draft and its writer; nothing written.
    stale = events("edit", event, *EDIT, "--if-version", "1", db=pg_dsn, base=base, check=False)
    assert stale.returncode == 1
    assert f"event '{event}' changed since version 1: it is version 2, last written by " in (
        stale.stderr
    )
    assert "ed@example.com" in stale.stderr
    assert "draft" in stale.stderr
    for args in (
        ["cancel", event],
        ["reset", event],
        ["manual-upload", event, "--link", "https://x.org/v"],
    ):
        proc = events(*args, "--if-version", "1", db=pg_dsn, check=False)
        assert proc.returncode == 1
        assert "changed since version 1" in proc.stderr
    assert show(event, pg_dsn)["version"] == 2

    events("edit", event, *EDIT, "--if-version", "2", db=pg_dsn, base=base)
    assert (show(event, pg_dsn)["state"], show(event, pg_dsn)["draft"]) == ("EDITED", None)
    events("manual-upload", event, "--link", "https://x.org/v", db=pg_dsn)
    refused = events("reset", event, db=pg_dsn, check=False)
    assert refused.returncode == 1
    assert "it is DONE" in refused.stderr
    events("reset", event, "--force", db=pg_dsn)
    assert show(event, pg_dsn)["state"] == "UNEDITED"
    assert show(event, pg_dsn)["last_writer"] == "fastseg-events"


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        pytest.param(["--if-version", "two"], "'two' is not a version", id="bad version"),
        pytest.param(["--if-version", "-1"], "'-1' is not a version", id="negative version"),
        pytest.param(["--if-version", "²"], "'²' is not a version", id="superscript"),
        pytest.param(["--if-version", "9" * 19], "is not a version", id="past a bigint"),
        pytest.param(
            ["--editor", "e@x.org"],
            "an edit needs --title, --channel, --location",
            id="edit without inputs",
        ),  # fmt: skip
    ],
)
def test_bad_arguments_exit_2(db, pg_dsn, args, reason):
    event = str(states.add_event(db, "Day 1"))
    extra = [] if "--editor" in args else ["--editor", "e@x.org", "--draft"]
    proc = events("edit", event, *args, *extra, db=pg_dsn, check=False)
    assert proc.returncode == 2
    assert reason in proc.stderr
    assert show(event, pg_dsn)["version"] == 1

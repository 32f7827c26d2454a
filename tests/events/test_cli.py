"""``fastseg events`` as an operator runs it: a subprocess against a real database."""

import json
import os
import subprocess
import sys
import uuid

import pytest


def events(*args, db=None, check=True, base=None):
    cmd = [sys.executable, "-m", "services.events", *args]
    if db:
        cmd += ["--db", db]
    if base:
        cmd += ["--base-dir", str(base)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
    return proc


EDIT = [
    "--video-start", "2026-11-27T17:00:00", "--video-end", "2026-11-27T17:00:30Z",
    "--title", "Big moment", "--channel", "ch", "--location", "clips",
    "--editor", "ed@example.com", "--uploader-whitelist", "n1, n2",
]  # fmt: skip


@pytest.mark.slow
def test_operator_workflow(db, pg_dsn, base):
    out = events("add", "--sheet-name", "Day 1", "--category", "speedrun", db=pg_dsn).stdout
    event = out.strip()
    assert str(uuid.UUID(event)) == event  # the id alone

    events("edit", event, *EDIT, "--allow-holes", db=pg_dsn, base=base)
    shown = json.loads(events("show", event, "--json", db=pg_dsn).stdout)
    assert shown["state"] == "EDITED"
    assert shown["video_end"] == "2026-11-27T17:00:30"  # Z converted to naive UTC
    assert shown["uploader_whitelist"] == ["n1", "n2"]
    assert shown["allow_holes"] is True
    assert shown["category"] == "speedrun"

    text = events("show", event, db=pg_dsn).stdout
    assert "video_title" in text
    assert "Big moment" in text

    listed = json.loads(events("list", "--state", "edited", "--json", db=pg_dsn).stdout)
    assert [e["id"] for e in listed] == [event]
    assert json.loads(events("list", "--state", "DONE", "--json", db=pg_dsn).stdout) == []

    events("cancel", event, db=pg_dsn)
    assert json.loads(events("show", event, "--json", db=pg_dsn).stdout)["state"] == "UNEDITED"

    events("manual-upload", event, "--link", "https://example.com/v", db=pg_dsn)
    done = json.loads(events("show", event, "--json", db=pg_dsn).stdout)
    assert (done["state"], done["video_link"]) == ("DONE", "https://example.com/v")
    lines = events("list", db=pg_dsn).stdout.splitlines()
    assert lines[0].split() == ["ID", "STATE", "EVENT", "START", "NAME"]
    assert lines[1].startswith(f"{event}  DONE ")
    assert events("list", "--state", "Edited", db=pg_dsn).stdout == "no events in state EDITED\n"


def test_empty_list_says_so_and_options_go_either_side(pg_dsn):
    before = subprocess.run(
        [sys.executable, "-m", "services.events", "--db", pg_dsn, "list"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (before.returncode, before.stdout) == (0, "no events\n"), before.stderr
    assert events("list", db=pg_dsn).stdout == "no events\n"


def test_no_database_named_is_refused_and_creates_nothing(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("FASTSEG_BASE", "FASTSEG_DB")}
    proc = subprocess.run(
        [sys.executable, "-m", "services.events", "list"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "no database given: pass --base-dir ARCHIVE" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # no cluster made in the current directory


def test_edit_without_an_archive_to_check_is_refused(db, pg_dsn):
    event = events("add", "--sheet-name", "s", db=pg_dsn).stdout.strip()
    proc = events("edit", event, *EDIT, db=pg_dsn, check=False)
    assert proc.returncode == 2
    assert "an edit is checked against the recorded video: pass --base-dir" in proc.stderr


def test_illegal_transitions_and_bad_ids_exit_non_zero(db, pg_dsn):
    event = events("add", "--sheet-name", "s", db=pg_dsn).stdout.strip()
    bad = events("cancel", event, db=pg_dsn, check=False)
    assert bad.returncode == 1
    assert bad.stderr.strip() == f"fastseg events: cannot cancel event {event!r}: it is UNEDITED"
    assert bad.stdout == ""

    bad = events("show", "12345", db=pg_dsn, check=False)
    assert bad.returncode == 1
    assert "'12345' is not a UUID" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    missing = str(uuid.uuid4())
    bad = events("reset", missing, db=pg_dsn, check=False)
    assert bad.returncode == 1
    assert f"no event with id {missing!r}" in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--video-start", "2026-11-27T17:00:30", "--video-end", "2026-11-27T17:00:00"],
            "range is backwards",
            id="backwards",
        ),
        pytest.param(
            ["--video-start", "yesterday", "--video-end", "2026-11-27T17:00:00"],
            "'yesterday' is not a time: give ISO 8601",
            id="bad time",
        ),
    ],
)
def test_bad_edit_arguments_change_nothing(db, pg_dsn, args, message):
    event = events("add", "--sheet-name", "s", db=pg_dsn).stdout.strip()
    rest = EDIT[4:]  # everything but the times
    bad = events("edit", event, *args, *rest, db=pg_dsn, check=False)
    assert bad.returncode == 2
    assert message in bad.stderr
    assert json.loads(events("show", event, "--json", db=pg_dsn).stdout)["state"] == "UNEDITED"


def test_lost_database_is_one_clear_line(tmp_path):
    bad = events("list", db=f"host={tmp_path} port=5432 user=x dbname=x", check=False)
    assert bad.returncode == 1
    assert bad.stderr.startswith("fastseg events: cannot connect to PostgreSQL")


@pytest.mark.slow
def test_embedded_database_by_base_dir(tmp_path, monkeypatch):
    """Without --db the tool starts the base dir's own cluster, and stops it after."""
    import tempfile  # noqa: PLC0415 - only this test needs a dir the postgres user can reach

    root = tempfile.mkdtemp(dir="/var/tmp", prefix="fastseg-events-")
    try:
        import os  # noqa: PLC0415

        os.chmod(root, 0o755)
        base = os.path.join(root, "base")
        event = events("add", "--sheet-name", "embedded", base=base).stdout.strip()
        shown = json.loads(events("show", event, "--json", base=base).stdout)
        assert shown["sheet_name"] == "embedded"
        assert os.path.isdir(os.path.join(base, ".fastseg", "pg"))
        assert not os.path.exists(os.path.join(base, ".fastseg", "pg.started"))  # stopped
    finally:
        import shutil  # noqa: PLC0415

        shutil.rmtree(root, ignore_errors=True)

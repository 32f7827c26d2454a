"""``fastseg events history`` and ``fastseg audit``, run as an operator runs them."""

import datetime as dt
import getpass
import json
import subprocess
import sys

import pytest

from services.archive import times
from services.db import audit, states


def fastseg(*args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", *args], capture_output=True, text=True, timeout=120
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"fastseg {args} exited {proc.returncode}: {proc.stderr}")
    return proc


def test_the_cli_writes_as_the_os_user_and_shows_the_history(db, pg_dsn):
    event = fastseg("events", "add", "--sheet-name", "Day 1", "--db", pg_dsn).stdout.strip()
    fastseg("events", "manual-upload", event, "--link", "https://example.com/v", "--db", pg_dsn)
    created, uploaded = audit.history(db, "events", event)
    me = f"cli:{getpass.getuser()}"
    assert (created.actor, created.operation, created.new_values["sheet_name"]) == (
        me, "INSERT", "Day 1",
    )  # fmt: skip
    assert uploaded.actor == me
    assert (uploaded.old_values["state"], uploaded.new_values["state"]) == ("UNEDITED", "DONE")
    assert uploaded.new_values["video_link"] == "https://example.com/v"

    lines = fastseg("events", "history", event, "--db", pg_dsn).stdout.splitlines()
    assert lines[0].split()[:4] == ["TIME", "(UTC)", "WHO", "FROM"]
    assert lines[1].split()[2:] == [me, "-", "INSERT", "events", event]
    assert '    state: "UNEDITED" -> "DONE"' in lines
    assert '    video_link: - -> "https://example.com/v"' in lines

    shown = json.loads(fastseg("events", "history", event, "--json", "--db", pg_dsn).stdout)
    assert [r["operation"] for r in shown] == ["INSERT", "UPDATE"]
    assert shown[1]["new_values"]["state"] == "DONE"
    assert shown[1]["actor"] == me


def test_history_of_an_unknown_or_bad_id(db, pg_dsn):
    missing = fastseg("events", "history", "0b9a0c8e-0000-4000-8000-000000000000",
                      "--db", pg_dsn, check=False)  # fmt: skip
    assert missing.returncode == 1
    assert "no event with id '0b9a0c8e-0000-4000-8000-000000000000'" in missing.stderr
    bad = fastseg("events", "history", "nope", "--db", pg_dsn, check=False)
    assert bad.returncode == 1
    assert "'nope' is not a UUID" in bad.stderr


def test_audit_since_shows_every_table(db, pg_dsn):
    db.act_as("cutter:n1")
    db.query("INSERT INTO locations (node, name, backend) VALUES ('n1', 'clips', 'local')")
    db.act_as("alice@example.com", "192.0.2.7")
    event = states.add_event(db, "Day 1")
    text = fastseg("audit", "--since", "2h", "--db", pg_dsn).stdout
    lines = text.splitlines()
    assert lines[1].split()[2:] == ["cutter:n1", "-", "INSERT", "locations", "n1/clips"]
    assert lines[1 + 5].split()[2:] == [  # the location's row and its four columns first
        "alice@example.com", "192.0.2.7", "INSERT", "events", str(event),
    ]  # fmt: skip
    rows = json.loads(fastseg("audit", "--since", "2h", "--json", "--db", pg_dsn).stdout)
    assert [(r["table_name"], r["actor"]) for r in rows] == [
        ("locations", "cutter:n1"), ("events", "alice@example.com"),
    ]  # fmt: skip
    later = (times.utc_now() + dt.timedelta(minutes=5)).isoformat()
    quiet = fastseg("audit", "--since", later, "--db", pg_dsn).stdout
    assert quiet.startswith("no changes since ")


@pytest.mark.parametrize("since", ["2x", "yesterday", "-2h", ""])
def test_audit_refuses_a_bad_since(since):
    proc = fastseg("audit", f"--since={since}", "--db", "host=/nonexistent", check=False)
    assert proc.returncode == 2
    assert f"{since!r} is not a time: give an age such as 90s, 30m, 2h or 7d" in proc.stderr


def test_audit_needs_a_database():
    proc = subprocess.run(
        [sys.executable, "-m", "services.audit", "--since", "1h"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "no database given" in proc.stderr

"""``fastseg db backup`` and ``fastseg db restore``: pg_dump's custom format, round trip."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import uuid

import psycopg
import pytest

from services.db import Database, apply_schema, audit, states


@pytest.fixture
def databases(pg_server):
    """``databases()``: the DSN of a new empty database on the test server; all dropped after."""
    made = []

    def make():
        name = f"test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        return psycopg.conninfo.make_conninfo(pg_server, dbname=name)

    yield make
    with psycopg.connect(pg_server, autocommit=True) as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def db_command(*args, env=None, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "db", *args],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    if check and proc.returncode != 0:
        raise AssertionError(f"fastseg db {args} exited {proc.returncode}: {proc.stderr}")
    return proc


def events_of(dsn):
    database = Database(dsn)
    try:
        return [r._asdict() for r in database.query("SELECT * FROM events ORDER BY id")]
    finally:
        database.close()


def test_backup_then_restore_into_a_fresh_database(databases, tmp_path):
    source = databases()
    database = Database(source, actor="cli:test")
    apply_schema(database)
    first = states.add_event(database, "Day 1", category="speedrun")
    states.edit(
        database, first, video_start=dt.datetime(2026, 11, 27, 17),
        video_end=dt.datetime(2026, 11, 27, 17, 0, 30), video_title="Big moment",
        video_channel="ch", upload_location="clips", editor="ed@example.com",
    )  # fmt: skip
    states.add_event(database, "Day 2")
    trail = [r._asdict() for r in audit.since(database, dt.datetime(2000, 1, 1))]
    database.close()
    before = events_of(source)

    backup = tmp_path / "fastseg.dump"
    out = db_command("backup", str(backup), "--db", source).stdout
    assert out.startswith(f"backed up to {backup} (")
    assert backup.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert [p.name for p in tmp_path.iterdir()] == ["fastseg.dump"]  # no partial file left

    target = databases()
    assert db_command("restore", str(backup), "--db", target).stdout == f"restored {backup}\n"
    assert events_of(target) == before
    restored = Database(target, actor="cli:after")
    try:
        assert [r._asdict() for r in audit.since(restored, dt.datetime(2000, 1, 1))] == trail
        # The triggers came back too: versions, the trail, and its protection.
        row = states.cancel(restored, first)
        assert row.version == 3
        assert audit.history(restored, "events", str(first))[-1].actor == "cli:after"
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            restored.query("DELETE FROM audit")
    finally:
        restored.close()


def test_restore_refuses_a_database_with_tables_unless_forced(databases, tmp_path):
    source = databases()
    database = Database(source)
    apply_schema(database)
    states.add_event(database, "Day 1")
    backup = tmp_path / "fastseg.dump"
    db_command("backup", str(backup), "--db", source)
    states.add_event(database, "Day 2")  # after the backup: a restore forgets it
    database.close()

    refused = db_command("restore", str(backup), "--db", source, check=False)
    assert refused.returncode == 1
    assert "the database is not empty (it has public.audit, public.editors" in refused.stderr
    assert "pass --force" in refused.stderr
    assert len(events_of(source)) == 2  # untouched

    db_command("restore", str(backup), "--db", source, "--force")
    assert [e["sheet_name"] for e in events_of(source)] == ["Day 1"]


def test_restore_of_a_missing_or_broken_file(databases, tmp_path):
    target = databases()
    missing = db_command("restore", str(tmp_path / "none.dump"), "--db", target, check=False)
    assert missing.returncode == 1
    assert "no backup file" in missing.stderr
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"not a dump")
    failed = db_command("restore", str(broken), "--db", target, check=False)
    assert failed.returncode == 1
    assert "fastseg db restore: pg_restore failed (exit 1): " in failed.stderr
    assert "input file does not appear to be a valid archive" in failed.stderr


def test_backup_failures_say_why_and_leave_no_file(pg_server, tmp_path):
    backup = tmp_path / "fastseg.dump"
    gone = psycopg.conninfo.make_conninfo(pg_server, dbname="no_such_database")
    failed = db_command("backup", str(backup), "--db", gone, check=False)
    assert failed.returncode == 1
    assert "fastseg db backup: pg_dump failed (exit 1): " in failed.stderr
    assert 'database "no_such_database" does not exist' in failed.stderr
    assert list(tmp_path.iterdir()) == []

    empty = tmp_path / "bin"
    empty.mkdir()
    env = {"PATH": "/usr/bin:/bin", "FASTSEG_PG_BIN": str(empty)}
    missing = db_command("backup", str(backup), "--db", pg_server, env=env, check=False)
    assert missing.returncode == 1
    assert f"pg_dump not found in {empty}: install the PostgreSQL client programs" in (
        missing.stderr
    )
    assert list(tmp_path.iterdir()) == [empty]


def test_db_needs_a_database(tmp_path):
    proc = db_command("backup", str(tmp_path / "x"), env={"PATH": "/usr/bin:/bin"}, check=False)
    assert proc.returncode == 2
    assert "no database given" in proc.stderr


@pytest.mark.slow
def test_backup_and_restore_of_the_embedded_database(tmp_path):
    """Without --db: the embedded cluster of --base-dir, started for the command and stopped."""
    base = tmp_path / "base"
    base.mkdir()
    backup = tmp_path / "fastseg.dump"
    try:
        add = [sys.executable, "-m", "services.events", "add", "--sheet-name", "Day 1"]
        proc = subprocess.run([*add, "--base-dir", str(base)], capture_output=True, text=True,
                              timeout=120, check=True)  # fmt: skip
        event = proc.stdout.strip()
        db_command("backup", str(backup), "--base-dir", str(base))
        refused = db_command("restore", str(backup), "--base-dir", str(base), check=False)
        assert refused.returncode == 1
        assert "the database is not empty (it has public.audit" in refused.stderr
        db_command("restore", str(backup), "--base-dir", str(base), "--force")
        history = subprocess.run(
            [sys.executable, "-m", "services.cli", "events", "history", event, "--json",
             "--base-dir", str(base)],
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        (created,) = json.loads(history.stdout)
        assert (created["operation"], created["new_values"]["sheet_name"]) == ("INSERT", "Day 1")
    finally:
        link = base / ".fastseg" / "pg"
        if link.is_symlink():  # placed outside the tmp dir (run as root): clean up
            shutil.rmtree(os.path.realpath(link), ignore_errors=True)

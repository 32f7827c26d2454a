"""``fastseg events import`` / ``export``: CSV files against a real database."""

import csv
import datetime as dt
import subprocess
import sys

import pytest

from services.db import states

T0 = dt.datetime(2026, 11, 27, 17, 5, 12, 500000)


def events(*args, db, check=True):
    cmd = [sys.executable, "-m", "services.events", *args, "--db", db]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
    return proc


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def snapshot(db):
    return [r.as_dict() for r in states.list_events(db)]


def edited(db):
    event = states.add_event(db, "Day 1", event_start=T0, category="speedrun")
    states.edit(
        db, event, video_start=T0, video_end=T0 + dt.timedelta(seconds=30), video_title="Clip",
        video_channel="ch", upload_location="clips", editor="ed@example.com",
    )  # fmt: skip
    return event


def test_export_then_import_changes_nothing(db, pg_dsn, tmp_path):
    edited(db)
    states.add_event(
        db, "Day 2", event_start=T0, event_end=T0 + dt.timedelta(minutes=1),
        description='says "hi", twice\nthen leaves ', notes="ünïcode ✓",
        submitter_winner="Alice", poster_moment=True, image_links=["https://i/1.png"],
        tags=["Desert Bus", "fail"],
    )  # fmt: skip
    done = states.add_event(db, "Day 2", category="fail")
    states.manual_upload(db, done, "https://example.com/v")
    before = snapshot(db)
    out = tmp_path / "events.csv"
    events("export", str(out), db=pg_dsn)
    assert [r["state"] for r in rows(out)] == ["EDITED", "UNEDITED", "DONE"]
    assert [r["tags"] for r in rows(out)] == ["", "Desert Bus, fail", ""]

    result = events("import", str(out), db=pg_dsn)
    assert result.stdout.strip() == "0 added, 0 updated, 3 unchanged"
    assert snapshot(db) == before


def test_export_by_state_to_stdout(db, pg_dsn):
    event = edited(db)
    states.add_event(db, "Day 1")
    text = events("export", "-", "--state", "EDITED", db=pg_dsn).stdout
    lines = text.splitlines()
    assert lines[0].startswith("id,sheet_name,event_start,event_end,category")
    assert len(lines) == 2
    assert lines[1].startswith(f"{event},Day 1,2026-11-27T17:05:12.500000Z,,speedrun")


def test_new_rows_get_their_ids_written_back(db, pg_dsn, tmp_path):
    path = write(
        tmp_path / "sheet.csv",
        "Description,sheet_name,event_start,\n"  # a column without a name is ignored
        "First,Day 1,2026-11-27T17:00:00Z,scribbles\n"
        ",,,\n"  # a blank row: kept, not imported
        '"Second, with a comma",Day 1,2026-11-27T18:00:00Z,\n',
    )
    result = events("import", str(path), "--write-ids", db=pg_dsn)
    assert result.stdout.strip() == "2 added, 0 updated, 0 unchanged"
    written = rows(path)
    assert [r["Description"] for r in written] == ["First", "", "Second, with a comma"]
    by_id = {str(r.id): r for r in states.list_events(db)}
    assert written[1]["id"] == ""
    assert by_id[written[0]["id"]].description == "First"
    assert by_id[written[2]["id"]].event_start == dt.datetime(2026, 11, 27, 18)

    again = events("import", str(path), db=pg_dsn)  # no duplicates the second time
    assert again.stdout.strip() == "0 added, 0 updated, 2 unchanged"
    assert len(states.list_events(db)) == 2


def test_a_row_with_an_id_changes_only_sheet_inputs(db, pg_dsn, tmp_path):
    event = edited(db)
    path = write(
        tmp_path / "update.csv",
        f"id,description,state\n{event},now described,DONE\n",  # state is read-only
    )
    assert events("import", str(path), db=pg_dsn).stdout.strip() == (
        "0 added, 1 updated, 0 unchanged"
    )
    row = states.get_event(db, event)
    assert row.description == "now described"
    assert (row.state, row.video_title, row.category) == ("EDITED", "Clip", "speedrun")


def test_one_bad_row_writes_nothing(db, pg_dsn, tmp_path):
    path = write(
        tmp_path / "bad.csv",
        "sheet_name,event_start,event_end\n"
        "Day 1,2026-11-27T17:00:00,\n"
        '"Day\n1",not a time,\n'  # a quoted newline: the next row starts on line 5
        "Day 1,2026-11-27T17:00:00,2026-11-27T16:00:00\n",
    )
    result = events("import", str(path), db=pg_dsn, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: event_start: 'not a time' is not a time: give ISO 8601 such as "
        "2026-11-27T17:05:12.5Z (a zone is converted to UTC; none means UTC)",
        f"{path}:5: event_end '2026-11-27T16:00:00' is before event_start '2026-11-27T17:00:00'",
        f"fastseg events: nothing imported: 2 bad row(s) in {str(path)!r}; fix them, or pass "
        "--skip-bad to import the others",
    ]
    assert states.list_events(db) == []

    taken = events("import", str(path), "--skip-bad", db=pg_dsn)
    assert taken.stdout.strip() == "1 added, 0 updated, 0 unchanged, 2 bad row(s) skipped"
    assert len(states.list_events(db)) == 1


def test_an_unknown_id_rolls_back_rows_already_added(db, pg_dsn, tmp_path):
    missing = "0b9a0c8e-0000-4000-8000-000000000000"
    path = write(tmp_path / "ids.csv", f"id,sheet_name\n,Day 1\n{missing},Day 1\n")
    result = events("import", str(path), db=pg_dsn, check=False)
    assert result.returncode == 1
    assert f"{path}:3: no event has id {missing!r}: clear it to add the row" in result.stderr
    assert states.list_events(db) == []


def test_duplicate_ids_are_bad(db, pg_dsn, tmp_path):
    event = edited(db)
    path = write(tmp_path / "dup.csv", f"id,notes\n{event},a\n{event},b\n")
    result = events("import", str(path), db=pg_dsn, check=False)
    assert f"{path}:3: id {str(event)!r} is also on line 2" in result.stderr
    assert states.get_event(db, event).notes == ""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "the file is empty", id="empty"),
        pytest.param("sheet_name,evnt_start\n", "unknown column 'evnt_start'", id="typo"),
        pytest.param("notes,notes\n", "column 'notes' appears twice", id="twice"),
        pytest.param("notes\nx\n", "neither sheet_name nor id", id="no key column"),
        pytest.param('sheet_name\n"open\n', "line 2: unexpected end of data", id="open quote"),
    ],
)
def test_unusable_files(db, pg_dsn, tmp_path, text, message):
    path = write(tmp_path / "f.csv", text)
    result = events("import", str(path), db=pg_dsn, check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(f"fastseg events: cannot import {str(path)!r}: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_sheet_times_with_day_and_time_zone(db, pg_dsn, tmp_path):
    path = write(
        tmp_path / "day.csv",
        "sheet_name,event_start,event_end\nNight,23:50,00:10:30\nNight,2026-11-27T12:00Z,\n",
    )
    events("import", str(path), "--day", "2026-11-27", "--timezone", "America/Vancouver", db=pg_dsn)
    got = sorted((r.event_start, r.event_end) for r in states.list_events(db))
    assert got == [
        (dt.datetime(2026, 11, 27, 12), None),
        (dt.datetime(2026, 11, 28, 7, 50), dt.datetime(2026, 11, 28, 8, 10, 30)),
    ]


def test_bad_day_and_zone_options(pg_dsn, tmp_path):
    path = write(tmp_path / "x.csv", "sheet_name\nA\n")
    result = events("import", str(path), "--timezone", "Nowhere/City", db=pg_dsn, check=False)
    assert result.returncode == 2
    assert "time zone 'Nowhere/City' is unknown" in result.stderr
    result = events("import", str(path), "--day", "27/11/2026", db=pg_dsn, check=False)
    assert "'27/11/2026' is not a day: give YYYY-MM-DD" in result.stderr


def test_a_time_the_clocks_skip_is_a_bad_row(db, pg_dsn, tmp_path):
    path = write(tmp_path / "dst.csv", "sheet_name,event_start\nNight,00:30\nNight,01:30\n")
    args = ["import", str(path), "--day", "2026-03-29", "--timezone", "Europe/London"]
    result = events(*args, db=pg_dsn, check=False)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:3: event_start: '01:30' on 2026-03-29 does not exist in Europe/London: the "
        "clocks skip it (daylight saving); write the time with its UTC offset"
    )
    assert states.list_events(db) == []

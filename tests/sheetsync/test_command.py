"""``fastseg sheetsync`` as a process: its loop, back-off, /metrics and stop; its options."""

import json
import subprocess
import sys
import uuid

import pytest

from services.db import audit, states
from services.node.command import build_parser, service_argv
from services.sheetsync.config import load_config
from tests.servers import ServiceProcess
from tests.waiting import wait_until

from .conftest import write_config


def test_service_backs_off_api_faults_then_syncs(tmp_path, sheets, db, pg_dsn):
    sheets.set_row("Day 1", 2, ["09:30", "", "speedrun", "from the sheet"])
    sheets.fail_next = [(429, None), (503, None)]
    config = write_config(tmp_path, sheets)
    proc = ServiceProcess(
        "services.sheetsync", str(config), "--db", pg_dsn, "--metrics-port", "0",
        "--base-dir", str(tmp_path), "--log-level", "DEBUG",
    )  # fmt: skip
    try:
        wait_until(lambda: sheets.cell("Day 1", "F2"), "the id written back", timeout=60)
        event_id = uuid.UUID(sheets.cell("Day 1", "F2"))
        wait_until(lambda: states.list_events(db), "the event added", timeout=60)
        assert states.get_event(db, event_id).description == "from the sheet"
        (added,) = audit.history(db, "events", str(event_id))  # audited once, as the sync
        assert (added.actor, added.operation) == ("sheetsync", "INSERT")
        assert added.new_values["description"] == "from the sheet"
        assert proc.metric("fastseg_sheetsync_api_errors_total", kind="429") == 1
        assert proc.metric("fastseg_sheetsync_api_errors_total", kind="503") == 1
        assert proc.metric("fastseg_sheetsync_events_added_total") == 1
        assert proc.metric("fastseg_sheetsync_rows_read_total") >= 1
        assert proc.metric("fastseg_sheetsync_writebacks_total") == 1
        log = "\n".join(proc.lines)
        assert "injected RESOURCE_EXHAUSTED" in log
        assert "trying again in" in log
    finally:
        code = proc.stop()
    assert code == 0


def run(*args):
    cmd = [sys.executable, "-m", "services.sheetsync", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def test_a_bad_config_is_one_line_and_exit_2(tmp_path):
    path = tmp_path / "sync.json"
    path.write_text(json.dumps({"spreadsheet_id": "x"}))
    result = run(str(path), "--db", "postgresql://nowhere/x")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"fastseg sheetsync: error: {str(path)!r}: 'credentials' is missing or empty"
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param({"columns": {"description": "D"}}, "needs an 'id' column", id="no id"),
        pytest.param({"columns": {"id": "F", "notes": "F"}}, "are both column F", id="clash"),
        pytest.param({"columns": {"id": "F", "title": "A"}}, "column 'title' is not one of",
                     id="unknown column"),
        pytest.param({"columns": {"id": "6"}}, "'6' is not a column", id="not letters"),
        pytest.param({"worksheets": ["A", "A"]}, "a worksheet is listed twice", id="twice"),
        pytest.param({"day": "27.11.2026"}, "day '27.11.2026' is not YYYY-MM-DD", id="day"),
        pytest.param({"timezone": "Mars/Base"}, "time zone 'Mars/Base' is unknown", id="zone"),
        pytest.param({"poll": 5}, "unknown settings ['poll']", id="unknown setting"),
    ],
)  # fmt: skip
def test_config_errors_say_what_to_fix(tmp_path, sheets, settings, message):
    path = write_config(tmp_path, sheets, **settings)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_config(str(path))


def test_credentials_are_checked_when_the_config_is_read(tmp_path, sheets):
    path = write_config(tmp_path, sheets)
    (tmp_path / "google.json").write_text(json.dumps({"client_id": "cid"}))
    with pytest.raises(ValueError, match="lack client_secret, refresh_token"):
        load_config(str(path))


def test_config_ranges_and_cells_quote_sheet_names(tmp_path, sheets):
    config = load_config(str(write_config(tmp_path, sheets, worksheets=["Don't sync"])))
    assert config.range("Don't sync") == "'Don''t sync'!A2:I"
    assert config.cell("Don't sync", "video_link", 7) == "'Don''t sync'!I7"


def test_node_runs_the_sync_with_its_database(tmp_path):
    args = build_parser().parse_args(
        ["--channel", "ch", "--url", "http://x/m.m3u8", "--base-dir", str(tmp_path),
         "--sheet-sync", "/etc/fastseg/sheet.json"]
    )  # fmt: skip
    argv = service_argv(args, "dbname=x", 8000)
    assert argv["sheetsync"][0] == "/etc/fastseg/sheet.json"
    assert argv["sheetsync"][-2:] == ["--db", "dbname=x"]
    without = build_parser().parse_args(["--channel", "ch", "--url", "http://x/m.m3u8"])
    assert "sheetsync" not in service_argv(without, "dbname=x", 8000)

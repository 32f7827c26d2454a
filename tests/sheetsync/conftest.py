"""Fixtures for sheet sync tests: the database, a fake Google Sheets, a sync wired to both."""

import json

import prometheus_client
import pytest
import requests

from services.sheetsync.config import load_config
from services.sheetsync.metrics import Metrics
from services.sheetsync.sheets import SheetsClient
from services.sheetsync.sync import SheetSync
from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401

from .fake_sheets import FakeSheets

HEADER = ["Start", "End", "Category", "Description", "Notes", "id", "State", "Error", "Link"]
COLUMNS = {"event_start": "A", "event_end": "B", "category": "C", "description": "D",
           "notes": "E", "id": "F", "state": "G", "error": "H", "video_link": "I"}  # fmt: skip


@pytest.fixture
def sheets():
    fake = FakeSheets(sheets=("Day 1", "Day 2", "Don't sync"))
    for name in fake.sheets:
        fake.set_row(name, 1, HEADER)
    yield fake
    fake.close()


def write_config(tmp_path, fake, **settings):
    """A config file (and its credentials file) for ``fake``; returns its path."""
    creds = tmp_path / "google.json"
    creds.write_text(json.dumps(fake.credentials_json()))
    config = {
        "credentials": "google.json",
        "spreadsheet_id": fake.spreadsheet_id,
        "worksheets": [{"name": "Day 1", "day": "2026-11-27"}, "Day 2"],
        "timezone": "America/Vancouver",
        "first_row": 2,
        "columns": COLUMNS,
        "poll_interval": 0.2,
        "api_base": fake.url,
        **settings,
    }
    path = tmp_path / "sheetsync.json"
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
def make_sync(tmp_path, sheets, db):  # noqa: F811 - the fixture imported above
    """``make_sync(**settings)``: a SheetSync on the fake and the test database."""
    made = []

    def make(**settings):
        config = load_config(str(write_config(tmp_path, sheets, **settings)))
        session = requests.Session()
        oauth = config.oauth(session)
        client = SheetsClient(oauth, config.spreadsheet_id, api_base=config.api_base)
        registry = prometheus_client.CollectorRegistry()
        sync = SheetSync(config, client, db, Metrics(registry))
        sync.registry = registry
        made.append(session)
        return sync

    yield make
    for session in made:
        session.close()


def metric(sync, name, **labels):
    return sync.registry.get_sample_value(name, labels) or 0

"""Database fixtures (defined in tests/db/fixtures.py), and an archive to edit against."""

import datetime as dt

import pytest

from services.db import locations
from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: F401
from tests.media import store_segment


@pytest.fixture
def base(tmp_path, db):  # noqa: F811 - the db fixture imported above
    """An archive with 30 s of channel ch (quality source), and a cutter serving 'clips'."""
    root = tmp_path / "base"
    for i in range(15):
        start = dt.datetime(2026, 11, 27, 17) + dt.timedelta(seconds=2 * i)
        store_segment(root, "ch", "source", start, 2, f"segment {i}".encode())
    locations.record(db, "n1", [("clips", "local", None)])
    return root

"""Janitor test fixtures: one real MPEG-TS segment."""

import pytest


@pytest.fixture(scope="session")
def ts_segment(stream_factory) -> bytes:
    return stream_factory(seconds=4, segment_seconds=2).segment_bytes(0)


from tests.db.fixtures import db, pg_dsn, pg_server  # noqa: E402, F401 - retiring reads events

"""Janitor test fixtures: one real MPEG-TS segment."""

import pytest


@pytest.fixture(scope="session")
def ts_segment(stream_factory) -> bytes:
    return stream_factory(seconds=4, segment_seconds=2).segment_bytes(0)

"""A running cutter records the upload locations it serves, and keeps them live.

Real cutter processes on real PostgreSQL; the rows are what the events API's
``/api/locations`` and every edit check read.
"""

import pytest

from services.db import locations
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def live(db):
    return [(r.name, r.backend, r.public_url, r.nodes) for r in locations.live(db)]


def test_cutters_record_their_locations_and_drop_out_when_stale(
    cutters, db, pg_dsn, archive, tmp_path
):
    assert live(db) == []
    a = cutters.start(pg_dsn, archive, "a", [
        f"clips=local:{tmp_path / 'a'};url=http://a.example/clips", f"raw=local:{tmp_path / 'r'}",
    ])  # fmt: skip
    cutters.start(
        pg_dsn, archive, "b", [f"clips=local:{tmp_path / 'b'};url=http://a.example/clips"]
    )
    # One name served by two nodes the same way is one location; a file:// link is not public.
    both = [
        ("clips", "local", "http://a.example/clips/", ["a", "b"]),
        ("raw", "local", None, ["a"]),
    ]
    # (a alone also lists two locations: wait for b's row, not for a count)
    wait_until(lambda: live(db) == both, "both cutters' locations", 60, 0.2)
    assert a.stop() == 0, a.output()
    # A stopped cutter's rows age out: a minute past the live window, they are not listed.
    db.query("UPDATE locations SET heartbeat = heartbeat - %s WHERE node = 'a'",
             (locations.LIVE_FOR * 2,))  # fmt: skip
    assert live(db) == [("clips", "local", "http://a.example/clips/", ["b"])]


def test_record_replaces_what_a_node_served_before(db):
    locations.record(db, "n", [("x", "local", None), ("y", "youtube", "https://youtu.be/")])
    locations.record(db, "n", [("y", "youtube", "https://youtu.be/")])
    assert live(db) == [("y", "youtube", "https://youtu.be/", ["n"])]
    assert locations.heartbeat(db, "n") == 1
    assert locations.heartbeat(db, "nobody") == 0

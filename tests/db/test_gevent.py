"""Queries park only their own greenlet (checked in a subprocess: pytest is never patched)."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    from gevent import monkey; monkey.patch_all()
    import sys, gevent
    from services.db import Database

    order = []
    def slow():
        db = Database(sys.argv[1])
        db.query("SELECT 1")  # connected before the race starts
        order.append("query start")
        db.query("SELECT pg_sleep(0.5)")
        order.append("query done")
    def ticker():
        while "query done" not in order:
            if "query start" in order and "tick" not in order:
                order.append("tick")
            gevent.sleep(0.01)
    gevent.joinall([gevent.spawn(slow), gevent.spawn(ticker)], raise_error=True)
    print(" / ".join(order))
    """
)


def test_slow_query_lets_other_greenlets_run(pg_dsn):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, pg_dsn],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "query start / tick / query done"

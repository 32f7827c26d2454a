"""Upload locations the running cutters serve, so an edit can only name one that exists.

A cutter writes one row per ``--location`` (name, backend, public URL base)
when it starts, and touches them every :data:`HEARTBEAT` seconds. A location
is live while some cutter touched it within :data:`LIVE_FOR`; a cutter that
stopped drops out by itself, so nothing has to clean up after a crash.
"""

import datetime as dt
import logging
from typing import Any

import psycopg

from services.db.connection import Database

logger = logging.getLogger(__name__)

__all__ = ["HEARTBEAT", "LIVE_FOR", "heartbeat", "live", "record"]

HEARTBEAT = 30.0  # seconds between a cutter's touches
LIVE_FOR = dt.timedelta(minutes=2)  # four missed heartbeats and the location is gone

NOW = "(now() AT TIME ZONE 'UTC')"


def record(db: Database, node: str, served: list[tuple[str, str, str | None]]) -> None:
    """The node serves exactly these ``(name, backend, public_url)``: replace what it had."""

    def run(cur: psycopg.Cursor[Any]) -> None:
        cur.execute(
            "DELETE FROM locations WHERE node = %s AND NOT (name = ANY(%s))",
            (node, [name for name, _, _ in served]),
        )
        for name, backend, public_url in served:
            cur.execute(
                "INSERT INTO locations (node, name, backend, public_url, heartbeat)"
                f" VALUES (%s, %s, %s, %s, {NOW}) ON CONFLICT (node, name) DO UPDATE"
                " SET backend = EXCLUDED.backend, public_url = EXCLUDED.public_url,"
                " heartbeat = EXCLUDED.heartbeat",
                (node, name, backend, public_url),
            )

    db.transact(run, idempotent=True)
    logger.info("node %r serves upload locations %s", node, ", ".join(n for n, _, _ in served))


def heartbeat(db: Database, node: str) -> int:
    """Mark the node's locations as still served; returns how many it has."""
    rows = db.query(
        f"UPDATE locations SET heartbeat = {NOW} WHERE node = %s RETURNING name",
        (node,),
        idempotent=True,
    )
    return len(rows)


def live(db: Database, within: dt.timedelta = LIVE_FOR) -> list[Any]:
    """The live locations by name: ``name, backend, public_url, nodes`` (a list), sorted.

    Two cutters serving one name with different settings show as two rows.
    """
    return db.query(
        "SELECT name, backend, public_url, array_agg(node ORDER BY node) AS nodes"
        f" FROM locations WHERE heartbeat >= {NOW} - %s"
        " GROUP BY name, backend, public_url ORDER BY name, backend, public_url NULLS FIRST",
        (within,),
        idempotent=True,
    )

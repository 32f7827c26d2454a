"""The cutter's heartbeat: the upload locations it serves, kept fresh in the database.

Editors may only name a location that some live cutter serves (see
:mod:`services.db.locations`), so a cutter records its locations as
soon as the database answers and touches them every ``interval`` seconds. A
failed touch is logged and tried again at the next beat: the locations stay
live for several missed beats. Each beat also counts the events by state for
``fastseg_cutter_events``: the cutter is the service that talks to the database
all the time.
"""

import logging

import gevent.event

from services.cutter.metrics import CutterMetrics
from services.cutter.upload import UploadLocation
from services.db import Database, DatabaseError
from services.db import locations as served
from services.db.schema import STATES
from services.runtime import backoff

logger = logging.getLogger(__name__)

__all__ = ["Announcer"]


class Announcer:
    def __init__(
        self,
        db: Database,
        node: str,
        locations: dict[str, UploadLocation],
        stopping: gevent.event.Event,
        interval: float = served.HEARTBEAT,
        metrics: CutterMetrics | None = None,
    ):
        self.db = db
        self.node = node
        self.rows = [(loc.name, loc.backend, loc.public_url) for loc in locations.values()]
        self.stopping = stopping
        self.interval = interval
        self.metrics = metrics

    def run(self) -> None:
        recorded = False
        failures = 0
        while not self.stopping.is_set():
            try:
                # Re-recorded if our rows vanished (an operator cleared the table).
                if not recorded or served.heartbeat(self.db, self.node) < len(self.rows):
                    served.record(self.db, self.node, self.rows)
                    recorded = True
                if self.metrics is not None:
                    self.count_events()
                failures = 0
                wait = self.interval
            except DatabaseError as e:
                failures += 1
                wait = min(self.interval, backoff.delay(failures, base=0.5, cap=30))
                logger.warning("cannot record our upload locations (%s): again in %.1fs", e, wait)
            self.stopping.wait(wait)

    def count_events(self) -> None:
        """Set ``fastseg_cutter_events{state}``: every state, 0 for those no event is in."""
        counts = dict(self.db.query("SELECT state::text, count(*) FROM events GROUP BY state",
                                    idempotent=True))  # fmt: skip
        for state in STATES:
            self.metrics.events.labels(state).set(counts.get(state, 0))

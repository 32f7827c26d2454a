"""The transcode checker: TRANSCODING → DONE once the upload location says it is ready."""

import logging

import gevent.event

from services.cutter.upload import UploadLocation
from services.cutter.worker import clip_done
from services.db import Database, DatabaseError, states
from services.runtime import backoff
from services.runtime.notices import Notifier

logger = logging.getLogger(__name__)


class TranscodeChecker:
    """Asks each location about the videos it still processes, every ``interval`` seconds.

    Any cutter with the location checks any such row: the move to DONE is
    conditional, so two checkers agreeing is harmless, and a dead node's rows
    still finish.
    """

    def __init__(
        self,
        db: Database,
        locations: dict[str, UploadLocation],
        stopping: gevent.event.Event,
        interval: float,
        notifier: Notifier | None = None,
    ):
        self.notifier = notifier or Notifier([], "cutter", "")
        self.db = db
        self.locations = locations
        self.stopping = stopping
        self.interval = interval

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                self.check_once()
                failures = 0
                wait = self.interval
            except DatabaseError as e:
                failures += 1
                wait = backoff.delay(failures, 1.0, 30)
                logger.warning("transcode check failed (%s): again in %.1fs", e, wait)
            self.stopping.wait(wait)

    def check_once(self) -> int:
        """Move whatever is ready to DONE; returns how many."""
        rows = self.db.query(
            "SELECT id, upload_location, video_id, video_title, video_link, error FROM events"
            " WHERE state = 'TRANSCODING' AND upload_location = ANY(%s)",
            (list(self.locations),),
            idempotent=True,
        )
        by_location: dict[str, list] = {}
        for row in rows:
            by_location.setdefault(row.upload_location, []).append(row)
        moved = 0
        for name, location_rows in by_location.items():
            status = self.locations[name].check_ready([r.video_id for r in location_rows])
            for row in location_rows:
                verdict = status.get(row.video_id)
                if verdict == "":
                    if states.transcoded(self.db, row.id) is not None:
                        logger.info("event %s: video %r is ready", row.id, row.video_id)
                        clip_done(self.notifier, row.id, row.video_title, row.video_link)
                        moved += 1
                elif verdict and states.transcode_problem(self.db, row.id, verdict):
                    logger.warning("event %s: %s", row.id, verdict)
                    self.notifier.notify(
                        "event_failed", f"Event {row.id} ({row.video_title!r}): {verdict}",
                        event=str(row.id), title=row.video_title, error=verdict,
                        state="TRANSCODING",
                    )  # fmt: skip
        return moved

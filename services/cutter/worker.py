"""The cutter's job loop: find an EDITED event it can cut, claim it, cut, upload, record.

The order of writes follows docs/DESIGN.md#state-machine. The claim checks every edit input,
so an edit made after we looked is never cut with the old inputs. The row goes
to FINALIZING only once every byte is sent, just before the upload becomes
final; before that point any failure (or the row being taken away) leaves no
video behind, and after it only a certain answer moves the row anywhere but
FINALIZING-with-an-error. If the row stops being ours after the upload became
final, the process exits: its restart re-syncs (see :meth:`Cutter.recover`).
"""

import logging
import os
import random
import time
from collections.abc import Iterator

import gevent
import gevent.event

import fastseg
from services.archive import names
from services.cutter.metrics import CutterMetrics
from services.cutter.upload import UploadError, UploadLocation, UploadUnknown, VideoMeta
from services.cutting import CutError, fast_cut, fast_cut_ranges, full_cut, full_cut_ranges
from services.cutting.ranges import parts_for
from services.db import (
    ConnectionLost,
    Database,
    DatabaseError,
    DatabaseUnavailable,
    states,
)
from services.db.rows import EVENT_ROWS
from services.ranges import transitions_from_json
from services.runtime import backoff
from services.runtime.notices import Notifier

logger = logging.getLogger(__name__)

#: Seconds before a failing event's next failure is a notice again.
FAILED_NOTICE_EVERY = 900.0


def clip_done(notifier: Notifier, event_id, title: str | None, link: str | None) -> None:
    """The notice of a clip that is DONE: its title and link."""
    notifier.notify("clip_done", f"Clip done: {title} {link}",
                    event=str(event_id), title=title, link=link)  # fmt: skip


#: How often a running cut checks that its row is still ours (seconds).
OWNERSHIP_CHECK = 5.0
EXTENSIONS = {"mp4": "mp4", "fmp4": "mp4", "ts": "ts", "mkv": "mkv"}
RESTART_MESSAGE = (
    "cutter {name!r} restarted while this upload was finalizing: whether it was uploaded "
    "is unknown. Check {location!r}; then 'fastseg events manual-upload ID --link URL' "
    "if it is there, or 'fastseg events reset ID' if not"
)


class Fatal(Exception):
    """The database and the world disagree in a way only a restart can sort out."""


class RowStolen(Exception):
    """The event stopped being ours (cancelled, or taken) before the upload was final."""


class Stopping(Exception):
    """Asked to stop during a cut; the row goes back to EDITED."""


def _ranges(row) -> list[tuple]:
    """The event's ranges: video_ranges, or the one from video_start to video_end."""
    if row.video_ranges:
        return [tuple(r) for r in row.video_ranges]
    return [(row.video_start, row.video_end)]


class Cutter:
    def __init__(
        self,
        name: str,
        base_dir: str,
        db: Database,
        locations: dict[str, UploadLocation],
        stopping: gevent.event.Event,
        poll_interval: float = 5.0,
        metrics: CutterMetrics | None = None,
        wake: gevent.event.Event | None = None,
        notifier: Notifier | None = None,
    ):
        self.metrics = metrics or CutterMetrics.of()
        self.notifier = notifier or Notifier([], "cutter", name)
        self.name = name
        self.base_dir = base_dir
        self.db = db
        self.locations = locations
        self.stopping = stopping
        self.poll_interval = poll_interval
        # Set by the database's notification of an EDITED row (services.db.notify):
        # the loop looks at once instead of waiting out poll_interval, which stays the fallback.
        self.wake = wake or gevent.event.Event()
        self._retry_at: dict = {}  # event id -> (failures, monotonic time before which we skip it)

    # -- the loop ----------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._until_done(self.recover, "recovering our rows")
            self._loop()
        except Stopping:
            pass

    def _loop(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                worked = self.poll_once()
                failures = 0
            except DatabaseError as e:
                failures += 1
                delay = backoff.delay(failures, 1.0, 30)
                logger.warning("database trouble (%s): trying again in %.1fs", e, delay)
                self.stopping.wait(delay)
                continue
            if not worked:
                gevent.wait([self.stopping, self.wake], timeout=self.poll_interval, count=1)
                self.wake.clear()

    def recover(self) -> None:
        """Our CLAIMED rows back to EDITED; our FINALIZING rows flagged for an operator."""
        returned, flagged = states.recover(
            self.db,
            self.name,
            RESTART_MESSAGE.format(name=self.name, location="the upload location"),
        )
        if returned or flagged:
            logger.warning(
                "restart: %d claimed event(s) returned to EDITED, %d finalizing event(s) "
                "flagged for an operator",
                returned,
                flagged,
            )

    def candidates(self) -> list:
        rows = self.db.query(
            "SELECT * FROM events WHERE state = 'EDITED' AND upload_location = ANY(%s)"
            " AND (uploader_whitelist = '{}' OR %s = ANY(uploader_whitelist))",
            (list(self.locations), self.name),
            idempotent=True,
            rows=EVENT_ROWS,
        )
        random.shuffle(rows)  # several cutters should not all go for the same row first
        now = time.monotonic()
        return [r for r in rows if self._retry_at.get(r.id, (0, 0))[1] <= now]

    def poll_once(self) -> bool:
        """Cut at most one event; True if one was claimed."""
        for row in self.candidates():
            if self.stopping.is_set():
                return False
            segments = self.find_segments(row)
            if segments is None:
                continue
            claimed = self.claim(row)
            if claimed is None:
                logger.debug("event %s: another cutter got it first, or it changed", row.id)
                continue
            self.cut_and_upload(claimed, segments)
            return True
        return False

    def claim(self, row):
        try:
            return states.claim(self.db, row, self.name)
        except ConnectionLost:
            # Did it happen? Read the row back on a new connection and find out.
            current = states.get_event(self.db, row.id)
            if current.state == "CLAIMED" and current.uploader == self.name:
                return current
            return None

    def find_segments(self, row) -> list | None:
        """The segments to cut, or None to leave the row for now (noting holes on it)."""
        if not (names.is_safe_name(row.video_channel) and names.is_safe_name(row.video_quality)):
            states.set_error(
                self.db,
                row.id,
                f"channel {row.video_channel!r} / quality {row.video_quality!r} is not a "
                "directory name: edit the event with the right ones",
            )
            return None
        hours = os.path.join(self.base_dir, row.video_channel, row.video_quality)
        spans = _ranges(row)
        found = [fastseg.get_best_segments(hours, a, b, allow_holes=True) for a, b in spans]
        if not any(s is not None for segments in found for s in segments):
            logger.debug("event %s: none of its video is here", row.id)
            return None
        if not row.allow_holes:
            try:
                for a, b in spans:
                    fastseg.get_best_segments(hours, a, b, allow_holes=False)
            except fastseg.ContainsHoles as e:
                if states.set_error(
                    self.db,
                    row.id,
                    f"{e}: waiting for that video to arrive; edit with allow_holes to cut anyway",
                ):
                    logger.info("event %s: %s", row.id, e)
                return None
        if row.video_ranges:  # several ranges: (segments, start, end) for each
            return parts_for(hours, spans, allow_holes=True)
        return found[0]

    # -- one job -----------------------------------------------------------------------

    def cut_and_upload(self, row, segments: list) -> None:
        location = self.locations[row.upload_location]
        labels = dict(channel=row.video_channel, quality=row.video_quality, location=location.name)
        encoding = location.encoding
        meta = VideoMeta(
            title=row.video_title,
            description=row.video_description,
            tags=(row.category,) if row.category else (),
            extension="ts" if encoding is None else EXTENSIONS[encoding.container],
        )
        logger.info("event %s: cutting %r for %r", row.id, row.video_title, location.name)
        started = time.monotonic()
        cut = None
        phase = ["cutting"]
        cut_done = [started]

        def finalize() -> None:
            cut_done[0] = time.monotonic()
            self.metrics.cut_seconds.labels(location.name).observe(cut_done[0] - started)
            if self.stopping.is_set():
                raise Stopping()
            if self._finalizing(row.id) is None:
                raise RowStolen()
            phase[0] = "finalizing"

        try:
            # The engine checks and plans the cut before returning its generator,
            # so its errors (holes, unreadable segments) arrive here as well as mid-cut.
            if row.video_ranges:
                transitions = transitions_from_json(row.video_transitions)
                if encoding is None:
                    cut = fast_cut_ranges(segments, transitions, allow_holes=row.allow_holes)
                else:
                    cut = full_cut_ranges(
                        segments, transitions, encoding, allow_holes=row.allow_holes
                    )
            elif encoding is None:
                cut = fast_cut(
                    segments, row.video_start, row.video_end, allow_holes=row.allow_holes
                )
            else:
                cut = full_cut(
                    segments, row.video_start, row.video_end, encoding, allow_holes=row.allow_holes
                )
            result = location.upload(meta, self._watched(cut, row.id), finalize)
        except RowStolen:
            logger.info("event %s: no longer ours; abandoned its cut before finalizing", row.id)
            return
        except Stopping:
            logger.info("event %s: stopping; returning it to EDITED", row.id)
            self._record(states.retry_later, row.id, self.name, None)
            return
        except UploadUnknown as e:
            self._failed(row, labels, "FINALIZING", f"upload may or may not have happened: {e}")
            self._record(states.finalize_unknown, row.id, self.name, self._message(e))
            return
        except UploadError as e:
            self._upload_error(row, labels, phase[0], e, e.retryable)
            return
        except (CutError, fastseg.ContainsHoles, ValueError) as e:
            self._upload_error(row, labels, phase[0], e, isinstance(e, fastseg.ContainsHoles))
            return
        except DatabaseError as e:
            # Lost the database before the upload became final (finalize() could not
            # reach it): no video exists, so the job is simply tried again later.
            self._upload_error(row, labels, phase[0], e, True)
            return
        except Exception as e:
            logger.exception("event %s: unexpected error", row.id)
            if phase[0] == "finalizing":
                self._failed(row, labels, "FINALIZING", str(e))
                self._record(states.finalize_unknown, row.id, self.name, self._message(e))
            else:
                self._upload_error(row, labels, phase[0], e, False)
            return
        finally:
            if cut is not None and hasattr(cut, "close"):
                cut.close()  # kills ffmpeg and removes temp files if the cut did not finish

        self.metrics.upload_seconds.labels(location.name).observe(time.monotonic() - cut_done[0])
        done = self._record(
            states.finished,
            row.id,
            self.name,
            result.video_id,
            result.link,
            result.transcoding,
        )
        if done is None:
            raise Fatal(
                f"event {row.id} was uploaded as {result.link!r} but is no longer ours in the "
                "database: exiting so that a restart re-syncs"
            )
        self._retry_at.pop(row.id, None)
        self.metrics.videos_uploaded.labels(**labels, final_state=done.state).inc()
        logger.info("event %s: uploaded as %r (%s)", row.id, result.link, done.state)
        if done.state == "DONE":
            clip_done(self.notifier, row.id, row.video_title, result.link)

    def _message(self, e: Exception) -> str:
        return f"cutter {self.name!r}: {e}"

    def _failed(self, row, labels, final_state: str, what: str) -> None:
        self.metrics.upload_errors.labels(**labels, final_state=final_state).inc()
        logger.warning("event %s: %s (now %s)", row.id, what, final_state)
        # A job retried with backoff fails again and again: one notice per event and quarter.
        self.notifier.notify(
            "event_failed",
            f"Event {row.id} ({row.video_title!r}) failed on {self.name}: {what} "
            f"(now {final_state})",
            key=f"failed {row.id} {final_state}", every=FAILED_NOTICE_EVERY,
            event=str(row.id), title=row.video_title, error=what, state=final_state,
            location=row.upload_location,
        )  # fmt: skip

    def _upload_error(self, row, labels, phase: str, e: Exception, retryable: bool) -> None:
        """A failure we are sure left no video: back to EDITED (retryable) or UNEDITED."""
        message = self._message(e)
        if phase == "finalizing":
            self._record(states.finalize_failed, row.id, self.name, message, retryable)
        elif retryable:
            self._record(states.retry_later, row.id, self.name, message)
        else:
            self._record(states.unclaim_failed, row.id, self.name, message)
        if retryable:
            failures = self._retry_at.get(row.id, (0, 0))[0] + 1
            # Back off from a row that keeps failing, so one bad job cannot hog the cutter.
            wait = backoff.delay(failures, 2, 300, backoff.no_jitter)
            self._retry_at[row.id] = (failures, time.monotonic() + wait)
        self._failed(row, labels, "EDITED" if retryable else "UNEDITED", str(e).splitlines()[0])

    def _finalizing(self, event_id):
        """The row moved to FINALIZING if it is still ours, else None.

        Waits out a database that is away: the upload is done and only this
        step makes it final, so giving up here would throw the upload away.
        """
        attempt = 0
        while True:
            try:
                return states.finalizing(self.db, event_id, self.name)
            except ConnectionLost:
                current = self._until_done(
                    lambda: states.get_event(self.db, event_id), "re-reading"
                )
                if current.state == "FINALIZING" and current.uploader == self.name:
                    return current
                if not (current.state == "CLAIMED" and current.uploader == self.name):
                    return None
            except DatabaseUnavailable as e:  # nothing was sent: simply try again
                attempt += 1
                self._wait_for_database(attempt, "finalizing", e)

    def _watched(self, cut: Iterator[bytes], event_id) -> Iterator[bytes]:
        """The cut's bytes; stops it early if the row is taken away or we are stopping."""
        checked = time.monotonic()
        for chunk in cut:
            yield chunk
            if self.stopping.is_set():
                raise Stopping()
            if time.monotonic() - checked > OWNERSHIP_CHECK:
                checked = time.monotonic()
                try:
                    ours = states.still_ours(self.db, event_id, self.name)
                except DatabaseError:
                    continue  # can't tell now; the FINALIZING step checks for certain
                if not ours:
                    raise RowStolen()

    def _record(self, fn, *args):
        """A write that must land, whatever the database is doing: retried until it does.

        The writes after a claim are conditional on the row still being ours,
        so repeating one that did land matches nothing the second time; for
        ``finished`` that would look like a stolen row, so a lost connection
        there is settled by reading the row back.
        """
        attempt = 0
        while True:
            try:
                return fn(self.db, *args)
            except ConnectionLost:
                if fn is states.finished:
                    current = self._until_done(
                        lambda: states.get_event(self.db, args[0]), "re-reading"
                    )
                    if current.state in ("TRANSCODING", "DONE") and current.video_id == args[2]:
                        return current
                attempt += 1
            except DatabaseError as e:
                attempt += 1
                logger.warning("cannot record the outcome yet (%s)", e)
            if self.stopping.is_set() and fn is not states.finished:
                return None  # our restart will find the row CLAIMED and recover it
            # A plain sleep: even when stopping, a finished upload must be recorded.
            time.sleep(backoff.delay(attempt, 1.0, 10))

    def _until_done(self, fn, what: str):
        attempt = 0
        while True:
            try:
                return fn()
            except DatabaseError as e:
                attempt += 1
                self._wait_for_database(attempt, what, e)

    def _wait_for_database(self, attempt: int, what: str, error: Exception) -> None:
        delay = backoff.delay(attempt, 1.0, 10)
        logger.warning(
            "%s failed (%s): waiting for the database, again in %.1fs", what, error, delay
        )
        if self.stopping.wait(delay):
            raise Stopping() from error

"""The cutter's job loop: find an EDITED event it can cut, claim it, cut, upload, record.

The order of writes follows docs/DESIGN.md#state-machine. The claim checks every edit input,
so an edit made after we looked is never cut with the old inputs. The row goes
to FINALIZING only once every byte is sent, just before the upload becomes
final; before that point any failure (or the row being taken away) leaves no
video behind, and after it only a certain answer moves the row anywhere but
FINALIZING-with-an-error. If the row stops being ours after the upload became
final, the process exits: its restart re-syncs (see :meth:`Cutter.recover`).
"""

import dataclasses
import datetime as dt
import logging
import os
import random
import time
from collections.abc import Iterator
from typing import Any

import gevent
import gevent.event

import fastseg
from services import cutting
from services.archive import names
from services.cutter.metrics import CutterMetrics
from services.cutter.thumbnail import NoFrame, make_thumbnail
from services.cutter.upload import (
    UploadError,
    UploadLocation,
    UploadResult,
    UploadUnknown,
    VideoMeta,
)
from services.cutting import CutError, Part, Transition
from services.db import (
    ConnectionLost,
    Database,
    DatabaseError,
    DatabaseUnavailable,
    states,
)
from services.db.publishing import Conventions, Published, check_published, compose
from services.db.rows import EVENT_ROWS
from services.db.thumbnails import TemplateNotFound, attribution
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


def _ranges(row: Any) -> list[tuple[dt.datetime, dt.datetime]]:
    """The event's ranges: video_ranges, or the one from video_start to video_end."""
    if row.video_ranges:
        return [(start, end) for start, end in row.video_ranges]
    return [(row.video_start, row.video_end)]


@dataclasses.dataclass
class Job:
    """One claimed event on its way to its upload location."""

    row: Any  # the events row as claimed (services.db rows are untyped)
    location: UploadLocation
    parts: list[Part]  # its ranges with their segments
    meta: VideoMeta  # what the upload is called (video_meta)
    started: float = dataclasses.field(default_factory=time.monotonic)
    cut_done: float | None = None  # when the last byte was handed to the upload
    phase: str = "cutting"  # "finalizing" once the row is FINALIZING
    thumbnail: bytes | None = None  # the JPEG to set after the upload (docs/DESIGN.md#thumbnails)

    @property
    def kind(self) -> str:
        """A fast cut (MPEG-TS) unless the location re-encodes to its own Encoding."""
        return "fast" if self.location.encoding is None else "full"

    @property
    def transitions(self) -> list[Transition | None] | None:
        """How the ranges join (ValueError if the row's JSON is bad)."""
        if not self.row.video_ranges:
            return None
        return transitions_from_json(self.row.video_transitions)

    @property
    def labels(self) -> dict[str, str]:
        row = self.row
        return dict(channel=row.video_channel, quality=row.video_quality,
                    location=self.location.name)  # fmt: skip


def video_meta(
    row: Any,
    location: UploadLocation,
    conventions: Conventions | None = None,
    thumbnail_attribution: str | None = None,
) -> VideoMeta:
    """What the upload is called and tagged with: the event's own text with the team's
    additions (services.db.publishing), unchecked (:func:`check_meta` checks it)."""
    published = compose(
        conventions or Conventions(),
        row.video_title,
        row.video_description,
        row.video_tags,
        playlist_lines=(),  # the playlists the video is in: none are kept yet
        thumbnail_attribution=thumbnail_attribution,  # a TEMPLATE thumbnail's credit
    )
    encoding = location.encoding
    return VideoMeta(
        title=published.title,
        description=published.description,
        tags=published.tags,
        extension="ts" if encoding is None else EXTENSIONS[encoding.container],
        public=row.public,
    )


def check_meta(meta: VideoMeta) -> None:
    """ValueError unless the metadata keeps YouTube's limits: conventions changed since
    the edit are refused rather than anything cut off."""
    problems = check_published(Published(meta.title, meta.description, meta.tags))
    if problems:
        raise ValueError("; ".join(problems))


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
        publishing: Conventions | None = None,
    ):
        self.metrics = metrics or CutterMetrics.of()
        self.notifier = notifier or Notifier([], "cutter", name)
        self.name = name
        self.base_dir = base_dir
        self.db = db
        self.locations = locations
        self.publishing = publishing or Conventions()  # docs/DESIGN.md#publishing
        self.publishing = publishing or Conventions()  # docs/DESIGN.md#publishing
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
            parts = self.find_parts(row)
            if parts is None:
                continue
            claimed = self.claim(row)
            if claimed is None:
                logger.debug("event %s: another cutter got it first, or it changed", row.id)
                continue
            self.cut_and_upload(claimed, parts)
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

    def find_parts(self, row: Any) -> list[Part] | None:
        """The ranges with their segments, or None to leave the row for now (noting
        holes on it)."""
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
        return cutting.parts_for(hours, spans, allow_holes=True)

    # -- one job -----------------------------------------------------------------------

    def cut_and_upload(self, row: Any, parts: list[Part]) -> None:
        """Cut a claimed event, upload it, and record the outcome on the row."""
        location = self.locations[row.upload_location]
        job = Job(row, location, parts, video_meta(row, location, self.publishing))
        logger.info("event %s: cutting %r for %r", row.id, row.video_title, job.location.name)
        try:
            result = self._cut_and_send(job)
        except Exception as e:  # every failure is recorded on the row: see _settle_failure
            self._settle_failure(job, e)
            return
        self._record_upload(job, result)

    def _cut_and_send(self, job: Job) -> UploadResult:
        """The cut's bytes to the location; the row goes FINALIZING just before the
        upload becomes final (:meth:`_finalize`).

        The engine checks and plans the cut before returning its generator, so its
        errors (holes, unreadable segments) arrive here as well as mid-cut. The
        metadata (with a TEMPLATE thumbnail's credit) is checked and the thumbnail made
        first: either failing fails the job while no video exists.
        """
        row = job.row
        credit = attribution(self.db, row.thumbnail_mode, row.thumbnail_template)
        if credit:
            job.meta = video_meta(row, job.location, self.publishing, credit)
        check_meta(job.meta)
        job.thumbnail = make_thumbnail(self.db, self.base_dir, row)
        clip = cutting.cut(
            job.parts, job.kind, job.transitions, job.location.encoding,
            allow_holes=job.row.allow_holes,
        )  # fmt: skip
        try:
            chunks = self._watched(clip, job.row.id)
            return job.location.upload(job.meta, chunks, lambda: self._finalize(job))
        finally:
            close = getattr(clip, "close", None)
            if close is not None:
                close()  # kills ffmpeg and removes temp files if the cut did not finish

    def _finalize(self, job: Job) -> None:
        """Called by the upload once every byte is sent: the row to FINALIZING, if ours."""
        job.cut_done = time.monotonic()
        self.metrics.cut_seconds.labels(job.location.name).observe(job.cut_done - job.started)
        if self.stopping.is_set():
            raise Stopping()
        if self._finalizing(job.row.id) is None:
            raise RowStolen()
        job.phase = "finalizing"

    def _settle_failure(self, job: Job, e: Exception) -> None:
        """Record how a job failed. Before FINALIZING no video exists, so the row goes
        back to EDITED (retryable) or UNEDITED; after it, only a certain answer moves
        the row anywhere but FINALIZING-with-an-error."""
        row = job.row
        if isinstance(e, RowStolen):
            logger.info("event %s: no longer ours; abandoned its cut before finalizing", row.id)
        elif isinstance(e, Stopping):
            logger.info("event %s: stopping; returning it to EDITED", row.id)
            self._record(states.retry_later, row.id, self.name, None)
        elif isinstance(e, UploadUnknown):
            self._unknown(job, e, f"upload may or may not have happened: {e}")
        elif isinstance(e, UploadError):
            self._upload_error(job, e, e.retryable)
        elif isinstance(e, CutError | fastseg.ContainsHoles | ValueError | TemplateNotFound):
            # a thumbnail's frame not here yet is retried, like a hole
            self._upload_error(job, e, isinstance(e, fastseg.ContainsHoles | NoFrame))
        elif isinstance(e, DatabaseError):
            # Lost the database before the upload became final (_finalize could not
            # reach it): no video exists, so the job is simply tried again later.
            self._upload_error(job, e, True)
        else:
            logger.error("event %s: unexpected error", row.id, exc_info=e)
            if job.phase == "finalizing":
                self._unknown(job, e, str(e))
            else:
                self._upload_error(job, e, False)

    def _record_upload(self, job: Job, result: UploadResult) -> None:
        """The upload is final: the row to TRANSCODING or DONE, or exit if not ours."""
        row, location = job.row, job.location
        cut_done = job.started if job.cut_done is None else job.cut_done
        self.metrics.upload_seconds.labels(location.name).observe(time.monotonic() - cut_done)
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
        self.metrics.videos_uploaded.labels(**job.labels, final_state=done.state).inc()
        logger.info("event %s: uploaded as %r (%s)", row.id, result.link, done.state)
        if done.state == "DONE":
            clip_done(self.notifier, row.id, row.video_title, result.link)
        if job.thumbnail is not None:
            self._set_thumbnail(job, result, job.thumbnail)

    def _set_thumbnail(self, job: Job, result: UploadResult, jpeg: bytes) -> None:
        """After the upload: set the thumbnail; a failure is noted on the event, the video stays."""
        row, location = job.row, job.location
        try:
            location.set_thumbnail(result, job.meta, jpeg)
        except Exception as e:  # whatever it is, the uploaded video must not be lost for it
            if not isinstance(e, UploadError):
                logger.error("event %s: unexpected error setting the thumbnail", row.id, exc_info=e)
            self.metrics.thumbnail_errors.labels(location.name).inc()
            logger.warning("event %s: thumbnail not set: %s", row.id, e)
            message = (
                f"cutter {self.name!r}: the video is uploaded ({result.link}) but its thumbnail "
                f"could not be set: {str(e).splitlines()[0]}; set it by hand, or reset and edit"
            )
            self._record(states.thumbnail_failed, row.id, self.name, message)
            return
        self._record(states.thumbnail_written, row.id, self.name, jpeg)

    def _message(self, e: Exception) -> str:
        return f"cutter {self.name!r}: {e}"

    def _failed(self, job: Job, final_state: str, what: str) -> None:
        row = job.row
        self.metrics.upload_errors.labels(**job.labels, final_state=final_state).inc()
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

    def _unknown(self, job: Job, e: Exception, what: str) -> None:
        """A failure while finalizing that may have left a video: flagged for an operator."""
        self._failed(job, "FINALIZING", what)
        self._record(states.finalize_unknown, job.row.id, self.name, self._message(e))

    def _upload_error(self, job: Job, e: Exception, retryable: bool) -> None:
        """A failure we are sure left no video: back to EDITED (retryable) or UNEDITED."""
        row = job.row
        message = self._message(e)
        if job.phase == "finalizing":
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
        self._failed(job, "EDITED" if retryable else "UNEDITED", str(e).splitlines()[0])

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

"""Per channel: a manager that resolves the master playlist, and per quality a worker polling it.

A :class:`StreamWorker` polls one media playlist at the pace it asks for and hands
each new entry, with its start time, to a segment getter. When its playlist fails,
stalls, expires or jumps in time, it asks the :class:`ChannelManager` for a
replacement; the manager re-fetches the master playlist and starts a new worker for
that quality, and only once the new worker has read its first playlist is the old
one stopped, so the two overlap and no segment falls between them.
"""

import dataclasses
import datetime as dt
import logging
import time

import gevent
import gevent.event
import gevent.pool
import requests

from fastseg import FUDGE
from services.archive import names, times
from services.downloader.getter import InitCache, Segment, SegmentGetter, Timeouts
from services.downloader.metrics import DownloaderMetrics
from services.downloader.outage import Outage
from services.downloader.playlist import (
    PlaylistError,
    URLExpired,
    fetch_text,
    parse_media,
)
from services.downloader.variants import choose
from services.runtime import backoff
from services.runtime.notices import Notifier

logger = logging.getLogger(__name__)

#: A quality whose newest listed segment started longer ago than this is behind (the
#: FastsegRecordingBehind alert's threshold): a notice.
BEHIND_AFTER = 60.0
#: Seconds before missed segments of one quality are a notice again.
MISSED_NOTICE_EVERY = 300.0

#: Failed media playlist fetches in a row before asking for a fresh master playlist.
FAILURES_BEFORE_REPLACING = 3
#: A playlist unchanged for this many target durations has stalled.
STALE_TARGET_DURATIONS = 3
#: Minimum seconds between master playlist fetches, and the cap of their backoff.
MASTER_MIN_INTERVAL = 1.0
MASTER_MAX_BACKOFF = 30.0
#: Known entries kept behind the live window (to recognise entries listed again).
KEEP_BEHIND = 200
#: Refused variants logged one by one per master playlist; the rest in one line.
REFUSALS_LOGGED = 10


@dataclasses.dataclass
class _Known:
    seq: int
    start: dt.datetime
    duration: dt.timedelta


class StreamWorker:
    """Polls one media playlist URL until stopped; see the module docstring."""

    def __init__(self, manager: "ChannelManager", quality: str, url: str, number: int):
        self.manager = manager
        self.quality = quality
        self.url = url
        self.name = f"{manager.channel}/{quality}#{number}"
        self.stopping = gevent.event.Event()
        self.known: dict[str, _Known] = {}
        self.by_seq: dict[int, _Known] = {}
        self.suspect = False  # set by a time jump: every later entry of this worker is doubtful
        self.replacing = False
        self.labels = dict(channel=manager.channel, quality=quality)
        self.metrics = manager.metrics
        self.outage = Outage(f"worker {self.name}", url)

    def stop(self) -> None:
        self.stopping.set()

    def replace(self, why: str) -> None:
        """Ask the manager for a new worker (once); this one keeps polling until it is ready."""
        if not self.replacing:
            self.replacing = True
            logger.info("worker %s: %s: asking for a fresh one", self.name, why)
            self.manager.replace(self)

    def run(self) -> None:
        first = True
        failures = 0
        last_text = None
        last_change = time.monotonic()
        while not self.stopping.is_set() and not self.manager.stopping.is_set():
            polled = time.monotonic()
            wait = 1.0
            try:
                text = fetch_text(self.manager.provider.session, self.url)
                playlist = parse_media(text, self.url)
            except URLExpired as e:
                self.metrics.playlist_errors.labels(**self.labels, kind="expired").inc()
                logger.warning("worker %s: %s", self.name, e)
                self.replace("media playlist URL expired")
                wait = 2.0
            except (requests.RequestException, PlaylistError) as e:
                failures += 1
                self.manager.troubled.add(self.quality)
                self.metrics.playlist_errors.labels(**self.labels, kind=type(e).__name__).inc()
                wait = backoff.delay(failures, 0.5, 8.0, backoff.no_jitter)
                self.outage.failed(e, wait)
                if failures >= FAILURES_BEFORE_REPLACING:
                    self.replace("media playlist keeps failing")
            else:
                failures = 0
                self.outage.succeeded()
                if first:
                    self.manager.ready(self)
                try:
                    self.process(playlist, first_playlist=first)
                except Exception:
                    # A playlist this code did not expect must not end the recording.
                    self.metrics.playlist_errors.labels(**self.labels, kind="unexpected").inc()
                    logger.exception("worker %s: could not process %r", self.name, self.url)
                first = False
                target = float(playlist.target_duration)
                now = time.monotonic()
                if text != last_text:
                    # RFC 8216 §6.3.4: after a change, wait a target duration...
                    last_text, last_change, wait = text, now, target
                elif now - last_change > STALE_TARGET_DURATIONS * target or playlist.is_endlist:
                    self.replace("media playlist stalled")
                    wait = target  # ...and poll a stale one no faster than that
                else:
                    wait = target / 2  # ...and half of it when nothing changed
            self.stopping.wait(max(0.0, wait - (time.monotonic() - polled)))
        logger.debug("worker %s stopped", self.name)

    def process(self, playlist, first_playlist: bool = False) -> None:
        """Give every new entry its start time and a getter; mark time jumps.

        A fresh worker takes its first playlist's times as they are: it was started
        because of a jump that may still be in the window.
        """
        provider = self.manager.provider
        prev: _Known | None = None
        first_seq = playlist.media_sequence or 0
        newest = self.manager.newest.get(self.quality)
        for i, seg in enumerate(playlist.segments):
            uri = seg.absolute_uri
            seq = first_seq + i
            known = self.known.get(uri)
            if known is not None:  # seen before (or listed twice): its time is settled
                prev = known
                continue
            if prev is None:
                prev = self.by_seq.get(seq - 1)
            expected = prev.start + prev.duration if prev is not None else None
            duration = dt.timedelta(seconds=seg.duration)
            if seg.program_date_time is not None:
                start = times.naive_utc(seg.program_date_time)
            elif expected is not None:
                start = expected
            else:
                # No clock in the playlist and nothing before: the local clock is all there is.
                rest = sum(s.duration for s in playlist.segments[i:])
                start = times.utc_now() - dt.timedelta(seconds=rest)
                logger.info(
                    "worker %s: no program date time: timing from the local clock", self.name
                )
            if not first_playlist and expected is not None and abs(start - expected) > FUDGE:
                self.metrics.time_jumps.labels(**self.labels).inc()
                logger.warning(
                    "worker %s: %r starts at %s, %.3f s from where the previous one ended: "
                    "later segments are suspect",
                    self.name, uri, start.isoformat(), (start - expected).total_seconds(),
                )  # fmt: skip
                self.suspect = True
                self.replace("time jump")
            entry = self.known[uri] = self.by_seq[seq] = _Known(seq, start, duration)
            if newest is not None and i == 0:
                # Nothing seen before is listed any more: what lies between left unseen.
                # (A gap after entries we know is the stream skipping, not us missing.)
                self.manager.check_missed(self.quality, newest, entry)
            prev = entry
            if provider.is_ad(seg, playlist, start):
                self.metrics.ads_dropped.labels(**self.labels).inc()
                logger.info("worker %s: dropping ad segment %r", self.name, uri)
                continue
            init = seg.init_section.absolute_uri if seg.init_section is not None else None
            self.manager.get(self.quality, Segment(uri, start, duration, self.suspect, init))
        if prev is not None:
            if (
                self.quality not in self.manager.newest
                or prev.seq > self.manager.newest[self.quality].seq
            ):
                self.manager.newest[self.quality] = prev
            self.manager.troubled.discard(self.quality)
            end = prev.start + prev.duration
            self.metrics.latest_segment.labels(**self.labels).set(
                prev.start.replace(tzinfo=dt.UTC).timestamp()
            )
            now = times.utc_now()
            self.metrics.time_skew.labels(**self.labels).set((now - end).total_seconds())
        # Forget entries long gone from the window (the dicts would grow all week).
        for seq in [s for s in self.by_seq if s < first_seq - KEEP_BEHIND]:
            del self.by_seq[seq]
        if len(self.known) > len(self.by_seq) + KEEP_BEHIND:
            live = {id(k) for k in self.by_seq.values()}
            self.known = {u: k for u, k in self.known.items() if id(k) in live}


class ChannelManager:
    """Everything for one channel: master playlist, a worker per quality, their getters."""

    def __init__(
        self,
        channel: str,
        provider,
        qualities: list[str] | None,
        base_dir: str,
        timeouts: Timeouts,
        stopping: gevent.event.Event,
        metrics: DownloaderMetrics | None = None,
        notifier: Notifier | None = None,
    ):
        self.metrics = metrics or DownloaderMetrics.of()
        self.notifier = notifier or Notifier([], "downloader", "")
        self.behind: set[str] = set()  # qualities told to be behind, not yet caught up
        self.channel = channel
        self.provider = provider
        self.qualities = qualities
        self.base_dir = base_dir
        self.timeouts = timeouts
        self.stopping = stopping
        self.workers: dict[str, list[StreamWorker]] = {}
        self.pending: set[str] = set()  # qualities whose newest worker asked to be replaced
        self.refresh = gevent.event.Event()
        self.getters = gevent.pool.Group()  # getters and their attempts, killed at stop
        self.inflight: dict[tuple[str, bool], gevent.Greenlet] = {}
        self.inits = InitCache(provider.session)
        self.count = 0
        # Per quality: the newest entry any worker has seen, to notice segments that came
        # and went unseen; and the qualities whose playlists failed since then.
        self.newest: dict[str, _Known] = {}
        self.troubled: set[str] = set()
        url = getattr(provider, "urls", {}).get(channel, "the master playlist")
        self.outage = Outage(f"channel {channel!r}", url)
        self.recording: list[str] | None = None
        self.missing: list[str] = []
        self.refused: dict[str, tuple[str, str]] = {}  # as the last master had them
        self.unwritable: set[str] = set()  # qualities whose directory is outside BASE

    def check_missed(self, quality: str, newest: _Known, entry: _Known) -> None:
        """Log and count the segments between ``newest`` and ``entry`` that nobody saw listed.

        A sequence gap alone is not enough (a new session may number afresh), nor a
        time gap alone (the stream itself may pause): both mean segments were missed.
        """
        missed = entry.seq - newest.seq - 1
        gap_start = newest.start + newest.duration
        if missed <= 0 or entry.start - gap_start <= FUDGE:
            return
        why = (
            "the origin was unreachable"
            if quality in self.troubled
            else "we were not polling fast enough"
        )
        self.metrics.missed_segments.labels(channel=self.channel, quality=quality).inc(missed)
        logger.warning(
            "channel %r quality %r: missed %d segments, %sZ to %sZ: they left the playlist "
            "while %s",
            self.channel, quality, missed, gap_start.isoformat(timespec="seconds"),
            entry.start.isoformat(timespec="seconds"), why,
        )  # fmt: skip
        self.notifier.notify(
            "missed_segments",
            f"{self.notifier.node}: {self.channel}/{quality} missed {missed} segments, "
            f"{gap_start.isoformat(timespec='seconds')}Z to "
            f"{entry.start.isoformat(timespec='seconds')}Z, while {why}",
            key=f"missed {quality}", every=MISSED_NOTICE_EVERY, channel=self.channel,
            quality=quality, segments=missed, start=gap_start.isoformat() + "Z",
            end=entry.start.isoformat() + "Z",
        )  # fmt: skip

    def check_behind(self, now: dt.datetime, after: float = BEHIND_AFTER) -> None:
        """A notice when a quality's newest listed segment gets older than ``after``
        seconds, and one when it is fresh again."""
        for quality, newest in list(self.newest.items()):
            age = (now - newest.start).total_seconds()
            if age > after and quality not in self.behind:
                self.behind.add(quality)
                self.notifier.notify(
                    "recording_behind",
                    f"{self.notifier.node}: recording of {self.channel}/{quality} is behind: "
                    f"the newest segment started {age:.0f} s ago",
                    channel=self.channel, quality=quality, seconds=round(age),
                )  # fmt: skip
            elif age <= after and quality in self.behind:
                self.behind.discard(quality)
                self.notifier.notify(
                    "recording_caught_up",
                    f"{self.notifier.node}: recording of {self.channel}/{quality} caught up",
                    channel=self.channel, quality=quality,
                )  # fmt: skip

    def replace(self, worker: StreamWorker) -> None:
        workers = self.workers.get(worker.quality, [])
        if workers and workers[-1] is worker:
            self.pending.add(worker.quality)
            self.refresh.set()

    def ready(self, worker: StreamWorker) -> None:
        """A worker read its first playlist: the ones before it for its quality can stop."""
        workers = self.workers[worker.quality]
        if worker not in workers or worker.stopping.is_set():
            return  # already replaced itself: its first answer arrived too late to matter
        index = workers.index(worker)
        for old in workers[:index]:
            logger.info("worker %s replaced by %s", old.name, worker.name)
            old.stop()
        self.workers[worker.quality] = workers[index:]

    def get(self, quality: str, segment: Segment) -> None:
        """Start a getter for a segment unless one for the same entry is running."""
        key = (segment.uri, segment.suspect)
        running = self.inflight.get(key)
        if running is not None and not running.ready():
            return
        try:
            getter = SegmentGetter(
                self.base_dir, self.channel, quality, segment, self.provider.session,
                self.inits, self.timeouts, self.stopping, spawn=self.getters.spawn,
                metrics=self.metrics,
            )  # fmt: skip
        except names.UnsafeName as exc:  # a symlink out of BASE: the operator's to fix
            self.metrics.segment_errors.labels(
                channel=self.channel, quality=quality, reason="outside_base"
            ).inc()
            if quality not in self.unwritable:
                self.unwritable.add(quality)
                logger.error("channel %r quality %r: not recording: %s", self.channel, quality, exc)
            return
        greenlet = self.inflight[key] = self.getters.spawn(getter.run)
        greenlet.link(
            lambda g: self.inflight.pop(key, None) if self.inflight.get(key) is g else None
        )

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            fetched = time.monotonic()
            try:
                variants = self.provider.variants(self.channel)
            except Exception as e:  # noqa: BLE001 - offline, expired, junk: all retried
                failures += 1
                self.troubled.update(self.qualities or self.workers)
                self.metrics.playlist_errors.labels(
                    channel=self.channel, quality="", kind="master"
                ).inc()
                wait = backoff.delay(
                    failures + 1, MASTER_MIN_INTERVAL, MASTER_MAX_BACKOFF, backoff.no_jitter
                )
                self.outage.failed(e, wait)
                self.stopping.wait(wait)
                continue
            failures = 0
            self.outage.succeeded()
            self.refresh.clear()
            chosen = choose(variants, self.qualities)
            self._note_refused(chosen.refused)
            offered = [v.quality for v in variants if v.quality not in chosen.refused]
            if chosen.missing != self.missing:  # once per change: the origin may drop one
                self.missing = chosen.missing
                if chosen.missing:
                    logger.warning(
                        "channel %r has no quality %s; it has %s: fix --qualities",
                        self.channel, ", ".join(map(repr, chosen.missing)),
                        ", ".join(map(repr, offered)) or "no usable one",
                    )  # fmt: skip
            recording = [v.quality for v in chosen.recording]
            if recording != self.recording:
                self.recording = recording
                logger.info("channel %r: recording %s (the stream offers %s)", self.channel,
                            ", ".join(recording) or "nothing", ", ".join(offered))  # fmt: skip
            for variant in chosen.recording:
                quality = variant.quality
                if quality in self.pending or not self.workers.get(quality):
                    self.pending.discard(quality)
                    self.start_worker(quality, variant.url)
            gevent.wait([self.refresh, self.stopping], count=1)
            # Rate-limit master fetches: several workers may ask in quick succession.
            self.stopping.wait(max(0.0, MASTER_MIN_INTERVAL - (time.monotonic() - fetched)))

    def _note_refused(self, refused: dict[str, tuple[str, str]]) -> None:
        """Warn about and count the variants refused that the last master did not refuse.

        Once per cause, and at most REFUSALS_LOGGED lines per master: an origin
        listing thousands of bad names cannot flood the log.
        """
        new = [why for name, why in refused.items() if self.refused.get(name) != why]
        self.refused = refused
        for _reason, message in new[:REFUSALS_LOGGED]:
            logger.warning("channel %r: skipping %s", self.channel, message)
        if len(new) > REFUSALS_LOGGED:
            logger.warning("channel %r: skipping %d more variants (names or the limit)",
                           self.channel, len(new) - REFUSALS_LOGGED)  # fmt: skip
        for reason, _message in new:
            self.metrics.refused_variants.labels(channel=self.channel, reason=reason).inc()

    def start_worker(self, quality: str, url: str) -> None:
        self.count += 1
        worker = StreamWorker(self, quality, url, self.count)
        self.workers.setdefault(quality, []).append(worker)
        logger.info("worker %s polling %r", worker.name, url)
        gevent.spawn(worker.run)

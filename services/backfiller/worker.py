"""One peer's worker: passes over its hours, fetching what is missing, backing off on failure.

Each peer has its own greenlet, kept-alive connections and pool of fetches, so a slow or
failing peer holds up nobody else. A pass walks the hours of every channel
(:func:`~services.backfiller.listing.pass_hours`), lists each hour of each
quality the peer has, and fetches the missing segments ``concurrency`` at a
time, in random order within the hour so that several nodes backfilling from one
peer do not ask for the same files in step. The next hour is listed while the
last one's fetches are still running. Each hour is listed with its tombstones;
from a peer trusted with them (``--trust-tombstones-from``) those we lack are
copied (as empty files) before anything is fetched, but only for segments held
here (one for a segment we lack hides nothing) and at most
TOMBSTONES_PER_HOUR per hour and TOMBSTONES_PER_PASS per pass.

What a peer lists is limited before it becomes work (:mod:`~services.backfiller.limits`):
qualities, hours, listing and segment sizes, the free disk. Each refusal is counted
(``fastseg_backfiller_refused_total``) and summed up in one WARNING per pass.
"""

import collections
import dataclasses
import datetime as dt
import errno
import logging
import os
import random
import ssl
import time
from collections.abc import Callable

import gevent
import gevent.event
import gevent.pool

from fastseg import hour_start
from services.archive import chat, layout, names, times
from services.backfiller import listing
from services.backfiller.chat import copy_chat
from services.backfiller.client import NETWORK_ERRORS, PeerClient
from services.backfiller.fetch import (
    MAX_SEGMENT,
    BatchesBusy,
    Fetcher,
    FetchFailed,
    HashMismatch,
    NoBatches,
    PeerBroken,
    TooLarge,
    store_tombstone,
)
from services.backfiller.limits import (
    FUTURE_HOURS,
    MAX_HOURS,
    MAX_QUALITIES,
    TOMBSTONES_PER_HOUR,
    TOMBSTONES_PER_PASS,
    DiskFloor,
    DiskLow,
)
from services.backfiller.metrics import BackfillerMetrics
from services.backfiller.peers import Peer
from services.runtime import backoff

logger = logging.getLogger(__name__)

__all__ = ["Config", "PeerWorker"]

# Segments being fetched by any peer's worker in this process: a segment missing
# here that several peers hold is fetched from one of them, not from each.
_in_flight: set[str] = set()

#: Segments per batch request to a fastseg peer: enough that requests cost little
#: next to the bytes, few enough that ``concurrency`` batches share an hour's work.
BATCH = 100

#: Failed fetches logged one by one per pass and kind; the rest are only counted
#: (a peer serving junk must not flood the log).
LOGGED_FAILURES = 5


@dataclasses.dataclass(frozen=True)
class Config:
    """What every peer's worker shares (see ``command.py`` for each option)."""

    base_dir: str
    channels: tuple[str, ...]
    qualities: tuple[str, ...] | None  # None: every quality the peer lists
    start: Callable[[], dt.datetime | None] = lambda: None  # evaluated at each pass
    order: str = "newest"
    concurrency: int = 5
    recent_cutoff: dt.timedelta = dt.timedelta(seconds=60)
    pass_interval: float = 60.0
    backoff: float = 1.0  # the first retry's delay; doubles per failed pass
    max_backoff: float = 300.0
    timeout: float = 30.0
    run_once: bool = False
    progress_interval: float = 5.0  # seconds between progress lines during a pass
    metrics: BackfillerMetrics = dataclasses.field(default_factory=BackfillerMetrics.of)
    trusted: frozenset[str] = frozenset()  # peers' names or URLs whose tombstones are copied
    max_segment: int = MAX_SEGMENT  # bytes
    disk: DiskFloor | None = None  # the free-space floor (shared by every worker)
    chat: bool = True  # also copy chat batches (BASE/CHANNEL/chat, services/backfiller/chat.py)
    fetcher: Fetcher = dataclasses.field(default_factory=Fetcher)  # shared by every worker
    tls: ssl.SSLContext | None = None  # how https peers are checked (None: the system's CAs)


def is_trusted(peer: Peer, trusted: frozenset[str]) -> bool:
    """Whether ``--trust-tombstones-from`` names ``peer``: by its name or its root URL."""
    return peer.name in trusted or peer.url in trusted


class PeerWorker:
    """Backfills from one peer until stopped (or after one pass with ``run_once``)."""

    def __init__(self, peer: Peer, config: Config, stopping: gevent.event.Event):
        self.peer = peer
        self.config = config
        self.metrics = config.metrics
        self.stopping = stopping
        # Listings and segments go through plain keep-alive connections, reached
        # directly (environment proxies are for the outside world): see client.py.
        self.client = PeerClient(peer.url, config.timeout, config.tls)
        self._batches: bool | None = None  # does the peer have the batch route? None: unknown
        self._counters: dict[tuple[str, str], tuple] = {}  # (channel, quality): stored counters
        self.bad_names: set[str] = set()
        self.chat_seen: set[tuple[str, str]] = set()  # chat batches fetched (see chat.py)
        self.rng = random.Random()
        self.outcome: str | None = None  # of the latest pass: clean, errors or failed
        self.trusted = is_trusted(peer, config.trusted)
        self.disk = config.disk or DiskFloor(config.base_dir, 0)
        self._broken: Exception | None = None  # ends the pass: PeerBroken, DiskLow or a bug
        self._errors = 0
        self._logged: collections.Counter = collections.Counter()  # failures logged this pass
        self._refused: collections.Counter = collections.Counter()  # refusals this pass
        self._last_refused: dict[str, int] = {}  # the previous pass's, logged already
        self._tombstones_left = TOMBSTONES_PER_PASS
        # The latest finished pass (monotonic): the peer answered every listing then.
        self.finished_at = time.monotonic()
        self.metrics.pass_age.labels(peer.name).set_function(
            lambda: time.monotonic() - self.finished_at
        )

    def __repr__(self) -> str:
        return f"PeerWorker({self.peer.name!r}, {self.peer.url!r})"

    def run(self) -> str | None:
        """Pass after pass until the stop event; returns the last pass's outcome."""
        failures = 0
        try:
            while not self.stopping.is_set():
                self.outcome = self.run_pass()
                if self.config.run_once or self.stopping.is_set():
                    break
                if self.outcome == "clean":
                    failures = 0
                    # Jitter keeps workers that started together from polling in step.
                    delay = self.config.pass_interval * self.rng.uniform(0.9, 1.1)
                else:
                    failures += 1
                    # Equal jitter: a dead peer is not hammered, yet peers that failed
                    # together (a network blip) do not all come back at the same instant.
                    delay = backoff.delay(
                        failures,
                        self.config.backoff,
                        self.config.max_backoff,
                        backoff.equal_jitter,
                        self.rng,
                    )
                    logger.info(
                        "peer %r: pass had failures (%d in a row): next pass in %.1f s",
                        self.peer.name,
                        failures,
                        delay,
                    )
                self.stopping.wait(delay)
        finally:
            self.client.close()
        return self.outcome

    def run_pass(self) -> str:
        """One pass over every channel: 'clean', 'errors' (some fetches failed) or 'failed'."""
        started = time.monotonic()
        self._broken = None
        self._errors = 0
        self._logged.clear()
        self._refused.clear()
        self._tombstones_left = TOMBSTONES_PER_PASS
        stats = {
            "segments": 0,
            "bytes": 0,
            "missing": 0,
            "tombstones": 0,
            "duplicates": 0,
            "duplicate_bytes": 0,
        }
        pool = gevent.pool.Pool(self.config.concurrency)
        outcome = "failed"
        stopped = None
        reporter = gevent.spawn(self._report_progress, stats, started)
        try:
            for channel in self.config.channels:
                self._pass_channel(channel, pool, stats)
            pool.join()
            if self._broken is not None:
                raise self._broken
            outcome = "errors" if self._errors else "clean"
        except (PeerBroken, listing.BadListing) as e:
            if isinstance(e, listing.ListingTooLarge):
                kind = "too_large"
            else:
                kind = "bad_listing" if isinstance(e, listing.BadListing) else "unreachable"
            self.metrics.errors.labels(self.peer.name, kind).inc()
            stopped = e
        except DiskLow as e:  # logged once by the floor, counted there
            logger.info("peer %r: pass stopped: %s", self.peer.name, e)
        finally:
            reporter.kill()
            pool.kill()  # on a stop or a failure: fetches in flight remove their temp files
            self.client.close()  # a peer may drop idle connections before the next pass
        if stopped is not None:  # logged once nothing is in flight: no temp file is left
            logger.warning("peer %r: pass stopped: %s", self.peer.name, stopped)
        took = time.monotonic() - started
        if outcome != "failed":
            self.finished_at = time.monotonic()
        self.metrics.pass_duration.labels(self.peer.name).observe(took)
        self.metrics.passes.labels(self.peer.name, outcome).inc()
        self.metrics.missing.labels(self.peer.name).set(stats["missing"])
        logger.info(
            "peer %r: pass %s in %.2f s: %d missing, %d fetched (%d bytes), %d failed, "
            "%d tombstones copied, %d fetched but stored meanwhile (%d bytes)",
            self.peer.name,
            outcome,
            took,
            stats["missing"],
            stats["segments"],
            stats["bytes"],
            self._errors,
            stats["tombstones"],
            stats["duplicates"],
            stats["duplicate_bytes"],
        )
        self._log_refusals(stats)
        return outcome

    def _refuse(self, reason: str, count: int = 1) -> None:
        """Count ``count`` things the peer listed that were refused (summed up at pass end)."""
        self._refused[reason] += count
        self.metrics.refused.labels(self.peer.name, reason).inc(count)

    def _log_refusals(self, stats: dict) -> None:
        """One WARNING per pass for what was refused (DEBUG if just as the last pass) and
        for tombstones copied: each hides segments here."""
        if stats["tombstones"]:
            logger.warning(
                "peer %r: copied %d tombstones: the segments they hide there are hidden here "
                "too ('fastseg tombstone --undo PATH' shows one again)",
                self.peer.name, stats["tombstones"],
            )  # fmt: skip
        refused = dict(self._refused)
        if refused:
            level = logging.DEBUG if refused == self._last_refused else logging.WARNING
            logger.log(
                level, "peer %r: refused this pass: %s", self.peer.name,
                ", ".join(f"{n} {_REFUSALS[r]}" for r, n in sorted(refused.items())),
            )  # fmt: skip
        self._last_refused = refused

    def _report_progress(self, stats: dict, started: float) -> None:
        """Every ``progress_interval`` of a pass with work: done of missing, rate, time left.

        ``missing`` grows while hours are still being listed, so the estimate is of
        what is known so far.
        """
        while not self.stopping.wait(self.config.progress_interval):
            done, missing = stats["segments"], stats["missing"]
            if not missing:
                continue
            took = time.monotonic() - started
            rate = done / took
            left = f"about {_duration((missing - done) / rate)} left" if rate else "no estimate yet"
            logger.info(
                "peer %r: pass in progress: %d of %d missing segments fetched (%s), "
                "%.1f segments/s, %s/s, %s",
                self.peer.name, done, missing, _size(stats["bytes"]), rate,
                _size(stats["bytes"] / took), left,
            )  # fmt: skip

    def _get_listing(self, *parts: str, query: str = "") -> list[str] | None:
        url = self.peer.route("files", *parts) + query
        try:
            return listing.get_listing(self.client, url[len(self.peer.url) :], url)
        except NETWORK_ERRORS as e:
            raise PeerBroken(f"listing {'/'.join(parts)!r}: {type(e).__name__}: {e}") from e

    def _qualities(self, channel: str) -> list[str]:
        """The peer's qualities of ``channel`` to backfill: those held here, then new ones
        while the channel has fewer than MAX_QUALITIES; never a name that cannot be a path."""
        listed = list(dict.fromkeys(self._get_listing(channel) or []))
        held = set(layout.qualities(self.config.base_dir, channel))
        kept = []
        room = MAX_QUALITIES - len(held)
        for quality in listed:
            if quality == chat.CHAT:
                continue  # a wubloader peer lists its chat as a quality: copied by copy_chat
            if not names.is_safe_name(quality):  # ``..``, hidden names, junk
                self._refuse("name")
            elif quality in held:
                kept.append(quality)
            elif room > 0:
                kept.append(quality)
                room -= 1
            else:
                self._refuse("quality")
        return kept

    def _pass_channel(self, channel: str, pool: gevent.pool.Pool, stats: dict) -> None:
        qualities = self.config.qualities
        if qualities is None:
            qualities = self._qualities(channel)
        start = self.config.start()
        first = None if start is None else start.replace(minute=0, second=0, microsecond=0)
        latest = times.utc_now() + dt.timedelta(hours=FUTURE_HOURS)
        room = MAX_HOURS  # hours kept over every quality: the sets below live all pass
        hours_by_quality = {}
        for quality in qualities:
            hours = self._get_listing(channel, quality)
            if hours is None:  # the peer has no such quality (404)
                continue
            kept = set()
            for hour in hours:
                began = hour_start(hour)
                if began is None or (first is not None and began < first):
                    continue  # not an hour, or one before --start: not asked for
                if began > latest or room <= 0:
                    self._refuse("hour")
                    continue
                kept.add(hour)
                room -= 1
            hours_by_quality[quality] = kept
        order = listing.pass_hours(hours_by_quality, self.config.order, start, self.rng)
        for hour in order:
            for quality, hours in hours_by_quality.items():
                if hour in hours:
                    self._pass_hour(channel, quality, hour, pool, stats)
                    if self._broken is not None or self.stopping.is_set():
                        return
        if self.config.chat:
            copy_chat(self, channel, first, latest, stats)

    def _pass_hour(
        self, channel: str, quality: str, hour: str, pool: gevent.pool.Pool, stats: dict
    ) -> None:
        remote = self._get_listing(channel, quality, hour, query="?tombstones=true")
        if remote is None:
            # Listed a moment ago: removed since (a janitor, an operator). Not a failure.
            logger.info(
                "peer %r: hour %s/%s/%s is gone since its quality was listed: skipping it",
                self.peer.name,
                channel,
                quality,
                hour,
            )
            return
        local_dir = listing.hour_dir(self.config.base_dir, channel, quality, hour)
        try:
            self._copy_tombstones(remote, local_dir, channel, quality, hour, stats)
            now = times.utc_now()
            missing = listing.missing_segments(
                remote, local_dir, hour, now, self.config.recent_cutoff, self.bad_names
            )
        except OSError as e:
            if e.errno not in (errno.ENAMETOOLONG, errno.EINVAL):
                raise
            self._refuse("name")  # a path of the peer's names this file system refuses
            return
        if not missing:
            return
        stats["missing"] += len(missing)
        logger.debug("peer %r: %d missing in %s/%s/%s", self.peer.name, len(missing),
                     channel, quality, hour)  # fmt: skip
        self.rng.shuffle(missing)
        if self._batches is not False and len(missing) > 1:
            for i in range(0, len(missing), BATCH):
                if self._broken is not None or self.stopping.is_set():
                    return
                batch = missing[i : i + BATCH]
                pool.spawn(self._guarded, self._fetch_batch, channel, quality, hour, batch, stats)
            return
        for info in missing:
            if self._broken is not None or self.stopping.is_set():
                return
            # waits for a free slot
            pool.spawn(self._guarded, self._fetch, channel, quality, hour, info, stats)

    def _copy_tombstones(
        self, remote: list[str], local_dir: str, channel: str, quality: str, hour: str, stats
    ) -> None:
        """Hide here what a trusted peer hides: an empty tombstone for each one we lack
        whose segment we hold, within the caps."""
        wanted, not_held = listing.missing_tombstones(remote, local_dir, hour, self.bad_names)
        if not_held:
            self._refuse("tombstone_not_held", not_held)
        if not wanted:
            return
        if not self.trusted:
            self._refuse("tombstone_untrusted", len(wanted))
            return
        allowed = min(len(wanted), TOMBSTONES_PER_HOUR, self._tombstones_left)
        if allowed < len(wanted):
            self._refuse("tombstone_cap", len(wanted) - allowed)
        self._tombstones_left -= allowed
        self.disk.take(0)  # an inode each: not below the floor either
        for name in wanted[:allowed]:
            try:
                created = store_tombstone(local_dir, name)
            except OSError as e:
                self._errors += 1
                self.metrics.errors.labels(self.peer.name, "local_write").inc()
                logger.error("peer %r: cannot store tombstone %r in %r: %s",
                             self.peer.name, name, local_dir, e)  # fmt: skip
                continue
            if created:
                stats["tombstones"] += 1
                self.metrics.tombstones_copied.labels(self.peer.name, channel, quality).inc()
                logger.debug("peer %r: copied tombstone %s/%s/%s/%s",
                             self.peer.name, channel, quality, hour, name)  # fmt: skip

    def _guarded(self, fetch, *args) -> None:
        """``fetch(*args)`` in the pool: an unexpected exception (a bug) ends the pass and
        is raised from it, so the worker's supervisor logs it and starts it again,
        rather than gevent printing it and the pass going on as if clean."""
        try:
            fetch(*args)
        except Exception as e:
            self._broken = e

    def _fetch(self, channel: str, quality: str, hour: str, info, stats: dict) -> None:
        if self._broken is not None:
            return
        # Another peer's worker has it in flight (one segment, or a batch it is trying):
        # wait for that to end, then fetch it here only if it did not arrive.
        deadline = time.monotonic() + self.config.timeout
        while info.path in _in_flight:
            if self.stopping.is_set() or time.monotonic() > deadline:
                return  # still in flight there: the next pass will see
            gevent.sleep(0.05)
        if os.path.exists(info.path):
            return  # stored by another peer's worker since this hour was listed
        _in_flight.add(info.path)
        try:
            self._fetch_one(channel, quality, hour, info, stats)
        finally:
            _in_flight.discard(info.path)

    def _fetch_one(self, channel: str, quality: str, hour: str, info, stats: dict) -> None:
        url = self.peer.route("segments", channel, quality, hour, info.name)
        try:
            fetched = self.config.fetcher.segment(
                self.client, url[len(self.peer.url) :], info, url,
                self.config.max_segment, self.disk,
            )  # fmt: skip
        except (FetchFailed, PeerBroken, DiskLow, OSError) as e:
            self._failed(info, e)
            return
        self._stored(channel, quality, info, fetched.size, fetched.stored, stats)

    def _fetch_batch(self, channel: str, quality: str, hour: str, infos: list, stats) -> None:
        """Several segments of one hour in one request, or one by one from a wubloader peer."""
        if self._broken is not None:
            return
        todo = [i for i in infos if not os.path.exists(i.path)]
        batch = [i for i in todo if i.path not in _in_flight]
        if batch and self._batches is not False:
            paths = [i.path for i in batch]
            _in_flight.update(paths)
            url = self.peer.route("batch", channel, quality, hour)
            try:
                for fetched in self.config.fetcher.batch(
                    self.client, url[len(self.peer.url) :], batch, url,
                    self.config.max_segment, self.disk,
                ):  # fmt: skip
                    if fetched.error is not None:
                        self._failed(fetched.info, fetched.error)
                    else:
                        self._stored(
                            channel, quality, fetched.info, fetched.size, fetched.stored, stats
                        )
                self._batches = True
                return
            except BatchesBusy:
                pass  # these one at a time now; the next batch asks again
            except NoBatches as e:
                if self._batches is None:
                    logger.info("peer %r has no batch route (%s): one request per segment",
                                self.peer.name, e)  # fmt: skip
                self._batches = False
            except (PeerBroken, DiskLow, OSError) as e:
                self._failed(None, e)
                return
            finally:
                _in_flight.difference_update(paths)
        # One at a time, each marked in flight only while it is fetched (and checked again
        # just before): a peer that hangs on one segment, or another worker's batch attempt
        # a moment ago, must not keep this peer from the rest of the hour.
        for info in todo:
            if self._broken is not None or self.stopping.is_set():
                return
            self._fetch(channel, quality, hour, info, stats)

    def _failed(self, info, e: Exception) -> None:
        """Count and log one failed fetch (or batch, ``info`` None)."""
        self._errors += 1
        if isinstance(e, (PeerBroken, DiskLow)):
            if self._broken is None:
                self._broken = e
        elif isinstance(e, FetchFailed):
            if isinstance(e, HashMismatch):
                kind = "hash_mismatch"
                self.metrics.hash_mismatches.labels(self.peer.name).inc()
            else:
                kind = "too_large" if isinstance(e, TooLarge) else "bad_answer"
            self.metrics.errors.labels(self.peer.name, kind).inc()
            self._logged[kind] += 1
            if self._logged[kind] <= LOGGED_FAILURES:
                more = " (more like it this pass are only counted)"
                logger.warning("peer %r: %s%s", self.peer.name, e,
                               more if self._logged[kind] == LOGGED_FAILURES else "")  # fmt: skip
        elif isinstance(e, OSError) and e.errno in (errno.ENAMETOOLONG, errno.EINVAL):
            self._refuse("name")  # a path of the peer's names this file system refuses
        else:
            # Our side (disk full, permissions): counted, and retried next pass.
            self.metrics.errors.labels(self.peer.name, "local_write").inc()
            where = info.path if info is not None else "a batch"
            logger.error("peer %r: cannot store %r: %s", self.peer.name, where, e)

    def _stored(self, channel: str, quality: str, info, size: int, stored: bool, stats) -> None:
        if not stored:
            stats["duplicates"] += 1
            stats["duplicate_bytes"] += size
            self.metrics.duplicate_bytes.labels(self.peer.name).inc(size)
            return
        stats["segments"] += 1
        stats["bytes"] += size
        counters = self._counters.get((channel, quality))
        if counters is None:  # labels() costs more than the increment: looked up once
            labels = (self.peer.name, channel, quality)
            counters = self._counters[channel, quality] = (
                self.metrics.segments_backfilled.labels(*labels),
                self.metrics.bytes_backfilled.labels(*labels),
            )
        counters[0].inc()
        counters[1].inc(size)
        logger.debug("peer %r: stored %r", self.peer.name, info.name)


#: How the pass's refusal summary words each reason.
_REFUSALS = {
    "name": "names that cannot be a path here",
    "quality": f"new qualities past the {MAX_QUALITIES} a channel may have",
    "hour": f"hours starting more than {FUTURE_HOURS} h from now or past the {MAX_HOURS:,} "
    "a pass lists",
    "tombstone_untrusted": "tombstones (not trusted: --trust-tombstones-from NAME copies them)",
    "tombstone_not_held": "tombstones of segments not held here (they hide nothing)",
    "chat": f"chat batches too large (over {chat.MAX_BATCH_BYTES} bytes), not matching "
    "their name's hash, or not parsing",
    "tombstone_cap": f"tombstones past {TOMBSTONES_PER_HOUR} per hour or "
    f"{TOMBSTONES_PER_PASS} per pass (left for the next pass)",
}


def _size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB"):
        n /= 1000
        if n < 1000:
            return f"{n:.1f} {unit}"
    return f"{n / 1000:.1f} GB"


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"

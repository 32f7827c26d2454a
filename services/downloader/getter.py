"""Fetch one segment to a file, however many attempts that takes.

Every attempt writes to its own ``temp`` name (docs/DESIGN.md#writing-a-segment), hashing,
then links the file to its final name: ``full``, ``suspect``, or ``partial`` when
the body was cut short. Linking never replaces a file, so racing attempts of the
same content end as one file, and an existing ``full`` is never overwritten.

Timeouts follow what a live origin does wrong: an attempt that has not finished
after the *soft* timeout gets a second attempt beside it (the first may still win);
an attempt still running at the *hard* timeout is abandoned. 403/404 means the URL
expired; anything else is retried with jittered exponential backoff until the URL
surely expired (``give_up_after``).
"""

import dataclasses
import datetime as dt
import enum
import logging
import os
import time
import uuid

import gevent
import gevent.event
import requests
import urllib3.exceptions

from fastseg import content_id, hour_name, segment_name
from services.archive import layout, writes
from services.downloader.metrics import DownloaderMetrics
from services.downloader.outage import describe
from services.runtime import backoff

logger = logging.getLogger(__name__)

#: A fetch this slow is doubtful: the origin may have served something odd.
SUSPECT_FETCH_SECONDS = 59
#: Attempts in flight at once for one segment (the first plus soft-timeout extras).
MAX_PARALLEL_ATTEMPTS = 3
CHUNK = 64 * 1024
#: The fastest stream recorded, in bytes per second of EXTINF (100 Mbit/s, beyond 4K
#: live streams), plus room for an init section and short entries: an origin that
#: sends more for an entry is kept to that much, as a partial, and not asked again.
MAX_BYTES_PER_SECOND = 100_000_000 // 8
SEGMENT_SLACK_BYTES = 1024 * 1024
#: An EXT-X-MAP init section is a few KB; the cache keeps the most recent few.
MAX_INIT_BYTES = 1024 * 1024
MAX_INITS = 16


@dataclasses.dataclass(frozen=True)
class Timeouts:
    """Seconds; see the module docstring. Defaults suit 2-second Twitch segments."""

    soft: float = 5.0
    hard: float = 60.0
    give_up_after: float = 20 * 60.0
    backoff: float = 0.5  # first retry delay; doubles per failure, capped at max_backoff
    max_backoff: float = 8.0


class Outcome(enum.Enum):
    """How one attempt ended, which decides what :meth:`SegmentGetter.run` does next."""

    DONE = "done"  # a complete (full or suspect) file is stored: stop
    EXPIRED = "expired"  # the URL is gone (403/404) or the origin sent too much: stop
    RETRY = "retry"  # anything else: try again after a backoff, until give_up_after


class _HardTimeout(Exception):
    """Our own timeout class, so no other gevent.Timeout is mistaken for it."""


class _Expired(Exception):
    pass


class _TooLarge(Exception):
    """An origin sent more than a stream of this length can hold: not asked again."""


def max_segment_bytes(duration: dt.timedelta) -> int:
    """The most bytes (init section included) kept for an entry of ``duration``."""
    return int(duration.total_seconds() * MAX_BYTES_PER_SECOND) + SEGMENT_SLACK_BYTES


@dataclasses.dataclass
class Segment:
    """One media playlist entry with the time it was given."""

    uri: str
    start: dt.datetime  # naive UTC
    duration: dt.timedelta
    suspect: bool = False
    map_uri: str | None = None  # EXT-X-MAP init section, written in front of the body


class InitCache:
    """EXT-X-MAP init sections, fetched once per URI and shared by every getter.

    At most MAX_INIT_BYTES each and the MAX_INITS most recent URIs: an origin
    naming a new init section for every entry cannot fill the memory.
    """

    def __init__(self, session: requests.Session):
        self.session = session
        self.results: dict[str, gevent.event.AsyncResult] = {}

    def get(self, uri: str, timeout: float) -> bytes:
        """The init section's bytes; raises (and forgets the failure) if the fetch fails."""
        result = self.results.get(uri)
        if result is None:
            result = self.results[uri] = gevent.event.AsyncResult()
            for old in [u for u, r in self.results.items() if r.ready()][: -MAX_INITS or None]:
                del self.results[old]
            try:
                late = _HardTimeout(f"init section {uri!r} took too long")
                with (
                    gevent.Timeout(timeout, late),
                    self.session.get(uri, timeout=timeout, stream=True) as resp,
                ):
                    if resp.status_code in (403, 404):
                        raise _Expired(f"init section {uri!r} answered {resp.status_code}")
                    resp.raise_for_status()
                    body = resp.raw.read(MAX_INIT_BYTES + 1, decode_content=True)
                    if len(body) > MAX_INIT_BYTES:
                        raise _TooLarge(f"init section {uri!r} is over {MAX_INIT_BYTES} bytes")
                    result.set(body)
            except BaseException as e:
                del self.results[uri]  # the next caller tries again
                # Waiters get an ordinary error even if this greenlet was killed: a
                # GreenletExit raised in them would look like their own kill.
                shared = (
                    e if isinstance(e, Exception) else RuntimeError(f"fetch of {uri!r} stopped")
                )
                result.set_exception(shared)
                raise
        return result.get()


class SegmentGetter:
    """Gets one segment into ``BASE/CHANNEL/QUALITY/HOUR``; ``run`` ends when done or given up."""

    def __init__(
        self,
        base_dir: str,
        channel: str,
        quality: str,
        segment: Segment,
        session: requests.Session,
        inits: InitCache,
        timeouts: Timeouts,
        stopping: gevent.event.Event,
        spawn=gevent.spawn,
        metrics: DownloaderMetrics | None = None,
    ):
        self.metrics = metrics or DownloaderMetrics.of()
        self.spawn = spawn  # attempts join the caller's group, so a stop can kill them
        self.dir = layout.join_under_base(base_dir, channel, quality, hour_name(segment.start))
        self.channel, self.quality = channel, quality
        self.segment = segment
        self.session = session
        self.inits = inits
        self.timeouts = timeouts
        self.stopping = stopping
        self.done = gevent.event.Event()  # set once a full/suspect file exists
        self.labels = dict(channel=channel, quality=quality)
        # Names of this segment differ only after the type: MM:SS.ffffff-DURATION-TYPE-ID.ts
        self.full_prefix = segment_name(segment.start, segment.duration, "full", "x")[
            : -len("x.ts")
        ]

    def full_exists(self) -> bool:
        try:
            return any(name.startswith(self.full_prefix) for name in os.listdir(self.dir))
        except FileNotFoundError:
            return False

    def run(self) -> None:
        """Attempt until a complete file exists, the URL expires, or the process stops."""
        deadline = time.monotonic() + self.timeouts.give_up_after
        attempts: list[gevent.Greenlet] = []
        failures = 0
        while not self.done.is_set():
            if self.stopping.is_set():
                return
            if self.full_exists():
                logger.debug("%r already has a full copy: not fetching", self.full_prefix)
                self.done.set()
                return
            if time.monotonic() > deadline:
                # WARNING: an origin failing every answer must not fill the log with ERRORs.
                logger.warning(
                    "giving up on segment %r after %d s: its URL has surely expired",
                    self.segment.uri,
                    self.timeouts.give_up_after,
                )
                return
            attempts = [a for a in attempts if not a.ready()]
            attempt = self.spawn(self._attempt)
            attempts.append(attempt)
            # Wait for this attempt (or any parallel one) to finish, up to the soft timeout.
            gevent.wait([attempt, self.done], timeout=self.timeouts.soft, count=1)
            if self.done.is_set():
                break
            if not attempt.ready():
                if len(attempts) < MAX_PARALLEL_ATTEMPTS:
                    logger.info("segment %r is slow: starting another attempt", self.segment.uri)
                    continue
                # Enough in flight: wait for one of them (each ends by its hard timeout).
                gevent.wait([*attempts, self.done], count=1)
                continue
            outcome = attempt.value
            if outcome is Outcome.EXPIRED:
                return
            if outcome is Outcome.DONE:
                break
            failures += 1
            # Jitter so that many getters failing together do not retry together.
            self.done.wait(
                backoff.delay(
                    failures,
                    self.timeouts.backoff,
                    self.timeouts.max_backoff,
                    backoff.spread_jitter,
                )
            )
        # Parallel attempts still running are left to finish: they produce the same
        # file (linking it again is a no-op) or stop at their hard timeout.

    def _attempt(self) -> Outcome:
        """One fetch into a temp file (docs/DESIGN.md#writing-a-segment)."""
        seg = self.segment
        temp_name = segment_name(seg.start, seg.duration, "temp", uuid.uuid4().hex)
        body_bytes = 0
        started = time.monotonic()
        temp = None
        try:
            with gevent.Timeout(self.timeouts.hard, _HardTimeout()):
                init = self.inits.get(seg.map_uri, self.timeouts.hard) if seg.map_uri else b""
                resp = self.session.get(seg.uri, stream=True, timeout=self.timeouts.hard)
                with resp:
                    if resp.status_code in (403, 404):
                        raise _Expired(f"answered {resp.status_code}")
                    resp.raise_for_status()
                    temp = writes.TempFile(self.dir, temp_name)
                    temp.write(init)
                    limit = max_segment_bytes(seg.duration) - len(init)
                    # read1 hands over whatever has arrived, so a body cut short
                    # keeps every byte that came before the cut.
                    while chunk := resp.raw.read1(min(CHUNK, limit - body_bytes + 1)):
                        if body_bytes + len(chunk) > limit:
                            raise _TooLarge(
                                f"sent over {limit + len(init)} bytes for {seg.duration} s "
                                f"({MAX_BYTES_PER_SECOND * 8 // 1_000_000} Mbit/s at most): "
                                "kept that much as partial"
                            )
                        temp.write(chunk)
                        body_bytes += len(chunk)
                    expected = resp.headers.get("Content-Length")
                    if expected is not None and resp.headers.get("Content-Encoding") is None:
                        if expected.isdigit() and int(expected) != body_bytes:
                            raise requests.exceptions.ChunkedEncodingError(
                                f"body ended after {body_bytes} of {expected} bytes"
                            )
            took = time.monotonic() - started
            doubtful = seg.suspect or body_bytes == 0 or took >= SUSPECT_FETCH_SECONDS
            if took >= SUSPECT_FETCH_SECONDS:
                logger.warning("segment %r took %.0f s: stored as suspect", seg.uri, took)
            complete, temp = temp, None
            self._finish(complete, "suspect" if doubtful else "full")
            if body_bytes == 0:
                # An empty body is far more often an origin glitch than an empty segment:
                # keep it as suspect, and keep trying for the real thing.
                logger.warning("segment %r has an empty body: stored as suspect, retrying", seg.uri)
                self.metrics.segment_errors.labels(**self.labels, reason="empty").inc()
                return Outcome.RETRY
            self.done.set()
            return Outcome.DONE
        except _Expired as e:
            logger.warning("segment %r %s: giving up on it", seg.uri, e)
            self.metrics.segment_errors.labels(**self.labels, reason="expired").inc()
            return Outcome.EXPIRED
        except _TooLarge as e:
            logger.warning("segment %r %s: giving up on it", seg.uri, e)
            self.metrics.segment_errors.labels(**self.labels, reason="too_large").inc()
            return Outcome.EXPIRED
        except (
            requests.RequestException,
            urllib3.exceptions.HTTPError,
            _HardTimeout,
            OSError,
        ) as e:
            reason = "timeout" if isinstance(e, _HardTimeout) else type(e).__name__
            logger.warning(  # a few words, not urllib3's paragraph
                "segment %r attempt failed (%s): %s", seg.uri, reason,
                describe(e) if str(e) else "hard timeout",
            )  # fmt: skip
            self.metrics.segment_errors.labels(**self.labels, reason=reason).inc()
            return Outcome.RETRY
        except Exception:
            logger.exception("segment %r attempt failed unexpectedly: retrying", seg.uri)
            self.metrics.segment_errors.labels(**self.labels, reason="unexpected").inc()
            return Outcome.RETRY
        finally:
            # Reached with the temp file still there only on failure (or when killed at
            # stop): keep what arrived as a partial, even beside a full copy (a racing
            # attempt may have got the full one from a different origin answer: lose nothing).
            if temp is not None:
                if body_bytes:
                    self._finish(temp, "partial")
                else:
                    temp.discard()

    def _finish(self, temp: writes.TempFile, type_: str) -> None:
        """Give the temp file its final name; a file of that name already holds these bytes."""
        seg = self.segment
        final = os.path.join(
            self.dir, segment_name(seg.start, seg.duration, type_, content_id(temp.hasher))
        )
        # Unlike rename, link never replaces an existing file.
        if temp.link(final):
            self.metrics.segments_downloaded.labels(**self.labels, type=type_).inc()
            self.metrics.segment_bytes.labels(**self.labels, type=type_).inc(temp.size)
            logger.debug("stored %r", final)
        # else: a racing attempt got the same bytes first

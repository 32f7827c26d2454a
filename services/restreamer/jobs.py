"""The pool of ffmpeg jobs every costly route shares (docs/DESIGN.md#costly-routes).

A request that may start ffmpeg (a fast or full cut, a frame, a thumbnail, a
waveform) runs inside :meth:`JobPool.job`. The pool has ``--ffmpeg-jobs`` places,
one per ffmpeg or ffprobe process. A job takes one when it starts its first
process, never before (a cached thumbnail or a rough cut takes none), and is
refused at once when every place is taken (503) or when its client already has
``--ffmpeg-jobs-per-client`` jobs (429): nothing waits in a queue. A process a
job runs alongside its first (a fast cut encodes its next edge ahead) takes a
second place if one is free, or waits for the job's own process to end.

While it runs, the job's processes are capped in address space
(``--ffmpeg-memory-mb``, set in the child before exec) and are killed (SIGTERM,
then SIGKILL after :data:`GRACE` s) when the job outlives its time limit, when
its client closes the connection (noticed by watching the socket, even before
the first byte is sent), and when the service stops.
"""

import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import gevent
import gevent.event
from gevent import subprocess
from gevent.socket import wait_read
from werkzeug.exceptions import HTTPException, UnprocessableEntity

from services.cutting import CutError
from services.cutting.ffmpeg import limited_by
from services.restreamer.metrics import Metrics

logger = logging.getLogger(__name__)

__all__ = ["ClientGone", "Job", "JobLimits", "JobPool", "Refused", "within"]

#: Seconds a client is told to wait (``Retry-After``) when the pool or its share is full.
RETRY_AFTER = 5
#: Seconds between SIGTERM and SIGKILL when a job's processes are stopped.
GRACE = 1.0
#: Seconds every job may take whatever it does (starting, probing, writing a PNG).
BASE_SECONDS = 60.0
#: ffmpeg's words when an allocation fails under RLIMIT_AS.
_NO_MEMORY = ("Cannot allocate memory", "alloc", "Out of memory")


@dataclass(frozen=True)
class JobLimits:
    """The pool's numbers: from the restreamer's options (``services.restreamer.command``)."""

    jobs: int = os.cpu_count() or 1  # ffmpeg and ffprobe processes at once in this process
    per_client: int = 2  # jobs (requests) of one client address at once
    memory_bytes: int | None = 4096 * 2**20  # RLIMIT_AS of each process
    timeout: float = 7200.0  # seconds: the most any job may run


class Refused(HTTPException):
    """A refusal with ``Retry-After``: 503 (the pool is full) or 429 (the client's share is)."""

    def __init__(self, code: int, description: str, retry_after: int = RETRY_AFTER) -> None:
        self.code = code
        super().__init__(description)
        self.retry_after = retry_after

    @property
    def name(self) -> str:
        return {429: "Too Many Requests", 503: "Service Unavailable"}.get(self.code, "Refused")

    def get_headers(self, environ=None, scope=None):
        return [*super().get_headers(environ, scope), ("Retry-After", str(self.retry_after))]


class ClientGone(HTTPException):
    """The client closed its connection before the answer began: nobody reads this (nginx's 499)."""

    code = 499
    name = "Client Closed Request"


class Job:
    """One request's ffmpeg work: its place in the pool, its processes, why it was stopped."""

    def __init__(self, pool: "JobPool", route: str, client: str, seconds: float, sock) -> None:
        self.pool, self.route, self.client = pool, route, client
        self.memory_bytes = pool.limits.memory_bytes
        # proportional to the work, within the ceiling: see JobPool.job
        self.timeout = min(pool.limits.timeout, BASE_SECONDS + seconds)
        self.admitted = False
        self.stopped: str | None = None  # 'timeout', 'client_gone' or 'stopping'
        self.streaming = False  # the body outlives the route: it closes the job (within)
        self.procs: set[subprocess.Popen] = set()
        self.live = 0  # processes reserved or running
        self.places = 0  # places of the pool held: one per process running at once
        self._freed = gevent.event.Event()
        self._sock = sock
        self._watchers: list[gevent.Greenlet] = []

    # the ffmpeg runner's hooks (services.cutting.ffmpeg.Limits)
    def starting(self) -> None:
        """Reserve a place for one more process: the job's first takes one from the pool
        (or is refused); another running alongside takes a second if one is free, else
        waits for the job's own process to end (a fast cut's next edge, a second probe)."""
        if self.stopped:
            raise CutError(f"the {self.route} job was stopped ({self.stopped})")
        self.admit()
        while self.live >= self.places:
            if self.pool._extra_place():
                self.places += 1
                break
            self._freed.clear()
            self._freed.wait()
            if self.stopped:
                raise CutError(f"the {self.route} job was stopped ({self.stopped})")
        self.live += 1

    def admit(self) -> None:
        """Take the job's first place now (Refused if none): a route that will surely
        start ffmpeg calls it first, so the refusal comes before any work."""
        if self.admitted:
            return
        self.pool._admit(self)
        self.admitted, self.places = True, 1
        self._watchers.append(gevent.spawn_later(self.timeout, self.stop, "timeout"))
        if self._sock is not None:
            self._watchers.append(gevent.spawn(self._watch_client))

    def started(self, proc: subprocess.Popen) -> None:
        self.procs.add(proc)
        if self.stopped:
            _terminate(proc)

    def ended(self, proc: subprocess.Popen | None) -> None:
        """One process reserved by starting() is reaped (None: it never started)."""
        self.procs.discard(proc)
        self.live -= 1
        if self.admitted and self.places > max(self.live, 1):  # a second place goes back
            self.places -= 1
            self.pool._release_place()
        self._freed.set()

    def _watch_client(self) -> None:
        """Stop the job when the client's socket reads EOF: it closed the connection.

        The server reads nothing while it answers, so the socket turns readable
        only when the client closes it (or sends a pipelined request: then this
        cannot tell, and stops watching; a write to a closed socket still fails).
        """
        fd = self._sock.fileno()
        wait_read(fd)
        try:
            peeked = self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return
        except OSError:
            peeked = b""  # reset by the peer: gone as well
        if not peeked:
            self.stop("client_gone")

    def stop(self, reason: str) -> None:
        """Kill the job's processes (SIGTERM, SIGKILL after GRACE) and remember why."""
        if self.stopped:
            return
        self.stopped = reason
        self.pool.metrics.ffmpeg_stopped.labels(self.route, reason).inc()
        if reason == "timeout":
            logger.warning("stopping a %s job of %s: it ran longer than its %.0f s",
                           self.route, self.client, self.timeout)  # fmt: skip
        else:
            logger.info("stopping a %s job of %s: %s", self.route, self.client, reason)
        for proc in list(self.procs):
            _terminate(proc)
        self._freed.set()  # a start waiting for a place gives up

    def failure(self, exc: CutError, what: str) -> HTTPException | None:
        """The answer for a CutError the job's own stop caused, or a memory failure; None else."""
        if self.stopped == "client_gone":
            return ClientGone(f"the client closed the connection during the {what}")
        if self.stopped == "timeout":
            return Refused(
                503,
                f"the {what} took longer than its {self.timeout:.0f} s limit: "
                "ask for a shorter range or a cheaper encoding, or try again later",
            )
        if self.stopped == "stopping":
            return Refused(503, "the restreamer is stopping: try again in a minute")
        detail = f"{exc} {exc.args[1] if len(exc.args) > 1 else ''}"
        if self.memory_bytes is not None and any(word in detail for word in _NO_MEMORY):
            self.pool.metrics.ffmpeg_stopped.labels(self.route, "memory").inc()
            logger.warning("a %s job of %s ran out of its %d MiB", self.route, self.client,
                           self.memory_bytes // 2**20)  # fmt: skip
            return UnprocessableEntity(
                f"the {what} needs more than the {self.memory_bytes // 2**20} MiB "
                "a job may use: ask for a smaller size or a faster preset"
            )
        return None

    def close(self) -> None:
        """The request is done: kill what still runs and give the place back."""
        for proc in list(self.procs):
            _terminate(proc)
        gevent.killall(self._watchers)  # before the server closes the socket they watch
        if self.admitted:
            self.admitted = False
            self.pool._release(self, self.places)
            self.places = 0


class JobPool:
    """The jobs of one restreamer process; see the module docstring."""

    def __init__(self, limits: JobLimits, metrics: Metrics) -> None:
        if limits.jobs < 1 or limits.per_client < 1:
            raise ValueError(f"job limits must be >= 1, got {limits!r}")
        self.limits = limits
        self.metrics = metrics
        self.running: set[Job] = set()
        self.places = 0  # processes running or reserved, over every job: at most limits.jobs
        self.by_client: dict[str, int] = {}
        self.stopping = False

    def refuse(self, route: str, reason: str) -> None:
        """Count a refusal of ``route`` for ``reason`` (range, token, encoding, busy...)."""
        self.metrics.ffmpeg_refused.labels(route, reason).inc()

    @contextlib.contextmanager
    def job(self, route: str, environ: dict, seconds: float = 0.0) -> Iterator[Job]:
        """A job for this request; ``seconds`` of media it works on lengthen its time limit.

        The limit is ``BASE_SECONDS + seconds`` (the caller scales ``seconds``
        by what one second of media costs), never more than ``--ffmpeg-timeout``.
        """
        client = environ.get("REMOTE_ADDR") or "unknown"
        job = Job(self, route, client, seconds, environ.get("fastseg.socket"))
        try:
            with limited_by(job):
                yield job
        except BaseException:
            job.close()
            raise
        else:
            if not job.streaming:
                job.close()

    def _admit(self, job: Job) -> None:
        if self.stopping:
            self.refuse(job.route, "stopping")
            raise Refused(503, "the restreamer is stopping: try again in a minute")
        # the client's own share first: a 429 tells it that it is the one asking too much
        if self.by_client.get(job.client, 0) >= self.limits.per_client:
            self.refuse(job.route, "client_busy")
            raise Refused(
                429,
                f"you already have {self.limits.per_client} ffmpeg jobs running here "
                "(cuts, frames, thumbnails, waveforms): wait for one to finish",
            )
        if self.places >= self.limits.jobs:
            self.refuse(job.route, "busy")
            raise Refused(
                503,
                f"this restreamer runs its most ffmpegs at once ({self.limits.jobs}): "
                f"try again in {RETRY_AFTER} s",
            )
        self.running.add(job)
        self.places += 1
        self.by_client[job.client] = self.by_client.get(job.client, 0) + 1
        self.metrics.ffmpeg_jobs.set(len(self.running))

    def _extra_place(self) -> bool:
        """A second place for a job already running, if one is free (never refused: it waits)."""
        if self.places >= self.limits.jobs:
            return False
        self.places += 1
        return True

    def _release_place(self) -> None:
        self.places -= 1

    def _release(self, job: Job, places: int) -> None:
        self.places -= places
        self.running.discard(job)
        left = self.by_client.get(job.client, 1) - 1
        if left:
            self.by_client[job.client] = left
        else:
            self.by_client.pop(job.client, None)
        self.metrics.ffmpeg_jobs.set(len(self.running))

    def stop_all(self) -> None:
        """The service stops: refuse new jobs, kill every job's processes and reap them."""
        self.stopping = True
        procs = [proc for job in list(self.running) for proc in job.procs]
        for job in list(self.running):
            job.stop("stopping")
        gevent.wait([gevent.spawn(proc.wait) for proc in procs], timeout=GRACE + 1)


def within(job: Job, body: Iterable[bytes]) -> Iterator[bytes]:
    """``body``'s chunks, each produced inside ``job`` (a streamed cut starts ffmpegs later,
    after the route has returned); the job closes when the body does, not with the route."""
    job.streaming = True
    return _within(job, iter(body))


def _within(job: Job, it: Iterator[bytes]) -> Iterator[bytes]:
    try:
        while True:
            with limited_by(job):
                try:
                    chunk = next(it)
                except StopIteration:
                    return
            yield chunk
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            with limited_by(job):
                close()
        job.close()


def _terminate(proc: subprocess.Popen) -> None:
    """SIGTERM now, SIGKILL after GRACE s if it still runs (ffmpeg may ignore SIGTERM)."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return

    def kill() -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    gevent.spawn_later(GRACE, kill)

"""Running ffmpeg and ffprobe without blocking gevent: pipes fed and drained by greenlets.

Every process is started by :class:`FFmpeg`, which feeds its stdin from an
iterable of byte chunks in one greenlet, collects stderr in another, and hands
stdout out as a generator. :meth:`FFmpeg.close` kills the process, closes every
fd and kills the greenlets, so a consumer that stops early leaves nothing behind.
gevent.subprocess is cooperative whether or not the stdlib is monkey-patched.

Every child gets ``PR_SET_PDEATHSIG`` (SIGKILL), so it dies with the process that
started it even if that one is killed outright; inside :func:`limited_by`, a
server's job also caps its address space (``RLIMIT_AS``) and is told of each
process, so that it can refuse to start one or kill the ones it has.
"""

import contextlib
import contextvars
import logging
import re
import resource
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Protocol

import gevent
from gevent import subprocess

from services.cutting.errors import CutError
from services.runtime.children import on_parent_death

logger = logging.getLogger(__name__)

FFMPEG = "ffmpeg"
FFPROBE = "ffprobe"
#: Quiet unless something goes wrong (docs/DESIGN.md#cut-methods); never read the terminal.
QUIET = ["-hide_banner", "-nostdin", "-loglevel", "error"]
READ_SIZE = 256 * 1024
#: Keep this much of stderr: enough for ffmpeg's reasons, bounded if it floods.
STDERR_LIMIT = 64 * 1024
#: ``-progress`` reports on stderr, mixed with errors: its ``key=value`` lines.
_PROGRESS_LINE = re.compile(rb"^[a-z_0-9]+=")
_OUT_TIME = re.compile(rb"^out_time_us=(\d+)$")

_progress: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar(
    "ffmpeg_progress", default=None
)
_limits: contextvars.ContextVar["Limits | None"] = contextvars.ContextVar(
    "ffmpeg_limits", default=None
)
_die_with_us = on_parent_death(signal.SIGKILL)


class Limits(Protocol):
    """What a caller (a server's job) imposes on each process started inside :func:`limited_by`."""

    #: RLIMIT_AS of each process, in bytes; None for no limit.
    memory_bytes: int | None

    def starting(self) -> None:
        """Called before each start; raising refuses it (nothing runs)."""

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        """The process runs; the caller may kill it from now on."""

    def ended(self, proc: subprocess.Popen[bytes] | None) -> None:
        """The process is reaped (None: it could not start)."""


@contextlib.contextmanager
def limited_by(limits: "Limits") -> Iterator[None]:
    """While active, each ffmpeg or ffprobe started here is subject to ``limits``."""
    token = _limits.set(limits)
    try:
        yield
    finally:
        _limits.reset(token)


def _child_setup(memory_bytes: int | None) -> Callable[[], None]:
    """What the child runs between fork and exec: die with the parent; cap its memory."""

    def setup() -> None:
        _die_with_us()
        if memory_bytes is not None:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return setup


@contextlib.contextmanager
def progress_to(report: Callable[[float], None]) -> Iterator[None]:
    """While active, each ffmpeg started here reports seconds of output written to ``report``.

    From ffmpeg's ``-progress`` (twice a second); ffprobe reports nothing.
    """
    token = _progress.set(report)
    try:
        yield
    finally:
        _progress.reset(token)


class FFmpeg:
    """One ffmpeg (or ffprobe) process; use as a context manager or call close()."""

    def __init__(
        self,
        args: list[str],
        feed: Iterable[bytes] | None = None,
        what: str = "",
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.args = args
        self.progress = progress
        self.what = what or args[0]
        self.stderr_chunks: list[bytes] = []
        self._stderr_size = 0
        self.feed_error: BaseException | None = None
        logger.debug("starting %s: %s", self.what, " ".join(args))
        self.limits = _limits.get()
        if self.limits is not None:
            self.limits.starting()  # may refuse: nothing has started yet
        memory = self.limits.memory_bytes if self.limits is not None else None
        # Popen waits (cooperatively) for the exec; started in its own greenlet so that
        # a kill landing in that wait cannot leave a started ffmpeg behind.
        starter: gevent.Greenlet[..., subprocess.Popen[bytes]] = gevent.spawn(
            subprocess.Popen,
            args,
            stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
            preexec_fn=_child_setup(memory),
        )
        try:
            self.proc: subprocess.Popen[bytes] = starter.get()
        except OSError as e:
            self._ended(None)
            raise CutError(f"cannot run {args[0]!r} ({e}): install ffmpeg") from e
        except BaseException:
            starter.join()
            if starter.successful() and starter.value is not None:
                _discard(starter.value)
            self._ended(None)
            raise
        if self.limits is not None:
            self.limits.started(self.proc)
        self._greenlets: list[gevent.Greenlet[..., None]] = [gevent.spawn(self._drain_stderr)]
        if feed is not None:
            self._greenlets.append(gevent.spawn(self._feed, feed))

    def _feed(self, feed: Iterable[bytes]) -> None:
        try:
            for chunk in feed:
                view = memoryview(chunk)
                while view:  # unbuffered pipe: a write may take only part of the chunk
                    view = view[_pipe(self.proc.stdin).write(view) :]
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and stderr say why
        except Exception as e:  # a segment that cannot be read: fail the cut with it
            self.feed_error = e
            self.proc.kill()
        finally:
            # a generator feed may hold a segment file open: close it now, not at gc
            close = getattr(feed, "close", None)
            if close is not None:
                close()
            try:
                _pipe(self.proc.stdin).close()
            except OSError:
                pass

    def _drain_stderr(self) -> None:
        partial = b""
        while chunk := _pipe(self.proc.stderr).read(READ_SIZE):
            if self.progress is not None:
                partial, chunk = self._take_progress(partial + chunk)
            if self._stderr_size < STDERR_LIMIT:
                self.stderr_chunks.append(chunk)
                self._stderr_size += len(chunk)
        if partial:
            self.stderr_chunks.append(partial)

    def _take_progress(self, data: bytes) -> tuple[bytes, bytes]:
        """Report ``-progress`` lines and drop them; returns (an unfinished line, the rest)."""
        *lines, partial = data.split(b"\n")
        kept = []
        for line in lines:
            found = _OUT_TIME.match(line)
            if found and self.progress is not None:
                try:
                    self.progress(int(found.group(1)) / 1e6)
                except Exception:  # a display must never fail the cut
                    logger.debug("progress report failed", exc_info=True)
            elif not _PROGRESS_LINE.match(line):
                kept.append(line + b"\n")
        return partial, b"".join(kept)

    @property
    def stderr(self) -> str:
        return b"".join(self.stderr_chunks).decode("utf-8", "replace")

    def output(self) -> Iterator[bytes]:
        """ffmpeg's stdout as it comes; raises CutError if it fails. Closes on exit."""
        try:
            while chunk := _pipe(self.proc.stdout).read(READ_SIZE):
                yield chunk
            self.wait()
        finally:
            self.close()

    def read_all(self) -> bytes:
        return b"".join(self.output())

    def wait(self) -> None:
        """Wait for exit and for stderr; raise CutError unless ffmpeg succeeded."""
        rc = self.proc.wait()
        gevent.joinall(self._greenlets)
        if self.feed_error is not None:
            raise CutError(
                f"{self.what}: could not read input: {self.feed_error}", self.stderr
            ) from self.feed_error
        if rc != 0:
            raise CutError(f"{self.what} failed (exit status {rc})", self.stderr)
        if self.stderr.strip():
            logger.warning("%s succeeded but said: %s", self.what, self.stderr.strip())

    def close(self) -> None:
        """Kill the process if it still runs, close its pipes, stop the greenlets."""
        if self.proc.poll() is None:
            logger.debug("killing %s (pid %d)", self.what, self.proc.pid)
            self.proc.kill()
        gevent.killall(self._greenlets)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None:
                try:
                    f.close()
                except OSError:
                    pass
        self.proc.wait()
        self._ended(self.proc)

    def _ended(self, proc: subprocess.Popen[bytes] | None) -> None:
        """Tell the limits, once, that the process they let start is gone."""
        limits, self.limits = self.limits, None
        if limits is not None:
            limits.ended(proc)

    def __enter__(self) -> "FFmpeg":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pipe(f: IO[bytes] | None) -> IO[bytes]:
    """A pipe this class asked Popen for (so never None)."""
    assert f is not None
    return f


def _discard(proc: subprocess.Popen[bytes]) -> None:
    """Kill and reap a process nobody will read, closing its pipes."""
    proc.kill()
    for f in (proc.stdin, proc.stdout, proc.stderr):
        if f is not None:
            f.close()
    proc.wait()


def ffmpeg(args: list[str], feed: Iterable[bytes] | None = None, what: str = "ffmpeg") -> FFmpeg:
    """Start ``ffmpeg`` quietly with these arguments; inside :func:`progress_to` it reports."""
    report = _progress.get()
    if report is None:
        return FFmpeg([FFMPEG, *QUIET, *args], feed, what)
    extra = ["-progress", "pipe:2", "-stats_period", "0.5"]
    return FFmpeg([FFMPEG, *QUIET, *extra, *args], feed, what, report)


def ffprobe(args: list[str], feed: Iterable[bytes] | None = None, what: str = "ffprobe") -> bytes:
    """Run ``ffprobe -v error`` to completion and return its stdout."""
    return FFmpeg([FFPROBE, "-hide_banner", "-v", "error", *args], feed, what).read_all()

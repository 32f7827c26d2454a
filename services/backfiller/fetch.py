"""Fetch one segment from a peer into this node's archive, verified by its hash.

A body of known length (every segment from a fastseg or wubloader peer) is read
into one buffer by the event loop and hashed whole. Only if its sha256 is the one
in the segment's name does the disk thread (:func:`_save`) write it to a ``temp``
name in the segment's own hour directory (docs/DESIGN.md#writing-a-segment) and
link that to the final name (a link is atomic and, unlike a rename, never
replaces a file already there). On a busy disk creating a file can take
milliseconds; in a thread (the system calls release the GIL) it overlaps the
network and the hashing of the next segment instead of stalling every transfer
of the process. One thread: creating files in one directory from several threads
only makes them spin on the directory's lock. A body of unknown or large length is
streamed to the temp name, hashed as it arrives. Whatever happens, the temp name
is gone when :func:`fetch_segment` or :func:`fetch_batch` returns or raises.

A peer decides what it declares and sends: a body declared longer than
``max_size`` is refused before it is read (TooLarge), one of unknown length is cut
off there, and the bytes of each body are counted against the free-disk floor
(:class:`~services.backfiller.limits.DiskFloor`) before they are written.
"""

import hashlib
import http.client
import itertools
import json
import logging
import os
import sys
import uuid

import gevent.threadpool
from gevent import monkey

from fastseg import SegmentInfo, content_id, segment_name
from services.backfiller.client import NETWORK_ERRORS, PeerClient, is_plain_number
from services.backfiller.limits import MAX_SEGMENT_MB, DiskFloor

logger = logging.getLogger(__name__)

__all__ = [
    "BadAnswer",
    "BatchesBusy",
    "NoBatches",
    "fetch_batch",
    "FetchFailed",
    "HashMismatch",
    "PeerBroken",
    "TooLarge",
    "fetch_segment",
    "store_tombstone",
]

#: Bytes per read of a body of unknown length (chunked), so few Python iterations per segment.
CHUNK = 1024 * 1024

#: The largest body read into one buffer (segments are a few MB; a larger one is
#: streamed to disk, so that a peer sending many cannot make us hold them all).
MAX_BUFFER = 16 * 1024 * 1024

#: The default largest segment (``--max-segment-mb``).
MAX_SEGMENT = MAX_SEGMENT_MB * 1024 * 1024

#: Threads that write fetched segments (see the module docstring).
DISK_THREADS = 1

#: Segments of one batch read ahead of the group being written: the network keeps
#: going while the disk catches up, with at most twice this many buffers held per batch.
WINDOW = 4

#: The GIL's switch interval once the disk thread runs. It takes the GIL back after each
#: of its five system calls per segment, and while the event loop runs Python it may
#: wait the whole interval for it (5 ms by default): measured, that made the thread
#: about twice as slow as the same calls in a loop.
SWITCH_INTERVAL = 0.0005

_disk: gevent.threadpool.ThreadPool | None = None

# The files closed here are regular files of our own: gevent's patched os.close would
# check each with two more system calls (fcntl, fstat) and some Python first.
_close = monkey.get_original("os", "close")

# Temp names: unique per process (a random prefix) and per fetch (a counter), without
# a uuid4 per file (one getrandom system call each).
_TEMP_PREFIX = uuid.uuid4().hex[:16]
_temp_counter = itertools.count()


def _temp_id() -> str:
    return f"{_TEMP_PREFIX}{next(_temp_counter):x}"


class FetchFailed(Exception):
    """One segment could not be fetched from this peer; the others may still be."""


class BadAnswer(FetchFailed):
    """The peer answered something other than the segment's bytes (a 404 or 5xx, a short body)."""


class HashMismatch(FetchFailed):
    """The peer's bytes do not hash to the name's sha256: they were discarded."""


class TooLarge(FetchFailed):
    """The peer declared or sent a segment longer than the limit: refused, nothing kept."""


class PeerBroken(Exception):
    """The peer could not be reached, or the connection broke: stop asking it for now."""


class _LocalError(Exception):
    """Carries an OSError of our own disk past the handler for network errors."""


def _create(temp: str, hour_path: str) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        try:
            return os.open(temp, flags, 0o644)
        except FileNotFoundError:  # the hour's first segment here: one makedirs, not one each
            os.makedirs(hour_path, exist_ok=True)
            return os.open(temp, flags, 0o644)
    except OSError as e:
        raise _LocalError() from e


def _write(fd: int, data) -> None:
    view = memoryview(data)
    try:
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]
    except OSError as e:
        raise _LocalError() from e


def _disk_pool() -> gevent.threadpool.ThreadPool:
    global _disk
    if _disk is None:
        _disk = gevent.threadpool.ThreadPool(DISK_THREADS)
        sys.setswitchinterval(SWITCH_INTERVAL)
    return _disk


def _temp_path(info: SegmentInfo) -> str:
    return os.path.join(info.hour_path, segment_name(info.start, info.duration, "temp", _temp_id()))


def _check(data: bytearray | memoryview, info: SegmentInfo, url: str) -> None:
    """Raise HashMismatch unless ``data`` hashes to ``info``'s name (hashlib releases the GIL,
    so the disk thread writes the previous segment meanwhile)."""
    hasher = hashlib.sha256(data)
    if hasher.digest() != info.hash:
        raise _mismatch(url, len(data), hasher)


def _mismatch(url: str, size: int, hasher) -> HashMismatch:
    return HashMismatch(
        f"{url!r} sent {size} bytes with sha256 {content_id(hasher)!r}, not the name's: discarded"
    )


def _save(data: bytearray | memoryview, info: SegmentInfo) -> bool:
    """In the disk thread: ``data`` (checked) as ``info``'s segment, through a temp name;
    whether it was stored (False: the segment was there already). Raises _LocalError.
    """
    temp = _temp_path(info)
    fd = _create(temp, info.hour_path)
    try:
        try:
            _write(fd, data)
        finally:
            _close(fd)
        return _link(temp, info)
    finally:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass


def _link(temp: str, info: SegmentInfo) -> bool:
    """Give the written ``temp`` file ``info``'s name; False if a segment has it already
    (the downloader, or another process, stored it first). Raises _LocalError."""
    try:
        os.link(temp, info.path)
    except FileExistsError:
        return False
    except OSError as e:
        raise _LocalError() from e
    return True


def _read_body(resp, length: int) -> bytearray:
    """The next ``length`` bytes of ``resp``, in one buffer; IncompleteRead if it ends first."""
    buffer = bytearray(length)
    size = resp.readinto(buffer) if length else 0
    if size != length:  # the connection closed early: the transfer broke
        raise http.client.IncompleteRead(bytes(size), length - size)
    return buffer


#: An error answer's body is read (so the connection stays usable) only up to this size.
_ERROR_BODY = 64 * 1024


def _skip_error_body(resp) -> None:
    """Read a short error body to its end; a long or unknown one is left unread (the
    connection is then closed rather than reused)."""
    if resp.length is not None and resp.length <= _ERROR_BODY:
        resp.read()


def _settled(job) -> bool:
    """The outcome of a disk job (see _save), waited for even if this greenlet is killed
    meanwhile, so that no temp file outlives the fetch that made it."""
    try:
        return job.get()
    except BaseException:
        job.wait()
        raise


def _receive(resp, fd: int, length: int | None, max_size: int):
    """A chunked or large body into ``fd``, a CHUNK at a time: (bytes, hasher). (A body
    of known, moderate length is held in memory instead: see _read_body.) One of
    unknown length is read up to one byte past ``max_size``, no further."""
    hasher = hashlib.sha256()
    size = 0
    end = length if length is not None else max_size + 1
    while size < end and (chunk := resp.read(min(CHUNK, end - size))):
        hasher.update(chunk)
        _write(fd, chunk)
        size += len(chunk)
    return size, hasher


def _too_large(url: str, size: int, max_size: int, declared: bool) -> TooLarge:
    how = f"declares {size} bytes" if declared else "sent more than that"
    return TooLarge(
        f"{url!r} {how}: more than --max-segment-mb {max_size // (1024 * 1024)}: refused"
    )


def _store(
    resp, info: SegmentInfo, length: int | None, url: str, max_size: int = MAX_SEGMENT
) -> tuple[int, bool]:
    """The next ``length`` bytes of ``resp`` (all of it if None, up to ``max_size``) as
    ``info``'s segment, through a temp name and only if they hash to the name: (bytes,
    whether stored). TooLarge if a body of unknown length goes past ``max_size``.
    """
    temp = _temp_path(info)
    fd = None
    created = False
    try:
        try:
            fd = _create(temp, info.hour_path)
            created = True
            size, hasher = _receive(resp, fd, length, max_size)
        except NETWORK_ERRORS as e:  # our disk's errors are _LocalError, not OSError, here
            raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
        if size > max_size:
            raise _too_large(url, size, max_size, False)
        if length is not None and length != size:
            raise BadAnswer(f"{url!r} sent {size} of its {length} bytes")
        if hasher.digest() != info.hash:
            raise _mismatch(url, size, hasher)
        _close(fd)
        fd = None
        return size, _link(temp, info)
    finally:
        if fd is not None:
            _close(fd)
        if created:
            try:
                os.unlink(temp)
            except FileNotFoundError:
                pass


def fetch_segment(
    client: PeerClient,
    path: str,
    info: SegmentInfo,
    url: str,
    max_size: int = MAX_SEGMENT,
    disk: DiskFloor | None = None,
) -> tuple[int, bool]:
    """Fetch the peer's ``path`` into ``info.path``: (bytes fetched, whether they were stored;
    False if the segment was already there when they were to be linked).

    ``url`` names the segment in messages. Raises HashMismatch, BadAnswer or TooLarge
    (longer than ``max_size``) for this segment alone, PeerBroken when the peer is
    unreachable or the transfer breaks, DiskLow (from ``disk``) before writing below
    the free-space floor, OSError if the file cannot be written. No temp file is
    left behind in any case.
    """
    try:
        with client.get(path) as resp:
            status, length = resp.status, resp.length
            if status == 200:
                if length is not None and length > max_size:
                    raise _too_large(url, length, max_size, True)  # the connection is closed
                if disk is not None:
                    disk.take(max_size if length is None else length)
                if length is None or length > MAX_BUFFER:
                    return _store(resp, info, length, url, max_size)
                data = _read_body(resp, length)
            else:
                _skip_error_body(resp)
        if status == 200:  # the connection is free again while the disk works
            _check(data, info, url)
            return length, _settled(_disk_pool().spawn(_save, data, info))
    except _LocalError as e:
        raise e.__cause__ from None
    except NETWORK_ERRORS as e:
        raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
    raise BadAnswer(f"{url!r} answered {status}")


class _Buffers:
    """Body buffers for batches, used again once written (by any batch of the process).

    A fresh buffer per segment costs the allocator zeroing it (about 2 % of the
    client's CPU) and, past the allocator's threshold, page faults. A buffer is
    ``AHEAD`` bytes longer than its segment so that the read of a body can bring
    the next segment's line along (one system call less per segment); see
    :meth:`~services.backfiller.client._Response.readinto`.
    """

    AHEAD = 4096

    __slots__ = ("_free", "_room")

    def __init__(self) -> None:
        self._free: list[bytearray] = []
        self._room = 0  # the largest segment seen: every buffer made since has room for it

    def take(self, size: int) -> memoryview:
        """A view of ``size + AHEAD`` bytes of a free buffer (contents undefined)."""
        if size > self._room:
            self._room = size
            self._free.clear()  # too small for this one, maybe for the next ones
        buffer = self._free.pop() if self._free else bytearray(self._room + self.AHEAD)
        return memoryview(buffer)[: size + self.AHEAD]

    def give(self, view: memoryview) -> None:
        """``view``'s buffer is free again (its bytes written or discarded)."""
        buffer = view.obj
        if len(buffer) >= self._room + self.AHEAD:
            self._free.append(buffer)


_buffers = _Buffers()


class NoBatches(Exception):
    """The peer has no batch route (a wubloader node): fetch one segment at a time."""


class BatchesBusy(NoBatches):
    """The peer's batch route is busy now (429, 503): fetch these one at a time, batch later."""


def fetch_batch(
    client: PeerClient,
    path: str,
    infos: list[SegmentInfo],
    url: str,
    max_size: int = MAX_SEGMENT,
    disk: DiskFloor | None = None,
):
    """Fetch ``infos`` (one hour's) in one request to the batch route ``path``.

    Yields ``(info, size, stored, error)`` per segment, ``error`` a FetchFailed for
    that segment alone (the others still come, except after a TooLarge: its bytes
    are not read, so the rest of the answer is left for a later pass). Raises
    NoBatches if the peer has no such route, PeerBroken if the transfer breaks,
    DiskLow (from ``disk``) before writing below the free-space floor, OSError if a
    file cannot be written; no temp file is left behind.

    Checked segments go to the disk thread in groups: whatever arrived while its
    last group was being written, at most WINDOW waiting, so that a slow disk costs
    one hand-off per group rather than one per segment.
    """
    by_name = {info.name: info for info in infos}
    body = json.dumps(list(by_name)).encode()
    writer = _disk_pool()
    buffers = _buffers
    waiting: list = []  # (info, size, bytes) checked, not yet handed to the disk thread
    job = None  # the group being written, and its entries
    try:
        with client.request("POST", path, body) as resp:
            if resp.status != 200:
                _skip_error_body(resp)
                busy = resp.status in (429, 503)
                raise (BatchesBusy if busy else NoBatches)(f"{url!r} answered {resp.status}")
            for _ in by_name:
                line = resp.readline()
                name, _, size_text = line.decode("latin-1").rstrip("\n").partition(" ")
                info = by_name.get(name)
                if info is None or not (size_text == "-" or is_plain_number(size_text)):
                    raise PeerBroken(f"{url!r}: unexpected batch entry {line[:200]!r}")
                if size_text == "-":
                    yield info, 0, False, BadAnswer(f"{url!r}: the peer has no {name!r} now")
                    continue
                size = int(size_text)
                if size > max_size:  # not read: the connection is closed after this
                    yield info, 0, False, _too_large(f"{url}/{name}", size, max_size, True)
                    break
                if disk is not None:
                    disk.take(size)
                if size > MAX_BUFFER:  # streamed to disk here, not held in memory
                    try:
                        size, stored = _store(resp, info, size, f"{url}/{name}", max_size)
                    except BadAnswer as e:  # short: the framing is lost with it
                        raise PeerBroken(str(e)) from e
                    except HashMismatch as e:
                        yield info, size, False, e
                        continue
                    yield info, size, stored, None
                    continue
                room = buffers.take(size)
                got = resp.readinto(room, size)
                if got != size:  # the connection closed early: the transfer broke
                    raise http.client.IncompleteRead(bytes(room[:got]), size - got)
                data = room[:size]
                try:
                    _check(data, info, f"{url}/{name}")
                except HashMismatch as e:
                    buffers.give(data)
                    yield info, size, False, e
                    continue
                waiting.append((info, size, data))
                if job is not None and (job[0].ready() or len(waiting) >= WINDOW):
                    done, job = job, None
                    yield from _written(*done, buffers)
                if job is None:
                    job = writer.spawn(_save_all, waiting), waiting
                    waiting = []
        if job is not None:
            done, job = job, None
            yield from _written(*done, buffers)
        if waiting:  # _written waits for its job even if this greenlet is killed
            yield from _written(writer.spawn(_save_all, waiting), waiting, buffers)
    except _LocalError as e:
        raise e.__cause__ from None
    except NETWORK_ERRORS as e:
        raise PeerBroken(f"{url!r}: {type(e).__name__}: {e}") from e
    finally:
        if job is not None:  # a broken transfer, a stop: let the writes finish
            job[0].wait()


def _save_all(entries: list) -> tuple[list[bool], Exception | None]:
    """In the disk thread: :func:`_save` each ``(info, size, bytes)`` in turn; whether each
    was stored, up to the first _LocalError (returned: the rest are left for a later pass).
    """
    stored = []
    for info, _, data in entries:
        try:
            stored.append(_save(data, info))
        except _LocalError as e:
            return stored, e
    return stored, None


def _written(job, entries: list, buffers: "_Buffers"):
    """Yield each entry's ``(info, size, stored, None)`` once ``job`` is done, its buffer
    free again; then raise its _LocalError, if any."""
    done, error = _settled(job)
    for entry in entries:
        buffers.give(entry[2])
    for (info, size, _), stored in zip(entries, done, strict=False):
        yield info, size, stored, None
    if error is not None:
        raise error


def store_tombstone(hour_dir: str, name: str) -> bool:
    """Create the empty tombstone ``name`` in ``hour_dir``; False if it was there already.

    A peer's tombstone is copied as it is: an empty file, never the segment it
    hides, and never deleting a local copy of that segment (the tombstone alone
    hides it, on this node and on wubloader's).
    """
    os.makedirs(hour_dir, exist_ok=True)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(os.path.join(hour_dir, name), flags, 0o644)
    except FileExistsError:
        return False
    _close(fd)
    return True
